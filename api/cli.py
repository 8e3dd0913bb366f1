"""The `lineage` command: serve, load the demo, query, ingest, replay and verify."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import uvicorn
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.tree import Tree

from api.app import create_app
from api.audit_formats import get_format
from api.auth import is_loopback
from api.logs import configure_logging
from api.settings import Settings
from api.stores import describe, open_store
from api.tokens import Scope, TokenStore
from graph.audit import AuditTrail, Recheck, audit_trail, recheck
from graph.errors import LineageError
from graph.journal import ChainReport
from graph.keys import Kind, parse_key
from graph.memory.sqlite import SqliteFile
from graph.neo4j import Neo4jStore
from graph.neo4j.bulk import Copied, copy_embedded
from graph.neo4j.local_server import NEO4J_VERSION, LocalNeo4jError, ensure_jars, start_detached, stop_from_state
from graph.query import Direction, LineageQuery, TimeWindow
from graph.results import LineageResult
from graph.store import LineageStore
from graph.timestamps import iso, parse_time, to_epoch
from ingest import feast, native, trace_intake
from ingest.estate import Estate, Plan
from ingest.feast import registry_events
from ingest.files import expand_paths, read_inputs
from ingest.intake import SOURCES, intake, project
from ingest.mlflow_reconcile import ReconcileReport, reconcile
from ingest.mlflow_rest import MlflowReader, MlflowUnavailable

app = typer.Typer(help="lineage-graph: one lineage graph for tables, features, models, prompts and answers.")
query_app = typer.Typer(help="Ask the graph: upstream, downstream, path.")
neo4j_app = typer.Typer(help="Neo4j: a local one for development (fetch, start, stop); import the embedded store.")
token_app = typer.Typer(help="API tokens: create (shown once), list, revoke.")
ingest_app = typer.Typer(help="Backfill inputs from files, folders or - (stdin), or read MLflow and Feast registries.")
app.add_typer(query_app, name="query")
app.add_typer(ingest_app, name="ingest")
app.add_typer(neo4j_app, name="neo4j")
app.add_typer(token_app, name="token")
console = Console()
err = Console(stderr=True)
T = TypeVar("T")

DataOpt = Annotated[Path | None, typer.Option("--data", help="Data folder of the embedded store.")]
BATCH = 500


def _settings(data: Path | None, **overrides: Any) -> Settings:
    values = {k: v for k, v in overrides.items() if v is not None}
    if data is not None:
        values["data_dir"] = data
    return Settings(**values)


def _run(work: Callable[[LineageStore], Awaitable[T]], settings: Settings) -> T:
    """Open the store, run one piece of work on it, close it; graph errors become messages."""

    async def main() -> T:
        store = await open_store(settings)
        try:
            return await work(store)
        finally:
            await store.close()

    try:
        return asyncio.run(main())
    except LineageError as e:
        err.print(f"[red]error:[/] {e}")
        raise typer.Exit(2) from e


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    )


async def load_demo(store: LineageStore, nodes: int = 10_000, seed: int = 7) -> int:
    """Load the demo estate (idempotent: a second load adds nothing); return events accepted."""
    docs = [native.dumps(d) for d in Estate(Plan.for_nodes(nodes), seed=seed).events()]
    accepted = 0
    with _progress() as bar:
        task = bar.add_task("demo estate", total=len(docs))
        for i in range(0, len(docs), BATCH):
            report = await intake(store, native.SOURCE, docs[i : i + BATCH])
            accepted += report.count("accepted")
            bar.advance(task, len(docs[i : i + BATCH]))
    return accepted


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    data: DataOpt = None,
    neo4j: Annotated[str | None, typer.Option("--neo4j", help="Neo4j URI (bolt://, neo4j://, neo4j+s://).")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Load the demo estate first (once).")] = False,
) -> None:
    """Run the service (on the embedded store, or on Neo4j with --neo4j / LINEAGE_NEO4J_URI)."""
    settings = _settings(data, host=host, port=port, neo4j_uri=neo4j)
    if demo:
        added = _run(load_demo, settings)
        console.print(f"demo estate: {added} new events" if added else "demo estate: already loaded")
    url = f"http://{settings.host}:{settings.port}"
    console.print(f"[bold green]lineage-graph[/] serving {describe(settings)} at [link={url}]{url}[/]")
    console.print(f"  GraphQL: {url}/graphql")
    console.print(f"  health: {url}/healthz   metrics: {url}/metrics")
    tokens = TokenStore(settings.data_dir / "tokens.sqlite")
    if not is_loopback(settings.host) or tokens.any():
        console.print("  auth: on (Authorization: Bearer <token>; lineage token create --scope ...)")
    else:
        console.print("  auth: off (loopback and no tokens yet)")
    tokens.close()
    configure_logging(settings.log_level, settings.log_format)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None, access_log=False)


@app.command()
def demo(
    data: DataOpt = None,
    nodes: Annotated[int, typer.Option(help="Rough size of the estate in nodes.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Seed of the generator.")] = 7,
) -> None:
    """Load the demo estate into the store."""
    added = _run(lambda s: load_demo(s, nodes, seed), _settings(data))
    console.print(f"demo estate: {added} new events")


def _lineage_tree(result: LineageResult, upstream: bool) -> Tree:
    by_urn = {n.record.urn: n for n in result.nodes}
    children: dict[str, list[str]] = {}
    placed = {result.start}
    for e in result.edges:
        parent, child = (e.dst, e.src) if upstream else (e.src, e.dst)
        if parent in by_urn and child in by_urn and by_urn[child].distance == by_urn[parent].distance + 1:
            children.setdefault(parent, []).append(child)

    def label(urn: str) -> str:
        n = by_urn[urn]
        key = n.record.key
        text = f"[cyan]{key.kind.value}[/] {key.namespace} [bold]{key.name}[/]"
        if key.version:
            text += f" @ {key.version}"
        if n.resolution:
            text += f"\n[dim]{n.resolution.note}[/]"
        return text

    tree = Tree(label(result.start))
    stack = [(result.start, tree)]
    while stack:
        urn, branch = stack.pop()
        for child in sorted(set(children.get(urn, ())), reverse=True):
            if child not in placed:
                placed.add(child)
                stack.append((child, branch.add(label(child))))
    return tree


def _query(
    node_id: str,
    direction: Direction,
    hops: int,
    kinds: list[str] | None,
    as_of: datetime | None,
    limit: int,
    output: str,
    data: Path | None,
) -> None:
    window = TimeWindow(as_of=to_epoch(as_of.astimezone()) if as_of else None)
    try:
        query = LineageQuery(
            parse_key(node_id),
            direction,
            max_hops=hops,
            kinds=frozenset(Kind.parse(k) for k in kinds) if kinds else None,
            window=window,
            limit=limit,
        )
    except LineageError as e:
        err.print(f"[red]error:[/] {e}")
        raise typer.Exit(2) from e
    result = _run(lambda s: s.lineage(query), _settings(data))
    if output == "json":
        rows = [{"id": n.record.urn, "kind": n.record.kind.value, "distance": n.distance} for n in result.nodes]
        console.print_json(json.dumps({"total": result.total, "is_partial": result.is_partial, "nodes": rows}))
        return
    console.print(_lineage_tree(result, direction is Direction.UPSTREAM))
    counts = ", ".join(f"{k} {c}" for k, c in result.counts_by_kind.items())
    more = f" (showing {len(result.nodes)}, partial)" if result.is_partial else ""
    console.print(f"\n[bold]{result.total}[/] nodes{more}: {counts}")


HopsOpt = Annotated[int, typer.Option("--hops", help="Maximum hops.")]
KindsOpt = Annotated[list[str] | None, typer.Option("--kind", help="Only these kinds (repeatable).")]
AsOfOpt = Annotated[datetime | None, typer.Option("--as-of", help="What the graph said at this time.")]
LimitOpt = Annotated[int, typer.Option(help="Most nodes to show.")]
OutputOpt = Annotated[str, typer.Option("--output", "-o", help="tree or json.")]


@query_app.command()
def upstream(
    node_id: Annotated[str, typer.Argument(help="A URN or a Marquez-style id.")],
    hops: HopsOpt = 10,
    kind: KindsOpt = None,
    as_of: AsOfOpt = None,
    limit: LimitOpt = 200,
    output: OutputOpt = "tree",
    data: DataOpt = None,
) -> None:
    """Trace a node back: what produced it."""
    _query(node_id, Direction.UPSTREAM, hops, kind, as_of, limit, output, data)


@query_app.command()
def downstream(
    node_id: Annotated[str, typer.Argument(help="A URN or a Marquez-style id.")],
    hops: HopsOpt = 10,
    kind: KindsOpt = None,
    as_of: AsOfOpt = None,
    limit: LimitOpt = 200,
    output: OutputOpt = "tree",
    data: DataOpt = None,
) -> None:
    """Show the impact of a node: what it feeds."""
    _query(node_id, Direction.DOWNSTREAM, hops, kind, as_of, limit, output, data)


@query_app.command()
def path(
    source: Annotated[str, typer.Argument(help="One end (a URN or a Marquez-style id).")],
    target: Annotated[str, typer.Argument(help="The other end.")],
    data: DataOpt = None,
) -> None:
    """Explain why two nodes are connected."""
    try:
        a, b = parse_key(source), parse_key(target)
    except LineageError as e:
        err.print(f"[red]error:[/] {e}")
        raise typer.Exit(2) from e
    found = _run(lambda s: s.path(a, b), _settings(data))
    if found is None:
        console.print("[yellow]not connected[/] by flow edges within the hop limit")
        raise typer.Exit(1)
    for i, node in enumerate(found.nodes):
        key = node.key
        version = f" @ {key.version}" if key.version else ""
        console.print(f"[cyan]{key.kind.value}[/] {key.namespace} [bold]{key.name}[/]{version}")
        if i < len(found.edges):
            edge = found.edges[i].record
            console.print(
                f"   [dim]│ {edge.type.value}  seen {iso(edge.first_seen)} … {iso(edge.last_seen)}"
                f"  ({edge.evidence.count} events)[/]"
            )


@ingest_app.command("openlineage")
def ingest_openlineage(
    paths: Annotated[list[str], typer.Argument(help="Files, folders or - for stdin (JSON, JSON arrays, JSONL).")],
    data: DataOpt = None,
) -> None:
    """Backfill OpenLineage events (RunEvent, DatasetEvent, JobEvent)."""
    _backfill("openlineage", paths, _settings(data))


@ingest_app.command("traces")
def ingest_traces(
    paths: Annotated[
        list[str], typer.Argument(help="Files, folders or - for stdin: OTLP/JSON, JSONL, MLflow traces/batchGet.")
    ],
    data: DataOpt = None,
) -> None:
    """Backfill LLM traces (prompt and answer text fingerprinted unless LINEAGE_KEEP_LLM_TEXT is set)."""
    settings = _settings(data)
    inputs = [item for p in expand_paths(paths) for item in read_inputs(p)]

    async def work(store: LineageStore) -> list[tuple[str, str]]:
        rejected: list[tuple[str, str]] = []
        accepted = duplicate = 0
        with _progress() as bar:
            task = bar.add_task("ingest traces", total=len(inputs))
            for item in inputs:
                body = item.text.encode()
                try:
                    decoded = trace_intake.decode(body, protobuf=False)
                except LineageError as e:
                    await trace_intake.refuse(store, body, False, str(e))
                    rejected.append((item.origin, str(e)))
                else:
                    report = await trace_intake.intake_spans(store, decoded, settings.keep_llm_text)
                    accepted, duplicate = accepted + report.accepted, duplicate + report.duplicate
                    rejected.extend((item.origin, reason) for reason in report.rejected)
                bar.advance(task)
        console.print(
            f"[green]{accepted} spans accepted[/], {duplicate} already kept, "
            f"[{'red' if rejected else 'green'}]{len(rejected)} rejected[/]"
        )
        return rejected

    _report_rejected(_run(work, settings))


@ingest_app.command("native")
def ingest_native(
    paths: Annotated[list[str], typer.Argument(help="Files, folders or - for stdin.")],
    data: DataOpt = None,
) -> None:
    """Backfill native graph documents."""
    _backfill(native.SOURCE, paths, _settings(data))


@ingest_app.command("mlflow")
def ingest_mlflow(
    tracking_uri: Annotated[str, typer.Option("--tracking-uri", help="The MLflow tracking server (http://host:port).")],
    feast_project: Annotated[
        str | None, typer.Option("--feast-project", help="Feast project of feast.feature_service tags without one.")
    ] = None,
    data: DataOpt = None,
) -> None:
    """Reconcile with an MLflow server: every model, version, run, dataset and prompt; close what it lost."""
    settings = _settings(data)

    async def work(store: LineageStore) -> ReconcileReport:
        async with MlflowReader(
            tracking_uri, timeout=settings.mlflow_timeout_seconds, feast_project=feast_project
        ) as r:
            with _progress() as bar:
                task = bar.add_task("read mlflow", total=None)
                return await reconcile(store, r, lambda done, total: bar.update(task, completed=done, total=total))

    try:
        report = _run(work, settings)
    except MlflowUnavailable as e:
        err.print(f"[red]error:[/] {e}")
        raise typer.Exit(3) from e
    console.print(
        f"{report.models} models, {report.prompts} prompts: [green]{report.journaled} changed[/], "
        f"{report.unchanged} unchanged, {len(report.gone)} gone from MLflow (closed)"
    )
    for urn in report.gone:
        console.print(f"  gone: {urn}", highlight=False)
    if report.rejected:
        for reason in report.rejected:
            console.print(f"  [red]rejected[/]: {reason}", highlight=False)
        raise typer.Exit(1)


@ingest_app.command("feast")
def ingest_feast(
    repo: Annotated[Path, typer.Option("--repo", help="The Feast repo (the folder of feature_store.yaml).")],
    namespace: Annotated[
        str | None, typer.Option("--namespace", help="Feast's OpenLineage namespace (default: the project).")
    ] = None,
    data: DataOpt = None,
) -> None:
    """Read a Feast registry: feature views, features, feature services and their sources."""
    with console.status(f"reading the Feast registry of {repo}"):
        events = registry_events(repo, namespace)
    report = _run(lambda s: intake(s, feast.SOURCE, events), _settings(data))
    console.print(
        f"{len(events)} Feast definitions: [green]{report.count('accepted')} changed[/], "
        f"{report.count('duplicate')} unchanged, {len(report.rejected)} rejected"
    )
    if report.rejected:
        for outcome in report.rejected:
            console.print(f"  [red]rejected[/]: {outcome.reason}", highlight=False)
        raise typer.Exit(1)


def _backfill(source: str, paths: list[str], settings: Settings) -> None:
    """Read every document, intake them in batches, and print a summary with the reasons."""
    inputs = [item for p in expand_paths(paths) for item in read_inputs(p)]

    async def work(store: LineageStore) -> list[tuple[str, str]]:
        rejected: list[tuple[str, str]] = []
        counts = {"accepted": 0, "duplicate": 0}
        with _progress() as bar:
            task = bar.add_task(f"ingest {source}", total=len(inputs))
            for i in range(0, len(inputs), BATCH):
                chunk = inputs[i : i + BATCH]
                report = await intake(store, source, [r.text for r in chunk])
                for outcome in report.outcomes:
                    if outcome.status == "rejected":
                        rejected.append((chunk[outcome.index].origin, outcome.reason or ""))
                    else:
                        counts[outcome.status] += 1
                bar.advance(task, len(chunk))
        console.print(
            f"[green]{counts['accepted']} accepted[/], {counts['duplicate']} already kept, "
            f"[{'red' if rejected else 'green'}]{len(rejected)} rejected[/]"
        )
        return rejected

    _report_rejected(_run(work, settings))


def _report_rejected(rejected: list[tuple[str, str]]) -> None:
    """Print why inputs were refused (the first 50) and exit 1 when any was."""
    if rejected:
        console.print("[bold]rejected[/] (kept in the dead-letter table):")
        for origin, reason in rejected[:50]:
            console.print(f"  {origin}: {reason}", soft_wrap=True, highlight=False)
        if len(rejected) > 50:
            console.print(f"  … and {len(rejected) - 50} more")
        raise typer.Exit(1)


@app.command()
def replay(data: DataOpt = None) -> None:
    """Rebuild the graph from the journal."""
    settings = _settings(data)

    async def work(store: LineageStore) -> int:
        total, _ = await store.head()
        with _progress() as bar:
            task = bar.add_task("replay", total=total)
            return await store.replay(project, lambda n: bar.advance(task, n))

    started = time.monotonic()
    applied = _run(work, settings)
    console.print(
        f"replayed {applied} journal records in {time.monotonic() - started:.1f}s "
        f"(sources: {', '.join(sorted(SOURCES))})"
    )


@app.command()
def audit(
    node_id: Annotated[str, typer.Argument(help="An answer, a prediction batch, a model or dataset version (a URN).")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="What the graph said at this time (ISO 8601; UTC if no zone).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="json, prov (W3C PROV-JSON), md or html.")] = "json",
    out: Annotated[Path | None, typer.Option("--out", help="Write the report to this file.")] = None,
    data: DataOpt = None,
) -> None:
    """Write the audit trail of a node: everything upstream, each hop with its journal records.

    Exits 1 (after writing the report) when the journal's hash chain is broken.
    """
    try:
        key = parse_key(node_id)
        writer = get_format(fmt)
        at = to_epoch(parse_time(as_of, field="asOf", assume_utc=True)) if as_of else None
    except LineageError as e:
        err.print(f"[red]error:[/] {e}")
        raise typer.Exit(2) from e
    settings = _settings(data)

    async def work(store: LineageStore) -> AuditTrail:
        return await audit_trail(store, key, as_of=at, max_hops=settings.audit_max_hops)

    trail = _run(work, settings)
    text = writer.render(trail)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text, encoding="utf-8")
        err.print(f"audit trail of {key.urn} written to {out} ({len(trail.hops)} hops)")
    if not trail.verification.intact:
        err.print(f"[red]journal broken[/]: {trail.verification.statement}", soft_wrap=True)
        raise typer.Exit(1)


@app.command()
def verify(
    data: DataOpt = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Re-check a saved JSON audit report against the journal.")
    ] = None,
) -> None:
    """Check the journal's hash chain; exit 1 and name the record if it is broken."""
    if report is not None:
        _verify_report(report, _settings(data))
        return

    async def work(store: LineageStore) -> ChainReport:
        total, _ = await store.head()
        with _progress() as bar:
            task = bar.add_task("verify", total=total)
            return await store.verify(progress=lambda n: bar.advance(task, n))

    result = _run(work, _settings(data))
    if result.intact:
        console.print(f"[green]journal intact[/]: {result.checked} records, head {result.head_seq} {result.head_hash}")
        return
    console.print(f"[red]journal broken[/] at record {result.broken_seq}: {result.problem}", soft_wrap=True)
    raise typer.Exit(1)


def _verify_report(path: Path, settings: Settings) -> None:
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        err.print(f"[red]error:[/] report: cannot read {path} as JSON: {e}")
        raise typer.Exit(2) from e
    if not isinstance(saved, dict) or "records" not in saved:
        err.print(f"[red]error:[/] report: {path} is not a JSON audit report (lineage audit --format json)")
        raise typer.Exit(2)

    async def work(store: LineageStore) -> Recheck:
        return await recheck(store, saved)

    result = _run(work, settings)
    subject = (saved.get("subject") or {}).get("id", "?")
    if result.ok:
        console.print(
            f"[green]report holds[/]: the {result.records} records it cites for {subject} are in the journal, "
            f"unchanged, and the hash chain is intact up to record {result.upto_seq}",
            soft_wrap=True,
        )
        return
    console.print(f"[red]report no longer holds[/] for {subject}:", soft_wrap=True)
    for problem in result.problems:
        console.print(f"  {problem}", soft_wrap=True, highlight=False)
    raise typer.Exit(1)


NEO4J_STATE = Path(".lineage") / "neo4j.json"


@neo4j_app.command("fetch")
def neo4j_fetch() -> None:
    """Download Neo4j's jars from Maven Central (once)."""
    with console.status(f"fetching Neo4j {NEO4J_VERSION} with Maven (once; ~120 MB)"):
        lib = _local(lambda: ensure_jars())
    console.print(f"Neo4j {NEO4J_VERSION} jars in {lib}")


@neo4j_app.command("start")
def neo4j_start(
    heap: Annotated[str, typer.Option(help="JVM heap.")] = "1g",
    pagecache: Annotated[str, typer.Option(help="Page cache.")] = "512m",
) -> None:
    """Start a local Neo4j in the background and print how to use it."""
    if NEO4J_STATE.exists():
        console.print(f"already running: {json.loads(NEO4J_STATE.read_text())['uri']} (lineage neo4j stop)")
        return
    NEO4J_STATE.parent.mkdir(exist_ok=True)
    with console.status(f"starting Neo4j {NEO4J_VERSION}"):
        server = _local(lambda: start_detached(NEO4J_STATE, heap=heap, pagecache=pagecache))
    console.print(f"[green]Neo4j running[/] at {server.uri} (data in {server.home})")
    console.print(f"  lineage serve --neo4j {server.uri}")


@neo4j_app.command("stop")
def neo4j_stop() -> None:
    """Stop the local Neo4j started with `lineage neo4j start`."""
    stopped = stop_from_state(NEO4J_STATE)
    console.print("Neo4j stopped" if stopped else "no local Neo4j was running")


@neo4j_app.command("import")
def neo4j_import(
    uri: Annotated[str, typer.Option("--uri", envvar="LINEAGE_NEO4J_URI", help="The empty Neo4j to copy into.")],
    data: DataOpt = None,
    user: Annotated[str | None, typer.Option(envvar="LINEAGE_NEO4J_USER", help="Neo4j user.")] = None,
    password: Annotated[str | None, typer.Option(envvar="LINEAGE_NEO4J_PASSWORD", help="Neo4j password.")] = None,
    database: Annotated[str, typer.Option(envvar="LINEAGE_NEO4J_DATABASE", help="Neo4j database.")] = "neo4j",
) -> None:
    """Copy the embedded store (journal, dead letters, graph) into an empty Neo4j, without replaying it."""
    folder = _settings(data).data_dir
    path = folder / "lineage.sqlite"
    if not path.is_file():
        err.print(f"[red]error:[/] --data: no embedded store in {folder} (no lineage.sqlite)")
        raise typer.Exit(2)
    source = SqliteFile(path)

    async def main() -> Copied:
        target = await Neo4jStore.open(uri, user=user, password=password, database=database)
        try:
            with _progress() as bar:
                tasks = {what: bar.add_task(what.replace("_", " "), total=n) for what, n in source.counts().items()}
                return await copy_embedded(source, target, lambda what, n: bar.advance(tasks[what], n))
        finally:
            await target.close()

    started = time.perf_counter()
    try:
        copied = asyncio.run(main())
    except LineageError as e:
        err.print(f"[red]error:[/] {e}")
        raise typer.Exit(2) from e
    finally:
        source.close()
    took = time.perf_counter() - started
    console.print(
        f"[green]copied[/] {copied.journal} journal records, {copied.dead_letters} dead letters, "
        f"{copied.nodes} nodes and {copied.edges} edges into {uri} in {took:.1f} s "
        f"(journal head {copied.head_seq} {copied.head_hash})",
        soft_wrap=True,
    )
    console.print(f"  lineage serve --neo4j {uri}")


def _tokens(data: Path | None) -> TokenStore:
    return TokenStore(_settings(data).data_dir / "tokens.sqlite")


@token_app.command("create")
def token_create(
    scope: Annotated[list[Scope], typer.Option("--scope", help="ingest, read or admin (repeatable).")],
    namespace: Annotated[
        list[str] | None, typer.Option("--namespace", help="Limit reads to namespaces with this prefix (repeatable).")
    ] = None,
    name: Annotated[str, typer.Option("--name", help="Who or what the token is for.")] = "",
    data: DataOpt = None,
) -> None:
    """Create a token and print it once; only its hash is kept."""
    store = _tokens(data)
    try:
        secret, token = store.create(set(scope), namespace or None, name)
    finally:
        store.close()
    err.print(f"token {token.id} ({', '.join(sorted(token.scopes))}) created; it is shown once:")
    print(secret)  # stdout on its own, so scripts can capture it


@token_app.command("list")
def token_list(data: DataOpt = None) -> None:
    """List tokens (never their secrets)."""
    store = _tokens(data)
    try:
        tokens = store.list()
    finally:
        store.close()
    if not tokens:
        console.print("no tokens (auth is off on loopback)")
        return
    for t in tokens:
        state = f"[red]revoked {iso(t.revoked_at)}[/]" if t.revoked_at else "[green]live[/]"
        spaces = ", ".join(t.namespaces) if t.namespaces else "all namespaces"
        console.print(
            f"{t.id}  {t.name or '-'}  {','.join(sorted(t.scopes))}  {spaces}  created {iso(t.created_at)}  {state}",
            highlight=False,
        )


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="The id `lineage token list` shows.")],
    data: DataOpt = None,
) -> None:
    """Revoke a token; requests with it are refused from the next one on."""
    store = _tokens(data)
    try:
        revoked = store.revoke(token_id)
    finally:
        store.close()
    if not revoked:
        err.print(f"[red]error:[/] no live token {token_id}")
        raise typer.Exit(1)
    console.print(f"token {token_id} revoked")


def _local(work: Callable[[], T]) -> T:
    try:
        return work()
    except LocalNeo4jError as e:
        err.print(f"[red]error:[/] {e}")
        raise typer.Exit(2) from e


def main() -> None:
    """Entry point of the console script."""
    app()


if __name__ == "__main__":
    main()
