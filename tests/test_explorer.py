"""The explorer in a real browser: the service on the demo estate, Chromium driven by Playwright."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.cli import app
from api.routes.explorer import STATIC_DIR, mount_explorer
from api.tokens import Scope, TokenStore
from ingest.estate import Estate, Plan

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
CHROMIUM = Path("/usr/bin/chromium")
DEMO_NODES = 3000  # enough answers that one prompt reaches 2,000+ nodes (the responsiveness measure)
DEMO_SEED = 7


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _assert_built() -> None:
    for need, how in [
        (STATIC_DIR / "index.html", "the explorer is not built: run `make setup` (npm ci + npm run build in web/)"),
        (CHROMIUM, "no /usr/bin/chromium: run `make setup` (it installs Debian's chromium)"),
        (WEB / "node_modules" / "playwright-core", "web/node_modules is missing: run `make setup`"),
    ]:
        assert need.exists(), how


@contextmanager
def _serving(data: Path) -> Iterator[str]:
    """Run the real service on a loopback port over a data folder; yield its URL."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--data", str(data)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.communicate(timeout=10)


def _run_script(script: str, env: dict[str, str], out: Path) -> dict[str, object]:
    """Run one browser script in web/; return the report it wrote."""
    node = shutil.which("node")
    assert node, "node is not installed: the explorer's browser tests run a Node script (playwright-core)"
    env = {**os.environ, **env, "EXPLORER_OUT": str(out), "CHROMIUM": str(CHROMIUM)}
    run = subprocess.run([node, script], cwd=WEB, env=env, capture_output=True, text=True, timeout=600, check=False)
    sys.stderr.write(run.stderr)
    assert run.returncode == 0, f"browser script failed:\n{run.stdout[-4000:]}\n{run.stderr[-4000:]}"
    report: dict[str, object] = json.loads((out / "report.json").read_text())
    # The measures (timings): logged, never asserted on.
    for measure in report["measures"]:  # type: ignore[attr-defined]
        sys.stderr.write(f"explorer measure: {json.dumps(measure)}\n")
    return report


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real service on a loopback port, serving the built explorer over the demo estate."""
    _assert_built()
    data = tmp_path_factory.mktemp("explorer-demo")
    loaded = CliRunner().invoke(app, ["demo", "--data", str(data), "--nodes", str(DEMO_NODES)])
    assert loaded.exit_code == 0, loaded.output
    with _serving(data) as url:
        yield url


@pytest.fixture(scope="module")
def landmarks() -> dict[str, str]:
    """The demo estate's named nodes (the estate is deterministic from its seed)."""
    estate = Estate(Plan.for_nodes(DEMO_NODES), seed=DEMO_SEED)
    for _ in estate.events():
        pass
    return estate.landmarks


@pytest.fixture(scope="module")
def session(service: str, landmarks: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Run the browser script once; return its report (downloads saved under report['downloads'])."""
    out = tmp_path_factory.mktemp("explorer-e2e")
    shots = Path(os.environ.get("LINEAGE_SCREENSHOTS") or out / "screenshots")
    env = {
        "EXPLORER_URL": service,
        "EXPLORER_LANDMARKS": json.dumps(landmarks),
        "EXPLORER_SCREENSHOTS": str(shots.resolve()),
    }
    report = _run_script("e2e/explorer.mjs", env, out)
    report["downloads"] = str(out / "downloads")
    report["screenshots"] = str(shots)
    return report


def test_an_unbuilt_explorer_says_how_to_build_it(tmp_path: Path) -> None:
    bare = FastAPI()
    mount_explorer(bare, tmp_path)
    page = TestClient(bare).get("/")
    assert page.status_code == 200
    assert "make setup" in page.text and "/graphql" in page.text


def test_explorer_is_served_at_root_without_a_cdn(service: str) -> None:
    page = httpx.get(f"{service}/")
    assert page.status_code == 200
    assert "<title>Lineage explorer</title>" in page.text
    assert "http://" not in page.text.replace("http://www.w3.org", "")
    assert "https://" not in page.text


def test_every_scenario_passed_in_the_browser_without_page_errors(session: dict[str, object]) -> None:
    assert session["errors"] == []
    assert set(session["passed"]) >= {  # type: ignore[arg-type]
        "search",
        "open",
        "empty state",
        "keyboard search",
        "expand upstream",
        "expand downstream",
        "kind filter",
        "entities only",
        "time travel",
        "column view",
        "side panel evidence",
        "impact counts",
        "path highlight",
        "exports",
        "deep link",
        "2000 nodes",
    }


def test_exports_hold_the_view(session: dict[str, object]) -> None:
    downloads = Path(str(session["downloads"]))
    exported = json.loads(next(downloads.glob("*.json")).read_text())
    rows = list(csv.DictReader(io.StringIO(next(downloads.glob("*.csv")).read_text())))
    assert {r["id"] for r in rows if r["record"] == "node"} == {n["id"] for n in exported["nodes"]}
    assert {(r["source"], r["target"], r["type"]) for r in rows if r["record"] == "edge"} == {
        (e["source"], e["target"], e["type"]) for e in exported["edges"]
    }
    view = session["exported_view"]
    assert {n["id"] for n in exported["nodes"]} == set(view["nodes"])  # type: ignore[index]
    assert next(downloads.glob("*.png")).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = next(downloads.glob("*.svg")).read_text()
    assert svg.lstrip().startswith(("<?xml", "<svg")) and "</svg>" in svg


def test_screenshots_of_the_main_views_stay_small(session: dict[str, object]) -> None:
    shots = {p.name: p.stat().st_size for p in Path(str(session["screenshots"])).glob("*.png")}
    assert set(shots) >= {"lineage.png", "columns.png", "impact.png", "path.png"}
    assert all(size < 300_000 for size in shots.values()), shots


def test_with_auth_on_the_page_asks_for_a_token_refuses_wrong_ones_and_opens_the_graph_with_a_read_token(
    tmp_path: Path,
) -> None:
    _assert_built()
    data = tmp_path / "data"
    loaded = CliRunner().invoke(app, ["demo", "--data", str(data), "--nodes", "200"])
    assert loaded.exit_code == 0, loaded.output
    # A token exists, so the service asks for one even on loopback (api/auth.py).
    made = CliRunner().invoke(app, ["token", "create", "--scope", "read", "--name", "explorer", "--data", str(data)])
    assert made.exit_code == 0, made.output
    read = made.stdout.strip().splitlines()[-1]
    tokens = TokenStore(data / "tokens.sqlite")
    ingest, _ = tokens.create({Scope.INGEST}, name="airflow")
    tokens.close()
    with _serving(data) as url:
        env = {"EXPLORER_URL": url, "EXPLORER_READ_TOKEN": read, "EXPLORER_INGEST_TOKEN": ingest}
        report = _run_script("e2e/signin.mjs", env, tmp_path)
    assert report["errors"] == []
    assert set(report["passed"]) == {  # type: ignore[arg-type]
        "page loads without a token",
        "dialog on the first query",
        "wrong tokens refused with a message",
        "right token opens the graph",
        "sign out forgets the token",
        "sign in again from the header",
    }
