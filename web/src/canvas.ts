// The graph canvas: cytoscape with kinds styled, a left-to-right layered layout, highlights.

import cytoscape from "cytoscape";
import type { Core, ElementDefinition, StylesheetJson } from "cytoscape";
import dagre from "cytoscape-dagre";
import svg from "cytoscape-svg";

import { KINDS, labelOf, STRUCTURE_EDGES, styleOf } from "./kinds";
import type { ViewEdge, ViewNode } from "./view";

cytoscape.use(dagre);
cytoscape.use(svg);

/** Above this many nodes dagre is too slow to feel interactive: columns per distance instead. */
export const DAGRE_LIMIT = 300;
const ROWS_PER_COLUMN = 40;

const STYLE: StylesheetJson = [
  {
    selector: "node",
    style: {
      "background-color": "data(color)",
      shape: "data(shape)" as never,
      label: "data(label)",
      color: "#1d2633",
      "font-size": 12,
      "font-family": "Inter, system-ui, sans-serif",
      "text-valign": "bottom",
      "text-halign": "center",
      "text-margin-y": 4,
      "text-wrap": "wrap",
      "text-max-width": "110px",
      "text-background-color": "#ffffff",
      "text-background-opacity": 0.85,
      "text-background-padding": "2px",
      "text-background-shape": "roundrectangle",
      width: 30,
      height: 30,
      "border-width": 2,
      "border-color": "#ffffff",
      "min-zoomed-font-size": 5,
    },
  },
  { selector: "node[?synthetic]", style: { "border-style": "dashed", "border-color": "data(color)", "background-opacity": 0.5 } },
  { selector: "node[?folded]", style: { "border-width": 3, "border-color": "#1d2633" } },
  { selector: "node.focus", style: { width: 42, height: 42, "border-width": 4, "border-color": "#ffb000", "font-weight": "bold" } },
  { selector: "node:selected", style: { "border-width": 4, "border-color": "#111", "overlay-color": "#2f6fdf", "overlay-opacity": 0.12 } },
  {
    selector: "node:parent",
    style: {
      shape: "round-rectangle",
      "background-color": "#eef3fb",
      "background-opacity": 1,
      "border-color": "data(color)",
      "border-width": 2,
      "text-valign": "top",
      "text-halign": "center",
      "text-margin-y": -6,
      "font-weight": "bold",
      padding: "12px",
    },
  },
  {
    selector: "edge",
    style: {
      width: 1.6,
      "line-color": "#9aa7b8",
      "target-arrow-color": "#9aa7b8",
      "target-arrow-shape": "triangle",
      "arrow-scale": 0.9,
      "curve-style": "bezier",
      "font-size": 9,
      color: "#4a5566",
      "text-rotation": "autorotate",
      "text-background-color": "#fff",
      "text-background-opacity": 0.9,
      "text-background-padding": "1px",
      "min-zoomed-font-size": 8,
    },
  },
  { selector: "edge[label]", style: { label: "data(label)" } },
  { selector: "edge.structure", style: { "line-style": "dashed", width: 1, "line-color": "#c9d1dc", "target-arrow-shape": "none", "curve-style": "straight" } },
  { selector: "edge[?bridge]", style: { "line-style": "dashed", "line-color": "#c0c8d4", "target-arrow-color": "#c0c8d4" } },
  { selector: "edge[type = 'DERIVES']", style: { "line-color": "#6d8fc7", "target-arrow-color": "#6d8fc7" } },
  { selector: "edge.expired", style: { "line-style": "dotted" } },
  { selector: "edge.many", style: { "curve-style": "haystack", "haystack-radius": 0, width: 0.6, opacity: 0.45 } },
  { selector: ".dim", style: { opacity: 0.18 } },
  { selector: "node.path", style: { "border-color": "#e4572e", "border-width": 5, opacity: 1 } },
  {
    selector: "edge.path",
    style: { "line-color": "#e4572e", "target-arrow-color": "#e4572e", width: 4, opacity: 1, "z-index": 10 },
  },
  { selector: "node.hit", style: { "border-color": "#e4572e", "border-width": 4 } },
];

export interface DrawStats {
  nodes: number;
  edges: number;
  layout: "dagre" | "columns" | "grouped";
  ms: number;
}

export class Canvas {
  cy: Core;

  constructor(container: HTMLElement) {
    this.cy = cytoscape({
      container,
      style: STYLE,
      minZoom: 0.05,
      maxZoom: 3,
      selectionType: "single",
      boxSelectionEnabled: false,
    });
  }

  /** Replace the drawing with these nodes and edges, laid out left to right. */
  draw(nodes: ViewNode[], edges: ViewEdge[], focus: string | null): DrawStats {
    const started = performance.now();
    const big = nodes.length > DAGRE_LIMIT;
    const cy = this.cy;
    cy.startBatch();
    cy.elements().remove();
    const elements: ElementDefinition[] = nodes.map((n) => nodeElement(n));
    for (const e of edges) elements.push(edgeElement(e));
    cy.add(elements);
    if (focus) cy.getElementById(focus).addClass("focus");
    // Thousands of edges: straight, thin and light (haystack edges are the cheapest to draw).
    if (big) cy.edges().addClass("many");
    cy.endBatch();
    if (big) columnLayout(cy, nodes);
    else {
      // Structure edges may join nodes within one rank; flow edges push downstream to the right.
      const structural = (edge: { data(k: string): string }) => STRUCTURE_EDGES.has(edge.data("type"));
      cy.layout({
        name: "dagre",
        rankDir: "LR",
        nodeSep: 16,
        rankSep: 56,
        edgeSep: 8,
        nodeDimensionsIncludeLabels: true,
        minLen: (edge: { data(k: string): string }) => (structural(edge) ? 0 : 1),
        edgeWeight: (edge: { data(k: string): string }) => (structural(edge) ? 1 : 3),
        fit: true,
        padding: 30,
      } as never).run();
    }
    if (!big) cy.fit(undefined, 40);
    return { nodes: nodes.length, edges: edges.length, layout: big ? "columns" : "dagre", ms: performance.now() - started };
  }

  /** Draw the column view: datasets as boxes holding their columns, column edges labelled. */
  drawGrouped(
    groups: { id: string; label: string; kind: string; column: number; children: ViewNode[] }[],
    edges: ViewEdge[],
    focus: string,
  ): DrawStats {
    const started = performance.now();
    const cy = this.cy;
    cy.startBatch();
    cy.elements().remove();
    const elements: ElementDefinition[] = [];
    const byColumn = new Map<number, typeof groups>();
    for (const g of groups) (byColumn.get(g.column) ?? byColumn.set(g.column, []).get(g.column)!).push(g);
    for (const [column, list] of [...byColumn.entries()].sort((a, b) => a[0] - b[0])) {
      let y = 0;
      for (const g of list.sort((a, b) => a.label.localeCompare(b.label))) {
        const s = styleOf(g.kind);
        elements.push({ group: "nodes", data: { id: g.id, label: g.label, color: s.color, shape: s.shape, kind: g.kind } });
        for (const c of g.children) {
          const el = nodeElement(c);
          el.data.parent = g.id;
          el.position = { x: column * 380, y };
          y += 46;
          elements.push(el);
        }
        y += 70;
      }
    }
    for (const e of edges) elements.push(edgeElement(e));
    cy.add(elements);
    cy.getElementById(focus).addClass("focus");
    cy.nodes(":childless").style({ width: 16, height: 16, "text-valign": "center", "text-halign": "right", "text-margin-x": 6, "text-margin-y": 0 } as never);
    cy.endBatch();
    cy.layout({ name: "preset", fit: true, padding: 30 }).run();
    return { nodes: cy.nodes().length, edges: edges.length, layout: "grouped", ms: performance.now() - started };
  }

  /** Highlight a set of nodes and edges, dimming the rest (empty sets clear it). */
  highlight(nodeIds: Set<string>, edgeIds: Set<string>): void {
    const cy = this.cy;
    cy.batch(() => {
      cy.elements().removeClass("dim path");
      if (!nodeIds.size) return;
      cy.elements().addClass("dim");
      cy.nodes().filter((n) => nodeIds.has(n.id())).removeClass("dim").addClass("path");
      cy.edges().filter((e) => edgeIds.has(e.id())).removeClass("dim").addClass("path");
    });
    if (nodeIds.size) cy.fit(cy.nodes(".path"), 60);
  }

  fit(): void {
    this.cy.fit(undefined, 40);
  }

  png(): string {
    return this.cy.png({ full: true, scale: 2, bg: "#ffffff", output: "base64uri" }) as string;
  }

  svg(): string {
    // canvas2svg mis-draws rounded polygons (an arc with no path open): draw them with sharp corners.
    const rounded = this.cy.nodes().filter((n) => /^round-(?!rectangle)/.test(n.data("shape")));
    this.cy.batch(() => rounded.forEach((n) => void n.data("shape", n.data("shape").replace("round-", ""))));
    try {
      return (this.cy as unknown as { svg(o: object): string }).svg({ full: true, scale: 1, bg: "#ffffff" });
    } finally {
      this.cy.batch(() => rounded.forEach((n) => void n.data("shape", "round-" + n.data("shape"))));
    }
  }
}

function nodeElement(n: ViewNode): ElementDefinition {
  const s = styleOf(n.kind);
  const label = labelOf(n.kind, n.name, n.version) + (n.folded?.length ? `  ×${n.folded.length}` : "");
  return {
    group: "nodes",
    data: {
      id: n.id,
      label,
      kind: n.kind,
      color: s.color,
      shape: s.shape,
      synthetic: n.synthetic ? true : undefined,
      folded: n.folded?.length ? true : undefined,
    },
  };
}

function edgeElement(e: ViewEdge): ElementDefinition {
  const transformation = e.properties?.transformation;
  const label = typeof transformation === "string" ? transformation : e.qualifier || undefined;
  return {
    group: "edges",
    data: { id: e.id, source: e.source, target: e.target, type: e.type, label, bridge: e.bridge ? true : undefined },
    classes: [e.validTo ? "expired" : "", STRUCTURE_EDGES.has(e.type) ? "structure" : ""].join(" ").trim() || undefined,
  };
}

/** Place nodes in columns by signed distance, wrapping tall columns, ordered by kind then name. */
function columnLayout(cy: Core, nodes: ViewNode[]): void {
  const byColumn = new Map<number, ViewNode[]>();
  for (const n of nodes) (byColumn.get(n.column) ?? byColumn.set(n.column, []).get(n.column)!).push(n);
  const order = Object.keys(KINDS);
  // Tall columns wrap into sub-columns; big ones get more rows so the whole stays near 2:1.
  const tallest = Math.max(...[...byColumn.values()].map((l) => l.length));
  const rowsWanted = Math.max(ROWS_PER_COLUMN, Math.ceil(Math.sqrt(tallest * 3)));
  let x = 0;
  const positions = new Map<string, { x: number; y: number }>();
  for (const [, list] of [...byColumn.entries()].sort((a, b) => a[0] - b[0])) {
    list.sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind) || a.name.localeCompare(b.name));
    const wraps = Math.ceil(list.length / rowsWanted);
    const rows = Math.ceil(list.length / wraps);
    list.forEach((n, i) => {
      positions.set(n.id, { x: x + Math.floor(i / rows) * 150, y: (i % rows) * 50 - (rows * 50) / 2 });
    });
    x += wraps * 150 + 220;
  }
  cy.layout({ name: "preset", positions: (node: { id(): string }) => positions.get(node.id()) ?? { x: 0, y: 0 }, fit: true, padding: 30 } as never).run();
}
