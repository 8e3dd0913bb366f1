"""Every Cypher statement the Neo4j store sends: constant text, values only as $parameters.

Relationship types cannot be parameters in MERGE, so the per-type statements are generated
once, here, from the closed EdgeType enum (never from input), as cartography's query builder does.
"""

from __future__ import annotations

from graph.edges import FLOW_EDGES, VERSION_EDGES, EdgeType

CONSTRAINTS = [
    "CREATE CONSTRAINT lineage_node_urn IF NOT EXISTS FOR (n:Node) REQUIRE n.urn IS UNIQUE",
    "CREATE CONSTRAINT lineage_journal_id IF NOT EXISTS FOR (j:JournalRecord) REQUIRE j.id IS UNIQUE",
    "CREATE CONSTRAINT lineage_journal_seq IF NOT EXISTS FOR (j:JournalRecord) REQUIRE j.seq IS UNIQUE",
    # One head: with the constraint, concurrent first MERGEs of it serialize instead of making two.
    "CREATE CONSTRAINT lineage_journal_head IF NOT EXISTS FOR (h:JournalHead) REQUIRE h.name IS UNIQUE",
    "CREATE INDEX lineage_node_kind IF NOT EXISTS FOR (n:Node) ON (n.kind)",
    "CREATE TEXT INDEX lineage_node_search IF NOT EXISTS FOR (n:Node) ON (n.search)",
    # An edge is found by its key (a hash of src, type, dst, qualifier) through an index, not by
    # expanding its ends: the ends may be hubs (an embedding model every answer used).
    *(
        f"CREATE INDEX lineage_edge_key_{t.value.lower()} IF NOT EXISTS FOR ()-[r:{t.value}]-() ON (r.key)"
        for t in EdgeType
    ),
]


def _types(types: frozenset[EdgeType]) -> str:
    return "|".join(sorted(types))


FLOW = _types(FLOW_EDGES)
VERSIONS = _types(VERSION_EDGES)
TRAVERSED = _types(FLOW_EDGES | VERSION_EDGES)

# The journal head is one node; setting it first takes its write lock, so appends from any
# number of service replicas form one chain. Which of the inputs are already kept is read
# under that lock, in the same statement.
LOCK_HEAD = """
MERGE (h:JournalHead {name: 'head'})
ON CREATE SET h.seq = 0, h.hash = $genesis, h.dead_letters = 0
SET h.locked_at = timestamp()
WITH h
OPTIONAL MATCH (j:JournalRecord) WHERE j.id IN $ids
RETURN h.seq AS seq, h.hash AS hash, collect(j.id) AS known
"""
READ_HEAD = "MATCH (h:JournalHead {name: 'head'}) RETURN h.seq AS seq, h.hash AS hash"
JOURNAL_PAGE = """
MATCH (j:JournalRecord) WHERE j.seq > $after
RETURN j.seq AS seq, j.id AS id, j.source AS source, j.received_at AS received_at, j.raw AS raw,
       j.prev_hash AS prev_hash, j.record_hash AS record_hash
ORDER BY j.seq LIMIT $limit
"""
JOURNAL_BY_ID = """
UNWIND $ids AS id MATCH (j:JournalRecord {id: id})
RETURN j.seq AS seq, j.id AS id, j.source AS source, j.received_at AS received_at, j.raw AS raw,
       j.prev_hash AS prev_hash, j.record_hash AS record_hash
"""
ADD_DEAD_LETTER = """
MERGE (h:JournalHead {name: 'head'})
ON CREATE SET h.seq = 0, h.hash = $genesis, h.dead_letters = 0
SET h.dead_letters = coalesce(h.dead_letters, 0) + 1
CREATE (d:DeadLetter {id: h.dead_letters, source: $source, received_at: $received_at, raw: $raw, reason: $reason})
RETURN d.id AS id
"""
DEAD_LETTERS = """
MATCH (d:DeadLetter) RETURN d.id AS id, d.source AS source, d.received_at AS received_at,
       d.raw AS raw, d.reason AS reason
ORDER BY d.id DESC LIMIT $limit
"""

NODE_FIELDS = "n.urn AS urn, n.kind AS kind, n.first_seen AS first_seen, n.last_seen AS last_seen, n.markers AS markers"
FULL_NODE = NODE_FIELDS + ", n.properties AS properties, n.stamps AS stamps, n.evidence AS evidence"
EDGE_FIELDS = (
    "startNode(r).urn AS src, type(r) AS type, endNode(r).urn AS dst, r.qualifier AS qualifier, "
    "r.first_seen AS first_seen, r.last_seen AS last_seen, r.markers AS markers"
)
FULL_EDGE = (
    EDGE_FIELDS + ", r.ev_first AS ev_first, r.ev_first_time AS ev_first_time, r.ev_last AS ev_last, "
    "r.ev_last_time AS ev_last_time, r.ev_count AS ev_count, r.properties AS properties"
)
HOP_NODE = (
    "b.urn AS b_urn, b.kind AS b_kind, b.first_seen AS b_first_seen, b.last_seen AS b_last_seen, b.markers AS b_markers"
)

NODE_METAS = f"UNWIND $urns AS u MATCH (n:Node {{urn: u}}) RETURN {NODE_FIELDS}"
FULL_NODES = f"UNWIND $urns AS u MATCH (n:Node {{urn: u}}) RETURN {FULL_NODE}, elementId(n) AS eid"
NODE_IDS = "UNWIND $urns AS u MATCH (n:Node {urn: u}) RETURN u AS urn, elementId(n) AS eid"
ALL_NODES = f"MATCH (n:Node) RETURN {FULL_NODE}"
ALL_EDGES = f"MATCH (:Node)-[r]->(:Node) RETURN {FULL_EDGE}"


def full_edges(edge_type: EdgeType) -> str:
    """Return the statement that reads edges of one type by key."""
    return f"""
UNWIND $keys AS k
MATCH ()-[r:{edge_type.value} {{key: k}}]->()
RETURN {FULL_EDGE}, elementId(r) AS eid
"""


FULL_EDGES = {t: full_edges(t) for t in EdgeType}
EDGES_WITHOUT_KEY = f"MATCH ()-[r]->() WHERE r.key IS NULL RETURN elementId(r) AS eid, {EDGE_FIELDS} LIMIT $limit"
EDGE_KEYS_DONE = "MATCH (h:JournalHead {name: 'head'}) RETURN h.edge_keys AS done"
MARK_EDGE_KEYS_DONE = "MATCH (h:JournalHead {name: 'head'}) SET h.edge_keys = true"
SET_EDGE_KEYS = "UNWIND $rows AS row MATCH ()-[r]->() WHERE elementId(r) = row.eid SET r.key = row.key"
HOPS_UP = f"""
UNWIND $urns AS u MATCH (a:Node {{urn: u}})<-[r:{FLOW}]-(b:Node)
RETURN u AS origin, {EDGE_FIELDS}, {HOP_NODE}
"""
HOPS_DOWN = f"""
UNWIND $urns AS u MATCH (a:Node {{urn: u}})-[r:{FLOW}]->(b:Node)
RETURN u AS origin, {EDGE_FIELDS}, {HOP_NODE}
"""
VERSION_HOPS = f"""
UNWIND $urns AS u MATCH (a:Node {{urn: u}})<-[r:{VERSIONS}]-(b:Node)
RETURN u AS origin, {EDGE_FIELDS}, {HOP_NODE}
"""
# Hops without what only a time filter reads (last_seen, markers).
BARE_EDGE = (
    "startNode(r).urn AS src, type(r) AS type, endNode(r).urn AS dst, r.qualifier AS qualifier, "
    "r.first_seen AS first_seen"
)
BARE_HOP = f"{BARE_EDGE}, b.urn AS b_urn, b.kind AS b_kind, b.first_seen AS b_first_seen"


def _level(upstream: bool, bare: bool) -> str:
    """Return one traversal level as one statement: flow hops (part 0) and version hops (part 1).

    Downstream the version hops go into the entities $versioned; upstream into every versioned
    entity a flow hop reaches from a node of $versioned (the entities to resolve). Bare and
    downstream, one hop per reached node is enough (graph/traversal.py, GraphReader.level).
    """
    fields = f"{BARE_HOP}, null AS last_seen, null AS markers, null AS b_last_seen, null AS b_markers"
    fields = fields if bare else f"{EDGE_FIELDS}, {HOP_NODE}"
    flow = f"(a:Node {{urn: u}})<-[r:{FLOW}]-(b:Node)" if upstream else f"(a:Node {{urn: u}})-[r:{FLOW}]->(b:Node)"
    if bare and not upstream:
        first = f"""
UNWIND $urns AS u MATCH {flow}
WITH b, head(collect([u, r])) AS pick
WITH b, pick[0] AS u, pick[1] AS r
RETURN 0 AS part, u AS origin, {fields}"""
    else:
        first = f"""
UNWIND $urns AS u MATCH {flow}
RETURN 0 AS part, u AS origin, {fields}"""
    if upstream:
        entities = f"""
UNWIND $versioned AS u MATCH {flow} WHERE b.kind IN $entity_kinds
WITH DISTINCT b AS a
MATCH (a)<-[r:{VERSIONS}]-(b:Node)
RETURN 1 AS part, a.urn AS origin, {fields}"""
    else:
        entities = f"""
UNWIND $versioned AS u MATCH (a:Node {{urn: u}})<-[r:{VERSIONS}]-(b:Node)
RETURN 1 AS part, u AS origin, {fields}"""
    # One record holding every row: the driver spends an event-loop turn per record, which at
    # thousands of hops per level cost more than the query itself.
    return f"""
CALL () {{{first}
UNION ALL{entities}
}}
RETURN collect([{", ".join(LEVEL_COLUMNS)}]) AS rows
"""


LEVEL_COLUMNS = (
    "part", "origin", "src", "type", "dst", "qualifier", "first_seen", "last_seen", "markers",
    "b_urn", "b_kind", "b_first_seen", "b_last_seen", "b_markers",
)  # fmt: skip


LEVEL = {(up, bare): _level(up, bare) for up in (True, False) for bare in (True, False)}
_NODE_MAP = "n {.urn, .kind, .first_seen, .last_seen, .markers, .properties, .stamps, .evidence}"
_EDGE_MAP = (
    "r {.qualifier, .first_seen, .last_seen, .markers, .ev_first, .ev_first_time, .ev_last, .ev_last_time, "
    ".ev_count, .properties, src: startNode(r).urn, type: type(r), dst: endNode(r).urn}"
)

# A walk's cone: every node the walk could expand, found by Neo4j's pruning (breadth-first)
# variable-length expand, with every hop the walk could ask of them, in one statement, so the
# level-by-level walk (graph/traversal.py) reads from memory instead of one round trip per level.
# Upstream a level is a flow hop, or a flow hop into an entity and the version resolved from it:
# two edges, so the cone goes 2 * max_hops - 1 edges deep over flow and version edges. Downstream
# a level is one flow hop, or one version hop from an entity reached through flow hops only.
# A cone of more than $cap nodes is not read (the reach stops looking past it): the walk then
# reads level by level. A cone of at most $full nodes comes with the full records of its nodes and hops: the page of
# a trace-back is then read from it too. Variable-length bounds cannot be parameters: one
# statement per depth of a closed list, made here.
CONE_DEPTHS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 200)


def _cone(upstream: bool, depth: int, bare: bool) -> str:
    """Return the statement that reads a walk's cone (graph/neo4j/store.py, _Cone).

    Hops name their ends by internal id, each node's fields come once, as columns (``ids``,
    ``urns``, ``kinds``, ``firsts``): shipping every hop's two ids as text cost more than the
    walk (ids are only compared within this one statement, where they are stable). A small
    cone's records come as rows beside the hops and nodes they belong to, without what those
    already say (ends, type, qualifier, first_seen; urn, kind).
    """
    edge = "r.first_seen" if bare else "r.first_seen, r.last_seen, r.markers"
    hop = f"[id(a), id(b), type(r), r.qualifier, {edge}]"
    # The ends are collected as they come: the node columns below take each node once anyway,
    # and a DISTINCT here too cost ~20 % of the statement at 100k nodes (100k hops).
    # Hops end at any node: only nodes labelled Node have edges (the writes create them between
    # nodes found by urn), and checking the label cost a db hit per hop (100k at 100k nodes).
    # A bare downstream walk never reads a hop's edge (no time filter, nothing resolved): a cone
    # too large to bring its records (whose page is read from Neo4j) ships only the hops' ends,
    # as two lists of ids (one list per hop cost more to decode than the query took).
    lean = "size(xs) > $full" if bare and not upstream else "false"
    times = "" if bare else "collect([n.last_seen, n.markers]) AS times,"
    if upstream:
        reach = f"""
CALL (s) {{ MATCH (s)<-[:{TRAVERSED}*0..{depth}]-(x:Node) RETURN DISTINCT x LIMIT $cap + 1 }}
WITH s, collect(x) AS xs"""
        flow = f"(a)<-[r:{FLOW}]-(b)"
    else:
        reach = f"""
CALL (s) {{
  CALL (s) {{ MATCH (s)-[:{FLOW}*0..{depth}]->(x:Node) RETURN DISTINCT x LIMIT $cap + 1 }}
  RETURN collect(x) AS head
}}
CALL (head) {{
  UNWIND head AS e WITH e WHERE e.kind IN $entity_kinds
  MATCH (e)<-[:{VERSIONS}]-(v:Node) RETURN collect(DISTINCT v) AS vs
}}
CALL (vs) {{
  CALL (vs) {{ UNWIND vs AS v MATCH (v)-[:{FLOW}*0..{depth}]->(x:Node) RETURN DISTINCT x LIMIT $cap + 1 }}
  RETURN collect(x) AS tail
}}
UNWIND head + tail AS x
WITH s, collect(DISTINCT x) AS xs"""
        flow = f"(a)-[r:{FLOW}]->(b)"
    return f"""
MATCH (s:Node {{urn: $urn}}){reach}
WITH s, xs, {lean} AS lean, size(xs) <= $full AS full WHERE size(xs) <= $cap
CALL (xs, lean, full) {{
  UNWIND xs AS a MATCH {flow}
  RETURN collect(CASE WHEN NOT lean THEN {hop} END) AS flow,
         collect(CASE WHEN lean THEN id(a) END) AS flow_from, collect(CASE WHEN lean THEN id(b) END) AS flow_to,
         collect(b) AS ends, collect(CASE WHEN full THEN {_EDGE_EXTRA} END) AS flow_records
}}
CALL (xs, lean, full) {{
  UNWIND xs AS a WITH a WHERE a.kind IN $entity_kinds
  MATCH (a)<-[r:{VERSIONS}]-(b)
  RETURN collect(CASE WHEN NOT lean THEN {hop} END) AS versions,
         collect(CASE WHEN lean THEN id(a) END) AS versions_from, collect(CASE WHEN lean THEN id(b) END) AS versions_to,
         collect(b) AS versions_ends, collect(CASE WHEN full THEN {_EDGE_EXTRA} END) AS versions_records
}}
CALL (xs, ends, versions_ends, full) {{
  UNWIND xs + ends + versions_ends AS n WITH DISTINCT n
  RETURN collect(id(n)) AS ids, collect(n.urn) AS urns, collect(n.kind) AS kinds, collect(n.first_seen) AS firsts,
         {times} collect(CASE WHEN full THEN {_NODE_EXTRA} END) AS node_records
}}
RETURN s {{.urn, .kind, .first_seen, .last_seen, .markers}} AS start, [x IN xs | id(x)] AS covered,
       ids, urns, kinds, firsts, {"" if bare else "times, "}flow, flow_from, flow_to,
       versions, versions_from, versions_to, full, lean, node_records, flow_records, versions_records
"""


#: what a cone's record rows hold beyond its hops and nodes (graph/neo4j/store.py, _Cone.page)
EDGE_EXTRA = ("last_seen", "markers", "ev_first", "ev_first_time", "ev_last", "ev_last_time", "ev_count", "properties")
NODE_EXTRA = ("last_seen", "markers", "properties", "stamps", "evidence")
_EDGE_EXTRA = "[" + ", ".join(f"r.{c}" for c in EDGE_EXTRA) + "]"
_NODE_EXTRA = "[" + ", ".join(f"n.{c}" for c in NODE_EXTRA) + "]"


CONE = {
    (up, depth, bare): _cone(up, depth, bare) for up in (True, False) for depth in CONE_DEPTHS for bare in (True, False)
}

# The page of a query in one read: its nodes (part 0), the edges among them (1), the edges named (2).
# The edges among are looked for around the nodes of $open (a hub, the embedding model every
# answer used, is probed from the page's side, not walked), and as version edges into the
# nodes of $versions_open; the store names the rest, which the walk's cone already holds: by
# key ($named), or, from a lean cone (whose hops are only their ends), as the pairs of nodes
# they join ($pairs: every flow or version edge from the first to the second).
PAGE = f"""
UNWIND $urns AS u MATCH (n:Node {{urn: u}})
RETURN 0 AS part, {_NODE_MAP} AS row
UNION ALL
UNWIND $versions_open AS u
MATCH (a:Node {{urn: u}})<-[r:{VERSIONS}]-(b:Node)
WHERE b.urn IN $others AND (a.urn IN $urns OR b.urn IN $urns)
RETURN 1 AS part, {_EDGE_MAP} AS row
UNION ALL
UNWIND $open AS u
MATCH (a:Node {{urn: u}})
CALL (a) {{
  WITH a WHERE COUNT {{ (a)--() }} <= size($others)
  MATCH (a)-[r:{TRAVERSED}]-(b:Node) WHERE b.urn IN $others
  RETURN r
  UNION
  WITH a WHERE COUNT {{ (a)--() }} > size($others)
  UNWIND $others AS o
  MATCH (b:Node {{urn: o}})
  MATCH (a)-[r:{TRAVERSED}]-(b)
  RETURN r
}}
WITH DISTINCT r WHERE startNode(r).urn IN $urns OR endNode(r).urn IN $urns
RETURN 1 AS part, {_EDGE_MAP} AS row
UNION ALL
UNWIND $pairs AS p
MATCH (a:Node {{urn: p[0]}})
MATCH (b:Node {{urn: p[1]}})
MATCH (a)-[r:{TRAVERSED}]->(b)
RETURN 1 AS part, {_EDGE_MAP} AS row
UNION ALL
UNWIND $named AS e
MATCH (:Node {{urn: e.src}})-[r {{key: e.key}}]->(:Node {{urn: e.dst}})
RETURN 2 AS part, {_EDGE_MAP} AS row
"""
# A hub (the embedding model every answer used) is probed from the page's side, not walked.
EDGES_AMONG = f"""
UNWIND $urns AS u
MATCH (a:Node {{urn: u}})
CALL (a) {{
  WITH a WHERE COUNT {{ (a)--() }} <= size($others)
  MATCH (a)-[r:{TRAVERSED}]-(b:Node) WHERE b.urn IN $others
  RETURN r
  UNION
  WITH a WHERE COUNT {{ (a)--() }} > size($others)
  UNWIND $others AS o
  MATCH (b:Node {{urn: o}})
  MATCH (a)-[r:{TRAVERSED}]-(b)
  RETURN r
}}
RETURN DISTINCT {EDGE_FIELDS}
"""
# Structural edges (versions, runs, columns, aliases) of many nodes at once, for the API's loaders.
EDGES_IN = f"""
UNWIND $urns AS u MATCH (a:Node {{urn: u}})<-[r]-(:Node) WHERE type(r) IN $types
RETURN {FULL_EDGE}
"""
EDGES_OUT = f"""
UNWIND $urns AS u MATCH (a:Node {{urn: u}})-[r]->(:Node) WHERE type(r) IN $types
RETURN {FULL_EDGE}
"""
# The same, only the newest few per node (a job's latest runs): Neo4j keeps the rest to itself.
NEWEST_EDGES_IN = f"""
UNWIND $urns AS u MATCH (a:Node {{urn: u}})<-[r]-(b:Node) WHERE type(r) IN $types
WITH u, r ORDER BY r.first_seen DESC, b.urn
WITH u, collect(r)[..$newest] AS newest UNWIND newest AS r
RETURN {FULL_EDGE}
"""
NEWEST_EDGES_OUT = f"""
UNWIND $urns AS u MATCH (a:Node {{urn: u}})-[r]->(b:Node) WHERE type(r) IN $types
WITH u, r ORDER BY r.first_seen DESC, b.urn
WITH u, collect(r)[..$newest] AS newest UNWIND newest AS r
RETURN {FULL_EDGE}
"""
SEARCH = """
MATCH (n:Node) WHERE n.search CONTAINS $needle AND ($kinds IS NULL OR n.kind IN $kinds)
RETURN n.urn AS urn
"""
# -- apply: a handful of statements per transaction, whatever the batch holds ---------------------
# Each returns its rows as one record: the driver spends an event-loop turn per record.
MERGED_NODES_COLUMNS = ("eid", "urn", "first_seen", "last_seen", "markers", "properties", "stamps", "evidence")
MERGED_NODES = """
UNWIND $urns AS u MATCH (n:Node {urn: u})
RETURN collect([elementId(n), n.urn, n.first_seen, n.last_seen, n.markers, n.properties, n.stamps, n.evidence])
       AS rows
"""
MERGED_EDGES_COLUMNS = (
    "eid", "key", "qualifier", "first_seen", "last_seen", "markers", "ev_first", "ev_first_time", "ev_last",
    "ev_last_time", "ev_count", "properties",
)  # fmt: skip


def _merged_edges() -> str:
    """Return the statement that reads the edges a merge needs, by key, every type at once ($TYPE: keys).

    The index is named: a plan made while the graph was empty scans every relationship of the
    type per key, and stays cached for a while after the graph has grown (17 s for one batch).
    The keys are one list parameter per type: from a map parameter (``$keys.TYPE``) the planner
    met the hint with a scan of the whole index per key (200 s for 35k keys).
    """
    branches = "\nUNION ALL\n".join(
        f"UNWIND ${t.value} AS k MATCH ()-[r:{t.value} {{key: k}}]->() USING INDEX SEEK r:{t.value}(key) RETURN r"
        for t in EdgeType
    )
    fields = ", ".join(f"r.{c}" for c in MERGED_EDGES_COLUMNS[1:])
    return f"""
CALL () {{
{branches}
}}
RETURN collect([elementId(r), {fields}]) AS rows
"""


MERGED_EDGES = _merged_edges()
# The records merged were read in the same transaction (under the head's lock), with their
# element ids: known ones are updated through the id, new ones created, no lookup by value.
CREATE_NODES = """
UNWIND $rows AS row
CREATE (n:Node)
SET n = row
RETURN collect([n.urn, elementId(n)]) AS rows
"""


def _write_rest() -> str:
    """Return the statement that writes the rest of an apply: journal, updates, new edges ($new.TYPE), head."""
    creates = "\n".join(
        f"""CALL () {{
  UNWIND $new.{t.value} AS row
  MATCH (a) WHERE elementId(a) = row.a
  MATCH (b) WHERE elementId(b) = row.b
  CREATE (a)-[r:{t.value}]->(b)
  SET r = row.values
}}"""
        for t in EdgeType
    )
    return f"""
CALL () {{ UNWIND $journal AS row CREATE (j:JournalRecord) SET j = row }}
CALL () {{ UNWIND $nodes AS row MATCH (n) WHERE elementId(n) = row.eid SET n += row.values }}
CALL () {{ UNWIND $edges AS row MATCH ()-[r]->() WHERE elementId(r) = row.eid SET r += row.values }}
{creates}
CALL () {{ UNWIND $head AS head MATCH (h:JournalHead {{name: 'head'}}) SET h.seq = head.seq, h.hash = head.hash }}
"""


WRITE_REST = _write_rest()
CLEAR_GRAPH = """
MATCH (n:Node)
CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS
"""
