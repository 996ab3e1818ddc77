"""Pydantic models of every agent's output: what an LLM must return, and what the offline path builds.

Field descriptions are part of the structured-output schema the LLM sees, so they say what a value means.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

PriorityLevel = Literal["low", "medium", "high", "critical"]
Severity = Literal["low", "medium", "high", "critical"]
TreatmentType = Literal["standard", "priority", "escalation", "urgent"]
ResolutionPath = Literal["kb_retrieval", "escalation", "feature_queue"]
EmailTemplate = Literal["auto_confident", "solution", "escalation_notice", "rejection"]
FeedbackAction = Literal["close", "retry", "escalate"]
AnswerSource = Literal["faq", "documents", "none"]

# The classifier's overall confidence (docs/design.md §5): 40% category, 25% severity, 20% treatment, 15% skills.
CLASSIFICATION_WEIGHTS = (0.40, 0.25, 0.20, 0.15)


class AgentOutput(BaseModel):
    """Base of agent outputs: immutable; extra keys an LLM adds are ignored, missing or invalid ones are not."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class Validation(AgentOutput):
    """Validator: whether the ticket is specific enough to work on."""

    valid: bool = Field(description="True when the ticket can be processed as written.")
    reasons: list[str] = Field(default_factory=list, description="Why the ticket is not valid, for the customer.")
    confidence: float = Field(ge=0, le=1, description="How sure the validator is of its decision.")


def priority_band(score: int) -> PriorityLevel:
    """The bands (docs/design.md §3.2): low 0-30, medium 31-65, high 66-85, critical 86-100."""
    if score <= 30:
        return "low"
    if score <= 65:
        return "medium"
    if score <= 85:
        return "high"
    return "critical"


class Priority(AgentOutput):
    """Scorer: urgency and impact as a 0-100 score and its band."""

    score: int = Field(ge=0, le=100, description="0 = can wait, 100 = production down for everyone.")
    reasoning: str = Field(description="One or two sentences naming the urgency and impact cues.")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def priority(self) -> PriorityLevel:
        """The band of the score; derived, so it can never disagree with it."""
        return priority_band(self.score)


class Entities(AgentOutput):
    """Technical entities mentioned in the ticket."""

    error_codes: list[str] = Field(default_factory=list, description="Error codes and messages, verbatim.")
    versions: list[str] = Field(default_factory=list, description="Product or OS versions.")
    platforms: list[str] = Field(default_factory=list, description="Operating systems, browsers, devices.")
    components: list[str] = Field(default_factory=list, description="Product areas (login, invoices, API...).")


class QueryAnalysis(AgentOutput):
    """Query analyzer: the problem restated as a question for the knowledge base."""

    summary: str = Field(description="One sentence summary of the customer's problem.")
    reformulation: str = Field(description="The problem as a self-contained search question.")
    keywords: list[str] = Field(description="5 to 8 search keywords, most specific first.")
    entities: Entities = Field(default_factory=Entities)
    reformulation_similarity: float = Field(
        default=0.0, ge=-1, le=1, description="Cosine similarity of the reformulation to the ticket (set by Doxa)."
    )


class Classification(AgentOutput):
    """Unified classifier: category, severity, treatment and skills, each with its confidence."""

    primary_category: str = Field(description="One category name of the configured taxonomy.")
    confidence_category: float = Field(ge=0, le=1)
    severity: Severity
    confidence_severity: float = Field(ge=0, le=1)
    treatment_type: TreatmentType
    confidence_treatment: float = Field(ge=0, le=1)
    required_skills: list[str] = Field(default_factory=list, description="Skills a human handler would need.")
    confidence_skills: float = Field(ge=0, le=1)
    alternatives: list[tuple[str, float]] = Field(
        default_factory=list, description="Other likely categories with their probabilities, best first."
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def overall_confidence(self) -> float:
        """Weighted 40/25/20/15 over category, severity, treatment and skills confidences."""
        parts = (self.confidence_category, self.confidence_severity, self.confidence_treatment, self.confidence_skills)
        return round(sum(w * c for w, c in zip(CLASSIFICATION_WEIGHTS, parts, strict=True)), 4)


class QueryPlan(AgentOutput):
    """Query planner: how this ticket will be handled."""

    resolution_path: ResolutionPath
    priority_level: PriorityLevel
    next_steps: list[str] = Field(default_factory=list)
    analysis_confidence: float = Field(ge=0, le=1)
    estimated_resolution_time: str = Field(description="Human-readable estimate, e.g. 'minutes' or '1-2 days'.")


class PlanProposal(AgentOutput):
    """Query planner's LLM answer: the path it proposes; Doxa's rules still escalate critical or unclear tickets."""

    resolution_path: ResolutionPath = Field(
        description="kb_retrieval to answer from the knowledge base, escalation for a person, feature_queue for a "
        "product request."
    )
    next_steps: list[str] = Field(min_length=1, max_length=6, description="The handling steps, in order.")
    estimated_resolution_time: str = Field(
        min_length=1, max_length=60, description="Human-readable estimate, e.g. 'within 4 hours'."
    )
    reasoning: str = Field(default="", max_length=500, description="Why this path, in one or two sentences.")


class Citation(AgentOutput):
    """A knowledge-base source an answer relies on."""

    title: str
    source: str
    section: str = ""
    kind: AnswerSource = "documents"


class Solution(AgentOutput):
    """Solution finder: the best knowledge-base answer and its retrieval signals."""

    results: list[dict[str, object]] = Field(default_factory=list, description="Ranked passages as retrieved.")
    solution_text: str = ""
    confidence: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Best cosine similarity of the kept passages (= max_similarity; kept for older readers).",
    )
    max_similarity: float = Field(default=0.0, ge=-1, le=1, description="Best cosine similarity of the kept passages.")
    mean_similarity: float = Field(
        default=0.0, ge=-1, le=1, description="Mean cosine similarity of the kept passages (the seed's definition)."
    )
    answer_probability: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Calibrated probability that the top answer is correct (kb.answer_confidence); kb_confident is "
        "answer_probability >= answer_threshold.",
    )
    answer_threshold: float = Field(
        default=1.0, ge=0, le=1, description="Operating threshold of the answer model that gave the probability."
    )
    kb_confident: bool = Field(default=False, description="Safe to answer automatically: the calibrated decision.")
    kb_limit_reached: bool = False
    citations: list[Citation] = Field(default_factory=list)
    answered_by: AnswerSource = "none"
    faq_id: int | None = Field(default=None, description="The production FAQ that answered, when one did.")


class Evaluation(AgentOutput):
    """Evaluator: answer or escalate."""

    confidence: float = Field(ge=0, le=1)
    escalate: bool
    sensitive: bool = Field(description="Personal data found in the ticket.")
    negative_sentiment: bool = Field(description="The customer is strongly upset.")
    reason: str = ""


class EvaluationJudgment(AgentOutput):
    """Evaluator's LLM answer: a second opinion that can only add reasons to escalate, never clear one."""

    answers_the_question: bool = Field(description="True when the proposed answer addresses the customer's problem.")
    confidence: float = Field(ge=0, le=1, description="How likely the answer solves the problem.")
    escalate: bool = Field(description="True when a person should handle the ticket.")
    sensitive: bool = Field(default=False, description="The ticket holds personal or secret data.")
    negative_sentiment: bool = Field(default=False, description="The customer is strongly upset.")
    reason: str = Field(default="", max_length=500, description="Why escalate, for the team; empty otherwise.")


class Email(AgentOutput):
    """A message to the customer, as put in the outbox."""

    template: EmailTemplate
    recipient: str | None = None
    subject: str
    body: str


class FeedbackDecision(AgentOutput):
    """Feedback handler: what the customer's answer means for the thread."""

    action: FeedbackAction
    message: str = ""


class FeedbackReading(AgentOutput):
    """Feedback handler's LLM answer: what the customer's comment says."""

    satisfied: bool = Field(description="True only when the comment confirms the problem is solved.")
    strongly_negative: bool = Field(description="The customer is angry, threatening or insulting.")
    clarification: str = Field(
        default="",
        max_length=2000,
        description="What the comment adds about the problem, restated in the customer's language; empty if nothing.",
    )


class HandoffNote(AgentOutput):
    """Escalation manager's LLM answer: what the human team should read first."""

    summary: str = Field(min_length=1, max_length=2000, description="The problem, what was tried and why it failed.")
    suggested_skills: list[str] = Field(
        min_length=1, max_length=6, description="Skills the handler needs, short lowercase names."
    )
    suggested_team: str | None = Field(
        default=None, description="One of the configured teams when another one fits better; advisory only."
    )


class KnowledgeGapSuggestion(AgentOutput):
    """Continuous improvement's LLM answer: the knowledge-base entry that would have answered the ticket."""

    title: str = Field(min_length=3, max_length=150, description="Title of the missing article or FAQ.")
    outline: list[str] = Field(min_length=1, max_length=8, description="Its sections or key points, in order.")
    category: str = Field(description="One category name of the configured taxonomy.")


class Escalation(AgentOutput):
    """Escalation manager: the hand-off record."""

    escalation_id: str
    team: str
    reason: str
    summary: str = ""
    suggested_skills: list[str] = Field(default_factory=list)
    notification_sent: bool = False
    status: Literal["open", "assigned", "resolved"] = "open"
