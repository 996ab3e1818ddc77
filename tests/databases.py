"""Fresh databases on the session's embedded PostgreSQL, for fixtures of any scope."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg


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
