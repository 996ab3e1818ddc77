"""Fresh databases on the session's embedded PostgreSQL and ClickHouse, for fixtures of any scope."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from core.clickhouse import ClickHouse
from faq_mining.ticket_source import TicketSource


@contextmanager
def fresh_database(admin_url: str, prefix: str) -> Iterator[str]:
    """Create an empty database named `<prefix>_<random>` and yield its URL; drop it afterwards, even in use."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.replace("/postgres?", f"/{name}?")
    finally:
        # FORCE: a test that fails may leave a connection or a pool open on it.
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_ticket_source(clickhouse: ClickHouse, prefix: str) -> Iterator[TicketSource]:
    """A ticket source on a new ClickHouse database named `<prefix>_<random>`, with its schema; dropped afterwards."""
    database = f"{prefix}_{uuid.uuid4().hex[:12]}"
    ticket_source = TicketSource(clickhouse, database=database)
    ticket_source.ensure_schema()
    try:
        yield ticket_source
    finally:
        clickhouse.command(f"DROP DATABASE IF EXISTS {database}")
