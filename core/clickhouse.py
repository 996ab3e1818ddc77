"""ClickHouse access: the in-process chdb engine under DOXA_HOME, or a server through clickhouse-connect.

chdb allows one data path per process, so the embedded session is a process-wide singleton and asking
for a second path is an error rather than a silent switch.
"""

from __future__ import annotations

import atexit
import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from core.errors import ConfigurationError
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
    """The chdb engine (ClickHouse in-process) with its data under one directory."""

    def __init__(self, path: Path) -> None:
        from chdb import session

        self.path = path
        self._session: Any = session.Session(str(path))
        self._lock = threading.Lock()

    def close(self) -> None:
        """Shut the engine down (idempotent)."""
        with self._lock:
            if self._session is not None:
                self._session.close()
                self._session = None

    def command(self, statement: str) -> None:
        """Run a statement that returns nothing."""
        with self._lock:
            self._session.query(statement)

    def query(self, statement: str, parameters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run a SELECT and return rows as dicts.

        chdb hands parameter values to ClickHouse as raw text in the escaped format, so they are
        rendered the way clickhouse-connect renders them for a server: backslashes, tabs and newlines
        escaped, lists as array literals.
        """
        from clickhouse_connect.driver.binding import format_bind_value

        rendered = {name: format_bind_value(value) for name, value in (parameters or {}).items()}
        with self._lock:
            result = self._session.query(statement, "JSONEachRow", params=rendered)
        text = result.bytes().decode("utf-8") if hasattr(result, "bytes") else str(result)
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def insert(self, table: str, rows: Sequence[Sequence[Any]], columns: Sequence[str]) -> None:
        """Insert rows as JSONEachRow (chdb has no native bulk-insert API)."""
        if not rows:
            return
        body = "\n".join(json.dumps(dict(zip(columns, row, strict=True)), default=str) for row in rows)
        with self._lock:
            self._session.query(f"INSERT INTO {table} ({', '.join(columns)}) FORMAT JSONEachRow\n{body}")


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
            _chdb_instance = ChdbClickHouse(path)
            # Left to interpreter teardown, chdb's shutdown can crash the process after a query ran
            # on a worker thread; closing it explicitly at exit avoids that.
            atexit.register(_chdb_instance.close)
        elif _chdb_instance.path != path:
            raise ConfigurationError(
                f"chdb is already open on {_chdb_instance.path}; one process can use one chdb data path"
            )
        return _chdb_instance
