"""The LLM path of every agent on the real graph and Postgres checkpointer, driven by a scripted fake chat model.

Faults (timeouts, 429s, malformed or empty JSON, absurd but schema-valid answers) go through LangGraph's
RetryPolicy and end in the node's offline path, recorded in `fallbacks`; the LLM never clears a safety rule.
"""

from __future__ import annotations

import json

from core.services import Services
from graph.ticket_service import TicketOutcome, TicketService
from graph.ticket_store import TicketStore
from state.ticket import CustomerFeedback, TicketInput
from tests.fakes import CannedRetriever, RateLimitError, ScriptedModel
from tests.integration.test_ticket_graph import PASSWORD_TICKET, make_service

Reply = str | Exception

VALID = {
    "Validation": '{"valid": true, "reasons": [], "confidence": 0.95}',
    "Priority": '{"score": 40, "reasoning": "one user blocked"}',
    "QueryAnalysis": (
        '{"summary": "The password reset sends no link.", "reformulation": "How do I reset a forgotten password'
        ' when the reset page sends no link?", "keywords": ["password", "reset", "link", "login", "email"]}'
    ),
    "Classification": (
        '{"primary_category": "authentification", "confidence_category": 0.9, "severity": "medium",'
        ' "confidence_severity": 0.8, "treatment_type": "standard", "confidence_treatment": 0.8,'
        ' "required_skills": ["iam"], "confidence_skills": 0.8}'
    ),
    "PlanProposal": (
        '{"resolution_path": "kb_retrieval", "next_steps": ["search the KB"], "estimated_resolution_time": "1 hour"}'
    ),
    "EvaluationJudgment": '{"answers_the_question": true, "confidence": 0.95, "escalate": false}',
    "ComposedAnswer": '{"answer": "Open Settings > Security and choose Reset password."}',
    "FeedbackReading": '{"satisfied": false, "strongly_negative": false, "clarification": "The link never arrives."}',
    "HandoffNote": '{"summary": "Reset e-mails never arrive.", "suggested_skills": ["email-delivery", "iam"]}',
    "KnowledgeGapSuggestion": (
        '{"title": "Password reset e-mail does not arrive", "outline": ["spam", "allow-list"],'
        ' "category": "authentification"}'
    ),
}


def run(
    services: Services, script: dict[str, list[Reply]], similarity: float = 0.9, ticket: TicketInput | None = None
) -> tuple[TicketService, ScriptedModel, TicketOutcome]:
    model = ScriptedModel(script=script, defaults=VALID)
    service = make_service(services, CannedRetriever(similarity), model)
    return service, model, service.run(ticket or PASSWORD_TICKET)


def test_every_agent_answers_through_the_llm_when_it_answers_well(services: Services) -> None:
    # The retry's answer differs from the first: one repeated word for word would be escalated instead.
    second_answer = '{"answer": "If no e-mail arrives, check the spam folder or ask for a new link."}'
    service, model, outcome = run(
        services,
        {
            "EvaluationJudgment": [VALID["EvaluationJudgment"].replace("0.95", "0.7")],
            "ComposedAnswer": [VALID["ComposedAnswer"], second_answer],
        },
    )
    assert outcome.fallbacks == [] and outcome.status == "answered"
    assert model.asked == [
        "Validation", "Priority", "QueryAnalysis", "Classification", "PlanProposal", "EvaluationJudgment",
        "ComposedAnswer",
    ]  # fmt: skip
    assert outcome.values["plan"].next_steps == ["search the KB"]
    assert outcome.values["evaluation"].confidence == 0.7, "the reviewer may lower the confidence"

    retried = service.feedback("T-100", CustomerFeedback(satisfied=False, comment="nothing came, not even in spam"))
    assert retried.values["clarifications"] == ["The link never arrives."], "the LLM restates the clarification"
    escalated = service.feedback("T-100", CustomerFeedback(satisfied=False, comment="still nothing"))
    assert escalated.status == "escalated", "the attempt limit stays a rule"
    assert escalated.values["escalation"].summary == "Reset e-mails never arrive."
    assert escalated.values["escalation"].suggested_skills == ["email-delivery", "iam"]
    record = TicketStore(services.db).escalation(escalated.escalation_id or "")
    assert record and record["team"] == "identity", "routing stays the config table"
    assert escalated.values["kb_suggestion"].title == "Password reset e-mail does not arrive"
    assert escalated.fallbacks == []


def test_timeouts_and_rate_limits_are_retried_by_the_graph_then_answered(services: Services) -> None:
    _, model, outcome = run(services, {"Priority": [TimeoutError("read timed out"), RateLimitError("429 Too Many")]})
    assert model.asked.count("Priority") == 3, "two faults, then the third attempt answers"
    assert outcome.fallbacks == [] and outcome.values["priority"].reasoning == "one user blocked"


def test_a_model_that_keeps_failing_falls_back_offline_and_the_thread_completes(services: Services) -> None:
    faults: list[Reply] = [RateLimitError("429"), TimeoutError("timeout"), RateLimitError("429 again")]
    _, model, outcome = run(services, {"Priority": list(faults), "PlanProposal": ["", "{}", "not json"]})
    assert model.asked.count("Priority") == 3 and model.asked.count("PlanProposal") == 3
    assert outcome.fallbacks == ["score", "plan"]
    assert "RateLimitError: 429 again" in outcome.values["llm_errors"][0]
    assert "no JSON object" in outcome.values["llm_errors"][1], "the last attempt's error is recorded"
    assert outcome.status == "answered" and outcome.values["plan"].resolution_path == "kb_retrieval"


def absurd(schema: str, count: int = 3, **fields: object) -> dict[str, list[Reply]]:
    reply = json.dumps(json.loads(VALID[schema]) | fields)
    return {schema: [reply] * count}


def test_schema_valid_but_absurd_answers_fall_back(services: Services) -> None:
    script = absurd("EvaluationJudgment", confidence=7) | absurd("PlanProposal", next_steps=[])
    _, _, outcome = run(services, script)
    assert outcome.fallbacks == ["plan", "evaluate"]
    assert outcome.values["evaluation"].confidence <= 1


def test_unknown_team_and_category_in_the_hand_off_fall_back(services: Services) -> None:
    script = absurd("HandoffNote", suggested_team="the moon") | absurd("KnowledgeGapSuggestion", category="hacking")
    _, _, outcome = run(services, script, similarity=0.3)  # nothing relevant in the KB: escalated
    assert outcome.status == "escalated"
    assert outcome.fallbacks == ["escalate", "improve"]
    assert "unknown team 'the moon'" in outcome.values["llm_errors"][0]
    assert outcome.values["kb_suggestion"].category == "authentification", "offline: the ticket's category"
    assert "Escalated because" in outcome.values["escalation"].summary


def test_the_evaluator_llm_cannot_clear_a_pii_escalation(services: Services) -> None:
    ticket = PASSWORD_TICKET.model_copy(update={"body": PASSWORD_TICKET.body + " My card is 4111 1111 1111 1111."})
    script = absurd("EvaluationJudgment", count=1, sensitive=False, confidence=1.0, escalate=False)
    _, _, outcome = run(services, script, ticket=ticket)
    assert outcome.status == "escalated" and outcome.values["evaluation"].sensitive is True
    assert "card_number" in outcome.values["evaluation"].reason


def test_the_evaluator_llm_can_add_an_escalation(services: Services) -> None:
    script = absurd("EvaluationJudgment", count=1, escalate=True, reason="account takeover suspected")
    _, _, outcome = run(services, script)
    assert outcome.status == "escalated" and "account takeover suspected" in outcome.values["evaluation"].reason


def test_the_planner_llm_cannot_send_a_critical_ticket_to_the_kb(services: Services) -> None:
    script = absurd("Priority", count=1, score=95)
    _, _, outcome = run(services, script)
    assert outcome.priority == "critical"
    assert outcome.values["plan"].resolution_path == "escalation" and outcome.status == "escalated"


def test_the_feedback_llm_cannot_close_a_not_satisfied_click(services: Services) -> None:
    service, _, _ = run(services, absurd("FeedbackReading", count=1, satisfied=True))
    outcome = service.feedback("T-100", CustomerFeedback(satisfied=False, comment="thanks, but it still fails"))
    assert outcome.status != "closed" and outcome.attempt == 2


def test_a_satisfied_click_whose_comment_says_otherwise_is_not_closed(services: Services) -> None:
    service, _, _ = run(services, {})
    outcome = service.feedback("T-100", CustomerFeedback(satisfied=True, comment="the link still never arrives"))
    assert outcome.status != "closed" and outcome.values["feedback_decision"].action == "retry"
