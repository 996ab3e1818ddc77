"""ClickHouse access: the in-process chdb engine under DOXA_HOME, or a server through clickhouse-connect.

chdb allows one data path per process, so the embedded engine is a process-wide singleton and asking
for a second path is an error rather than a silent switch. And one process per data path at a time: the
engine is opened per use and released when idle, so the CLI and `doxa serve` share it (ChdbClickHouse).
"""

from __future__ import annotations

import atexit
import fcntl
import json
import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Protocol

from core.errors import ConfigurationError, EngineBusyError
from core.logging import announce_first_use
from core.settings import Settings


class ClickHouse(Protocol):
    """The few operations Doxa needs from ClickHouse."""

    def command(self, statement: str) -> None:
        """Run a statement that returns nothing (DDL, INSERT ... SELECT)."""
        ...

    def query(self, statement: str, parameters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run a SELECT with `{name:Type}` parameters and return rows as dicts."""
        ...

    def insert(self, table: str, rows: Sequence[Sequence[Any]], columns: Sequence[str]) -> None:
        """Insert rows into a table."""
        ...


class ChdbClickHouse:
    """The chdb engine (ClickHouse in-process) with its data under one directory, shared between processes.

    chdb lets one process open a data path at a time, so this engine is opened per use and released after
    `idle_release_s` without a query: `doxa serve` and CLI commands on one DOXA_HOME take turns instead of
    the second one failing with CANNOT_OPEN_FILE. An exclusive `flock` on `<path>.lock` (holding the
    owner's pid) orders the turns; a process that cannot get it within `lock_wait_s` gets EngineBusyError,
    a one-line message saying who holds it. Opening costs 0.1-0.4 s on 2 shared cores (BENCHMARKS.md), paid
    once per burst of queries, not per query.
    """

    def __init__(self, path: Path, *, idle_release_s: float = 1.0, lock_wait_s: float = 30.0) -> None:
        self.path = path
        self.idle_release_s = idle_release_s
        self.lock_wait_s = lock_wait_s
        self.opens = 0  # sessions opened by this process (tests and benchmarks read it)
        self._session: Any = None
        self._lease: _FileLease | None = None
        self._timer: threading.Timer | None = None
        self._lock = threading.RLock()

    def close(self) -> None:
        """Release the engine now (idempotent); the next query opens it again."""
        with self._lock:
            self._cancel_timer()
            if self._session is not None:
                self._session.close()
                self._session = None
            if self._lease is not None:
                self._lease.release()
                self._lease = None

    def held_elsewhere(self) -> int | None:
        """The pid of another process holding the engine right now, without waiting (None: free or ours)."""
        with self._lock:
            if self._session is not None:
                return None
        return _FileLease.holder(self._lock_path)

    @property
    def _lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    @contextmanager
    def _session_in_use(self) -> Iterator[Any]:
        with self._lock:
            self._cancel_timer()
            if self._session is None:
                self._open()
            try:
                yield self._session
            finally:
                self._schedule_release()

    def _open(self) -> None:
        from chdb import session

        self._lease = _FileLease.acquire(self._lock_path, self.lock_wait_s, self.path)
        # After the lease: a process refused its turn says only that (one line), not that it was opening.
        announce_first_use(f"chdb {self.path}", "Opening the embedded ClickHouse (chdb) under %s…", self.path)
        deadline = time.monotonic() + self.lock_wait_s
        while True:
            try:
                self._session = session.Session(str(self.path))
                self.opens += 1
                return
            except RuntimeError as exc:
                # A Doxa older than the lease, or another chdb user, holds the data path itself.
                if time.monotonic() > deadline:
                    self._lease.release()
                    self._lease = None
                    raise EngineBusyError(_busy_message(self.path, None, self.lock_wait_s)) from exc
                time.sleep(0.1)

    def _schedule_release(self) -> None:
        if self.idle_release_s <= 0:
            self.close()
            return
        self._timer = threading.Timer(self.idle_release_s, self.close)
        self._timer.daemon = True
        self._timer.start()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def command(self, statement: str) -> None:
        """Run a statement that returns nothing."""
        with self._session_in_use() as active:
            active.query(statement)

    def query(self, statement: str, parameters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run a SELECT and return rows as dicts.

        chdb hands parameter values to ClickHouse as raw text in the escaped format, so they are
        rendered the way clickhouse-connect renders them for a server: backslashes, tabs and newlines
        escaped, lists as array literals.
        """
        from clickhouse_connect.driver.binding import format_bind_value

        rendered = {name: format_bind_value(value) for name, value in (parameters or {}).items()}
        with self._session_in_use() as active:
            result = active.query(statement, "JSONEachRow", params=rendered)
        text = result.bytes().decode("utf-8") if hasattr(result, "bytes") else str(result)
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def insert(self, table: str, rows: Sequence[Sequence[Any]], columns: Sequence[str]) -> None:
        """Insert rows as JSONEachRow (chdb has no native bulk-insert API)."""
        if not rows:
            return
        body = "\n".join(json.dumps(dict(zip(columns, row, strict=True)), default=str) for row in rows)
        with self._session_in_use() as active:
            active.query(f"INSERT INTO {table} ({', '.join(columns)}) FORMAT JSONEachRow\n{body}")


class _FileLease:
    """An exclusive flock on a file that records the holder's pid: one process uses the chdb path at a time."""

    def __init__(self, handle: IO[str]) -> None:
        self._handle = handle

    @classmethod
    def acquire(cls, path: Path, wait_s: float, data_path: Path) -> _FileLease:
        """Take the lock, waiting up to `wait_s` while another process holds it."""
        handle = path.open("a+", encoding="utf-8")
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    handle.close()
                    raise EngineBusyError(_busy_message(data_path, cls.holder(path), wait_s)) from None
                time.sleep(0.05)
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        return cls(handle)

    def release(self) -> None:
        """Let the next process in."""
        fcntl.flock(self._handle, fcntl.LOCK_UN)
        self._handle.close()

    @staticmethod
    def holder(path: Path) -> int | None:
        """The pid in a lock file that another process holds now, or None when nobody does."""
        if not path.exists():
            return None
        with path.open("a+", encoding="utf-8") as probe:
            try:
                fcntl.flock(probe, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                probe.seek(0)
                text = probe.read().strip()
                return int(text) if text.isdigit() else -1
            fcntl.flock(probe, fcntl.LOCK_UN)
            return None


def _busy_message(path: Path, pid: int | None, wait_s: float) -> str:
    who = f"process {pid}" if pid and pid > 0 else "another process"
    return (
        f"the embedded ClickHouse in {path} stayed in use by {who} for {wait_s:.0f} s; retry when it is done "
        "(or raise DOXA_CHDB_LOCK_WAIT_S), or set DOXA_CLICKHOUSE_URL to share a ClickHouse server"
    )


class ServerClickHouse:
    """A ClickHouse server through clickhouse-connect."""

    def __init__(self, url: str) -> None:
        import clickhouse_connect

        self._client = clickhouse_connect.get_client(dsn=url)

    def command(self, statement: str) -> None:
        """Run a statement that returns nothing."""
        self._client.command(statement)

    def query(self, statement: str, parameters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run a SELECT and return rows as dicts."""
        result = self._client.query(statement, parameters=parameters or {})
        return list(result.named_results())

    def insert(self, table: str, rows: Sequence[Sequence[Any]], columns: Sequence[str]) -> None:
        """Insert rows in one batch."""
        if rows:
            self._client.insert(table, [list(r) for r in rows], column_names=list(columns))


_chdb_lock = threading.Lock()
_chdb_instance: ChdbClickHouse | None = None


def open_clickhouse(settings: Settings) -> ClickHouse:
    """The configured ClickHouse: a server when DOXA_CLICKHOUSE_URL is set, else embedded chdb."""
    global _chdb_instance
    if settings.clickhouse_url:
        return ServerClickHouse(settings.clickhouse_url)
    path = settings.state_dir("clickhouse").resolve()
    with _chdb_lock:
        if _chdb_instance is None:
            _chdb_instance = ChdbClickHouse(
                path, idle_release_s=settings.chdb_idle_release_s, lock_wait_s=settings.chdb_lock_wait_s
            )
            # Left to interpreter teardown, chdb's shutdown can crash the process after a query ran
            # on a worker thread; closing it explicitly at exit avoids that.
            atexit.register(_chdb_instance.close)
        elif _chdb_instance.path != path:
            raise ConfigurationError(
                f"chdb is already open on {_chdb_instance.path}; one process can use one chdb data path"
            )
        return _chdb_instance
