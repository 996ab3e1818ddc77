from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from core.services import Services
from kb.ingest import KnowledgeBaseIngestor


def client_for(services: Services) -> TestClient:
    return TestClient(create_app(services.settings, services))


def test_healthz_and_readyz_report_every_dependency(services: Services) -> None:
    with client_for(services) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert set(ready.json()["checks"]) == {"postgres", "vector_store", "clickhouse", "embedding_model"}
    assert ready.headers["x-request-id"]


def test_kb_search_returns_the_retrieval_contract(services: Services, tmp_path: Path) -> None:
    doc = tmp_path / "billing.md"
    doc.write_text(
        "# Billing\n\n## Refunds\n\nA refund for a double charge is issued within five working days, "
        "to the card that was charged. Open Billing > Invoices and choose Request refund.\n",
        encoding="utf-8",
    )
    KnowledgeBaseIngestor.from_services(services).run([doc])
    with client_for(services) as client:
        found = client.get("/kb/search", params={"q": "I was charged twice, how do I get a refund?"})
        status = client.get("/kb/status")
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["results"][0]["metadata"]["section"].endswith("Refunds")
    assert set(body["metadata"]) >= {"mean_similarity", "max_similarity", "kb_confident", "kb_limit_reached"}
    assert status.json()["chunks"] >= 1
    assert str(tmp_path) not in found.text and "billing.md" not in found.text, "no server path reaches a client"
    assert body["results"][0]["metadata"]["source"] == "Billing", "a document without a URL is cited by its title"


def test_bad_query_is_a_problem_json_422(services: Services) -> None:
    with client_for(services) as client:
        response = client.get("/kb/search", params={"q": "", "top_k": 500})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 422
