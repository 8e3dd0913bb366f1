// End-to-end: the explorer of a service with auth on, in Debian's Chromium driven by playwright-core.
// Run by tests/test_explorer.py (which starts the service with tokens); writes report.json.
import assert from "node:assert/strict";
import { join } from "node:path";

import { launchChromium, run } from "./harness.mjs";

const BASE = process.env.EXPLORER_URL;
const OUT = process.env.EXPLORER_OUT;
const READ_TOKEN = process.env.EXPLORER_READ_TOKEN;
const INGEST_TOKEN = process.env.EXPLORER_INGEST_TOKEN;

const report = { passed: [], errors: [], measures: [] };
const log = (...args) => console.log("[e2e sign-in]", ...args);

const browser = await launchChromium();
const page = await (await browser.newContext({ viewport: { width: 1360, height: 820 } })).newPage();
page.setDefaultTimeout(20_000);
const refusals = [];
page.on("pageerror", (e) => report.errors.push(`page error: ${e.message}`));
page.on("console", (m) => {
  // Chromium logs each 401/403 answer as a console error: those are the refusals this test expects.
  if (m.type() === "error" && !/status of 40[13]/.test(m.text())) report.errors.push(`console error: ${m.text()}`);
});
page.on("response", (r) => {
  if (r.status() === 401 || r.status() === 403) refusals.push(`${r.request().method()} ${new URL(r.url()).pathname} ${r.status()}`);
});

async function step(name, body) {
  const started = Date.now();
  await body();
  report.passed.push(name);
  report.measures.push({ step: name, ms: Date.now() - started });
  log(`ok  ${name} (${Date.now() - started} ms)`);
}

const held = () => page.evaluate(() => ({ session: { ...sessionStorage }, local: { ...localStorage } }));

async function submitToken(token) {
  await page.fill("#token", token);
  await page.click('#sign-in button[type="submit"]');
}

await run({ report, page, browser, out: OUT }, async () => {
  await step("page loads without a token", async () => {
    const answer = await page.goto(BASE + "/");
    assert.equal(answer.status(), 200);
    await page.waitForSelector("#welcome");
    assert.equal(await page.isVisible("#sign-out"), false);
    assert.deepEqual(refusals, []); // the page and its bundle were let in
  });

  await step("dialog on the first query", async () => {
    await page.fill("#search", "orders");
    await page.waitForSelector("dialog#sign-in[open]");
    // Named by its label, typed as a password (not echoed on screen), focused for typing.
    assert.equal(await page.getByLabel("Token with the read scope").getAttribute("type"), "password");
    assert.equal(await page.getByRole("dialog", { name: "Sign in to query the graph" }).count(), 1);
    assert.equal(await page.evaluate(() => document.activeElement?.id), "token");
    assert.match(await page.textContent("#sign-in-intro"), /needs a token with the read scope/);
    assert.deepEqual(refusals, ["POST /graphql 401"]);
  });

  await step("wrong tokens refused with a message", async () => {
    await submitToken("lgt_" + "x".repeat(43));
    await page.waitForFunction(() => /unknown or revoked/.test(document.querySelector("#sign-in-error")?.textContent ?? ""));
    assert.equal(await page.getAttribute("#sign-in-error", "role"), "alert");
    await submitToken(INGEST_TOKEN);
    await page.waitForFunction(() => /lacks the read scope/.test(document.querySelector("#sign-in-error")?.textContent ?? ""));
    assert.ok(await page.isVisible("dialog#sign-in[open]"));
    await page.screenshot({ path: join(OUT, "refused.png") }); // kept beside report.json, for people
    assert.deepEqual((await held()).session, {}); // a refused token is not kept
  });

  await step("right token opens the graph", async () => {
    await submitToken(READ_TOKEN);
    await page.waitForSelector("dialog#sign-in", { state: "detached" });
    await page.waitForSelector("#search-results li[role=option]");
    await page.click("#search-results li[role=option]");
    await page.waitForFunction(() => window.explorer?.ready && !window.explorer.busy && window.explorer.cy.nodes().length > 0);
    assert.ok((await page.textContent("#detail-name")).length > 0);
    const { session, local } = await held();
    assert.deepEqual(Object.values(session), [READ_TOKEN]); // for this tab only: nothing in localStorage
    assert.deepEqual(local, {});
    assert.equal(await page.isVisible("#sign-out"), true);
    assert.equal(await page.isVisible("#banner"), false);
  });

  await step("sign out forgets the token", async () => {
    await page.click("#sign-out");
    assert.deepEqual((await held()).session, {});
    assert.equal(await page.isVisible("#sign-out"), false);
    assert.equal(await page.evaluate(() => document.activeElement?.id), "sign-in-button");
    // The next query goes without a token; it is refused, and the page does not ask at every keystroke.
    const before = refusals.length;
    await page.fill("#search", "order");
    await page.waitForFunction(() => /Use Sign in/.test(document.querySelector("#search-results")?.textContent ?? ""));
    assert.equal(refusals.length, before + 1);
    assert.equal(await page.$("dialog#sign-in"), null);
  });

  await step("sign in again from the header", async () => {
    await page.click("#sign-in-button");
    await page.click("#sign-in button:not([type=submit])"); // Cancel
    await page.waitForSelector("dialog#sign-in", { state: "detached" });
    assert.deepEqual((await held()).session, {});
    await page.click("#sign-in-button");
    await submitToken(READ_TOKEN);
    await page.waitForSelector("dialog#sign-in", { state: "detached" });
    assert.equal(await page.isVisible("#sign-out"), true);
    assert.equal(await page.isVisible("#sign-in-button"), false);
    assert.deepEqual(Object.values((await held()).session), [READ_TOKEN]);
  });
});
