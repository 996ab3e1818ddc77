from core.database import Database, apply_migrations
from core.settings import Settings


def test_migrations_are_recorded_and_idempotent(db: Database) -> None:
    with db.connection() as conn:
        versions = [r["version"] for r in conn.execute("SELECT version FROM schema_migrations")]
    assert versions and versions == sorted(versions)
    assert apply_migrations(db) == []


def test_tables_live_in_the_configured_schema(settings: Settings) -> None:
    custom = settings.model_copy(update={"db_schema": "helpdesk"})
    with Database.open(custom) as database, database.connection() as conn:
        row = conn.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = 'kb_document'"
        ).fetchone()
        assert row == {"table_schema": "helpdesk"}
        ext = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
        assert ext is not None


def test_embedding_cache_serves_repeated_text(services) -> None:  # type: ignore[no-untyped-def]
    first = services.embedder.embed_documents(["reset my password", "billing question"])
    with services.db.connection() as conn:
        cached = conn.execute("SELECT count(*) AS n FROM embedding_cache").fetchone()["n"]
    again = services.embedder.embed_documents(["billing question"])
    assert cached == 2
    assert abs(float(first[1] @ again[0]) - 1.0) < 1e-5
