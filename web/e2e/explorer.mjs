// End-to-end: the explorer in Debian's Chromium, driven by playwright-core, on the demo estate.
// Run by tests/test_explorer.py (which starts the service); writes report.json, downloads and screenshots.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

import { launchChromium, run } from "./harness.mjs";

const BASE = process.env.EXPLORER_URL;
const LANDMARKS = JSON.parse(process.env.EXPLORER_LANDMARKS ?? "{}");
const OUT = process.env.EXPLORER_OUT;
const SHOTS = process.env.EXPLORER_SCREENSHOTS;
const DOWNLOADS = join(OUT, "downloads");
mkdirSync(DOWNLOADS, { recursive: true });
mkdirSync(SHOTS, { recursive: true });

const report = { passed: [], errors: [], measures: [], exported_view: null };
const log = (...args) => console.log("[e2e]", ...args);

const browser = await launchChromium();
const context = await browser.newContext({ viewport: { width: 1600, height: 900 }, acceptDownloads: true, deviceScaleFactor: 1 });
const page = await context.newPage();
page.setDefaultTimeout(30_000);
watch(page);

function watch(p) {
  p.on("pageerror", (e) => report.errors.push(`page error: ${e.message}`));
  p.on("console", (m) => {
    if (m.type() === "error") report.errors.push(`console error: ${m.text()}`);
    if (m.text().startsWith("[explorer]")) log(m.text());
  });
  p.on("requestfailed", (r) => {
    if (!r.url().startsWith("blob:")) report.errors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
}

async function step(name, body) {
  const started = Date.now();
  await body();
  report.passed.push(name);
  log(`ok  ${name} (${Date.now() - started} ms)`);
}

/** Wait until the page has finished the render the last action started. */
async function settled(p = page) {
  await p.waitForFunction(() => window.explorer?.ready && !window.explorer.busy);
  await p.waitForTimeout(50);
  await p.waitForFunction(() => window.explorer?.ready && !window.explorer.busy);
}

const ids = (p = page) => p.evaluate(() => window.explorer.cy.nodes(":childless").map((n) => n.id()).sort());
const kindsShown = (p = page) => p.evaluate(() => [...new Set(window.explorer.cy.nodes(":childless").map((n) => n.data("kind")))].sort());
const hashParams = (p = page) => p.evaluate(() => Object.fromEntries(new URLSearchParams(location.hash.slice(1))));

/** Resize the window (dense views make big PNGs: they are taken smaller, each under ~300 KB). */
async function resize(width, height, fit = true) {
  await page.setViewportSize({ width, height });
  await page.evaluate((fit) => void (window.explorer.cy.resize(), fit && window.explorer.cy.fit(undefined, 40)), fit);
  await page.waitForTimeout(300);
}

async function shot(name) {
  const path = join(SHOTS, name);
  await page.screenshot({ path, type: "png" });
  log(`screenshot ${name}: ${statSync(path).size} bytes`);
}

async function openByHash(params) {
  await page.evaluate((hash) => (location.hash = hash), "#" + new URLSearchParams(params).toString());
  await settled();
}

const orders = LANDMARKS.orders_table;
const mart = LANDMARKS.mart;
const versions = LANDMARKS.model_versions.split(",");
const promptVersions = LANDMARKS.prompt_versions.split(",");

await run({ report, page, browser, out: OUT, after: () => log(JSON.stringify(report.measures)) }, async () => {
  await page.goto(BASE + "/");
  await settled();
  await page.waitForSelector("#welcome");

  await step("search", async () => {
    await page.fill("#search", "orders");
    await page.waitForSelector(`#search-results li[data-id="${orders}"]`);
    const options = await page.$$eval("#search-results li[role=option]", (lis) => lis.map((li) => li.textContent));
    assert.ok(options.length >= 2, `few results for "orders": ${options}`);
    // A kind word alone lists that kind; with other words it narrows the search to it.
    await page.fill("#search", "models");
    await page.waitForFunction(() => {
      const chips = [...document.querySelectorAll("#search-results li[role=option] .chip")].map((c) => c.textContent);
      return chips.length > 0 && chips.every((c) => c === "Model");
    });
    await page.fill("#search", "dataset orders");
    await page.waitForFunction(() => {
      const chips = [...document.querySelectorAll("#search-results li[role=option] .chip")].map((c) => c.textContent);
      return chips.length > 0 && chips.every((c) => c === "Dataset");
    });
  });

  await step("open", async () => {
    await page.click(`#search-results li[data-id="${orders}"]`);
    await settled();
    assert.equal((await hashParams()).focus, orders);
    assert.ok((await ids()).includes(orders));
    assert.ok((await ids()).length > 3);
    assert.match(await page.textContent("#detail-name"), /shop\.public\.orders/);
  });

  await step("empty state", async () => {
    // A Postgres source table has nothing upstream: the canvas says so instead of staying blank.
    await openByHash({ focus: orders, dir: "upstream", hops: "3" });
    await page.waitForSelector("#empty");
    assert.match(await page.textContent("#empty"), /Nothing upstream/);
    await openByHash({ focus: orders });
    assert.equal(await page.$("#empty"), null);
  });

  await step("keyboard search", async () => {
    await page.focus("#search");
    await page.fill("#search", "");
    await page.keyboard.type("customer_features_daily");
    await page.waitForSelector(`#search-results li[data-id="${mart}"]`);
    const position = await page.$$eval("#search-results li[role=option]", (lis, id) => lis.findIndex((li) => li.dataset.id === id), mart);
    await page.keyboard.press("ArrowDown"); // the first option is active already; go down then back up
    await page.keyboard.press("ArrowUp");
    for (let i = 0; i < position; i++) await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Enter");
    await settled();
    assert.equal((await hashParams()).focus, mart);
  });

  await step("expand upstream", async () => {
    await openByHash({ focus: mart, hops: "1", dir: "upstream" });
    const before = await ids();
    const job = before.find((id) => id !== mart);
    assert.ok(job, "the mart has something upstream");
    await openByHash({ focus: mart, hops: "1", dir: "upstream", sel: job });
    await page.click("#expand-up");
    await settled();
    const after = await ids();
    assert.ok(after.length > before.length, `expanding ${job} upstream added nothing`);
    assert.ok((await hashParams()).up.includes(job));
  });

  await step("expand downstream", async () => {
    await openByHash({ focus: mart, hops: "1", dir: "downstream" });
    const before = await ids();
    const next = before.find((id) => id !== mart);
    await openByHash({ focus: mart, hops: "1", dir: "downstream", sel: next });
    await page.click("#expand-down");
    await settled();
    assert.ok((await ids()).length > before.length, `expanding ${next} downstream added nothing`);
  });

  await openByHash({ focus: mart, hops: "4", entities: "1" });
  await page.waitForTimeout(300);
  await shot("lineage.png");
  await openByHash({ focus: mart, hops: "3" });

  await step("kind filter", async () => {
    const kinds = await kindsShown();
    assert.ok(kinds.includes("Job"), `kinds: ${kinds}`);
    const edgesBefore = await page.evaluate(() => window.explorer.cy.edges().length);
    await page.click('#legend button[data-kind="Job"]');
    await settled();
    assert.ok(!(await kindsShown()).includes("Job"));
    assert.deepEqual((await hashParams()).hide, "Job");
    const bridged = await page.evaluate(() => window.explorer.cy.edges("[?bridge]").length);
    assert.ok(bridged > 0, "hiding jobs bridges the edges across them");
    assert.equal(await page.getAttribute('#legend button[data-kind="Job"]', "aria-pressed"), "false");
    await page.click("#kinds-all");
    await settled();
    assert.ok((await kindsShown()).includes("Job"));
    assert.equal(await page.evaluate(() => window.explorer.cy.edges().length), edgesBefore);
  });

  await step("entities only", async () => {
    const before = await kindsShown();
    assert.ok(before.some((k) => ["Run", "DatasetVersion"].includes(k)), `kinds: ${before}`);
    await page.check("#entities");
    await settled();
    const after = await kindsShown();
    for (const k of ["Run", "DatasetVersion", "ModelVersion", "PromptVersion"]) assert.ok(!after.includes(k), `${k} still shown`);
    assert.ok(await page.evaluate(() => window.explorer.cy.nodes("[?folded]").length) > 0);
    await page.uncheck("#entities");
    await settled();
  });

  await step("time travel", async () => {
    const view = await page.evaluate(() => window.explorer.view().nodes.map((n) => n.firstSeen));
    const times = view.map((t) => Date.parse(t)).sort((a, b) => a - b);
    const middle = new Date(times[Math.floor(times.length / 2)]);
    const value = middle.toISOString().slice(0, 16);
    const before = (await ids()).length;
    await page.click('[data-time="asof"]');
    await page.fill("#as-of", value);
    await page.dispatchEvent("#as-of", "change");
    await settled();
    assert.equal((await hashParams()).asOf, `${value}:00Z`);
    const seen = await page.evaluate(() => window.explorer.view().nodes.map((n) => n.firstSeen));
    assert.ok(seen.length < before, `as of ${value}: ${seen.length} nodes, now ${before}`);
    const limit = Date.parse(`${value}:00Z`);
    assert.ok(seen.every((t) => Date.parse(t) <= limit), "a node first seen after the as-of moment is shown");
    await page.click('[data-time="window"]');
    await settled();
    await page.fill("#since", value);
    await page.dispatchEvent("#since", "change");
    await settled();
    assert.equal((await hashParams()).since, `${value}:00Z`);
    await page.click('[data-time="now"]');
    await settled();
    assert.equal((await ids()).length, before);
  });

  await step("side panel evidence", async () => {
    await openByHash({ focus: mart, hops: "3" });
    await page.waitForSelector("#evidence details[open] pre");
    const raw = JSON.parse(await page.textContent("#evidence details[open] pre"));
    assert.ok(typeof raw === "object" && raw !== null);
    assert.match(await page.textContent(".panel .key"), /urn:lineage:dataset:/);
    assert.ok((await page.$$(".panel .list button")).length > 0, "no neighbour links");
  });

  await step("column view", async () => {
    await page.click("#open-columns");
    await settled();
    assert.equal((await hashParams()).mode, "columns");
    const columns = await page.evaluate((id) => window.explorer.cy.getElementById(id).children().map((c) => c.data("label").replace(/\u200b/g, "")), mart);
    assert.deepEqual(new Set(columns), new Set(["customer_id", "orders_30d", "revenue_30d", "tickets_30d", "sessions_30d", "tenure_days"]));
    const labels = await page.evaluate(() => window.explorer.cy.edges().map((e) => e.data("label")));
    assert.ok(labels.length > 0, "no column edges");
    assert.ok(labels.every((l) => ["IDENTITY", "AGGREGATION", "TRANSFORMATION"].includes(l)), `labels: ${labels}`);
    assert.ok(await page.evaluate(() => window.explorer.cy.nodes(":parent").length) > 2, "no upstream or downstream datasets");
    await resize(1360, 820);
    await shot("columns.png");
    await resize(1600, 900);
  });

  await step("impact counts", async () => {
    await openByHash({ focus: orders, mode: "impact", hops: "12" });
    await page.waitForSelector("#impact-counts button");
    const counts = await page.$$eval("#impact-counts button", (bs) => bs.map((b) => [b.dataset.kind, Number(b.querySelector(".n").textContent.replace(/\D/g, ""))]));
    const kinds = counts.map(([k]) => k);
    for (const k of ["Dataset", "Job", "ModelVersion"]) assert.ok(kinds.includes(k), `impact of orders lacks ${k}: ${kinds}`);
    const [kind, n] = counts.find(([k]) => k === "ModelVersion");
    await page.click(`#impact-counts button[data-kind="${kind}"]`);
    await page.waitForSelector("#impact-list li");
    assert.equal((await page.$$("#impact-list li")).length, Math.min(n, 500));
    await page.waitForTimeout(300);
    await shot("impact.png");
  });

  await step("path highlight", async () => {
    const target = versions[versions.length - 1];
    await openByHash({ focus: orders, mode: "path", to: target, hops: "2" });
    await page.waitForSelector("#path-hops > li");
    const hops = (await page.$$("#path-hops > li")).length;
    assert.ok(hops >= 3, `path of ${hops} nodes`);
    const lit = await page.evaluate(() => ({
      nodes: window.explorer.cy.nodes(".path").map((n) => n.id()),
      edges: window.explorer.cy.edges(".path").length,
    }));
    assert.ok(lit.nodes.includes(orders) && lit.nodes.includes(target), `lit: ${lit.nodes}`);
    assert.ok(lit.edges >= hops - 1, `${lit.edges} edges lit for ${hops} nodes`);
    await page.waitForTimeout(300);
    await shot("path.png");
  });

  await step("exports", async () => {
    await openByHash({ focus: mart, hops: "2" });
    report.exported_view = { nodes: await ids() };
    for (const button of ["#export-png", "#export-svg", "#export-csv", "#export-json"]) {
      const [download] = await Promise.all([page.waitForEvent("download"), page.click(button)]);
      const target = join(DOWNLOADS, download.suggestedFilename());
      await download.saveAs(target);
      assert.ok(statSync(target).size > 100, `${target} is nearly empty`);
    }
    const json = JSON.parse(readFileSync(join(DOWNLOADS, (await import("node:fs")).readdirSync(DOWNLOADS).find((f) => f.endsWith(".json"))), "utf8"));
    assert.equal(json.nodes.length, report.exported_view.nodes.length);
  });

  await step("deep link", async () => {
    const params = { focus: mart, dir: "upstream", hops: "4", hide: "Run", entities: "1", asOf: "2030-01-01T00:00:00Z", sel: orders };
    await openByHash(params);
    const expected = await ids();
    const second = await context.newPage();
    watch(second);
    await second.goto(`${BASE}/#${new URLSearchParams(params)}`);
    await settled(second);
    assert.deepEqual(await ids(second), expected);
    assert.equal(await second.inputValue("#hops"), "4");
    assert.equal(await second.isChecked("#entities"), true);
    assert.equal(await second.inputValue("#as-of"), "2030-01-01T00:00");
    assert.equal(await second.getAttribute('[data-dir="UPSTREAM"]', "aria-pressed"), "true");
    assert.equal(await second.getAttribute('#legend button[data-kind="Run"]', "aria-pressed"), "false");
    assert.match(await second.textContent("#detail-name"), /shop\.public\.orders/);
    // Back to a previous hash (hashchange) redraws that view.
    await second.evaluate((hash) => (location.hash = hash), `#focus=${encodeURIComponent(orders)}&hops=1`);
    await settled(second);
    assert.ok((await ids(second)).includes(orders));
    await second.close();
  });

  await step("2000 nodes", async () => {
    const start = promptVersions[0].replace(/^urn:lineage:prompt_version:/, "urn:lineage:prompt:").replace(/:[^:]*$/, "");
    const measures = [];
    for (const focus of [...promptVersions.slice(-1), start]) {
      const started = Date.now();
      await openByHash({ focus, dir: "downstream", hops: "3" });
      const wall = Date.now() - started;
      const draw = await page.evaluate(() => window.explorer.draws.at(-1));
      measures.push({ focus, nodes: draw.nodes, edges: draw.edges, layout: draw.layout, queryMs: draw.queryMs, drawMs: draw.ms, wallMs: wall });
    }
    const big = [...measures].sort((a, b) => b.nodes - a.nodes)[0];
    log(`2000 nodes: ${JSON.stringify(big)}`);
    report.measures.push(...measures);
    assert.ok(big.nodes >= 2000, `the biggest view has only ${big.nodes} nodes`);
    // Still responsive: a pan and a selection are answered.
    const t0 = Date.now();
    // (Return nothing from evaluate: serialising cytoscape objects takes a minute.)
    await page.evaluate(() => void window.explorer.cy.panBy({ x: 40, y: 0 }));
    await page.evaluate(() => void window.explorer.cy.nodes()[5].select());
    report.measures.push({ what: "pan+select at 2000 nodes", ms: Date.now() - t0 });
    await resize(1360, 820);
    await shot("large.png");
  });
});
