"""A real `langgraph dev` server for the Studio tests: .venv-studio, a fresh database, the help centre, tickets.

langgraph-cli[inmem] cannot live in .venv (its pins break the dev tools), so the server runs from .venv-studio,
made by scripts/studio-venv.sh and reused when present; where it cannot be installed the tests are skipped with
the installer's last words. The server is started by `doxa studio` itself: the config it writes under
DOXA_HOME, on Doxa's Postgres checkpointer, sandboxed. Before it starts, the home gets what a user would
have: the help-centre articles (`doxa kb ingest`) and the sample resolved tickets (`doxa tickets import`).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from benchmarks.load import free_port, service_environment

REPO = Path(__file__).resolve().parents[2]
LANGGRAPH = REPO / ".venv-studio" / "bin" / "langgraph"
RESOLVED_TICKETS = REPO / "examples" / "resolved-tickets" / "tickets.jsonl"
# The help centre's connection articles: enough for the tests' ticket, a quarter of the ingest time.
ARTICLES = REPO / "examples" / "helpcentre" / "articles" / "connecting"


class StudioUnavailable(Exception):
    """langgraph-cli could not be installed here (no index, no wheel for this platform)."""


def ensure_studio_venv(timeout_s: float = 900) -> Path:
    """.venv-studio's langgraph, installed by scripts/studio-venv.sh when missing (a no-op when current)."""
    try:
        done = subprocess.run(
            [str(REPO / "scripts" / "studio-venv.sh")], capture_output=True, text=True, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise StudioUnavailable(f"scripts/studio-venv.sh ran over {timeout_s:.0f} s") from exc
    if done.returncode != 0 or not LANGGRAPH.exists():
        raise StudioUnavailable(f"scripts/studio-venv.sh failed ({done.returncode}): {done.stderr[-600:]}")
    return LANGGRAPH


def doxa(env: dict[str, str], cwd: Path, *args: str, timeout_s: float = 300) -> str:
    """Run one `doxa` command in the server's home, as an operator would; its stdout."""
    command = [sys.executable, "-c", "from cli.main import run; run()", *args]
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout_s, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"doxa {' '.join(args)} failed ({done.returncode}):\n{done.stdout[-1500:]}\n{done.stderr[-1500:]}"
        )
    return done.stdout


@dataclass
class StudioServer:
    """The running server: its address, port, environment, home and database."""

    url: str
    port: int
    env: dict[str, str]
    home: Path
    database_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self) -> str:
        """The end of the server's log."""
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def stop(self) -> None:
        """SIGTERM to `doxa studio` and the server it started (their own process group), SIGKILL after 30 s."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_studio_server(
    langgraph: Path, home: Path, database_url: str, classifier: Path, timeout_s: float = 300
) -> StudioServer:
    """Prepare the home (KB, resolved tickets, the session's fitted classifier) and run `doxa studio` on it, which
    writes the config and starts the server from `langgraph` (.venv-studio's); wait until /ok answers."""
    env = service_environment(home, database_url=database_url) | {"LANGSMITH_TRACING": "false"}
    home.mkdir(parents=True, exist_ok=True)
    shutil.copytree(classifier, home / "classifier", dirs_exist_ok=True)
    doxa(env, home, "kb", "ingest", str(ARTICLES))
    doxa(env, home, "tickets", "import", str(RESOLVED_TICKETS))
    port = free_port()
    log_path = home / "studio-server.log"
    command = [sys.executable, "-c", "from cli.main import run; run()", "studio", "--no-browser", "--port", str(port)]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command, cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = StudioServer(f"http://127.0.0.1:{port}", port, env, home, database_url, process, log_path)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"langgraph dev exited with {process.returncode}:\n{server.log_tail()}")
        try:
            if httpx.get(f"{server.url}/ok", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    server.stop()
    raise RuntimeError(f"langgraph dev did not answer /ok in {timeout_s:.0f} s:\n{server.log_tail()}")
