"""Request ids, access-log lines and the shape of an unexpected 500 (api/request_context.py, api/problems.py)."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from core.services import Services
from core.settings import Settings


def test_a_plain_client_request_id_is_kept(client: TestClient) -> None:
    response = client.get("/healthz", headers={"x-request-id": "abc-123_x.y:z"})
    assert response.headers["x-request-id"] == "abc-123_x.y:z"


@pytest.mark.parametrize("forged", ["a" * 8_000, "id request_id=forged status=200", "x\ty", ""])
def test_a_long_or_odd_request_id_is_replaced(client: TestClient, forged: str) -> None:
    response = client.get("/healthz", headers={"x-request-id": forged})
    rid = response.headers["x-request-id"]
    assert rid != forged and len(rid) == 32 and rid.isalnum()


def test_each_access_line_carries_its_own_request_id_and_a_redacted_query(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="doxa.access"):
        client.get("/kb/search", params={"q": "my card 4111.1111.1111.1111 fails"}, headers={"x-request-id": "r-1"})
        client.get("/healthz", headers={"x-request-id": "r-2"})
    lines = [record for record in caplog.records if record.name == "doxa.access"]
    assert [(getattr(r, "request_id", None), r.getMessage().split()[1].split("?")[0]) for r in lines] == [
        ("r-1", "/kb/search"),
        ("r-2", "/healthz"),
    ]
    assert "4111" not in lines[0].getMessage() and "[CARD]" in lines[0].getMessage()


def test_an_unexpected_exception_is_a_problem_with_the_request_id(api_settings: Settings, services: Services) -> None:
    app = create_app(api_settings, services)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("something nobody expected")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom", headers={"x-request-id": "r-boom"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"] == "r-boom"
    assert "r-boom" in response.json()["detail"] and "nobody expected" not in response.text


def test_docs_load_only_local_assets_under_a_csp(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "cdn.jsdelivr.net" not in page.text and "/docs/assets/swagger-ui-bundle.js" in page.text
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self' 'sha256-" in policy
    assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
    assert client.get("/redoc").status_code == 404


def test_docs_can_be_turned_off(api_settings: Settings, services: Services) -> None:
    with TestClient(create_app(api_settings.model_copy(update={"api_docs": False}), services)) as client:
        assert client.get("/docs").status_code == 404
        assert client.get("/openapi.json").status_code == 200
