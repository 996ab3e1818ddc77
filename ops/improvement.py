"""Continuous improvement as a batch: where tickets escalate, what the KB could not answer, what to write next.

The per-ticket agent (`nodes.improve`) records a `kb_gap` row whenever a ticket reached a person after the
knowledge base was searched. This module reads those rows and the escalation records over a window and
turns them into an `ImprovementReport`: totals, escalations by category, team and reason, the gaps grouped
into topics, and one recommended KB article per topic, biggest topic first.

Gap grouping: with an embedder, reformulations are embedded (normalised) and grouped by complete linkage
cut at cosine similarity GAP_TOPIC_SIMILARITY, so every pair inside a topic is at least that similar and
twenty paraphrases of one question become one recommendation; without one, only identical reformulations
(case and spacing aside) share a topic. Linkage needs the pairwise distances of the distinct
reformulations: fine for the thousands a week produces, not meant for millions.

Example:
    >>> report = improvement_report(db, since=parse_since("7d"), embedder=services.embedder)
    >>> print(report.to_markdown())
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field
from scipy.cluster.hierarchy import fcluster, linkage

from core.database import Database
from core.durations import match_duration
from core.embeddings import Embedder
from core.errors import InvalidInputError
from graph.ticket_store import TicketStore
from ops.answer_report import AnswerSourceRow, answer_table, answers_by_source

# Paraphrases of one help-centre question score about 0.75-0.9 with all-MiniLM-L6-v2; different
# questions about one product area mostly stay below 0.7.
GAP_TOPIC_SIMILARITY = 0.75
EXAMPLE_TICKETS = 5
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_SPACES = re.compile(r"\s+")


def parse_since(text: str, *, now: datetime | None = None) -> datetime:
    """A window start from `7d`, `12h`, `2w` (before now) or an ISO date or time (naive values are UTC)."""
    span = match_duration(text.lower(), units="hdw")
    if span is not None:
        return (now or datetime.now(UTC)) - span
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise InvalidInputError(f"--since takes 7d, 12h, 2w or an ISO date such as 2026-11-01, not {text!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class CountShare(BaseModel):
    """How many escalations fall under one name, and their share of all escalations in the window."""

    name: str = Field(description="Category, team or reason; `(none)` when the record has none.")
    count: int
    share: float = Field(description="count / escalations in the window, 0-1.")


class KbGap(BaseModel):
    """One recorded gap: a reformulation the knowledge base could not answer."""

    ticket_id: str
    attempt: int
    category: str | None
    reformulation: str
    max_similarity: float | None = Field(description="Best similarity the KB search found; None if it found nothing.")
    outcome: str
    suggested_title: str | None = Field(default=None, description="The improvement agent's proposed article title.")
    suggested_outline: list[str] = Field(default=[], description="Its proposed outline.")
    created_at: datetime


class GapTopic(BaseModel):
    """Gaps whose reformulations ask the same thing."""

    question: str = Field(description="The most central reformulation of the topic.")
    category: str | None = Field(description="The most frequent category among its gaps.")
    tickets: int = Field(description="Distinct tickets with a gap in this topic.")
    gaps: int
    example_ticket_ids: list[str]
    best_similarity: float | None = Field(description="The best KB similarity any of its searches reached.")
    variants: list[str] = Field(description="Other reformulations grouped with it (a few).")
    suggested_title: str | None = Field(default=None, description="The agent's article title for the topic, if any.")
    suggested_outline: list[str] = Field(default=[], description="The agent's outline for that article.")


class Recommendation(BaseModel):
    """A KB article to write, one per gap topic."""

    action: str = Field(description="add a KB article answering: <question>")
    question: str
    category: str | None
    tickets: int
    example_ticket_ids: list[str]
    best_similarity: float | None
    title: str | None = Field(default=None, description="Proposed article title (from the improvement agent).")
    outline: list[str] = Field(default=[], description="Proposed outline of the article.")


class ImprovementReport(BaseModel):
    """What the help desk lacked over one window, and what to add to the KB first."""

    since: datetime | None
    generated_at: datetime
    tickets: int = Field(description="Threads created in the window.")
    tickets_by_status: dict[str, int]
    escalated_tickets: int = Field(description="Threads created in the window that were escalated.")
    escalation_rate: float | None = Field(description="escalated_tickets / tickets; None without tickets.")
    escalations: int = Field(description="Escalation records opened in the window.")
    escalations_by_category: list[CountShare]
    escalations_by_team: list[CountShare]
    top_reasons: list[CountShare] = Field(description="Reason parts (numbers elided); shares may sum above 1.")
    gap_grouping: Literal["embeddings", "exact"]
    gaps: list[KbGap]
    gap_topics: list[GapTopic] = Field(description="Largest topics first, at most `top`.")
    recommendations: list[Recommendation]
    answers_by_source: list[AnswerSourceRow] = Field(
        default=[], description="Automatic answers per FAQ and article: verdicts and escalations after them."
    )

    def to_json(self) -> str:
        """The report as indented JSON."""
        return self.model_dump_json(indent=2)

    def to_markdown(self) -> str:
        """The report as a Markdown document, one section per question it answers."""
        window = f"since {self.since:%Y-%m-%d %H:%M} UTC" if self.since else "all time"
        rate = f"{self.escalation_rate:.1%}" if self.escalation_rate is not None else "n/a"
        lines = [f"# Doxa improvement report ({window})", "", "## Tickets", ""]
        lines.append(f"{self.tickets} tickets, {self.escalated_tickets} escalated ({rate}).")
        if self.tickets_by_status:
            lines += ["", *(f"- {status}: {count}" for status, count in self.tickets_by_status.items())]
        for title, counts in (
            ("Escalations by category", self.escalations_by_category),
            ("Escalations by team", self.escalations_by_team),
            ("Escalation reasons", self.top_reasons),
        ):
            lines += ["", f"## {title}", ""] + _count_table(counts)
        lines += ["", "## Automatic answers by FAQ and article", "", *answer_table(self.answers_by_source)]
        lines += ["", "## KB gaps", ""]
        if self.gap_topics:
            lines.append(f"{len(self.gaps)} gaps recorded; largest topics ({self.gap_grouping} grouping):")
            lines += ["", "| tickets | category | best similarity | question |", "|---:|---|---:|---|"]
            lines += [
                f"| {t.tickets} | {t.category or '-'} | {_similarity(t.best_similarity)} | {_cell(t.question)} |"
                for t in self.gap_topics
            ]
        else:
            lines.append("No gaps recorded.")
        lines += ["", "## Recommendations", ""]
        for number, item in enumerate(self.recommendations, start=1):
            lines.append(
                f"{number}. {_cell(item.action)} (category {item.category or '-'}; {item.tickets} tickets,"
                f" e.g. {', '.join(item.example_ticket_ids)}; best similarity {_similarity(item.best_similarity)})"
            )
            if item.title:
                lines.append(f"   - proposed title: {_cell(item.title)}")
            lines += [f"   - {_cell(point)}" for point in item.outline]
        if not self.recommendations:
            lines.append("Nothing to add: the KB answered every searched ticket in this window.")
        return "\n".join(lines) + "\n"


def improvement_report(
    db: Database, since: datetime | None, *, top: int = 10, embedder: Embedder | None = None
) -> ImprovementReport:
    """Build the report for tickets, escalations and gaps created at or after `since` (all when None)."""
    if top < 1:
        raise InvalidInputError(f"top must be at least 1, got {top}")
    store = TicketStore(db)
    by_status = store.status_counts(since)
    tickets = sum(by_status.values())
    escalated = store.escalated_ticket_count(since)
    by_category = store.escalation_counts("category", since)
    escalations = sum(count for _, count in by_category)
    gaps = [KbGap.model_validate(row) for row in store.gaps_since(since)]
    topics = group_gaps(gaps, embedder)
    return ImprovementReport(
        since=since,
        generated_at=datetime.now(UTC),
        tickets=tickets,
        tickets_by_status=by_status,
        escalated_tickets=escalated,
        escalation_rate=round(escalated / tickets, 4) if tickets else None,
        escalations=escalations,
        escalations_by_category=_shares(by_category, escalations)[:top],
        escalations_by_team=_shares(store.escalation_counts("team", since), escalations)[:top],
        top_reasons=_shares(reason_counts(store.escalation_counts("reason", since)), escalations)[:top],
        gap_grouping="embeddings" if embedder is not None else "exact",
        gaps=gaps,
        gap_topics=topics[:top],
        recommendations=[recommend(topic) for topic in topics[:top]],
        answers_by_source=answers_by_source(db, since, top=top),
    )


def reason_counts(reasons: Sequence[tuple[str | None, int]]) -> list[tuple[str | None, int]]:
    """Split `; `-joined reasons into parts and elide numbers, so `confidence 0.41 is below 0.55` counts once."""
    counts: Counter[str] = Counter()
    for reason, count in reasons:
        parts = {_NUMBER.sub("N", part.strip()) for part in (reason or "").split(";") if part.strip()}
        for part in parts or {"(none)"}:
            counts[part] += count
    return [(name, count) for name, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def group_gaps(gaps: Sequence[KbGap], embedder: Embedder | None = None) -> list[GapTopic]:
    """Group gaps into topics (see the module docstring), largest first by distinct tickets."""
    by_text: dict[str, list[KbGap]] = {}
    for gap in gaps:
        by_text.setdefault(_normalised(gap.reformulation), []).append(gap)
    texts = list(by_text)
    if embedder is None or len(texts) < 2:
        groups: list[list[int]] = [[index] for index in range(len(texts))]
        similarity = np.eye(len(texts), dtype=np.float32)
    else:
        vectors = np.asarray(embedder.embed_documents([by_text[text][0].reformulation for text in texts]))
        unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        similarity = unit @ unit.T
        tree = linkage(unit.astype(np.float64), method="complete", metric="cosine")
        labels = fcluster(tree, t=1.0 - GAP_TOPIC_SIMILARITY, criterion="distance")
        grouped: dict[int, list[int]] = {}
        for index, label in enumerate(labels.tolist()):
            grouped.setdefault(label, []).append(index)
        groups = list(grouped.values())
    topics = [_topic([by_text[texts[i]] for i in members], similarity[np.ix_(members, members)]) for members in groups]
    topics.sort(key=lambda topic: (-topic.tickets, -topic.gaps, topic.question))
    return topics


def recommend(topic: GapTopic) -> Recommendation:
    """The KB article that would close one gap topic."""
    return Recommendation(
        action=f"add a KB article answering: {topic.question}",
        question=topic.question,
        category=topic.category,
        tickets=topic.tickets,
        example_ticket_ids=topic.example_ticket_ids,
        best_similarity=topic.best_similarity,
        title=topic.suggested_title,
        outline=topic.suggested_outline,
    )


def _topic(members: list[list[KbGap]], similarity: Any) -> GapTopic:
    """One topic from its distinct reformulations (each a list of gaps) and their pairwise similarities."""
    weights = np.array([len(gaps) for gaps in members], dtype=np.float32)
    # The most central text: the highest similarity to the topic's gaps, each text weighted by its gap count.
    central = int(np.argmax(similarity @ weights))
    rows = [gap for gaps in members for gap in gaps]
    spellings = Counter(gap.reformulation.strip() for gap in members[central])
    ticket_ids = list(dict.fromkeys(gap.ticket_id for gap in sorted(rows, key=lambda gap: gap.created_at)))
    categories = Counter(gap.category for gap in rows if gap.category)
    similarities = [gap.max_similarity for gap in rows if gap.max_similarity is not None]
    # The central reformulation's own proposal first, else the most recent proposal of the topic.
    proposals = [gap for gap in members[central] if gap.suggested_title] + sorted(
        (gap for gap in rows if gap.suggested_title), key=lambda gap: gap.created_at, reverse=True
    )
    return GapTopic(
        question=spellings.most_common(1)[0][0],
        category=categories.most_common(1)[0][0] if categories else None,
        tickets=len(ticket_ids),
        gaps=len(rows),
        example_ticket_ids=ticket_ids[:EXAMPLE_TICKETS],
        best_similarity=round(max(similarities), 4) if similarities else None,
        variants=[gaps[0].reformulation.strip() for index, gaps in enumerate(members) if index != central][:5],
        suggested_title=proposals[0].suggested_title if proposals else None,
        suggested_outline=proposals[0].suggested_outline if proposals else [],
    )


def _shares(counts: Sequence[tuple[str | None, int]], total: int) -> list[CountShare]:
    return [
        CountShare(name=name or "(none)", count=count, share=round(count / total, 4) if total else 0.0)
        for name, count in counts
    ]


def _normalised(text: str) -> str:
    return _SPACES.sub(" ", text).strip().casefold()


def _count_table(counts: Sequence[CountShare]) -> list[str]:
    if not counts:
        return ["None."]
    return ["| name | count | share |", "|---|---:|---:|"] + [
        f"| {_cell(item.name)} | {item.count} | {item.share:.1%} |" for item in counts
    ]


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell or list item: one line, pipes escaped."""
    return _SPACES.sub(" ", text).replace("|", "\\|").strip()


def _similarity(value: float | None) -> str:
    return f"{value:.2f}" if value is not None else "-"
