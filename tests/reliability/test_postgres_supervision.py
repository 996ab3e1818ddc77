"""The embedded PostgreSQL's lifecycle with real processes: SIGTERM, pids of killed processes, a dead server.

`doxa serve` stopped by SIGTERM releases its handle and stops the server it was the last user of; a process
killed with SIGKILL leaves a pid behind that the next process prunes; and a server killed under a running
app is reported at once by /healthz and /readyz and started again by the app's supervisor.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from benchmarks.load import free_port, service_environment
from core.database import Database, release_embedded_server
from core.embedded_postgres import EMBEDDED_POSTGRES_RESTARTS, handle_pids, postmaster_running
from core.embeddings import Embedder, PostgresEmbeddingCache
from core.services import Services
from core.settings import Settings
from tests.reliability.conftest import JWT_SECRET, Record

REPO = Path(__file__).resolve().parents[2]
OPEN_AND_EXIT = (
    "from core.database import embedded_server; from core.settings import Settings; embedded_server(Settings())"
)


def postmaster_pid(pgdata: Path) -> int:
    return int((pgdata / "postmaster.pid").read_text().splitlines()[0])


def wait_until(predicate: object, timeout_s: float, what: str) -> float:
    """Poll `predicate` every 50 ms; the seconds it took, or fail naming `what`."""
    started = time.monotonic()
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() - started < timeout_s, f"{what} not within {timeout_s} s"
        time.sleep(0.05)
    return time.monotonic() - started


def stop_leftover(pgdata: Path) -> None:
    """Kill a server a failing test left running, so it does not outlive the session."""
    if (pgdata / "postmaster.pid").exists() and psutil.pid_exists(pid := postmaster_pid(pgdata)):
        os.kill(pid, signal.SIGKILL)


def test_doxa_serve_stopped_by_sigterm_stops_the_embedded_postgres(
    tmp_path: Path, fitted_classifier: Path, record: Record
) -> None:
    home = tmp_path / "home"
    shutil.copytree(fitted_classifier, home / "classifier")
    env = service_environment(home, jwt_secret=JWT_SECRET, scheduler_enabled="false")
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    command = [sys.executable, "-c", "from cli.main import run; run()", "serve", "--port", str(port)]
    serve = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    pgdata = home / "postgres"
    try:

        def healthy() -> bool:
            assert serve.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(healthy, 240, "doxa serve answering /healthz")
        assert handle_pids(pgdata) == [serve.pid]
        server_pid = postmaster_pid(pgdata)

        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=60) != -signal.SIGTERM  # exited through its handlers, not killed by the signal
        assert not psutil.pid_exists(server_pid) or psutil.Process(server_pid).status() == psutil.STATUS_ZOMBIE
        assert handle_pids(pgdata) == []
    finally:
        if serve.poll() is None:
            serve.kill()
        stop_leftover(pgdata)
    record(sigterm_serve_left_postgres=False)


def test_a_killed_process_leaves_a_pid_that_the_next_process_prunes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = service_environment(home)
    pgdata = home / "postgres"
    kill_self = OPEN_AND_EXIT + "; import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
    try:
        killed = subprocess.run([sys.executable, "-c", kill_self], cwd=REPO, env=env, check=False)
        assert killed.returncode == -signal.SIGKILL
        assert handle_pids(pgdata) != [] and postmaster_running(pgdata)

        done = subprocess.run([sys.executable, "-c", OPEN_AND_EXIT], cwd=REPO, env=env, check=False)
        assert done.returncode == 0
        assert handle_pids(pgdata) == []
        assert not postmaster_running(pgdata)  # the last live process stopped it
    finally:
        stop_leftover(pgdata)


def embedded_settings(tmp_path: Path, watch_s: float) -> Settings:
    return Settings(
        home=tmp_path / "home", mistral_api_key=None, jwt_secret=SecretStr(JWT_SECRET), embedded_pg_watch_s=watch_s
    )


@pytest.fixture
def embedded_services(tmp_path: Path, embedder: Embedder) -> Iterator[Services]:
    """Services on an embedded server of the test's own, whose supervisor does not tick during the test."""
    settings = embedded_settings(tmp_path, watch_s=3600)
    services = Services(settings, Database.open(settings))
    services.embedder = embedder.with_cache(PostgresEmbeddingCache(services.db))
    yield services
    services.close()
    release_embedded_server(settings)
    stop_leftover(settings.home / "postgres")


def test_a_postgres_killed_under_the_app_is_reported_at_once_and_brought_back(embedded_services: Services) -> None:
    pgdata = embedded_services.settings.home / "postgres"
    with TestClient(create_app(embedded_services.settings, embedded_services)) as client:
        supervisor = embedded_services.db.supervisor
        assert supervisor is not None
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").json()["checks"]["postgres"] == "ok"

        os.kill(postmaster_pid(pgdata), signal.SIGKILL)
        wait_until(lambda: not postmaster_running(pgdata), 10, "the killed postmaster gone")
        health = client.get("/healthz")
        assert health.status_code == 503 and health.json()["postgres"] == "embedded server down, restarting"
        ready = client.get("/readyz")
        assert ready.status_code == 503 and "restarting" in ready.json()["checks"]["postgres"]
        faq = client.get("/faq", params={"q": "vpn"})  # fails at once instead of waiting for a pooled connection
        assert faq.status_code == 503 and faq.headers["content-type"] == "application/problem+json"

        wait_until(supervisor.check_once, 60, "a restart by the supervisor's check")  # what its ticks do
        assert client.get("/healthz").status_code == 200
        wait_until(lambda: client.get("/readyz").json()["checks"]["postgres"] == "ok", 60, "/readyz postgres ok")
        assert client.get("/faq", params={"q": "vpn"}).status_code == 200


def test_the_supervisor_thread_restarts_a_dead_server_and_counts_it(tmp_path: Path, record: Record) -> None:
    settings = embedded_settings(tmp_path, watch_s=0.2)
    pgdata = settings.home / "postgres"
    db = Database.open(settings, migrate=False)
    try:
        supervisor = db.supervise(settings.embedded_pg_watch_s)
        assert supervisor is not None
        restarts_before = EMBEDDED_POSTGRES_RESTARTS.labels(outcome="ok")._value.get()
        first = postmaster_pid(pgdata)
        os.kill(first, signal.SIGKILL)
        restart_s = wait_until(lambda: supervisor.restarts == 1, 60, "a restart by the supervisor thread")
        assert postmaster_running(pgdata) and postmaster_pid(pgdata) != first
        assert EMBEDDED_POSTGRES_RESTARTS.labels(outcome="ok")._value.get() == restarts_before + 1
        wait_until(lambda: not supervisor.down, 5, "the supervisor clearing its down flag")
        with db.connection() as conn:
            assert conn.execute("SELECT 1 AS one").fetchone() == {"one": 1}
    finally:
        db.close()
        release_embedded_server(settings)
        stop_leftover(pgdata)
    record(embedded_postgres_restart_s=round(restart_s, 2))
