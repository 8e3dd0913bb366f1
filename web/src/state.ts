// The view state, and its round trip through the URL hash (a deep link restores the whole view).

import type { Direction, TimeFilter } from "./api";

export type Mode = "lineage" | "columns" | "impact" | "path";

export interface ViewState {
  focus: string | null;
  direction: Direction;
  hops: number;
  /** Kinds hidden on the canvas (empty: every kind shown). */
  hidden: string[];
  asOf: string | null;
  since: string | null;
  until: string | null;
  entities: boolean;
  mode: Mode;
  /** The other end in path mode. */
  to: string | null;
  selected: string | null;
  /** Nodes expanded by hand, one hop upstream / downstream. */
  up: string[];
  down: string[];
}

export const DEFAULT_STATE: ViewState = {
  focus: null,
  direction: "BOTH",
  hops: 3,
  hidden: [],
  asOf: null,
  since: null,
  until: null,
  entities: false,
  mode: "lineage",
  to: null,
  selected: null,
  up: [],
  down: [],
};

const DIRECTIONS: Direction[] = ["UPSTREAM", "DOWNSTREAM", "BOTH"];
const MODES: Mode[] = ["lineage", "columns", "impact", "path"];

/** Return the hash that encodes a state (defaults are left out to keep links short). */
export function encode(state: ViewState): string {
  const p = new URLSearchParams();
  if (state.focus) p.set("focus", state.focus);
  if (state.direction !== DEFAULT_STATE.direction) p.set("dir", state.direction.toLowerCase());
  if (state.hops !== DEFAULT_STATE.hops) p.set("hops", String(state.hops));
  if (state.hidden.length) p.set("hide", [...state.hidden].sort().join(","));
  if (state.asOf) p.set("asOf", state.asOf);
  if (state.since) p.set("since", state.since);
  if (state.until) p.set("until", state.until);
  if (state.entities) p.set("entities", "1");
  if (state.mode !== "lineage") p.set("mode", state.mode);
  if (state.to) p.set("to", state.to);
  if (state.selected && state.selected !== state.focus) p.set("sel", state.selected);
  // URNs escape "|" (graph/keys.py), so it can join them.
  if (state.up.length) p.set("up", state.up.join("|"));
  if (state.down.length) p.set("down", state.down.join("|"));
  return "#" + p.toString();
}

/** Return the state a hash encodes; anything unreadable falls back to its default. */
export function decode(hash: string): ViewState {
  const p = new URLSearchParams(hash.replace(/^#/, ""));
  const dir = (p.get("dir") ?? "").toUpperCase() as Direction;
  const hops = Number.parseInt(p.get("hops") ?? "", 10);
  const mode = (p.get("mode") ?? "") as Mode;
  const focus = p.get("focus");
  return {
    focus,
    direction: DIRECTIONS.includes(dir) ? dir : DEFAULT_STATE.direction,
    hops: Number.isFinite(hops) && hops >= 1 && hops <= 100 ? hops : DEFAULT_STATE.hops,
    hidden: (p.get("hide") ?? "").split(",").filter(Boolean),
    asOf: p.get("asOf"),
    since: p.get("asOf") ? null : p.get("since"),
    until: p.get("asOf") ? null : p.get("until"),
    entities: p.get("entities") === "1",
    mode: MODES.includes(mode) ? mode : DEFAULT_STATE.mode,
    to: p.get("to"),
    selected: p.get("sel") ?? focus,
    up: (p.get("up") ?? "").split("|").filter(Boolean),
    down: (p.get("down") ?? "").split("|").filter(Boolean),
  };
}

/** Return the time filter the server is asked with. */
export function timeFilter(state: ViewState): TimeFilter {
  if (state.asOf) return { asOf: state.asOf };
  const time: TimeFilter = {};
  if (state.since) time.since = state.since;
  if (state.until) time.until = state.until;
  return time;
}
