// Exports of the current view: pictures (PNG, SVG) and data (CSV, JSON) of its nodes and edges.

import { download } from "./dom";
import type { ViewEdge, ViewNode } from "./view";

const CSV_COLUMNS = [
  "record",
  "id",
  "kind",
  "namespace",
  "name",
  "version",
  "source",
  "target",
  "type",
  "qualifier",
  "transformation",
  "first_seen",
  "last_seen",
  "valid_from",
  "valid_to",
  "evidence_count",
] as const;

function cell(value: unknown): string {
  const text = value === null || value === undefined ? "" : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Return one CSV table of the view: a row per node, then a row per edge (the record column says which). */
export function toCsv(nodes: ViewNode[], edges: ViewEdge[]): string {
  const rows: Record<string, unknown>[] = [];
  for (const n of nodes) {
    rows.push({ record: "node", id: n.id, kind: n.kind, namespace: n.namespace, name: n.name, version: n.version, first_seen: n.firstSeen, last_seen: n.lastSeen });
  }
  for (const e of edges) {
    rows.push({
      record: "edge",
      id: e.id,
      source: e.source,
      target: e.target,
      type: e.type,
      qualifier: e.qualifier,
      transformation: e.properties?.transformation,
      valid_from: e.validFrom,
      valid_to: e.validTo,
      evidence_count: e.evidenceCount,
    });
  }
  return [CSV_COLUMNS.join(","), ...rows.map((r) => CSV_COLUMNS.map((c) => cell(r[c])).join(","))].join("\r\n") + "\r\n";
}

/** Return the view as JSON: the state that made it, its nodes and its edges. */
export function toJson(view: object, nodes: ViewNode[], edges: ViewEdge[]): string {
  return JSON.stringify(
    {
      view,
      nodes: nodes.map(({ id, kind, namespace, name, version, firstSeen, lastSeen, column, folded }) => ({ id, kind, namespace, name, version, firstSeen, lastSeen, column, folded })),
      edges: edges.map(({ source, target, type, qualifier, properties, validFrom, validTo, evidenceCount, bridge }) => ({ source, target, type, qualifier, properties, validFrom, validTo, evidenceCount, bridge: bridge ?? false })),
    },
    null,
    2,
  );
}

export function savePng(base: string, dataUri: string): void {
  const bytes = atob(dataUri.split(",")[1]);
  const buffer = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) buffer[i] = bytes.charCodeAt(i);
  download(`${base}.png`, new Blob([buffer], { type: "image/png" }), "image/png");
}

export function saveText(name: string, text: string, type: string): void {
  download(name, text, type);
}
