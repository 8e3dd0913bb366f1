"""A real MLflow tracking server for the tests (sqlite backend, loopback), and the app served beside it.

Full ``mlflow`` pins graphql-core below strawberry's range, so the server runs from its own venv,
``.venv-mlflow`` (scripts/setup.sh makes it); the tests drive it with the real client
(``mlflow-skinny`` in the project venv) and its REST API.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx
import uvicorn
from cryptography.fernet import Fernet

from api.app import create_app
from api.settings import Settings
from graph.store import LineageStore

ROOT = Path(__file__).resolve().parents[1]
MLFLOW = ROOT / ".venv-mlflow" / "bin" / "mlflow"
SECRET = "s3cret"
#: MLflow reports usage to its makers by default; these machines talk to no one.
NO_TELEMETRY = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
EVENTS = [
    {"entity": e, "action": a}
    for e, a in [
        ("REGISTERED_MODEL", "CREATED"),
        ("MODEL_VERSION", "CREATED"),
        ("MODEL_VERSION_TAG", "SET"),
        ("MODEL_VERSION_TAG", "DELETED"),
        ("MODEL_VERSION_ALIAS", "CREATED"),
        ("MODEL_VERSION_ALIAS", "DELETED"),
        ("PROMPT", "CREATED"),
        ("PROMPT_VERSION", "CREATED"),
        ("PROMPT_TAG", "SET"),
        ("PROMPT_TAG", "DELETED"),
        ("PROMPT_VERSION_TAG", "SET"),
        ("PROMPT_VERSION_TAG", "DELETED"),
        ("PROMPT_ALIAS", "CREATED"),
        ("PROMPT_ALIAS", "DELETED"),
    ]
]


def free_port() -> int:
    """Return a loopback port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def mlflow_server(folder: Path) -> Iterator[str]:
    """Run ``mlflow server`` until the block ends; yield its tracking URI."""
    assert MLFLOW.exists(), f"{MLFLOW} is missing: run scripts/setup.sh (it makes .venv-mlflow)"
    port = free_port()
    env = {
        **os.environ,
        **NO_TELEMETRY,
        "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http,https",
        "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true",
        "MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    }
    log = (folder / "mlflow.log").open("wb")
    command = [
        str(MLFLOW),
        "server",
        "--backend-store-uri",
        f"sqlite:///{folder / 'mlflow.db'}",
        "--default-artifact-root",
        str(folder / "artifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                if httpx.get(f"{uri}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                text = (folder / "mlflow.log").read_text(errors="replace")[-3000:]
                msg = f"mlflow server did not start:\n{text}"
                raise RuntimeError(msg)
            time.sleep(0.5)
        yield uri
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # the server and its uvicorn and job-runner children
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def settings_for(tmp: Path, tracking_uri: str, **extra: object) -> Settings:
    """Return service settings that read this MLflow and accept its webhooks."""
    return Settings(data_dir=tmp, mlflow_tracking_uri=tracking_uri, mlflow_webhook_secret=SECRET, **extra)  # type: ignore[arg-type]


@asynccontextmanager
async def served(settings: Settings, store: LineageStore) -> AsyncIterator[str]:
    """Serve the app on a loopback port in this event loop (the store's), lifespan included."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, store), host="127.0.0.1", port=port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110  # uvicorn offers no event to await
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def webhook(tracking_uri: str, url: str) -> AsyncIterator[str]:
    """Register a webhook for every registry event, pointing at ``url``; delete it afterwards."""
    async with httpx.AsyncClient(base_url=f"{tracking_uri}/api/2.0/mlflow", timeout=30) as http:
        body = {"name": "lineage-graph-tests", "url": url, "secret": SECRET, "status": "ACTIVE", "events": EVENTS}
        created = await http.post("/webhooks", json=body)
        assert created.status_code == 200, created.text
        webhook_id = created.json()["webhook"]["webhook_id"]
        try:
            yield webhook_id
        finally:
            await http.delete(f"/webhooks/{webhook_id}")
