// The GraphQL client: every query the explorer sends, typed (see GRAPHQL_CONTRACT.md).

import { heldToken, isRefusal, retrySignedIn } from "./signin";

export interface GNode {
  id: string;
  kind: string;
  namespace: string;
  name: string;
  version: string | null;
  firstSeen: string;
  lastSeen: string;
}

export interface Evidence {
  id: string;
  seq: number;
  source: string;
  receivedAt: string;
  raw: unknown;
}

export interface Alias {
  name: string;
  target: string;
  validFrom: string | null;
  validTo: string | null;
}

export interface GEdge {
  source: string;
  target: string;
  type: string;
  qualifier: string;
  properties: Record<string, unknown>;
  validFrom: string | null;
  validTo: string | null;
  evidenceCount: number;
}

export interface KindCount {
  kind: string;
  count: number;
}

export interface Lineage {
  start: string;
  total: number;
  isPartial: boolean;
  countsByKind: KindCount[];
  nodes: { distance: number; node: GNode }[];
  edges: GEdge[];
}

export interface Detail extends GNode {
  properties: Record<string, unknown>;
  evidence: Evidence[];
  columns?: GNode[];
  versions?: GNode[];
  aliases?: Alias[];
  aliasHistory?: Alias[];
  runs?: (GNode & { state: string | null; startedAt: string | null; endedAt: string | null })[];
  state?: string | null;
  job?: GNode | null;
  startedAt?: string | null;
  endedAt?: string | null;
  templateHash?: string | null;
  /** The records behind the node's own edges (a node made implicitly has none of its own). */
  edgeEvidence: { source: string; target: string; type: string; evidence: Evidence[] }[];
}

export interface PathResult {
  nodes: GNode[];
  edges: (GEdge & { evidence: Evidence[] })[];
}

export type Direction = "UPSTREAM" | "DOWNSTREAM" | "BOTH";

export interface TimeFilter {
  asOf?: string;
  since?: string;
  until?: string;
}

/** A query failed in a way the person should read (not found, bad argument, deadline). */
export class QueryProblem extends Error {}

const NODE = "id kind namespace name version firstSeen lastSeen";
const EDGE = "source target type qualifier properties validFrom validTo evidenceCount";
const LINEAGE = `__typename
  ... on Lineage { start total isPartial countsByKind { kind count }
    nodes { distance node { ${NODE} } } edges { ${EDGE} } pageInfo { hasNextPage endCursor } }
  ... on NotFound { message }
  ... on InvalidArgument { field message }
  ... on DeadlineExceeded { message partial { start total isPartial countsByKind { kind count }
    nodes { distance node { ${NODE} } } edges { ${EDGE} } pageInfo { hasNextPage endCursor } } }`;
const TIME_VARS = "$asOf: DateTime, $since: DateTime, $until: DateTime";
const TIME_ARGS = "asOf: $asOf, since: $since, until: $until";
/** Largest page asked for at once; more is fetched page by page up to the caller's limit. */
const PAGE = 1000;

function send(body: string, token: string | null): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  return fetch("/graphql", { method: "POST", headers, body });
}

/** Ask the service the smallest question with a token: the answer says whether it lets the token in. */
export function probe(token: string): Promise<Response> {
  return send(JSON.stringify({ query: "{ __typename }" }), token);
}

async function post<T>(query: string, variables: Record<string, unknown>): Promise<T> {
  const request = JSON.stringify({ query, variables });
  const token = heldToken();
  let response = await send(request, token);
  if (isRefusal(response)) {
    // Auth is on (api/auth.py): ask for a token, send once more with it.
    const retried = await retrySignedIn(response, token, (fresh) => send(request, fresh));
    if (typeof retried === "string") throw new QueryProblem(retried);
    response = retried;
  }
  if (!response.ok && response.status !== 200) {
    throw new QueryProblem(`the service answered ${response.status} ${response.statusText}`);
  }
  const body = (await response.json()) as { data?: T; errors?: { message: string }[] };
  if (body.errors?.length) throw new QueryProblem(body.errors.map((e) => e.message).join("; "));
  if (!body.data) throw new QueryProblem("the service answered without data");
  return body.data;
}

type Union = { __typename: string; message?: string; field?: string; partial?: unknown };

function unwrap<T>(value: Union): T {
  if (value.__typename === "NotFound") throw new QueryProblem(value.message ?? "not found");
  if (value.__typename === "InvalidArgument") throw new QueryProblem(`${value.field}: ${value.message}`);
  if (value.__typename === "NoPath") throw new QueryProblem(value.message ?? "no path");
  if (value.__typename === "DeadlineExceeded") {
    if (value.partial) return { ...(value.partial as object), isPartial: true } as T;
    throw new QueryProblem(value.message ?? "the query ran out of time");
  }
  return value as unknown as T;
}

function timeVars(time: TimeFilter): Record<string, string | null> {
  return { asOf: time.asOf ?? null, since: time.since ?? null, until: time.until ?? null };
}

/** Walk from a node; fetch pages until `limit` nodes (the reach may be larger: see total). */
export async function lineage(
  id: string,
  direction: Direction,
  maxHops: number,
  time: TimeFilter,
  limit: number,
  op: "lineage" | "impact" = "lineage",
  kinds: string[] | null = null,
): Promise<Lineage> {
  const dirVar = op === "lineage" ? "$direction: Direction, " : "";
  const dirArg = op === "lineage" ? "direction: $direction, " : "";
  const query = `query Walk($id: ID!, ${dirVar}$maxHops: Int, $kinds: [String!], ${TIME_VARS}, $first: Int, $after: String) {
    result: ${op}(id: $id, ${dirArg}maxHops: $maxHops, kinds: $kinds, ${TIME_ARGS}, first: $first, after: $after) { ${LINEAGE} } }`;
  let after: string | null = null;
  let merged: Lineage | null = null;
  for (;;) {
    const first = Math.min(PAGE, limit - (merged?.nodes.length ?? 0));
    const vars: Record<string, unknown> = { id, maxHops, kinds, first, after, ...timeVars(time) };
    if (op === "lineage") vars.direction = direction;
    const data: { result: Union } = await post(query, vars);
    const page = unwrap<Lineage & { pageInfo: { hasNextPage: boolean; endCursor: string | null } }>(data.result);
    if (!merged) merged = { ...page, nodes: [...page.nodes], edges: [...page.edges] };
    else {
      merged.nodes.push(...page.nodes);
      merged.edges.push(...page.edges);
    }
    after = page.pageInfo?.endCursor ?? null;
    if (!page.pageInfo?.hasNextPage || !after || merged.nodes.length >= limit) {
      // `total` counts the start too; the walk is partial when pages were left or the deadline cut it.
      merged.isPartial = merged.nodes.length < merged.total || (page.isPartial && !page.pageInfo?.hasNextPage);
      return merged;
    }
  }
}

/** Everything the side panel shows about one node. */
export async function detail(id: string, asOf: string | null): Promise<Detail> {
  const alias = "aliases(asOf: $asOf) { name target validFrom validTo }";
  const history = "aliasHistory { name target validFrom validTo }";
  const query = `query Detail($id: ID!, $asOf: DateTime) { node(id: $id) { __typename
    ... on NotFound { message } ... on InvalidArgument { field message }
    ... on Node { ${NODE} properties evidence(first: 10) { id seq source receivedAt raw } }
    ... on Dataset { columns { ${NODE} } versions(first: 10) { ${NODE} } ${alias} }
    ... on VectorIndex { columns { ${NODE} } versions(first: 10) { ${NODE} } ${alias} }
    ... on Model { versions(first: 10) { ${NODE} } ${alias} ${history} }
    ... on Prompt { versions(first: 10) { ${NODE} } ${alias} ${history} }
    ... on ModelVersion { ${alias} }
    ... on PromptVersion { ${alias} templateHash }
    ... on Job { runs(first: 10) { ${NODE} state startedAt endedAt } }
    ... on Run { state startedAt endedAt job { ${NODE} } }
  }
  around: lineage(id: $id, direction: BOTH, maxHops: 1, asOf: $asOf, first: 12) { __typename
    ... on Lineage { edges { source target type evidence(first: 1) { id seq source receivedAt raw } } } }
  }`;
  const data: { node: Union; around: { edges?: Detail["edgeEvidence"] } } = await post(query, { id, asOf });
  const found = unwrap<Detail>(data.node);
  found.edgeEvidence = (data.around.edges ?? []).filter((e) => (e.source === id || e.target === id) && e.evidence.length);
  return found;
}

/** A dataset's columns (empty for other kinds). */
export async function columns(id: string): Promise<GNode[]> {
  const query = `query Columns($id: ID!) { node(id: $id) { __typename
    ... on NotFound { message } ... on InvalidArgument { field message }
    ... on Dataset { columns { ${NODE} } } ... on VectorIndex { columns { ${NODE} } } } }`;
  const data: { node: Union & { columns?: GNode[] } } = await post(query, { id });
  return unwrap<{ columns?: GNode[] }>(data.node).columns ?? [];
}

/** One hop both ways from each id, in one request (the column view's edges). */
export async function neighbours(ids: string[], time: TimeFilter): Promise<Lineage[]> {
  if (!ids.length) return [];
  const parts = ids.map(
    (_, i) => `n${i}: lineage(id: $id${i}, direction: BOTH, maxHops: 1, ${TIME_ARGS}, first: 100) { ${LINEAGE} }`,
  );
  const decl = ids.map((_, i) => `$id${i}: ID!`).join(", ");
  const vars: Record<string, unknown> = { ...timeVars(time) };
  ids.forEach((id, i) => (vars[`id${i}`] = id));
  const data: Record<string, Union> = await post(`query Hop(${decl}, ${TIME_VARS}) { ${parts.join("\n")} }`, vars);
  return ids.map((_, i) => unwrap<Lineage>(data[`n${i}`]));
}

/** Type-ahead: nodes whose name or kind matches the text. */
export async function search(text: string, kinds: string[] | null, first = 12): Promise<{ total: number; nodes: GNode[] }> {
  const query = `query Search($text: String!, $kinds: [String!], $first: Int) {
    search(text: $text, kinds: $kinds, first: $first) { totalCount edges { node { ${NODE} } } } }`;
  const data: { search: { totalCount: number; edges: { node: GNode }[] } } = await post(query, { text, kinds, first });
  return { total: data.search.totalCount, nodes: data.search.edges.map((e) => e.node) };
}

/** Why two nodes are connected: the hops from upstream to downstream, each with evidence. */
export async function path(from: string, to: string, time: TimeFilter): Promise<PathResult> {
  const query = `query Path($from: ID!, $to: ID!, ${TIME_VARS}) { path(from: $from, to: $to, ${TIME_ARGS}) { __typename
    ... on Path { nodes { ${NODE} } edges { ${EDGE} evidence { id seq source receivedAt raw } } }
    ... on NoPath { message } ... on NotFound { message } ... on InvalidArgument { field message } } }`;
  const data: { path: Union } = await post(query, { from, to, ...timeVars(time) });
  return unwrap<PathResult>(data.path);
}
