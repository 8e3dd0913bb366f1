"""Start a local Neo4j 5.26 Community without Docker: jars from Maven Central, a throwaway home.

Machines without a Docker engine still reach Maven Central, which serves ``org.neo4j:neo4j``
(the server's entry point included). Maven resolves it once into a cache folder; each start
writes a minimal config (Bolt on 127.0.0.1 at a free port, HTTP off, auth off, a small heap
and page cache) into a fresh home and runs ``org.neo4j.server.CommunityEntryPoint``.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from neo4j import GraphDatabase
from neo4j.exceptions import DriverError, ServiceUnavailable

log = logging.getLogger("lineage.neo4j.local")

NEO4J_VERSION = "5.26.17"
ENTRY_POINT = "org.neo4j.server.CommunityEntryPoint"
_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>lineage-graph</groupId><artifactId>neo4j-runtime</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>org.neo4j</groupId><artifactId>neo4j</artifactId><version>{version}</version></dependency>
  </dependencies>
</project>
"""
_CONFIG = """server.bolt.listen_address=127.0.0.1:{port}
server.bolt.advertised_address=127.0.0.1:{port}
server.http.enabled=false
server.https.enabled=false
dbms.security.auth_enabled=false
dbms.usage_report.enabled=false
server.memory.pagecache.size={pagecache}
server.directories.data={home}/data
server.directories.logs={home}/logs
server.directories.run={home}/run
server.directories.plugins={home}/plugins
server.directories.import={home}/import
db.tx_log.rotation.retention_policy=2 files
"""


class LocalNeo4jError(RuntimeError):
    """The local Neo4j could not be fetched or started; the message says why."""


def cache_dir(version: str = NEO4J_VERSION) -> Path:
    """Return where the jars of this version live (``LINEAGE_NEO4J_CACHE`` moves it)."""
    root = Path(os.environ.get("LINEAGE_NEO4J_CACHE", Path.home() / ".cache" / "lineage-graph"))
    return root / f"neo4j-{version}"


def ensure_jars(version: str = NEO4J_VERSION) -> Path:
    """Resolve Neo4j and its dependencies with Maven, once; return the folder of jars."""
    folder = cache_dir(version)
    lib, done = folder / "lib", folder / ".complete"
    if done.exists():
        return lib
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pom.xml").write_text(_POM.format(version=version))
    command = [
        "mvn",
        "-q",
        "-B",
        "-f",
        str(folder / "pom.xml"),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={lib}",
    ]
    log.info("fetching Neo4j %s with Maven into %s", version, lib)
    try:
        run = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)  # noqa: S603
    except FileNotFoundError as e:
        msg = "Maven (mvn) is not installed; it is needed once to fetch Neo4j from Maven Central"
        raise LocalNeo4jError(msg) from e
    if run.returncode != 0:
        tail = "\n".join((run.stdout + run.stderr).splitlines()[-20:])
        msg = f"`{' '.join(command)}` failed ({run.returncode}):\n{tail}"
        raise LocalNeo4jError(msg)
    done.touch()
    return lib


@dataclass(frozen=True)
class LocalNeo4j:
    """A running local Neo4j."""

    uri: str
    pid: int
    home: Path
    keep_home: bool = False

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the server (TERM, then KILL after ``timeout``) and remove its home."""
        _stop_pid(self.pid, timeout)
        if not self.keep_home:
            shutil.rmtree(self.home, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_local_neo4j(
    *,
    heap: str = "512m",
    pagecache: str = "128m",
    timeout: float = 120.0,
    home: Path | None = None,
    port: int | None = None,
    version: str = NEO4J_VERSION,
) -> LocalNeo4j:
    """Start Neo4j on a loopback port (a free one by default) and wait until the driver connects."""
    lib = ensure_jars(version)
    java = shutil.which("java")
    if java is None:
        msg = "Java 17 is not installed (`java` is not on PATH)"
        raise LocalNeo4jError(msg)
    keep = home is not None
    home = home or Path(tempfile.mkdtemp(prefix="lineage-neo4j-"))
    (home / "conf").mkdir(parents=True, exist_ok=True)
    port = port or _free_port()
    (home / "conf" / "neo4j.conf").write_text(_CONFIG.format(port=port, pagecache=pagecache, home=home))
    command = [
        java, f"-Xms{heap}", f"-Xmx{heap}", "-XX:+UseG1GC", "-cp", f"{lib}/*", ENTRY_POINT,
        f"--home-dir={home}", f"--config-dir={home / 'conf'}",
    ]  # fmt: skip
    with (home / "console.log").open("wb") as console:
        # Its own session, so stopping it never signals us, and it outlives a detached CLI.
        process = subprocess.Popen(command, stdout=console, stderr=subprocess.STDOUT, start_new_session=True)  # noqa: S603
    server = LocalNeo4j(f"bolt://127.0.0.1:{port}", process.pid, home, keep)
    started = time.monotonic()
    while True:
        if process.poll() is not None:
            msg = f"Neo4j exited with {process.returncode} while starting:\n{_tail(home)}"
            raise LocalNeo4jError(msg)
        if _answers(server.uri):
            log.info("Neo4j %s up at %s in %.1fs", version, server.uri, time.monotonic() - started)
            return server
        if time.monotonic() - started > timeout:
            server.stop()
            msg = f"Neo4j did not answer within {timeout:.0f}s:\n{_tail(home)}"
            raise LocalNeo4jError(msg)
        time.sleep(0.5)


def _answers(uri: str) -> bool:
    driver = GraphDatabase.driver(uri)
    try:
        driver.verify_connectivity()
    except (ServiceUnavailable, DriverError, OSError):
        return False
    finally:
        driver.close()
    return True


def _tail(home: Path, lines: int = 30) -> str:
    logs = [home / "console.log", home / "logs" / "neo4j.log"]
    text = "\n".join(p.read_text(errors="replace") for p in logs if p.exists())
    return "\n".join(text.splitlines()[-lines:])


def _stop_pid(pid: int, timeout: float) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # not our child (a detached server): poll for it instead
            done = 0 if _alive(pid) else pid
        if done:
            return
        time.sleep(0.2)
    log.warning("Neo4j (pid %d) ignored TERM for %.0fs; killing it", pid, timeout)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        return


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@contextmanager
def local_neo4j(**options: str | float) -> Iterator[LocalNeo4j]:
    """Run a local Neo4j for the duration of a ``with`` block."""
    server = start_local_neo4j(**options)  # type: ignore[arg-type]
    try:
        yield server
    finally:
        server.stop()


def start_detached(state_file: Path, **options: str | float) -> LocalNeo4j:
    """Start a server that outlives this process; remember it in ``state_file``."""
    home = state_file.parent / "neo4j-home"
    server = start_local_neo4j(home=home, **options)  # type: ignore[arg-type]
    state_file.write_text(json.dumps({"uri": server.uri, "pid": server.pid, "home": str(server.home)}))
    return server


def stop_from_state(state_file: Path) -> bool:
    """Stop the server ``start_detached`` remembered; return False if none was running."""
    if not state_file.exists():
        return False
    state = json.loads(state_file.read_text())
    running = _alive(int(state["pid"]))
    if running:
        _stop_pid(int(state["pid"]), 30.0)
    state_file.unlink()
    return running
