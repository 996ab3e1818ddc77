"""Schemathesis against the app's own OpenAPI schema, in process: no generated request may get a 5xx.

Every operation, data-changing ones included, gets a bounded number of generated requests (fixed seed) with an
admin's token, so they reach the handlers instead of stopping at 401. Responses the schema documents must match
it; the problem+json bodies of 4xx answers are checked by the hand-written endpoint tests.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.app import create_app
from core.services import Services
from core.settings import Settings
from tests.api.conftest import bearer
from tests.api.test_tickets import REFUND_TICKET, refund_article
from tests.integration.test_faq_mining import problem_tickets

__all__ = ["refund_article"]  # the fixture, imported for these tests

pytestmark = pytest.mark.slow

EXAMPLES_PER_OPERATION = 25


def exercise(operation: Any, headers: dict[str, str], known_ids: dict[str, list[Any]]) -> None:
    """Send the operation's generated requests; a failed check raises with the request that caused it.

    Half of the requests name a record that exists (`known_ids` by path parameter), so handlers that change
    data run on real rows, not only on 404s.
    """

    @given(case=operation.as_strategy(), use_known=st.booleans(), pick=st.integers(min_value=0, max_value=99))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any, use_known: bool, pick: int) -> None:
        for name in case.path_parameters or {}:
            if use_known and known_ids.get(name):
                case.path_parameters[name] = known_ids[name][pick % len(known_ids[name])]
        # The admin's token instead of generated credentials (a made-up X-API-Key is a 401 before any handler).
        generated = {name: value for name, value in (case.headers or {}).items() if name.lower() != "x-api-key"}
        case.headers = generated | headers
        case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])

    run()


def seed(client: TestClient, headers: dict[str, str]) -> dict[str, list[Any]]:
    """A ticket waiting for feedback, staged FAQ candidates and one approved FAQ; their ids by path parameter."""
    assert client.post("/tickets", json=REFUND_TICKET | {"id": "SCH-1"}, headers=headers).status_code == 201
    tickets = [ticket.model_dump(mode="json") for ticket in problem_tickets("SCH")]
    mined = client.post("/process", json={"tickets": tickets}, headers=headers)
    assert mined.status_code == 200, mined.text
    staged = [row["id"] for row in client.get("/staging-faq", headers=headers).json()["items"]]
    assert len(staged) >= 2, staged
    approved = client.post(f"/staging-faq/{staged[0]}/review", json={"decision": "approve"}, headers=headers)
    assert approved.status_code == 200, approved.text
    faq_id = approved.json()["faq_id"]
    return {"thread_id": ["SCH-1"], "staging_id": staged, "faq_id": [faq_id]}


def test_generated_requests_never_get_a_server_error(
    api_settings: Settings, services: Services, refund_article: None
) -> None:
    # Short event streams: a generated id of a running thread must not hold the test for ten minutes.
    bounded = api_settings.model_copy(update={"api_events_timeout_s": 2.0, "api_events_poll_s": 0.1})
    app = create_app(bounded, services)
    admin = bearer("root", ["admin"])
    failures: dict[str, str] = {}
    with TestClient(app) as client:  # runs the lifespan; schemathesis sends its requests to the same app
        known_ids = seed(client, admin)
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        operations = []
        for result in schema.get_all_operations():
            assert isinstance(result, Ok), result  # an operation schemathesis cannot read is a schema bug
            operations.append(result.ok())
        assert len(operations) >= 20
        for operation in operations:
            try:
                exercise(operation, admin, known_ids)
            except Exception as exc:  # collected, so one run reports every failing operation
                failures[operation.label] = str(exc)[:2000]
    assert not failures, "\n\n".join(f"{label}:\n{detail}" for label, detail in failures.items())
