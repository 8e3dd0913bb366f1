// The side panel: the selected node in full, the impact summary, the path's hops.

import type { Alias, Detail, Evidence, GNode, KindCount, PathResult } from "./api";
import { h, when } from "./dom";
import { styleOf } from "./kinds";

export interface Actions {
  focus(id: string): void;
  select(id: string): void;
  expand(id: string, way: "up" | "down"): void;
  pathTo(id: string): void;
  columns(id: string): void;
  impact(id: string): void;
}

export interface Neighbours {
  up: GNode[];
  down: GNode[];
}

function chip(kind: string): HTMLElement {
  return h("span", { class: "chip", style: `background:${styleOf(kind).color}` }, kind);
}

function nodeList(nodes: GNode[], act: (id: string) => void, label: string): HTMLElement {
  return h(
    "ul",
    { class: "list", "aria-label": label },
    ...nodes.map((n) =>
      h(
        "li",
        {},
        h(
          "button",
          { type: "button", "data-id": n.id, onclick: () => act(n.id), title: n.id },
          h("span", { class: "swatch", style: `background:${styleOf(n.kind).color}` }),
          h("span", { class: "nm" }, n.kind === "Column" ? n.name.slice(n.name.lastIndexOf("#") + 1) : n.name),
          h("span", { class: "sub" }, n.version ? n.version.slice(0, 14) : n.kind),
        ),
      ),
    ),
  );
}

/** Find owners wherever producers put them (a property, or the OpenLineage ownership facet). */
function owners(properties: Record<string, unknown>): string {
  const direct = properties.owners ?? properties.owner;
  const facets = (properties.facets ?? {}) as Record<string, { owners?: { name?: string; type?: string }[] }>;
  const facet = facets.ownership?.owners;
  if (Array.isArray(direct)) return direct.map(String).join(", ");
  if (typeof direct === "string") return direct;
  if (Array.isArray(facet)) return facet.map((o) => (o.type ? `${o.name} (${o.type})` : o.name)).join(", ");
  return "—";
}

function aliasTable(aliases: Alias[], title: string, open: (id: string) => void): HTMLElement[] {
  if (!aliases.length) return [];
  const rows = aliases.map((a) =>
    h(
      "tr",
      { class: a.validTo ? "" : "current" },
      h("td", {}, a.name),
      h("td", {}, h("button", { type: "button", class: "link", onclick: () => open(a.target), title: a.target }, a.target.split(":").pop() ?? a.target)),
      h("td", {}, when(a.validFrom)),
      h("td", {}, a.validTo ? when(a.validTo) : "current"),
    ),
  );
  return [
    h("h4", {}, title),
    h("table", { class: "aliases" }, h("thead", {}, h("tr", {}, h("th", {}, "Alias"), h("th", {}, "Target"), h("th", {}, "From"), h("th", {}, "To"))), h("tbody", {}, ...rows)),
  ];
}

function tail(id: string): string {
  return decodeURIComponent(id.split(":")[4] ?? id);
}

export function evidenceList(evidence: Evidence[], via = "", openFirst = true): HTMLElement[] {
  if (!evidence.length) return [h("p", { class: "muted" }, "No journal records.")];
  return evidence.map((ev, i) =>
    h(
      "details",
      { class: "evidence", open: openFirst && i === 0 },
      h("summary", {}, h("b", {}, `#${ev.seq}`), ` ${ev.source} · ${when(ev.receivedAt)}`, via ? h("span", { class: "muted" }, ` · ${via}`) : null),
      h("pre", { class: "json" }, JSON.stringify(ev.raw, null, 2)),
    ),
  );
}

/** Render the selected node. */
export function renderDetail(panel: HTMLElement, d: Detail, near: Neighbours, actions: Actions, isFocus: boolean): void {
  const props = d.properties ?? {};
  const { facets, ...rest } = props as { facets?: unknown } & Record<string, unknown>;
  const isDataset = d.kind === "Dataset" || d.kind === "VectorIndex";
  panel.replaceChildren(
    h("div", {}, chip(d.kind), d.version ? h("span", { class: "muted" }, `  version ${d.version}`) : null),
    h("h3", { id: "detail-name" }, d.kind === "Column" ? d.name.replace("#", " · ") : d.name),
    h("code", { class: "key", "aria-label": "Key" }, d.id),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Namespace"),
      h("dd", {}, d.namespace),
      h("dt", {}, "Owners"),
      h("dd", {}, owners(props)),
      h("dt", {}, "First seen"),
      h("dd", {}, when(d.firstSeen)),
      h("dt", {}, "Last seen"),
      h("dd", {}, when(d.lastSeen)),
      d.state ? h("dt", {}, "State") : null,
      d.state ? h("dd", {}, `${d.state} (${when(d.startedAt)} → ${when(d.endedAt)})`) : null,
      d.templateHash ? h("dt", {}, "Template") : null,
      d.templateHash ? h("dd", {}, d.templateHash) : null,
    ),
    h(
      "div",
      { class: "actions" },
      isFocus ? null : h("button", { type: "button", class: "primary", onclick: () => actions.focus(d.id) }, "Focus here"),
      h("button", { type: "button", id: "expand-up", onclick: () => actions.expand(d.id, "up") }, "◀ Expand upstream"),
      h("button", { type: "button", id: "expand-down", onclick: () => actions.expand(d.id, "down") }, "Expand downstream ▶"),
      isDataset ? h("button", { type: "button", id: "open-columns", onclick: () => actions.columns(d.id) }, "Column view") : null,
      h("button", { type: "button", id: "open-impact", onclick: () => actions.impact(d.id) }, "Impact"),
      isFocus ? null : h("button", { type: "button", id: "path-here", onclick: () => actions.pathTo(d.id) }, "Why connected?"),
    ),
    ...(near.up.length ? [h("h4", {}, `Upstream neighbours (${near.up.length})`), nodeList(near.up.slice(0, 30), actions.select, "Upstream neighbours")] : []),
    ...(near.down.length ? [h("h4", {}, `Downstream neighbours (${near.down.length})`), nodeList(near.down.slice(0, 30), actions.select, "Downstream neighbours")] : []),
    ...(d.job ? [h("h4", {}, "Run of"), nodeList([d.job], actions.select, "Job")] : []),
    ...(d.columns?.length ? [h("h4", {}, `Columns (${d.columns.length})`), nodeList(d.columns, actions.select, "Columns")] : []),
    ...(d.versions?.length ? [h("h4", {}, `Versions (latest ${d.versions.length})`), nodeList(d.versions, actions.select, "Versions")] : []),
    ...(d.runs?.length ? [h("h4", {}, `Runs (latest ${d.runs.length})`), nodeList(d.runs, actions.select, "Runs")] : []),
    ...aliasTable(d.aliases ?? [], "Aliases", actions.select),
    ...aliasTable((d.aliasHistory ?? []).filter((a) => a.validTo), "Alias history", actions.select),
    ...(Object.keys(rest).length ? [h("h4", {}, "Properties"), h("pre", { class: "json", style: "border-radius:8px" }, JSON.stringify(rest, null, 2))] : []),
    ...(facets && Object.keys(facets).length ? [h("h4", {}, "Facets"), h("pre", { class: "json", style: "border-radius:8px" }, JSON.stringify(facets, null, 2))] : []),
    h("h4", {}, `Evidence (${d.evidence.length || d.edgeEvidence.length})`),
    h(
      "div",
      { id: "evidence" },
      ...(d.evidence.length || !d.edgeEvidence.length
        ? evidenceList(d.evidence)
        : [
            h("p", { class: "muted" }, "No record names this node on its own; these are the records behind its edges."),
            ...d.edgeEvidence.flatMap((e, i) =>
              evidenceList(e.evidence, `${e.type} ${e.source === d.id ? "→ " + tail(e.target) : "← " + tail(e.source)}`, i === 0),
            ),
          ]),
    ),
  );
}

/** Render an impact summary: counts by kind as bars; a kind opens its list. */
export function renderImpact(
  panel: HTMLElement,
  start: GNode,
  total: number,
  counts: KindCount[],
  chosen: string | null,
  list: GNode[] | null,
  onKind: (kind: string) => void,
  actions: Actions,
): void {
  const max = Math.max(1, ...counts.map((c) => c.count));
  panel.replaceChildren(
    h("div", {}, chip(start.kind)),
    h("h3", {}, `Impact of ${start.name}`),
    h("p", { class: "muted" }, `${total.toLocaleString()} downstream nodes could be affected by a change here.`),
    h(
      "div",
      { class: "bars", id: "impact-counts" },
      ...counts.map((c) =>
        h(
          "button",
          { type: "button", "data-kind": c.kind, "aria-pressed": String(c.kind === chosen), onclick: () => onKind(c.kind) },
          h("span", {}, c.kind),
          h("span", { class: "bar", style: `width:${Math.max(4, (100 * c.count) / max)}%;background:${styleOf(c.kind).color}` }),
          h("span", { class: "n" }, c.count.toLocaleString()),
        ),
      ),
    ),
    ...(chosen && list ? [h("h4", {}, `${chosen} (${list.length})`), h("div", { id: "impact-list" }, nodeList(list, actions.select, `Impacted ${chosen}`))] : []),
    ...(counts.length ? [] : [h("p", { class: "empty-panel" }, "Nothing downstream: a change here affects nothing else.")]),
  );
}

/** Render a path: each hop from upstream to downstream with the evidence behind it. */
export function renderPath(panel: HTMLElement, from: string, to: string, result: PathResult | string, actions: Actions): void {
  if (typeof result === "string") {
    panel.replaceChildren(h("h3", {}, "Path"), h("p", { class: "muted", id: "path-message" }, result), h("code", { class: "key" }, from), h("code", { class: "key" }, to));
    return;
  }
  const byId = new Map(result.nodes.map((n) => [n.id, n]));
  const items: HTMLElement[] = [];
  result.nodes.forEach((n, i) => {
    const edge = result.edges[i];
    items.push(
      h(
        "li",
        {},
        nodeList([n], actions.select, n.name),
        edge
          ? h(
              "div",
              { class: "edge" },
              `${edge.type}${edge.qualifier ? ` (${edge.qualifier})` : ""} → ${byId.get(edge.target)?.name ?? edge.target} · ${edge.evidenceCount} record${edge.evidenceCount === 1 ? "" : "s"}`,
              edge.evidence.length ? h("details", { class: "evidence" }, h("summary", {}, "evidence"), h("pre", { class: "json" }, JSON.stringify(edge.evidence[0].raw, null, 2))) : null,
            )
          : null,
      ),
    );
  });
  panel.replaceChildren(
    h("h3", {}, "Why are these connected?"),
    h("p", { class: "muted", id: "path-message" }, `${result.edges.length} hop${result.edges.length === 1 ? "" : "s"}, upstream to downstream.`),
    h("ol", { class: "hops", id: "path-hops" }, ...items),
  );
}

export function renderHint(panel: HTMLElement, title: string, text: string): void {
  panel.replaceChildren(h("div", { class: "empty-panel" }, h("h3", {}, title), h("p", {}, text)));
}
