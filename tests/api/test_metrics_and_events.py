"""/metrics after real runs (and its Prometheus conventions), the live event stream of a run, `doxa apikey`."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from api.app import create_app
from core.services import Services
from core.settings import Settings
from graph.factory import ticket_context
from graph.ticket_service import TicketService
from tests.api.test_tickets import REFUND_TICKET, refund_article, sse_events

__all__ = ["refund_article"]  # the fixture, imported for these tests


Sample = tuple[str, tuple[tuple[str, str], ...]]


def samples(text: str) -> dict[Sample, float]:
    """Every sample of a scrape, by name and sorted labels."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_metrics_report_runs_node_latency_rates_and_pending_reviews(
    client: TestClient, agent: dict[str, str], services: Services, refund_article: None
) -> None:
    before = samples(client.get("/metrics").text)
    runs_key = ("doxa_ticket_runs_total", (("kind", "run"), ("outcome", "answered")))
    assert client.post("/tickets", json=REFUND_TICKET | {"id": "M-1"}, headers=agent).status_code == 201
    assert client.post("/tickets", json={"id": "M-2", "subject": "x", "body": "?"}, headers=agent).status_code == 201
    with services.db.transaction() as conn:
        conn.execute(
            "INSERT INTO faq_staging (action, question, answer, question_embedding, embedding_model, confidence,"
            " source_ticket_ids) VALUES ('NEW', 'q?', 'a.', '[1,0]', 'm', 0.9, ARRAY['M-1'])"
        )
    response = client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    after = samples(response.text)
    assert after[runs_key] == before.get(runs_key, 0) + 1
    assert after[("doxa_ticket_node_seconds_count", (("node", "find_solution"),))] >= 1
    assert after[("doxa_tickets", (("status", "answered"),))] == 1
    assert after[("doxa_ticket_kb_confident_ratio", ())] == 1.0
    statuses = {labels[0][1] for name, labels in after if name == "doxa_tickets"}
    escalated = after.get(("doxa_tickets", (("status", "escalated"),)), 0)
    assert after[("doxa_ticket_escalation_ratio", ())] == escalated / 2, statuses
    assert after[("doxa_faq_pending_reviews", ())] == 1
    answered = {dict(labels)["kind"]: value for (name, labels), value in after.items() if name == "doxa_answers_total"}
    assert answered == {"article": 1}, "the automatic answer is counted against its article"
    assert any(name == "doxa_mining_tickets_total" for name, _ in after) or "doxa_mining_tickets" in response.text


def families(text: str) -> dict[str, str]:
    """Each family's TYPE, by the name its `# TYPE` line gives (as Prometheus reads it); a name twice fails."""
    types: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert name not in types, f"{name} is exposed twice"
            types[name] = kind
    return types


def grew(before: dict[Sample, float], after: dict[Sample, float], name: str, **labels: str) -> float:
    """How much one sample grew between two scrapes (absent counts as 0)."""
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


def test_metric_names_follow_prometheus_conventions_and_process_figures_are_exported(
    client: TestClient, agent: dict[str, str], refund_article: None
) -> None:
    assert client.post("/tickets", json=REFUND_TICKET | {"id": "C-1"}, headers=agent).status_code == 201
    assert client.post("/tickets/C-1/feedback", json={"satisfied": False, "comment": "no"}, headers=agent).is_success
    text = client.get("/metrics").text
    types = families(text)
    helps = {line.split(" ")[2]: line for line in text.splitlines() if line.startswith("# HELP ")}
    for name, kind in types.items():
        assert (kind == "counter") == name.endswith("_total"), f"{name} is a {kind}: `_total` is for counters only"
        assert not name.endswith(("_rate", "_percent")), f"{name}: a share is a `_ratio` (0..1)"
        assert len(helps.get(name, "").split(" ", 3)[-1]) > 10, f"{name} needs a HELP line that says what it counts"
    ratios = {name for name, kind in types.items() if name.endswith("_ratio")}
    assert {"doxa_ticket_escalation_ratio", "doxa_ticket_kb_confident_ratio"} <= ratios
    assert {"doxa_answer_satisfaction_ratio", "doxa_answer_deflection_ratio"} <= ratios
    assert all(types[name] == "gauge" for name in ratios)
    values = samples(text)
    shares = {key: value for key, value in values.items() if key[0] in ratios}
    assert shares and all(0.0 <= value <= 1.0 for value in shares.values()), shares
    for counted in ("doxa_ticket_runs_total", "doxa_answers_total", "doxa_answer_verdicts_total"):
        assert types[counted] == "counter"
    assert (types["doxa_tickets"], types["doxa_faq_pending_reviews"]) == ("gauge", "gauge")
    # The standard process collectors, as on prometheus_client's default registry.
    assert types["process_cpu_seconds_total"] == "counter"
    assert types["process_resident_memory_bytes"] == "gauge"
    assert types["process_start_time_seconds"] == "gauge"
    assert types["python_gc_collections_total"] == "counter" and "python_info" in types
    assert values[("process_resident_memory_bytes", ())] > 0


def test_counters_grow_with_the_answer_and_the_escalation_they_count(
    client: TestClient, agent: dict[str, str], refund_article: None
) -> None:
    before = samples(client.get("/metrics").text)
    assert client.post("/tickets", json=REFUND_TICKET | {"id": "G-1"}, headers=agent).status_code == 201
    answered = samples(client.get("/metrics").text)
    assert grew(before, answered, "doxa_ticket_runs_total", kind="run", outcome="answered") == 1
    assert grew(before, answered, "doxa_ticket_kb_confident_runs_total", kb_confident="true") == 1
    article = [labels for name, labels in answered if name == "doxa_answers_total"]
    assert len(article) == 1 and dict(article[0])["kind"] == "article"
    source = dict(article[0])
    assert grew(before, answered, "doxa_answers_total", **source) == 1

    # An angry verdict escalates at once (a plain "no" would first retry, and count as `retry`, not escalated).
    furious = {"satisfied": False, "comment": "Useless answer, this is unacceptable!"}
    unhappy = client.post("/tickets/G-1/feedback", json=furious, headers=agent)
    assert unhappy.status_code == 200 and unhappy.json()["status"] == "escalated", unhappy.text
    escalated = samples(client.get("/metrics").text)
    assert grew(answered, escalated, "doxa_ticket_runs_total", kind="feedback", outcome="escalated") == 1
    assert grew(answered, escalated, "doxa_answer_verdicts_total", **source, verdict="not_satisfied") == 1
    assert grew(answered, escalated, "doxa_answer_escalations_after_total", **source) == 1
    assert escalated[("doxa_ticket_escalation_ratio", ())] == 1.0  # the one thread went to a person
    key = tuple(sorted(source.items()))
    assert escalated[("doxa_answer_satisfaction_ratio", key)] == 0.0
    assert escalated[("doxa_answer_deflection_ratio", key)] == 0.0


@dataclass
class SlowRetriever:
    """Delays each search, so a test can watch a run while it is in progress."""

    inner: Any
    seconds: float

    def retrieve(self, query: str, keywords: Sequence[str], category: str | None, **options: Any) -> Any:
        time.sleep(self.seconds)
        return self.inner.retrieve(query, keywords, category, **options)


def test_events_of_a_run_in_progress_carry_each_node_update_and_a_full_pool_answers_503(
    api_settings: Settings, services: Services, agent: dict[str, str], refund_article: None
) -> None:
    context = ticket_context(services)
    slow = replace(context, retriever=SlowRetriever(context.retriever, 1.5))
    service = TicketService(slow, TicketService.postgres_checkpointer(context.tickets), context.tickets)
    one_at_a_time = api_settings.model_copy(update={"api_max_pending_runs": 1})
    with TestClient(create_app(one_at_a_time, services, ticket_service=service)) as client:
        accepted = client.post(
            "/tickets", params={"async": "true"}, json=REFUND_TICKET | {"id": "LIVE-1"}, headers=agent
        )
        assert accepted.status_code == 202
        busy = client.post("/tickets", json=REFUND_TICKET | {"id": "LIVE-2"}, headers=agent)
        assert busy.status_code == 503 and busy.headers["retry-after"] == "5"
        assert client.get("/tickets/LIVE-1", headers=agent).json()["running"] is True
        events = sse_events(client.get("/tickets/LIVE-1/events", headers=agent).text)
    nodes = {data["node"]: data for kind, data in events if kind == "node"}
    assert "validation" in nodes["validate"]["update"]  # live events carry the node's update
    assert nodes["find_solution"]["seconds"] >= 1.5
    assert nodes["await_feedback"].get("waiting") is True
    assert events[-1][0] == "end" and events[-1][1]["thread_id"] == "LIVE-1"


def test_apikey_cli_creates_lists_and_revokes(
    settings: Settings, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cli.main import app
    from core.settings import get_settings

    monkeypatch.setenv("DOXA_HOME", str(settings.home))
    monkeypatch.setenv("DOXA_DATABASE_URL", str(settings.database_url))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        created = runner.invoke(app, ["apikey", "create", "crm", "--role", "service", "--role", "agent"])
        assert created.exit_code == 0, created.output
        key = created.stdout.strip().splitlines()[-1]
        assert key.startswith("doxa_")
        listed = runner.invoke(app, ["apikey", "list", "--json"])
        rows = json.loads(listed.stdout)
        assert [(row["name"], row["roles"]) for row in rows] == [("crm", ["agent", "service"])]
        assert key not in listed.stdout
        assert runner.invoke(app, ["apikey", "revoke", "crm"]).exit_code == 0
        assert json.loads(runner.invoke(app, ["apikey", "list", "--json"]).stdout) == []
        refused = runner.invoke(app, ["apikey", "create", "bad", "--role", "root"])
        assert refused.exit_code != 0
    finally:
        get_settings.cache_clear()
