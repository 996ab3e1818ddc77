"""Fault-test fixtures: the API fixtures, a `uvicorn` child process to kill, the figures RELIABILITY.md quotes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.settings import Settings
from tests.api.conftest import (  # noqa: F401 - fixtures shared with the API tests
    JWT_SECRET,
    _classifier_in_home,
    api_settings,
    client,
    fitted_classifier,
)

REPO = Path(__file__).resolve().parents[2]
FIGURES = REPO / "benchmarks" / "out" / "reliability.json"

Record = Callable[..., None]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder is a reliability test (`pytest -m reliability`)."""
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.reliability)


@pytest.fixture(scope="session")
def _figures() -> Iterator[dict[str, Any]]:
    collected: dict[str, Any] = {}
    yield collected
    if collected:
        FIGURES.parent.mkdir(parents=True, exist_ok=True)
        previous = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
        FIGURES.write_text(json.dumps(previous | collected, indent=2, sort_keys=True) + "\n")


@pytest.fixture
def record(_figures: dict[str, Any], request: pytest.FixtureRequest) -> Record:
    """Keep a measured figure under the test's name (written to benchmarks/out/reliability.json at the end)."""

    def keep(**figures: Any) -> None:
        _figures.setdefault(request.node.name, {}).update(figures)
        print(f"{request.node.name}: {figures}")

    return keep


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServiceProcess:
    """`uvicorn api.main:app` in a child process on a loopback port, with the test's home and database."""

    def __init__(self, settings: Settings, log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.env = {
            key: value for key, value in os.environ.items() if not key.startswith("DOXA_") and key != "MISTRAL_API_KEY"
        } | {
            "DOXA_HOME": str(settings.home),
            "DOXA_DATABASE_URL": str(settings.database_url),
            "DOXA_JWT_SECRET": JWT_SECRET,
            "PYTHONPATH": str(REPO),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 180.0) -> None:
        """Start the server and wait until it answers /healthz (the lifespan, model included, has run)."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=self.log_path.parent,  # away from the checkout's .env
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the service exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"the service did not start in {timeout_s} s:\n{self.log()}")

    def kill(self) -> None:
        """kill -9: no lifespan shutdown, no flush, nothing finishes."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """A clean stop (SIGTERM), if it still runs."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


@pytest.fixture
def service_process(api_settings: Settings, tmp_path: Path) -> Iterator[Callable[[], ServiceProcess]]:  # noqa: F811
    """A factory of API child processes on the test's home and database; each is stopped afterwards."""
    started: list[ServiceProcess] = []

    def start() -> ServiceProcess:
        process = ServiceProcess(api_settings, tmp_path / f"service-{len(started)}.log")
        started.append(process)
        process.start()
        return process

    yield start
    for process in started:
        process.stop()
