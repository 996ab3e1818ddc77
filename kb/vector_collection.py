"""The `vector_collection` registry: which embedding model and dimension each stored collection holds.

Migration 0012 creates the table; this module is the only code that reads or writes it. The KB's pgvector
store registers each of its collections, the FAQ store registers the `faq` collection (the question vectors of
`faq` and `faq_staging`), and the FAQ retriever reads that registration before it compares vectors. Stores
create a collection's tables and register it under one advisory lock (`lock_registry`), so two processes
opening the same collection at once never race.

Example:
    >>> with db.transaction() as conn:
    ...     lock_registry(conn)
    ...     if registration(conn, "doxa_kb") is None:
    ...         register(conn, "doxa_kb", Registration("pgvector", "all-MiniLM-L6-v2", 384))
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg.rows import DictRow

Connection = psycopg.Connection[DictRow]

# The collection the FAQ store keeps its question vectors under.
FAQ_COLLECTION = "faq"
# "kbvc": serialises creating a collection's tables and registering it, across processes.
_REGISTRY_LOCK_KEY = 0x6B627663


@dataclass(frozen=True)
class Registration:
    """The backend, model and dimension a collection's vectors were stored with."""

    backend: str
    model: str
    dimension: int


def lock_registry(conn: Connection) -> None:
    """Take the registry's advisory lock until the end of `conn`'s transaction."""
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (_REGISTRY_LOCK_KEY,))


def registration(conn: Connection, name: str) -> Registration | None:
    """How a collection was registered, or None when it never was."""
    row = conn.execute("SELECT backend, model, dimension FROM vector_collection WHERE name = %s", (name,)).fetchone()
    return Registration(row["backend"], row["model"], int(row["dimension"])) if row else None


def register(conn: Connection, name: str, registered: Registration) -> None:
    """Record a new collection's backend, model and dimension (inside the transaction holding the lock)."""
    conn.execute(
        "INSERT INTO vector_collection (name, backend, model, dimension) VALUES (%s, %s, %s, %s)",
        (name, registered.backend, registered.model, registered.dimension),
    )


def unregister(conn: Connection, name: str) -> None:
    """Forget a collection (its vectors were dropped)."""
    conn.execute("DELETE FROM vector_collection WHERE name = %s", (name,))
