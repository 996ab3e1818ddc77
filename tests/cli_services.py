"""CLI commands under test open the test's services (its database, the loaded model, the session chdb)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

import pytest

from core.services import Services


def use_test_services(monkeypatch: pytest.MonkeyPatch, services: Services, *cli_modules: ModuleType) -> None:
    """Make each CLI module's `open_services()` yield `services` for this test instead of opening its own."""

    @contextmanager
    def open_services() -> Iterator[Services]:
        yield services

    for module in cli_modules:
        monkeypatch.setattr(module, "open_services", open_services)
