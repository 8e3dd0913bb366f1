"""`lineage ingest traces` backfills OTLP/JSON, JSONL and MLflow exports; `lineage replay` re-derives the same graph."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from typer.testing import CliRunner

from api.cli import app
from graph.memory import MemoryStore
from tests.corpus import CORPUS
from tests.snapshots import snapshot

runner = CliRunner()


def graph_of(folder: Path) -> tuple[object, object, list[str]]:
    async def read() -> tuple[object, object, list[str]]:
        store = MemoryStore(folder)
        try:
            letters = [d.reason for d in await store.dead_letters()]
            return await snapshot(store), await store.head(), letters
        finally:
            await store.close()

    return asyncio.run(read())


def test_backfilled_traces_replay_to_the_same_graph_and_bad_lines_are_named(tmp_path: Path) -> None:
    sample = json.loads((CORPUS / "otel/rag_trace_openinference.otlp.json").read_text())
    spans = sample["resourceSpans"][0]["scopeSpans"][0]["spans"]
    lines = tmp_path / "spans.jsonl"
    rs, ss = sample["resourceSpans"][0], sample["resourceSpans"][0]["scopeSpans"][0]
    bodies = [{"resourceSpans": [{**rs, "scopeSpans": [{**ss, "spans": [span]}]}]} for span in spans]
    lines.write_text("\n".join(json.dumps(b) for b in bodies) + '\n{"resourceSpans": 7}\n')
    data = tmp_path / "data"
    paths = [str(CORPUS / "otel/rag_trace_openinference.otlp.json"), str(CORPUS / "mlflow/trace_batchget_rag.json")]
    result = runner.invoke(app, ["ingest", "traces", *paths, str(lines), "--data", str(data)])
    assert result.exit_code == 1, result.output  # one line was refused
    assert "7 spans accepted, 4 already kept, 1 rejected" in result.output  # the lines repeat the first file
    assert f"{lines}:5: /resourceSpans: must be an array" in result.output
    before, head, letters = graph_of(data)
    assert letters == ["/resourceSpans: must be an array"]

    result = runner.invoke(app, ["replay", "--data", str(data)])
    assert result.exit_code == 0, result.output
    after, head_after, _ = graph_of(data)
    assert after == before and head_after == head
