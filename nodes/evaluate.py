"""Evaluator agent: combine the confidence signals, check for sensitive data and anger, answer or escalate."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from nodes.context import TicketContext, context_of
from nodes.llm_step import llm_or_offline
from nodes.policy import TicketPolicy
from nodes.prompts import EVALUATE
from state.agents import Classification, Evaluation, EvaluationJudgment, QueryAnalysis, Solution, Validation
from state.ticket import TicketState
from text.pii import detect_pii
from text.sentiment import analyze_sentiment


def combined_confidence(
    policy: TicketPolicy,
    solution: Solution,
    classification: Classification,
    validation: Validation,
    analysis: QueryAnalysis,
) -> float:
    """docs/design.md §5: 0.40 KB signal + 0.30 classifier + 0.20 validation + 0.10 reformulation.

    The KB signal is the calibrated answer probability scaled around its operating threshold
    (`TicketPolicy.kb_signal_from_probability`), or with DOXA_EVALUATOR_KB_SIGNAL=steps the seed's step
    function of the best cosine.
    """
    w_kb, w_classifier, w_validation, w_reformulation = policy.confidence_weights
    reformulation = (
        1.0
        if analysis.reformulation_similarity >= policy.reformulation_min_similarity
        else max(0.0, analysis.reformulation_similarity)
    )
    kb_signal = (
        policy.kb_signal_from_probability(solution.answer_probability, solution.answer_threshold)
        if policy.kb_signal_source == "probability"
        else policy.kb_signal(solution.max_similarity or solution.confidence)
    )
    total = (
        w_kb * kb_signal
        + w_classifier * classification.overall_confidence
        + w_validation * validation.confidence
        + w_reformulation * reformulation
    )
    return round(min(1.0, max(0.0, total)), 4)


def evaluate_offline(policy: TicketPolicy, state: TicketState, text: str) -> Evaluation:
    """The deterministic evaluation: §5's confidence formula, PII and sentiment rules, an empty answer."""
    solution = state["solution"]
    confidence = combined_confidence(policy, solution, state["classification"], state["validation"], state["analysis"])
    sensitive_kinds = sorted({str(f.kind) for f in detect_pii(text)} & policy.escalate_on_pii)
    negative = analyze_sentiment(text).strongly_negative
    reasons = []
    if not solution.solution_text:
        reasons.append("the knowledge base has no answer")
    if confidence < policy.escalate_below:
        reasons.append(f"confidence {confidence:.2f} is below {policy.escalate_below:.2f}")
    if sensitive_kinds:
        reasons.append(f"sensitive data in the ticket ({', '.join(sensitive_kinds)})")
    if negative:
        reasons.append("the customer is strongly dissatisfied")
    return Evaluation(
        confidence=confidence,
        escalate=bool(reasons),
        sensitive=bool(sensitive_kinds),
        negative_sentiment=negative,
        reason="; ".join(reasons),
    )


def combine(rules: Evaluation, judgment: EvaluationJudgment, escalate_below: float) -> Evaluation:
    """The rules' evaluation with the LLM's second opinion added: it can lower confidence or add reasons only."""
    confidence = min(rules.confidence, judgment.confidence)
    reasons = [rules.reason] if rules.reason else []
    if not judgment.answers_the_question:
        reasons.append("the reviewer found the answer does not address the problem")
    if confidence < escalate_below <= rules.confidence:
        reasons.append(f"the reviewer's confidence {confidence:.2f} is below {escalate_below:.2f}")
    if judgment.sensitive and not rules.sensitive:
        reasons.append("the reviewer found sensitive data in the ticket")
    if judgment.negative_sentiment and not rules.negative_sentiment:
        reasons.append("the reviewer found the customer strongly dissatisfied")
    if judgment.escalate:
        reasons.append(f"the reviewer asks for a person: {judgment.reason or 'no reason given'}")
    return Evaluation(
        confidence=confidence,
        escalate=bool(reasons),
        sensitive=rules.sensitive or judgment.sensitive,
        negative_sentiment=rules.negative_sentiment or judgment.negative_sentiment,
        reason="; ".join(reasons),
    )


def evaluate(state: TicketState, runtime: Runtime[TicketContext]) -> dict[str, Any]:
    """Escalate on low confidence, sensitive personal data, strong negativity, an empty answer, or the LLM's doubt."""
    policy = context_of(runtime).policy
    ticket, solution = state["ticket"], state["solution"]
    clarifications = state.get("clarifications", [])
    text = "\n".join([ticket.subject, ticket.body, *clarifications])
    rules = evaluate_offline(policy, state, text)
    judgment, fallback = llm_or_offline(
        runtime,
        "evaluate",
        EVALUATE,
        EvaluationJudgment,
        # Offline, the second opinion agrees with the rules, so combining changes nothing.
        lambda: EvaluationJudgment(answers_the_question=True, confidence=rules.confidence, escalate=False),
        subject=ticket.subject,
        body=ticket.body,
        clarifications="".join(f"Clarification: {c}\n" for c in clarifications),
        answer=solution.solution_text or "(no answer found)",
    )
    evaluation = combine(rules, judgment, policy.escalate_below)
    update: dict[str, Any] = {"evaluation": evaluation, "path": ["evaluate"], **fallback}
    if evaluation.escalate:
        update["escalation_reason"] = evaluation.reason
    return update
