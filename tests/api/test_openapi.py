"""/openapi.json describes every operation well enough for a generated client: names, bodies and errors."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
# A probe's 503 carries the same body as its 200 (what is down): probes and people read it, not a problem.
PROBE_503 = {("get", "/healthz"), ("get", "/readyz")}


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Every (method, path, operation) of the document."""
    return [(method, path, op) for path, ops in spec["paths"].items() for method, op in ops.items()]


def test_operation_ids_are_the_handlers_names(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    ids = [op["operationId"] for _, _, op in operations(spec)]
    assert len(ids) == len(set(ids)) >= 20
    # FastAPI's default would be `show_ticket_tickets__thread_id__get`: path and method spelled into the name.
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", op_id) for op_id in ids), ids
    assert not [op_id for op_id in ids if op_id.endswith(("_get", "_post", "_put", "_delete"))]
    assert {"create_ticket", "give_feedback", "review_candidate", "metrics"} <= set(ids)


def test_every_success_body_has_a_schema(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for method, path, op in operations(spec):
        successes = {code: answer for code, answer in op["responses"].items() if code.startswith("2")}
        assert successes, (method, path)
        for code, answer in successes.items():
            assert answer.get("content"), (method, path, code)
            for media_type, body in answer["content"].items():
                assert body.get("schema"), f"{method} {path} {code} {media_type} has no schema"
    assert spec["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    events = spec["paths"]["/tickets/{thread_id}/events"]["get"]["responses"]["200"]["content"]["text/event-stream"]
    assert events["schema"]["properties"]["data"]["contentMediaType"] == "application/json"


def test_every_error_is_declared_as_problem_json_and_the_problem_schema_is_published(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {"type", "title", "status", "detail"} <= set(spec["components"]["schemas"]["Problem"]["properties"])
    for method, path, op in operations(spec):
        responses = op["responses"]
        assert "500" in responses, f"{method} {path}: any handler can fail"
        if op.get("parameters") or op.get("requestBody"):
            assert "422" in responses, f"{method} {path} validates input but does not declare 422"
        for code, answer in responses.items():
            if code[0] in "45" and (method, path, code) not in {(m, p, "503") for m, p in PROBE_503}:
                assert answer.get("content") == PROBLEM, f"{method} {path} {code}: {answer.get('content')}"
