"""A slow first call says what it loads, once per process and before it loads; the CLI shows it on stderr only."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cli.output import show_first_use_notices
from core import database, embedded_postgres
from core.embeddings import Embedder
from core.logging import announce_first_use, first_use_log
from core.settings import Settings


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def notices() -> Iterator[list[logging.LogRecord]]:
    """The notices logged during the test (the logger's own state, which the CLI changes, is restored)."""
    saved = first_use_log.handlers[:], first_use_log.propagate, first_use_log.level
    collect = _Collect()
    first_use_log.handlers[:] = [collect]
    first_use_log.propagate = False
    first_use_log.setLevel(logging.INFO)
    try:
        yield collect.records
    finally:
        first_use_log.handlers[:], first_use_log.propagate = saved[0], saved[1]
        first_use_log.setLevel(saved[2])


def test_a_notice_is_logged_once_per_process_for_its_key(notices: list[logging.LogRecord]) -> None:
    key, other = f"model {uuid.uuid4()}", f"engine {uuid.uuid4()}"
    announce_first_use(key, "Loading %s…", "the model", model_path="/models/m")
    announce_first_use(key, "Loading %s…", "the model")
    announce_first_use(other, "Starting the engine…")
    assert [record.getMessage() for record in notices] == ["Loading the model…", "Starting the engine…"]
    assert notices[0].levelno == logging.INFO and notices[0].__dict__["model_path"] == "/models/m"


def test_the_cli_prints_a_notice_as_one_line_on_stderr_and_nothing_on_stdout(
    notices: list[logging.LogRecord], capsys: pytest.CaptureFixture[str]
) -> None:
    show_first_use_notices()
    announce_first_use(str(uuid.uuid4()), "Loading the embedding model %s (first call, a few seconds)…", "m [x]")
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "Loading the embedding model m [x] (first call, a few seconds)…\n"


def test_the_embedder_says_so_before_it_loads_the_model(
    notices: list[logging.LogRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"test/model-{uuid.uuid4()}"
    seen_before_loading: list[int] = []

    def load(self: Embedder) -> Any:
        seen_before_loading.append(len(notices))
        raise RuntimeError("stop before any real model loads")

    monkeypatch.setattr(Embedder, "_load_onnx", load)
    embedder = Embedder(name, "/nowhere", 384, backend="onnx")
    with pytest.raises(RuntimeError):
        embedder.warm_up()
    assert seen_before_loading == [1]
    assert notices[0].getMessage() == f"Loading the embedding model {name} on ONNX Runtime (first call, a few seconds)…"


@pytest.mark.parametrize("running", [False, True])
def test_the_embedded_postgres_notice_comes_only_when_it_has_to_start(
    running: bool, tmp_path: Path, notices: list[logging.LogRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(home=tmp_path)
    pgdata = (tmp_path / "postgres").resolve()
    monkeypatch.setattr(embedded_postgres, "postmaster_running", lambda path: running)
    monkeypatch.setattr(embedded_postgres, "get_server", lambda path: f"server on {path}")
    monkeypatch.setattr(database, "_embedded_servers", {})
    assert database.embedded_server(settings) == f"server on {pgdata}"
    expected = [] if running else [f"Starting the embedded PostgreSQL under {pgdata} (first call, a few seconds)…"]
    assert [record.getMessage() for record in notices] == expected
