// The explorer: the URL hash holds the view; every control changes the hash; the hash draws the view.

import "./style.css";

import * as api from "./api";
import type { GNode, Lineage } from "./api";
import { Canvas, type DrawStats } from "./canvas";
import { byId, h } from "./dom";
import { savePng, saveText, toCsv, toJson } from "./exporting";
import { datasetOfColumn, KINDS, STRUCTURE_EDGES, styleOf } from "./kinds";
import { type Actions, renderDetail, renderHint, renderImpact, renderPath } from "./panel";
import { setupSearch } from "./search";
import { setupAccount } from "./signin";
import { decode, encode, timeFilter, type ViewState } from "./state";
import { Loaded, visible, type ViewEdge, type ViewNode } from "./view";

/** Most nodes drawn at once; the reach may be larger (the stats line says so). */
const DRAW_LIMIT = 2500;
// Columns asked per request: the service refuses requests whose estimated cost is too high (api/graphql/cost.py).
const COLUMN_BATCH = 4; // the service answers at most 4 traversals per request

const canvas = new Canvas(byId("cy"));
const panel = byId("panel");
const overlay = byId("overlay");
const banner = byId("banner");
const stats = byId("stats");

let state: ViewState = decode(location.hash);
let loaded: Loaded | null = null;
let loadedKey = "";
let drawnKey = "";
let drawn: { nodes: ViewNode[]; edges: ViewEdge[] } = { nodes: [], edges: [] };
let lastQueryMs = 0;
let renderTicket = 0;
let impactKind: string | null = null;
let impactData: { key: string; total: number; counts: api.KindCount[]; list: GNode[] | null } | null = null;

/** What the end-to-end test and people with devtools can read about the last draw. */
const telemetry = {
  ready: false,
  busy: false,
  draws: [] as (DrawStats & { queryMs: number; mode: string })[],
  errors: [] as string[],
  cy: canvas.cy,
  view: () => drawn,
};
(window as unknown as { explorer: typeof telemetry }).explorer = telemetry;

// -- state changes go through the hash ---------------------------------------------------------

function navigate(patch: Partial<ViewState>): void {
  state = { ...state, ...patch };
  const hash = encode(state);
  if (hash !== (location.hash || "#")) location.hash = hash;
  else void render();
}

window.addEventListener("hashchange", () => {
  state = decode(location.hash);
  void render();
});

const actions: Actions = {
  focus: (id) => navigate({ focus: id, selected: id, up: [], down: [], to: null, mode: state.mode === "columns" ? "columns" : state.mode === "impact" ? "impact" : "lineage" }),
  select: (id) => {
    if (loaded && !loaded.nodes.has(id) && state.mode !== "columns") navigate({ focus: id, selected: id, up: [], down: [], to: null });
    else navigate({ selected: id });
  },
  expand: (id, way) => {
    const list = way === "up" ? state.up : state.down;
    if (!list.includes(id)) navigate(way === "up" ? { up: [...list, id], selected: id } : { down: [...list, id], selected: id });
  },
  pathTo: (id) => navigate({ mode: "path", to: id, selected: id }),
  columns: (id) => navigate({ mode: "columns", focus: id, selected: id, up: [], down: [] }),
  impact: (id) => navigate({ mode: "impact", focus: id, selected: id, up: [], down: [] }),
};

// -- loading -----------------------------------------------------------------------------------

function showOverlay(content: HTMLElement | null): void {
  overlay.replaceChildren(...(content ? [content] : []));
  overlay.classList.toggle("show", content !== null);
}

function loading(text: string): void {
  showOverlay(h("div", { class: "card", id: "loading" }, h("div", { class: "spinner" }), h("p", {}, text)));
}

function problem(message: string | null): void {
  banner.hidden = message === null;
  banner.textContent = message ?? "";
  if (message) telemetry.errors.push(message);
}

function walkDirection(): api.Direction {
  return state.mode === "impact" ? "DOWNSTREAM" : state.direction;
}

function queryKey(): string {
  return JSON.stringify([state.focus, walkDirection(), state.hops, timeFilter(state)]);
}

async function ensureLoaded(ticket: number): Promise<boolean> {
  const key = queryKey();
  const fresh = key !== loadedKey || !loaded;
  const stale = loaded && ([...loaded.expanded.up].some((id) => !state.up.includes(id)) || [...loaded.expanded.down].some((id) => !state.down.includes(id)));
  const time = timeFilter(state);
  const started = performance.now();
  if (fresh || stale) {
    loading("Loading lineage…");
    const result = await api.lineage(state.focus!, walkDirection(), state.hops, time, DRAW_LIMIT);
    if (ticket !== renderTicket) return false;
    loaded = new Loaded(state.focus!);
    loaded.add(result);
    loaded.total = result.total;
    loaded.partial = result.isPartial;
    loadedKey = key;
    drawnKey = "";
  }
  const todo = [
    ...state.up.filter((id) => !loaded!.expanded.up.has(id)).map((id) => [id, "UPSTREAM"] as const),
    ...state.down.filter((id) => !loaded!.expanded.down.has(id)).map((id) => [id, "DOWNSTREAM"] as const),
  ];
  if (todo.length) loading("Expanding…");
  for (const [id, direction] of todo) {
    const result: Lineage = await api.lineage(id, direction, 1, time, DRAW_LIMIT);
    if (ticket !== renderTicket) return false;
    loaded!.add(result);
    (direction === "UPSTREAM" ? loaded!.expanded.up : loaded!.expanded.down).add(id);
    drawnKey = "";
  }
  if (fresh || stale || todo.length) lastQueryMs = performance.now() - started;
  return true;
}

// -- rendering ---------------------------------------------------------------------------------

async function render(): Promise<void> {
  const ticket = ++renderTicket;
  telemetry.busy = true;
  syncControls();
  problem(null);
  if (!state.focus) {
    welcome();
    telemetry.busy = false;
    return;
  }
  try {
    if (state.mode === "columns") await renderColumns(ticket);
    else {
      if (!(await ensureLoaded(ticket))) return;
      const path = state.mode === "path" && state.to ? await addPath() : null;
      if (ticket !== renderTicket) return;
      drawGraph();
      if (path !== null) showPath(path);
      else await renderSide(ticket);
    }
  } catch (e) {
    if (ticket !== renderTicket) return;
    showOverlay(null);
    problem((e as Error).message);
    if (!drawn.nodes.length) emptyState("Nothing to show", (e as Error).message);
  }
  if (ticket === renderTicket) {
    telemetry.ready = true;
    telemetry.busy = false;
  }
}

function drawGraph(): void {
  const key = JSON.stringify([loadedKey, state.entities, state.hidden, state.up, state.down, state.mode, state.to]);
  if (key !== drawnKey) {
    drawn = visible(loaded!, { entities: state.entities, hidden: new Set(state.hidden) });
    const drawStats = canvas.draw(drawn.nodes, drawn.edges, drawn.nodes.some((n) => n.id === state.focus) ? state.focus : (drawn.nodes[0]?.id ?? null));
    drawnKey = key;
    requestAnimationFrame(() => {
      const record = { ...drawStats, queryMs: Math.round(lastQueryMs), ms: Math.round(drawStats.ms), mode: state.mode };
      telemetry.draws.push(record);
      console.info("[explorer] drew", JSON.stringify(record));
    });
    legend();
    const shown = drawn.nodes.length;
    const reach = loaded!.total;
    stats.replaceChildren(
      h("span", { id: "stat-count" }, `${shown.toLocaleString()} nodes · ${drawn.edges.length.toLocaleString()} edges`),
      h("br"),
      loaded!.partial ? h("span", {}, `first ${loaded!.nodes.size.toLocaleString()} of ${reach.toLocaleString()} reached`) : `${reach.toLocaleString()} reached in ${state.hops} hop${state.hops === 1 ? "" : "s"}`,
      h("br"),
      `query ${Math.round(lastQueryMs)} ms · draw ${Math.round(drawStats.ms)} ms (${drawStats.layout})`,
    );
    if (shown <= 1) {
      const way = walkDirection() === "BOTH" ? "upstream or downstream" : walkDirection().toLowerCase();
      emptyState("No lineage here", `Nothing ${way} of this node within ${state.hops} hop${state.hops === 1 ? "" : "s"}${timeFilter(state).asOf || timeFilter(state).since || timeFilter(state).until ? " in this time range" : ""}.`);
    } else showOverlay(null);
  } else showOverlay(null);
  const sel = state.selected ?? state.focus;
  canvas.cy.nodes(":selected").unselect();
  if (sel) canvas.cy.getElementById(sel).select();
}

async function renderSide(ticket: number): Promise<void> {
  if (state.mode === "impact") return renderImpactSide(ticket);
  if (state.mode === "path") {
    if (!state.to) {
      canvas.highlight(new Set(), new Set());
      renderHint(panel, "Path mode", "Search for the other end, or select a node and press “Why connected?”: the hops between it and the focus light up.");
      return;
    }
    return;
  }
  canvas.highlight(new Set(), new Set());
  await renderSelected(ticket);
}

async function renderSelected(ticket: number): Promise<void> {
  const id = state.selected ?? state.focus!;
  const drawnNode = drawn.nodes.find((n) => n.id === id);
  if (drawnNode?.synthetic) {
    renderHint(panel, drawnNode.name, `${drawnNode.kind} folded from ${drawnNode.folded?.length ?? 0} versions; it is not itself in the graph.`);
    return;
  }
  const detail = await api.detail(id, state.asOf);
  if (ticket !== renderTicket) return;
  const near = { up: [] as GNode[], down: [] as GNode[] };
  if (loaded) {
    for (const e of loaded.edges.values()) {
      if (STRUCTURE_EDGES.has(e.type)) continue; // versions and runs have their own lists
      if (e.target === id && loaded.nodes.has(e.source)) near.up.push(loaded.nodes.get(e.source)!);
      if (e.source === id && loaded.nodes.has(e.target)) near.down.push(loaded.nodes.get(e.target)!);
    }
  }
  renderDetail(panel, detail, near, actions, id === state.focus);
}

async function renderImpactSide(ticket: number): Promise<void> {
  const key = queryKey();
  if (!impactData || impactData.key !== key) {
    const counts = await api.lineage(state.focus!, "DOWNSTREAM", state.hops, timeFilter(state), 1, "impact");
    if (ticket !== renderTicket) return;
    // countsByKind leaves the start out (it is not its own impact); `total` counts it.
    const affected = counts.countsByKind.reduce((sum, c) => sum + c.count, 0);
    impactData = { key, total: affected, counts: counts.countsByKind, list: null };
    impactKind = null;
  }
  const start = loaded!.nodes.get(state.focus!) ?? (await api.detail(state.focus!, null));
  const onKind = async (kind: string) => {
    impactKind = kind;
    const list = await api.lineage(state.focus!, "DOWNSTREAM", state.hops, timeFilter(state), 500, "impact", [kind]);
    impactData!.list = list.nodes.map((n) => n.node).filter((n) => n.kind === kind);
    const hits = new Set(impactData!.list.map((n) => n.id));
    canvas.cy.nodes().removeClass("hit");
    canvas.cy.nodes().filter((n) => hits.has(n.id())).addClass("hit");
    show();
  };
  const show = () => renderImpact(panel, start, impactData!.total, impactData!.counts, impactKind, impactData!.list, (k) => void onKind(k), actions);
  show();
}

/** Ask why the focus and the other end are connected; add the hops to the loaded graph. */
async function addPath(): Promise<api.PathResult | string> {
  let result: api.PathResult | string;
  try {
    result = await api.path(state.focus!, state.to!, timeFilter(state));
    if (typeof result !== "string" && !result.nodes.length) result = "No path between these nodes.";
  } catch (e) {
    if (!(e instanceof api.QueryProblem)) throw e;
    // The focus may be downstream of the other end: ask the other way round.
    try {
      result = await api.path(state.to!, state.focus!, timeFilter(state));
    } catch (again) {
      result = (again as Error).message;
    }
  }
  if (typeof result !== "string" && loaded) {
    const missing = result.nodes.filter((n) => !loaded!.nodes.has(n.id));
    for (const n of result.nodes) loaded.nodes.set(n.id, n);
    for (const e of result.edges) loaded.edges.set(`${e.source}|${e.type}|${e.qualifier}|${e.target}`, e);
    if (missing.length) drawnKey = "";
  }
  return result;
}

/** Light up the path's nodes and edges on the canvas and list its hops in the panel. */
function showPath(path: api.PathResult | string): void {
  if (typeof path === "string") canvas.highlight(new Set(), new Set());
  else {
    const nodeIds = new Set(path.nodes.map((n) => n.id));
    const hops = new Set(path.edges.map((p) => `${p.source}>${p.target}`));
    const edgeIds = new Set(canvas.cy.edges().filter((e) => hops.has(`${e.source().id()}>${e.target().id()}`)).map((e) => e.id()));
    canvas.highlight(nodeIds, edgeIds);
  }
  renderPath(panel, state.focus!, state.to!, path, actions);
}

// -- column view -------------------------------------------------------------------------------

async function renderColumns(ticket: number): Promise<void> {
  canvas.highlight(new Set(), new Set());
  const focus = state.focus!;
  if (!/^urn:lineage:(dataset|vector_index):/.test(focus)) {
    canvas.cy.elements().remove();
    drawn = { nodes: [], edges: [] };
    drawnKey = "";
    emptyState("Column view needs a dataset", "Pick a dataset (or a vector index) to see its columns and where each one comes from.");
    await renderSelected(ticket);
    return;
  }
  loading("Loading columns…");
  const started = performance.now();
  const cols = await api.columns(focus);
  if (ticket !== renderTicket) return;
  const nodes = new Map<string, GNode>(cols.map((c) => [c.id, c]));
  const edges = new Map<string, ViewEdge>();
  const batches: Promise<Lineage[]>[] = [];
  for (let i = 0; i < cols.length; i += COLUMN_BATCH) {
    batches.push(api.neighbours(cols.slice(i, i + COLUMN_BATCH).map((c) => c.id), timeFilter(state)));
  }
  const answered = (await Promise.all(batches)).flat();
  if (ticket !== renderTicket) return;
  for (const r of answered) {
    for (const { node } of r.nodes) nodes.set(node.id, node);
    for (const e of r.edges) {
      if (e.type !== "DERIVES") continue;
      const id = `${e.source}|${e.type}|${e.qualifier}|${e.target}`;
      edges.set(id, { ...e, id, properties: e.properties ?? {} });
    }
  }
  lastQueryMs = performance.now() - started;
  const linked = new Set([...edges.values()].flatMap((e) => [e.source, e.target]));
  const groups = new Map<string, { id: string; label: string; kind: string; column: number; children: ViewNode[] }>();
  const groupOf = (n: GNode) => datasetOfColumn(n.id) ?? `group:${n.kind}:${n.namespace}`;
  for (const n of nodes.values()) {
    if (!cols.some((c) => c.id === n.id) && !linked.has(n.id)) continue;
    const gid = groupOf(n);
    if (!groups.has(gid)) {
      const name = n.kind === "Column" ? n.name.slice(0, n.name.lastIndexOf("#")) : `${n.kind}s · ${n.namespace}`;
      groups.set(gid, { id: gid, label: name, kind: n.kind === "Column" ? "Dataset" : n.kind, column: 0, children: [] });
    }
    groups.get(gid)!.children.push({ ...n, column: 0 });
  }
  const focusGroup = groups.get(focus) ?? [...groups.values()][0];
  if (focusGroup && focusGroup.id !== focus) focusGroup.id = focus;
  for (const e of edges.values()) {
    const s = groupOf(nodes.get(e.source)!);
    const t = groupOf(nodes.get(e.target)!);
    if (t === focus && s !== focus && groups.get(s)) groups.get(s)!.column = -1;
    if (s === focus && t !== focus && groups.get(t)) groups.get(t)!.column = 1;
  }
  const all = [...groups.values()];
  for (const g of all) g.children.sort((a, b) => a.name.localeCompare(b.name));
  const drawStats = canvas.drawGrouped(all, [...edges.values()], focus);
  drawn = { nodes: all.flatMap((g) => g.children), edges: [...edges.values()] };
  drawnKey = "";
  loadedKey = "";
  const record = { ...drawStats, queryMs: Math.round(lastQueryMs), ms: Math.round(drawStats.ms), mode: "columns" };
  telemetry.draws.push(record);
  console.info("[explorer] drew", JSON.stringify(record));
  stats.replaceChildren(
    h("span", { id: "stat-count" }, `${cols.length} columns · ${edges.size} column edges`),
    h("br"),
    `${groups.size - 1} related datasets · query ${Math.round(lastQueryMs)} ms`,
  );
  legend();
  if (!cols.length) emptyState("No columns recorded", "No producer has reported a schema for this dataset yet.");
  else showOverlay(null);
  const sel = state.selected;
  if (sel) canvas.cy.getElementById(sel).select();
  loaded = null;
  await renderSelected(ticket);
}

// -- states without a graph --------------------------------------------------------------------

function emptyState(title: string, text: string): void {
  showOverlay(h("div", { class: "card", id: "empty" }, h("h3", {}, title), h("p", {}, text)));
}

function welcome(): void {
  canvas.cy.elements().remove();
  drawn = { nodes: [], edges: [] };
  drawnKey = "";
  loadedKey = "";
  const tries = ["orders", "churn", "support", "prompt", "model"];
  const search = byId<HTMLInputElement>("search");
  showOverlay(
    h(
      "div",
      { class: "card", id: "welcome" },
      h("h3", {}, "Where does it come from? What does it feed?"),
      h("p", {}, "Search for a table, feature, model, prompt or answer to see its lineage: upstream on the left, downstream on the right."),
      h(
        "div",
        { class: "actions" },
        ...tries.map((t) =>
          h("button", { type: "button", onclick: () => ((search.value = t), search.dispatchEvent(new Event("input")), search.focus()) }, t),
        ),
      ),
    ),
  );
  renderHint(panel, "Nothing selected", "Select a node on the canvas to see its key, owners, versions, aliases and the raw events behind it.");
  stats.textContent = "";
  telemetry.ready = true;
}

// -- controls ----------------------------------------------------------------------------------

function legend(): void {
  // Counts of what is drawn; a hidden kind counts what the walk found of it.
  const counts = new Map<string, number>();
  for (const n of drawn.nodes) counts.set(n.kind, (counts.get(n.kind) ?? 0) + 1);
  for (const n of loaded?.nodes.values() ?? []) if (state.hidden.includes(n.kind)) counts.set(n.kind, (counts.get(n.kind) ?? 0) + 1);
  const hidden = new Set(state.hidden);
  const kinds = Object.keys(KINDS).filter((k) => counts.has(k) || hidden.has(k));
  byId("legend").replaceChildren(
    ...kinds.map((kind) =>
      h(
        "li",
        {},
        h(
          "button",
          {
            type: "button",
            "data-kind": kind,
            "aria-pressed": String(!hidden.has(kind)),
            title: hidden.has(kind) ? `Show ${kind} nodes` : `Hide ${kind} nodes (edges are bridged across them)`,
            onclick: () => navigate({ hidden: hidden.has(kind) ? state.hidden.filter((k) => k !== kind) : [...state.hidden, kind] }),
          },
          h("span", { class: "swatch", style: `background:${styleOf(kind).color}` }),
          kind,
          h("span", { class: "count" }, (counts.get(kind) ?? 0).toLocaleString()),
        ),
      ),
    ),
  );
  if (!kinds.length) byId("legend").append(h("li", { class: "muted" }, "No nodes yet"));
}

/** Turn an ISO moment into a datetime-local value (UTC) and back. */
const toLocal = (iso: string | null) => (iso ? iso.slice(0, 16) : "");
const fromLocal = (value: string) => (value ? `${value.length === 16 ? value + ":00" : value}Z` : null);

function syncControls(): void {
  for (const b of document.querySelectorAll<HTMLButtonElement>("[data-mode]")) b.setAttribute("aria-pressed", String(b.dataset.mode === state.mode));
  for (const b of document.querySelectorAll<HTMLButtonElement>("[data-dir]")) {
    b.setAttribute("aria-pressed", String(b.dataset.dir === walkDirection()));
    b.disabled = state.mode === "impact" || state.mode === "columns";
  }
  byId<HTMLInputElement>("hops").value = String(state.hops);
  byId<HTMLInputElement>("entities").checked = state.entities;
  const timeMode = state.asOf ? "asof" : state.since || state.until ? "window" : timeModeChoice;
  for (const b of document.querySelectorAll<HTMLButtonElement>("[data-time]")) b.setAttribute("aria-pressed", String(b.dataset.time === timeMode));
  byId("time-asof").hidden = timeMode !== "asof";
  byId("time-window").hidden = timeMode !== "window";
  byId<HTMLInputElement>("as-of").value = toLocal(state.asOf);
  byId<HTMLInputElement>("since").value = toLocal(state.since);
  byId<HTMLInputElement>("until").value = toLocal(state.until);
  document.title = state.focus ? `${state.focus.split(":").slice(-1)[0] ? decodeURIComponent(state.focus.split(":")[4] ?? state.focus) : ""} · Lineage explorer` : "Lineage explorer";
}

let timeModeChoice: "now" | "asof" | "window" = state.asOf ? "asof" : state.since || state.until ? "window" : "now";

function wireControls(): void {
  for (const b of document.querySelectorAll<HTMLButtonElement>("[data-mode]")) {
    b.addEventListener("click", () => navigate({ mode: b.dataset.mode as ViewState["mode"], to: b.dataset.mode === "path" ? state.to : null }));
  }
  for (const b of document.querySelectorAll<HTMLButtonElement>("[data-dir]")) {
    b.addEventListener("click", () => navigate({ direction: b.dataset.dir as api.Direction, up: [], down: [] }));
  }
  const hops = byId<HTMLInputElement>("hops");
  const setHops = (n: number) => navigate({ hops: Math.max(1, Math.min(100, Math.round(n) || 1)) });
  hops.addEventListener("change", () => setHops(Number(hops.value)));
  byId("hops-down").addEventListener("click", () => setHops(state.hops - 1));
  byId("hops-up").addEventListener("click", () => setHops(state.hops + 1));
  byId<HTMLInputElement>("entities").addEventListener("change", (e) => navigate({ entities: (e.target as HTMLInputElement).checked }));
  byId("kinds-all").addEventListener("click", () => navigate({ hidden: [] }));
  for (const b of document.querySelectorAll<HTMLButtonElement>("[data-time]")) {
    b.addEventListener("click", () => {
      timeModeChoice = b.dataset.time as typeof timeModeChoice;
      if (timeModeChoice === "now") navigate({ asOf: null, since: null, until: null });
      else if (timeModeChoice === "asof") {
        syncControls();
        byId("as-of").focus();
        if (state.since || state.until) navigate({ since: null, until: null });
      } else {
        syncControls();
        byId("since").focus();
        if (state.asOf) navigate({ asOf: null });
      }
    });
  }
  byId<HTMLInputElement>("as-of").addEventListener("change", (e) => navigate({ asOf: fromLocal((e.target as HTMLInputElement).value), since: null, until: null }));
  byId<HTMLInputElement>("since").addEventListener("change", (e) => navigate({ since: fromLocal((e.target as HTMLInputElement).value), asOf: null }));
  byId<HTMLInputElement>("until").addEventListener("change", (e) => navigate({ until: fromLocal((e.target as HTMLInputElement).value), asOf: null }));
  byId("fit").addEventListener("click", () => canvas.fit());

  const base = () => {
    const name = (drawn.nodes.find((n) => n.id === state.focus)?.name ?? "view").replace(/[^A-Za-z0-9_.-]+/g, "_").slice(0, 60);
    return `lineage-${state.mode}-${name}`;
  };
  byId("export-png").addEventListener("click", () => savePng(base(), canvas.png()));
  byId("export-svg").addEventListener("click", () => saveText(`${base()}.svg`, canvas.svg(), "image/svg+xml"));
  byId("export-csv").addEventListener("click", () => saveText(`${base()}.csv`, toCsv(drawn.nodes, drawn.edges), "text/csv"));
  byId("export-json").addEventListener("click", () => saveText(`${base()}.json`, toJson({ ...state, url: location.href }, drawn.nodes, drawn.edges), "application/json"));

  canvas.cy.on("tap", "node", (e) => navigate({ selected: e.target.id() }));
  canvas.cy.on("dbltap", "node", (e) => {
    const id = e.target.id() as string;
    if (!e.target.isParent() && !id.startsWith("group:")) actions.focus(id);
  });

  // Signed in after a cancelled dialog: draw the view again, now with the token.
  setupAccount(api.probe, () => void render());
  setupSearch(byId<HTMLInputElement>("search"), byId<HTMLUListElement>("search-results"), (node) => {
    if (state.mode === "path" && state.focus && node.id !== state.focus) navigate({ to: node.id, selected: node.id });
    else if (state.mode === "columns" && !/^urn:lineage:(dataset|vector_index):/.test(node.id)) navigate({ mode: "lineage", focus: node.id, selected: node.id, up: [], down: [], to: null });
    else navigate({ focus: node.id, selected: node.id, up: [], down: [], to: null });
  });
}

window.addEventListener("error", (e) => telemetry.errors.push(String(e.message)));
wireControls();
void render();
