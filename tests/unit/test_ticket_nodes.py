from dataclasses import dataclass

import pytest

from nodes.compose_response import sources_block
from nodes.evaluate import combine
from nodes.find_solution import SECTION_ANSWER_CHARS, section_answer, solution_from_retrieval
from nodes.handle_feedback import decide_on_feedback, read_feedback_offline
from nodes.plan import apply_rules, choose_path
from nodes.policy import TicketPolicy
from state.agents import Citation, Classification, Evaluation, EvaluationJudgment, PlanProposal, QueryPlan, Solution
from state.ticket import CustomerFeedback


@dataclass
class Section:
    text: str


class Sections:
    def __init__(self, text: str) -> None:
        self.text = text

    def fetch_section(self, section_id: str) -> Section | None:
        return Section(self.text) if section_id == "s1" else None


def solution_with_section(section_id: str | None) -> Solution:
    result = {"chunk_text": "part", "similarity_score": 0.8, "metadata": {"section_id": section_id}}
    return Solution(results=[result], solution_text="part")


def test_short_section_is_shown_whole_long_one_by_the_blocks_around_the_passage() -> None:
    assert section_answer(Sections("whole section"), solution_with_section("s1")) == "whole section"
    assert section_answer(Sections("x" * (SECTION_ANSWER_CHARS + 1)), solution_with_section("s1")) is None
    long_section = "Intro.\n\nThe options:\n\n1. One\n   part of one\n1. Two\n\n" + "Later. " * 300
    assert section_answer(Sections(long_section), solution_with_section("s1")) == (
        "The options:\n\n1. One\n   part of one\n1. Two"
    )
    assert section_answer(Sections("whole"), solution_with_section("gone")) is None
    assert section_answer(None, solution_with_section("s1")) is None


def test_passages_already_shown_are_skipped_and_confidence_recomputed() -> None:
    retrieved = {
        "results": [
            {"chunk_text": "a", "similarity_score": 0.9, "metadata": {"chunk_id": "a"}},
            {"chunk_text": "b", "similarity_score": 0.65, "metadata": {"chunk_id": "b"}},
        ],
        "metadata": {"kb_confident": True, "kb_limit_reached": True},
    }
    solution = solution_from_retrieval(retrieved, exclude={"a"}, top_k=5, kb_confidence_threshold=0.70)
    assert solution.solution_text == "b"
    assert solution.confidence == 0.65 and solution.kb_confident is False and solution.kb_limit_reached is True


def test_kb_confident_is_the_answer_models_decision_not_the_cosine() -> None:
    from kb.answer_confidence import AnswerModel

    model = AnswerModel("logistic", 0.6, (0.0,) * 8, (1.0,) * 8, (0.0,) * 8, 0.0, {})
    passage = {"chunk_text": "a", "similarity_score": 0.95, "metadata": {"chunk_id": "a", "doc_id": "d"}}
    retrieved = {
        "results": [passage],
        "metadata": {"answer_probability": 0.42, "answer_model_spec": model.as_dict(), "kb_confident": False},
    }
    solution = solution_from_retrieval(retrieved, exclude=(), top_k=5, kb_confidence_threshold=0.50)
    assert solution.max_similarity == 0.95 and solution.mean_similarity == 0.95
    assert solution.answer_probability == 0.42 and solution.answer_threshold == 0.6
    assert solution.kb_confident is False  # a cosine of 0.95 alone no longer makes it confident


@pytest.mark.parametrize(("similarity", "confident"), [(0.70, True), (0.699999, False)])
def test_kb_confident_threshold_edge(similarity: float, confident: bool) -> None:
    retrieved = {"results": [{"chunk_text": "a", "similarity_score": similarity, "metadata": {}}], "metadata": {}}
    assert (
        solution_from_retrieval(retrieved, exclude=(), top_k=5, kb_confidence_threshold=0.70).kb_confident is confident
    )


def test_sources_print_the_title_once() -> None:
    citations = [Citation(title="Tor", source="https://h.example/tor", section="Tor > Bridges")]
    assert sources_block(citations, "en") == "Sources:\n- Tor > Bridges\n  https://h.example/tor"


@pytest.mark.parametrize(
    ("attempt", "satisfied", "comment", "action"),
    [
        (1, True, None, "close"),
        (1, False, "still broken", "retry"),
        (2, False, "still broken", "escalate"),
        (1, False, "This is a scam, I will call my lawyer!", "escalate"),
    ],
)
def test_feedback_decisions(attempt: int, satisfied: bool, comment: str | None, action: str) -> None:
    reading = read_feedback_offline(CustomerFeedback(satisfied=satisfied, comment=comment))
    assert decide_on_feedback(reading, attempt, max_attempts=2).action == action


def classification(category: str, severity: str = "medium") -> Classification:
    return Classification(
        primary_category=category,
        confidence_category=0.9,
        severity=severity,  # type: ignore[arg-type]
        confidence_severity=0.8,
        treatment_type="standard",
        confidence_treatment=0.8,
        confidence_skills=0.8,
    )


@pytest.mark.parametrize(
    ("category", "severity", "confidence", "path"),
    [
        ("technique", "medium", 0.30, "kb_retrieval"),
        ("technique", "medium", 0.2999, "escalation"),
        ("technique", "critical", 0.99, "escalation"),
        ("feature_request", "low", 0.99, "feature_queue"),
    ],
)
def test_plan_edges(category: str, severity: str, confidence: float, path: str) -> None:
    assert choose_path(classification(category, severity), confidence, escalate_below=0.30) == path


@pytest.mark.parametrize(("score", "signal"), [(0.85, 1.0), (0.8499, 0.8), (0.70, 0.8), (0.60, 0.5), (0.5999, 0.0)])
def test_kb_signal_steps_are_the_seeds_at_its_threshold(score: float, signal: float) -> None:
    assert TicketPolicy(kb_confidence_threshold=0.70).kb_signal(score) == signal


@pytest.mark.parametrize(("score", "signal"), [(0.65, 1.0), (0.50, 0.8), (0.4999, 0.5), (0.40, 0.5), (0.3999, 0.0)])
def test_kb_signal_steps_move_with_the_threshold(score: float, signal: float) -> None:
    assert TicketPolicy(kb_confidence_threshold=0.50).kb_signal(score) == signal


def test_team_routing() -> None:
    policy = TicketPolicy(escalation_teams={"facturation": "billing"}, critical_team="on-call")
    assert policy.team_for("facturation", "high") == "billing"
    assert policy.team_for("facturation", "critical") == "on-call"
    assert policy.team_for("unknown", "low") == policy.default_team


def test_evaluator_confidence_follows_the_seed_formula() -> None:
    from nodes.evaluate import combined_confidence
    from state.agents import QueryAnalysis, Validation

    analysis = QueryAnalysis(summary="s", reformulation="r", keywords=[], reformulation_similarity=0.9)
    value = combined_confidence(
        TicketPolicy(kb_confidence_threshold=0.70, kb_signal_source="steps"),
        Solution(confidence=0.72, max_similarity=0.72),  # KB signal 0.8
        classification("technique"),  # overall 0.4*0.9 + 0.25*0.8 + 0.2*0.8 + 0.15*0.8 = 0.84
        Validation(valid=True, confidence=0.9),
        analysis,  # similarity above 0.85 counts fully
    )
    assert value == pytest.approx(0.40 * 0.8 + 0.30 * 0.84 + 0.20 * 0.9 + 0.10 * 1.0)


@pytest.mark.parametrize(("probability", "signal"), [(0.60, 0.8), (1.0, 1.0), (0.80, 0.9), (0.30, 0.25), (0.0, 0.0)])
def test_the_evaluator_kb_signal_is_the_answer_probability_around_its_threshold(
    probability: float, signal: float
) -> None:
    assert TicketPolicy().kb_signal_from_probability(probability, 0.60) == pytest.approx(signal)


def test_the_evaluator_uses_the_answer_probability_not_the_cosine() -> None:
    from nodes.evaluate import combined_confidence
    from state.agents import QueryAnalysis, Validation

    analysis = QueryAnalysis(summary="s", reformulation="r", keywords=[], reformulation_similarity=0.9)

    def confidence(solution: Solution) -> float:
        return combined_confidence(
            TicketPolicy(), solution, classification("technique"), Validation(valid=True, confidence=0.9), analysis
        )

    # A high cosine the model doubts (a same-domain question the KB does not answer) weighs little...
    doubted = confidence(Solution(confidence=0.9, max_similarity=0.9, answer_probability=0.1, answer_threshold=0.6))
    # ...and a modest cosine the model trusts weighs a lot.
    trusted = confidence(Solution(confidence=0.55, max_similarity=0.55, answer_probability=0.95, answer_threshold=0.6))
    assert trusted - doubted == pytest.approx(0.40 * (0.8 + 0.2 * 0.35 / 0.4 - 0.5 * 0.1 / 0.6), abs=1e-3)


def rules_evaluation(**fields: object) -> Evaluation:
    values: dict[str, object] = {
        "confidence": 0.8, "escalate": False, "sensitive": False, "negative_sentiment": False, "reason": ""
    }  # fmt: skip
    return Evaluation.model_validate(values | fields)


def judgment(**fields: object) -> EvaluationJudgment:
    values: dict[str, object] = {"answers_the_question": True, "confidence": 0.9, "escalate": False}
    return EvaluationJudgment.model_validate(values | fields)


def test_the_evaluator_llm_cannot_clear_what_the_rules_escalate() -> None:
    rules = rules_evaluation(escalate=True, sensitive=True, negative_sentiment=True, reason="sensitive data (iban)")
    combined = combine(rules, judgment(confidence=1.0, sensitive=False, negative_sentiment=False), escalate_below=0.6)
    assert combined.escalate and combined.sensitive and combined.negative_sentiment
    assert combined.confidence == 0.8 and combined.reason == "sensitive data (iban)"


@pytest.mark.parametrize(
    ("llm", "escalate", "reason_part"),
    [
        ({}, False, ""),
        ({"confidence": 0.5999}, True, "reviewer's confidence 0.60 is below 0.60"),
        ({"confidence": 0.6}, False, ""),
        ({"answers_the_question": False}, True, "does not address"),
        ({"sensitive": True}, True, "sensitive data"),
        ({"escalate": True, "reason": "legal threat"}, True, "legal threat"),
    ],
)
def test_the_evaluator_llm_adds_escalations(llm: dict[str, object], escalate: bool, reason_part: str) -> None:
    combined = combine(rules_evaluation(), judgment(**llm), escalate_below=0.6)
    assert combined.escalate is escalate and reason_part in combined.reason


def offline_plan(path: str = "kb_retrieval", confidence: float = 0.8, priority: str = "medium") -> QueryPlan:
    return QueryPlan.model_validate(
        {
            "resolution_path": path,
            "priority_level": priority,
            "next_steps": ["rule step"],
            "analysis_confidence": confidence,
            "estimated_resolution_time": "within 1 day",
        }
    )


@pytest.mark.parametrize(
    ("proposed", "severity", "priority", "confidence", "path"),
    [
        ("escalation", "medium", "medium", 0.8, "escalation"),
        ("feature_queue", "medium", "medium", 0.8, "feature_queue"),
        ("kb_retrieval", "critical", "medium", 0.8, "escalation"),
        ("kb_retrieval", "medium", "critical", 0.8, "escalation"),
        ("kb_retrieval", "medium", "medium", 0.2999, "escalation"),
        ("kb_retrieval", "medium", "medium", 0.30, "kb_retrieval"),
    ],
)
def test_the_planner_llm_chooses_within_the_rules(
    proposed: str, severity: str, priority: str, confidence: float, path: str
) -> None:
    proposal = PlanProposal.model_validate(
        {"resolution_path": proposed, "next_steps": ["llm step"], "estimated_resolution_time": "2 hours"}
    )
    plan = apply_rules(
        proposal, offline_plan(confidence=confidence, priority=priority), classification("technique", severity), 0.30
    )
    assert plan.resolution_path == path
    assert plan.next_steps == (["llm step"] if path == proposed else plan.next_steps)
    assert plan.analysis_confidence == confidence and plan.priority_level == priority
