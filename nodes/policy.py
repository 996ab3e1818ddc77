"""The thresholds and routing rules the ticket graph decides with, taken from settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from core.settings import Settings

# The KB signal (docs/design.md §5) steps with retrieval confidence: 1.0 from 0.85, 0.8 from 0.70, 0.5 from 0.60,
# with kb_confident at 0.70. The steps are kept as offsets from the kb_confident threshold, so moving the
# threshold (Doxa's measured default is 0.50) moves them with it and "confident" never scores zero.
KB_SIGNAL_OFFSETS: tuple[tuple[float, float], ...] = ((0.15, 1.0), (0.0, 0.8), (-0.10, 0.5))
# docs/design.md §5: evaluator confidence = 0.40 KB signal + 0.30 classifier + 0.20 validation + 0.10 reformulation.
DEFAULT_CONFIDENCE_WEIGHTS = (0.40, 0.30, 0.20, 0.10)


@dataclass(frozen=True, kw_only=True)
class TicketPolicy:
    """Every number a routing decision depends on, so tests can move them and check the edges."""

    escalate_below: float = 0.60
    plan_escalate_below: float = 0.30
    kb_confidence_threshold: float = 0.50
    reformulation_min_similarity: float = 0.85
    max_attempts: int = 2
    top_k: int = 5
    score_threshold: float = 0.40
    escalate_on_pii: frozenset[str] = frozenset({"card_number", "iban", "url_secret", "secret"})
    escalation_teams: dict[str, str] = field(default_factory=dict)
    default_team: str = "tier1-support"
    critical_team: str = "on-call"
    confidence_weights: tuple[float, float, float, float] = DEFAULT_CONFIDENCE_WEIGHTS
    kb_signal_source: Literal["probability", "steps"] = "probability"

    @classmethod
    def from_settings(cls, settings: Settings) -> TicketPolicy:
        """The policy configured by DOXA_* settings."""
        return cls(
            escalate_below=settings.escalate_below,
            plan_escalate_below=settings.plan_escalate_below,
            kb_confidence_threshold=settings.kb_confidence_threshold,
            reformulation_min_similarity=settings.reformulation_min_similarity,
            max_attempts=settings.max_ticket_attempts,
            top_k=settings.retrieval_top_k,
            score_threshold=settings.retrieval_score_threshold,
            escalate_on_pii=frozenset(settings.escalate_on_pii),
            escalation_teams=dict(settings.escalation_teams),
            critical_team=settings.critical_team,
            kb_signal_source=settings.evaluator_kb_signal,
        )

    def kb_signal(self, kb_score: float) -> float:
        """The step function of the KB's retrieval confidence (1.0, 0.8, 0.5 or 0) around the threshold."""
        threshold = self.kb_confidence_threshold
        # Rounded so that a score shown as equal to a step counts as reaching it.
        return next(
            (signal for offset, signal in KB_SIGNAL_OFFSETS if round(kb_score - threshold - offset, 9) >= 0), 0.0
        )

    def kb_signal_from_probability(self, probability: float, threshold: float) -> float:
        """The KB signal from the calibrated answer probability, on the seed's scale around its threshold.

        At or above the operating threshold (kb_confident): 0.8 at the threshold rising linearly to 1.0 at
        probability 1, like the seed's 0.8 / 1.0 steps. Below it: 0.5 x probability / threshold, so an answer
        the model doubts never weighs more than the seed's "close to the threshold" 0.5.
        """
        if threshold <= 0 or round(probability - threshold, 9) >= 0:
            span = 1.0 - threshold
            return 1.0 if span <= 0 else round(0.8 + 0.2 * (probability - threshold) / span, 6)
        return round(0.5 * max(0.0, probability) / threshold, 6)

    def known_teams(self) -> frozenset[str]:
        """Every team the routing table can name."""
        return frozenset({*self.escalation_teams.values(), self.default_team, self.critical_team})

    def team_for(self, category: str | None, priority: str | None) -> str:
        """Critical tickets go to the critical team; the rest by category."""
        if priority == "critical":
            return self.critical_team
        return self.escalation_teams.get(category or "", self.default_team)
