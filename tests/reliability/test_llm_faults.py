"""The mining graph's LLM faults that its own tests leave out: 429s, empty content, a merge target that does not exist.

The ticket graph's faults (timeouts, 429s, malformed and empty JSON, absurd answers, unknown team or category)
are tested in tests/integration/test_ticket_llm_paths.py; the mining graph's malformed JSON, unknown action,
timeouts and prompt-injected merges in tests/integration/test_faq_mining.py. Each fault here ends in the
offline analysis or a refused merge, recorded in the candidate's metadata, and every ticket is accounted for.
"""

from __future__ import annotations

import json

import pytest

from core.services import Services
from faq_mining.state import MiningRequest
from tests.fakes import RateLimitError, RecordingChatModel
from tests.integration.test_faq_mining import problem_tickets, service_for, staged_rows
from tests.reliability.conftest import Record


def rate_limited(prompt: str) -> str:
    raise RateLimitError("429 Too Many Requests")


ABSURD_MERGE = json.dumps(
    {
        "action": "MERGE",
        "question": "How do I reset my password?",
        "answer": "Use the Forgot password link.",
        "tags": ["account"],
        "confidence": 0.9,
        "merge_target_id": 987654,
        "reason": "merge into an FAQ that does not exist",
    }
)


@pytest.mark.parametrize(
    ("fault", "reply"),
    [("rate_limit", rate_limited), ("empty_content", lambda _: ""), ("missing_merge_target", lambda _: ABSURD_MERGE)],
)
def test_mining_llm_faults_fall_back_and_lose_no_ticket(
    services: Services, fault: str, reply: object, record: Record
) -> None:
    model = RecordingChatModel(reply=reply, received=[])  # type: ignore[arg-type]
    run = service_for(services, chat_model=model, llm_max_attempts=2).mine(MiningRequest(tickets=problem_tickets()))

    assert run.stats.failed == 0 and run.stats.accounted() == run.stats.processed == 10
    assert run.stats.staged_new == 3 and run.stats.staged_merge == 0
    rows = staged_rows(services)
    assert {row["status"] for row in rows} == {"PENDING"} and all(row["merge_with_id"] is None for row in rows)
    if fault == "missing_merge_target":
        assert all("merge_refused" in row["metadata"] for row in rows)
    else:
        assert {row["metadata"]["analysis"] for row in rows} == {"offline_fallback"}
        assert all(row["metadata"].get("llm_error") for row in rows)
    record(faults_injected=len(model.received), tickets_lost=run.stats.processed - run.stats.accounted())
