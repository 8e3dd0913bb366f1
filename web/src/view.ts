// The graph in view: what the queries returned, and what the canvas shows of it (folded, filtered).

import type { GEdge, GNode, Lineage } from "./api";
import { entityOf, STRUCTURE_EDGES } from "./kinds";

export interface ViewNode extends GNode {
  /** Signed distance from the focus: negative upstream, positive downstream. */
  column: number;
  /** Version ids folded into this node (entities-only view). */
  folded?: string[];
  synthetic?: boolean;
}

export interface ViewEdge extends GEdge {
  id: string;
  /** Drawn across nodes hidden by a kind filter. */
  bridge?: boolean;
  /** How many raw edges this one stands for after folding. */
  count?: number;
}

/** Everything loaded so far around one focus node. */
export class Loaded {
  nodes = new Map<string, GNode>();
  edges = new Map<string, GEdge>();
  focus: string;
  total = 0;
  partial = false;
  /** Nodes whose upstream / downstream were expanded (by the walk or by a click). */
  expanded = { up: new Set<string>(), down: new Set<string>() };

  constructor(focus: string) {
    this.focus = focus;
  }

  /** Add a lineage result; return how many nodes were new. */
  add(result: Lineage): number {
    let added = 0;
    for (const { node } of result.nodes) {
      if (!this.nodes.has(node.id)) added++;
      this.nodes.set(node.id, node);
    }
    for (const edge of result.edges) this.edges.set(edgeId(edge), edge);
    return added;
  }
}

export function edgeId(e: { source: string; target: string; type: string; qualifier: string }): string {
  return `${e.source}|${e.type}|${e.qualifier}|${e.target}`;
}

/**
 * Return signed columns for every node: a breadth-first walk from the focus where following an
 * edge downstream adds one and going against it subtracts one (upstream ends up on the left).
 */
export function columnsFrom(focus: string, ids: Iterable<string>, edges: Iterable<ViewEdge>): Map<string, number> {
  // Structure edges (version of, run of) keep both ends in one column; flow edges move one.
  const out = new Map<string, [string, number][]>();
  const inn = new Map<string, [string, number][]>();
  for (const e of edges) {
    const step = STRUCTURE_EDGES.has(e.type) ? 0 : 1;
    (out.get(e.source) ?? out.set(e.source, []).get(e.source)!).push([e.target, step]);
    (inn.get(e.target) ?? inn.set(e.target, []).get(e.target)!).push([e.source, step]);
  }
  const column = new Map<string, number>();
  const starts = [focus, ...ids];
  for (const start of starts) {
    if (column.has(start)) continue;
    column.set(start, 0);
    const queue = [start];
    for (let i = 0; i < queue.length; i++) {
      const id = queue[i];
      const c = column.get(id)!;
      for (const [next, step] of out.get(id) ?? []) {
        if (!column.has(next)) {
          column.set(next, c + step);
          queue.push(next);
        }
      }
      for (const [prev, step] of inn.get(id) ?? []) {
        if (!column.has(prev)) {
          column.set(prev, c - step);
          queue.push(prev);
        }
      }
    }
  }
  return column;
}

/**
 * Return the nodes and edges to draw: versions and runs folded into their entities when asked,
 * hidden kinds left out with edges bridged across them so the flow stays readable.
 */
export function visible(
  loaded: Loaded,
  opts: { entities: boolean; hidden: Set<string> },
): { nodes: ViewNode[]; edges: ViewEdge[] } {
  const rep = new Map<string, string>();
  const nodes = new Map<string, ViewNode>();
  for (const node of loaded.nodes.values()) {
    const entity = opts.entities ? entityOf(node.id, node.kind) : null;
    if (!entity) {
      rep.set(node.id, node.id);
      if (!nodes.has(node.id)) nodes.set(node.id, { ...node, column: 0 });
      else Object.assign(nodes.get(node.id)!, node, { synthetic: false });
      continue;
    }
    // A DatasetVersion of a vector index folds into the index when it is in view.
    let target = entity.id;
    if (entity.kind === "Dataset") {
      const index = entity.id.replace("urn:lineage:dataset:", "urn:lineage:vector_index:");
      if (loaded.nodes.has(index)) target = index;
    }
    rep.set(node.id, target);
    const existing = nodes.get(target) ?? (loaded.nodes.get(target) ? { ...loaded.nodes.get(target)!, column: 0 } : null);
    const folded = existing ?? {
      id: target,
      kind: entity.kind,
      namespace: node.namespace,
      name: node.name,
      version: null,
      firstSeen: node.firstSeen,
      lastSeen: node.lastSeen,
      column: 0,
      synthetic: true,
    };
    (folded.folded ??= []).push(node.id);
    if (node.firstSeen < folded.firstSeen) folded.firstSeen = node.firstSeen;
    if (node.lastSeen > folded.lastSeen) folded.lastSeen = node.lastSeen;
    nodes.set(target, folded);
  }
  const edges = new Map<string, ViewEdge>();
  for (const e of loaded.edges.values()) {
    const source = rep.get(e.source);
    const target = rep.get(e.target);
    if (!source || !target || source === target) continue;
    const folded = { ...e, source, target, qualifier: opts.entities ? "" : e.qualifier };
    const id = edgeId(folded);
    const prior = edges.get(id);
    if (prior) prior.count = (prior.count ?? 1) + 1;
    else edges.set(id, { ...folded, id, properties: e.properties ?? {} });
  }
  const focus = rep.get(loaded.focus) ?? loaded.focus;
  let shownNodes = [...nodes.values()];
  let shownEdges = [...edges.values()];
  if (opts.hidden.size) [shownNodes, shownEdges] = bridge(shownNodes, shownEdges, opts.hidden, focus);
  const columns = columnsFrom(focus, shownNodes.map((n) => n.id), shownEdges);
  for (const n of shownNodes) n.column = columns.get(n.id) ?? 0;
  return { nodes: shownNodes, edges: shownEdges };
}

/** Leave out nodes of hidden kinds (never the focus); link what they connected. */
function bridge(nodes: ViewNode[], edges: ViewEdge[], hidden: Set<string>, focus: string): [ViewNode[], ViewEdge[]] {
  const gone = new Set(nodes.filter((n) => hidden.has(n.kind) && n.id !== focus).map((n) => n.id));
  if (!gone.size) return [nodes, edges];
  const out = new Map<string, string[]>();
  for (const e of edges) (out.get(e.source) ?? out.set(e.source, []).get(e.source)!).push(e.target);
  const kept = edges.filter((e) => !gone.has(e.source) && !gone.has(e.target));
  const have = new Set(kept.map((e) => `${e.source}>${e.target}`));
  for (const e of edges) {
    if (gone.has(e.source) || !gone.has(e.target)) continue;
    // Walk downstream through hidden nodes to the first shown ones.
    const seen = new Set<string>([e.target]);
    const stack = [e.target];
    while (stack.length) {
      const id = stack.pop()!;
      for (const next of out.get(id) ?? []) {
        if (seen.has(next)) continue;
        seen.add(next);
        if (gone.has(next)) stack.push(next);
        else if (!have.has(`${e.source}>${next}`) && next !== e.source) {
          have.add(`${e.source}>${next}`);
          kept.push({
            id: `bridge|${e.source}|${next}`,
            source: e.source,
            target: next,
            type: "VIA",
            qualifier: "",
            properties: {},
            validFrom: null,
            validTo: null,
            evidenceCount: 0,
            bridge: true,
          });
        }
      }
    }
  }
  return [nodes.filter((n) => !gone.has(n.id)), kept];
}
