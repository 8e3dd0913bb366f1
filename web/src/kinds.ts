// Node kinds: how each looks on the canvas, and how versions fold into their entities.

export interface KindStyle {
  color: string;
  shape: string;
  group: string;
}

// Colours by family: data blue/teal, features green, ML violet, LLM app orange, jobs grey.
export const KINDS: Record<string, KindStyle> = {
  Dataset: { color: "#2f6fdf", shape: "round-rectangle", group: "Data" },
  DatasetVersion: { color: "#7ea6ee", shape: "round-rectangle", group: "Data" },
  Column: { color: "#5b8fd9", shape: "rectangle", group: "Data" },
  VectorIndex: { color: "#0f9aa8", shape: "barrel", group: "Data" },
  Document: { color: "#5cc0c9", shape: "tag", group: "Data" },
  FeatureView: { color: "#2e9e5b", shape: "round-rectangle", group: "Features" },
  Feature: { color: "#6cc48f", shape: "rectangle", group: "Features" },
  FeatureService: { color: "#1d7a44", shape: "hexagon", group: "Features" },
  Model: { color: "#7b4fd6", shape: "round-diamond", group: "Models" },
  ModelVersion: { color: "#a98be6", shape: "round-diamond", group: "Models" },
  EmbeddingModel: { color: "#9c3fbf", shape: "round-diamond", group: "Models" },
  LLM: { color: "#c2185b", shape: "star", group: "Models" },
  Prompt: { color: "#e07b1a", shape: "round-tag", group: "LLM app" },
  PromptVersion: { color: "#f0a85e", shape: "round-tag", group: "LLM app" },
  Output: { color: "#d9534f", shape: "ellipse", group: "LLM app" },
  Job: { color: "#5f6b7a", shape: "round-octagon", group: "Processes" },
  Run: { color: "#98a2ae", shape: "ellipse", group: "Processes" },
};

const FALLBACK: KindStyle = { color: "#888", shape: "ellipse", group: "Other" };

export function styleOf(kind: string): KindStyle {
  return KINDS[kind] ?? FALLBACK;
}

/** Version kinds and the entity kind each folds into (a Run is a version of its Job). */
const VERSION_OF: Record<string, { kind: string; slug: string }> = {
  DatasetVersion: { kind: "Dataset", slug: "dataset" },
  ModelVersion: { kind: "Model", slug: "model" },
  PromptVersion: { kind: "Prompt", slug: "prompt" },
  Run: { kind: "Job", slug: "job" },
};

export function isVersionKind(kind: string): boolean {
  return kind in VERSION_OF;
}

/**
 * Return the entity a version belongs to: same namespace and name, the version part dropped
 * (urn:lineage:<kind>:<namespace>:<name>:<version>, see graph/keys.py).
 */
export function entityOf(id: string, kind: string): { id: string; kind: string } | null {
  const target = VERSION_OF[kind];
  if (!target) return null;
  const parts = id.slice("urn:lineage:".length).split(":");
  if (parts.length !== 4) return null;
  return { id: `urn:lineage:${target.slug}:${parts[1]}:${parts[2]}`, kind: target.kind };
}

/** Return the dataset a column belongs to (its name is <dataset>#<column>). */
export function datasetOfColumn(id: string): string | null {
  const parts = id.slice("urn:lineage:".length).split(":");
  if (parts.length !== 3 || parts[0] !== "column") return null;
  const name = decodeURIComponent(parts[2]);
  const at = name.lastIndexOf("#");
  if (at < 0) return null;
  return `urn:lineage:dataset:${parts[1]}:${encodeName(name.slice(0, at))}`;
}

/** Encode a URN part the way graph/keys.py does (everything but its safe set is %-escaped). */
function encodeName(part: string): string {
  const safe = "/@.-_~+,=!$&'()*;[] ";
  let out = "";
  for (const ch of part) {
    if (/[A-Za-z0-9]/.test(ch) || safe.includes(ch)) out += ch;
    else out += encodeURIComponent(ch).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
  }
  return out;
}

/** Return the short label a node gets on the canvas. */
export function labelOf(kind: string, name: string, version: string | null): string {
  let short = name;
  if (kind === "Column") short = name.slice(name.lastIndexOf("#") + 1);
  // Tables are known by their last part (the side panel has the full name).
  else if ((kind === "Dataset" || kind === "DatasetVersion") && name.includes(".")) short = name.slice(name.lastIndexOf(".") + 1);
  if (short.length > 34) short = "…" + short.slice(-33);
  // A zero-width space after separators lets long names wrap onto a second line (narrower ranks).
  short = short.replace(/([._\-/:])/g, "$1\u200b");
  if (version) {
    const v = version.length > 12 ? version.slice(0, 10) + "…" : version;
    return `${short}\n${v}`;
  }
  return short;
}

/** Edges that say what a node is (a version of, a run of, a part of), not where data flows. */
export const STRUCTURE_EDGES = new Set(["VERSION_OF", "RUN_OF", "PART_OF", "CHILD_OF", "ALIAS", "SYMLINK"]);
