"""The `vector_collection` registry belongs to migration 0012 and kb/vector_collection.py."""

from __future__ import annotations

from core.database import Database, apply_migrations
from kb.vector_collection import Registration, lock_registry, register, registration, unregister
from kb.vector_store.pgvector import PgVectorStore, drop_collection


def test_a_migrated_database_has_the_registry_before_any_store_opens(db: Database) -> None:
    with db.connection() as conn:
        assert registration(conn, "doxa_kb") is None
        conn.rollback()


def test_a_database_whose_stores_created_the_registry_still_migrates(db: Database) -> None:
    """Before 0012 the stores created the table on first use: replaying 0012 over it keeps every registration."""
    PgVectorStore(db, "legacy", "all-MiniLM-L6-v2", 384)
    with db.transaction() as conn:
        conn.execute("DELETE FROM schema_migrations WHERE version = 12")
    assert apply_migrations(db) == [12]
    with db.connection() as conn:
        assert registration(conn, "legacy") == Registration("pgvector", "all-MiniLM-L6-v2", 384)
        conn.rollback()


def test_register_and_unregister_round_trip(db: Database) -> None:
    with db.transaction() as conn:
        lock_registry(conn)
        register(conn, "faq", Registration("pgvector", "m", 8))
    with db.transaction() as conn:
        assert registration(conn, "faq") == Registration("pgvector", "m", 8)
        unregister(conn, "faq")
        assert registration(conn, "faq") is None


def test_dropping_a_collection_forgets_its_registration(db: Database) -> None:
    PgVectorStore(db, "scratch", "all-MiniLM-L6-v2", 384)
    drop_collection(db, "scratch")
    with db.connection() as conn:
        assert registration(conn, "scratch") is None
        conn.rollback()
