"""How each FAQ and article did as an automatic answer: counts, satisfaction, escalation afterwards.

Read from the answer-feedback log (`kb.answer_feedback`), for `doxa improve report` and /metrics. A source
with many answers and low satisfaction is the first to rewrite; one whose answers end with a person did
not deflect those tickets.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from core.database import Database
from kb.answer_feedback import AnswerFeedbackStore, AnswerSourceStats


class AnswerSourceRow(BaseModel):
    """One FAQ or article as a source of automatic answers over the report's window."""

    kind: Literal["faq", "article"]
    source_id: str = Field(description="The FAQ id, or the article's document id.")
    title: str
    answers: int = Field(description="Automatic answers built on it.")
    confident_answers: int = Field(description="Of which sent as confident.")
    verdicts: int = Field(description="Answers the customer judged.")
    satisfied: int
    not_satisfied: int
    escalated_after: int = Field(description="Verdicts on its answers that ended with a person.")
    satisfaction: float | None = Field(description="satisfied / verdicts; None without verdicts.")
    deflection: float | None = Field(description="(verdicts - escalated_after) / verdicts; None without verdicts.")


def answer_rows(stats: Sequence[AnswerSourceStats]) -> list[AnswerSourceRow]:
    """The store's per-source counts as report rows."""
    return [
        AnswerSourceRow(
            kind="faq" if s.source_kind == "faq" else "article",
            source_id=s.source_id,
            title=s.title,
            answers=s.answers,
            confident_answers=s.confident_answers,
            verdicts=s.with_feedback,
            satisfied=s.satisfied,
            not_satisfied=s.not_satisfied,
            escalated_after=s.escalated_after,
            satisfaction=round(s.satisfaction, 4) if s.satisfaction is not None else None,
            deflection=round(s.deflection, 4) if s.deflection is not None else None,
        )
        for s in stats
    ]


def answers_by_source(db: Database, since: datetime | None, *, top: int) -> list[AnswerSourceRow]:
    """The `top` most used answer sources in the window, most answers first."""
    return answer_rows(AnswerFeedbackStore(db).source_stats(since, limit=top))


def answer_table(rows: Sequence[AnswerSourceRow]) -> list[str]:
    """The rows as a Markdown table (or a sentence when there are none)."""
    if not rows:
        return ["No automatic answers in this window."]

    def share(value: float | None) -> str:
        return f"{value:.0%}" if value is not None else "-"

    lines = [
        "| source | answers | confident | verdicts | satisfied | escalated after | deflection |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        name = f"{'FAQ' if row.kind == 'faq' else 'article'}: {row.title}".replace("|", "\\|")
        lines.append(
            f"| {name} | {row.answers} | {row.confident_answers} | {row.verdicts} |"
            f" {row.satisfied} ({share(row.satisfaction)}) | {row.escalated_after} | {share(row.deflection)} |"
        )
    return lines
