"""A real `lineage serve` process on a loopback port, for fault tests (the load test has its own copy)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.served import free_port

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Served:
    """A running service process."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def kill(self) -> None:
        """Kill it with SIGKILL (no chance to flush or clean up) and reap it."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """Stop it politely."""
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def serve(args: Sequence[str], log: Path, env: dict[str, str] | None = None, timeout: float = 120.0) -> Served:
    """Start `lineage serve` with these arguments and wait until /healthz answers."""
    port = free_port()
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=environment,
            cwd=ROOT,
        )
    url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            msg = f"lineage serve exited with {process.returncode}: {log.read_text()[-2000:]}"
            raise RuntimeError(msg)
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return Served(process, url, log)
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    msg = f"lineage serve did not answer within {timeout}s"
    raise RuntimeError(msg)
