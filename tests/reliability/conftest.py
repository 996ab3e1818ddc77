"""Fault-test fixtures: the API fixtures, a `uvicorn` child process to kill, the figures RELIABILITY.md quotes."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks.load import ServiceChild
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


class ServiceProcess(ServiceChild):
    """The API in a child process (benchmarks/load.py's launcher) on the test's home and database."""

    def __init__(self, settings: Settings, log_path: Path) -> None:
        env = {
            key: value for key, value in os.environ.items() if not key.startswith("DOXA_") and key != "MISTRAL_API_KEY"
        } | {
            "DOXA_HOME": str(settings.home),
            "DOXA_DATABASE_URL": str(settings.database_url),
            "DOXA_JWT_SECRET": JWT_SECRET,
            "PYTHONPATH": str(REPO),
        }
        super().__init__(env, log_path)

    def kill(self) -> None:
        """kill -9: no lifespan shutdown, no flush, nothing finishes."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


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
