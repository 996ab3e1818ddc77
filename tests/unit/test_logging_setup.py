"""configure_logging: records reach the stderr of the moment, and chatty libraries stay quiet."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator

import pytest

from core.logging import configure_logging


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("DEBUG")
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_records_go_to_the_current_stderr_after_the_old_one_closed(
    configured: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    logging.getLogger("doxa.test").info("one")
    first.close()  # what a test runner does with its capture, or a CLI runner with its buffer
    monkeypatch.setattr(sys, "stderr", second)
    logging.getLogger("doxa.test").info("two")
    assert second.getvalue().rstrip().endswith("doxa.test: two")


def test_a_library_that_sets_its_own_debug_level_stays_quiet_below_warnings(
    configured: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    chatty = logging.getLogger("bm25s")
    monkeypatch.setattr(chatty, "level", logging.DEBUG)  # as bm25s does on import
    chatty.debug("Building index from tokens")
    chatty.warning("index is empty")
    logging.getLogger("doxa.test").debug("ours")
    lines = stream.getvalue()
    assert "Building index" not in lines
    assert "index is empty" in lines and "ours" in lines
