"""`doxa faq list | stats | show | edit | approve | reject | revert | delete | search`: review mined FAQs.

The reviewer is `--reviewer` (default: $USER), never read from a file or a candidate. Every command takes
`--json` for scripts; refusals (unknown id, already decided, personal data in the text) print a message
and exit with status 2.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.output import EXIT_USAGE, fail
from cli.services import open_services
from core.errors import DoxaError

if TYPE_CHECKING:
    # The review stack (LangGraph's resume, psycopg, numpy) loads in the commands, not for `doxa faq --help`.
    from core.services import Services
    from faq_mining.review import FaqReview
    from faq_mining.review_models import Decision, ReviewOutcome, StagedCandidate

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
ReviewerOption = Annotated[
    str | None, typer.Option("--reviewer", help="Who decides (default: the login name, $USER).", show_default=False)
]
NoteOption = Annotated[str | None, typer.Option("--note", help="Why, kept with the decision.")]
VersionOption = Annotated[
    int | None, typer.Option("--expected-version", help="Refuse if the candidate changed since you read it.")
]


@contextmanager
def _review() -> Iterator[tuple[Services, FaqReview]]:
    """The review operations on the configured services; Doxa's errors become a message and exit status 2."""
    from faq_mining.review import FaqReview

    try:
        with open_services() as services:
            yield services, FaqReview.from_services(services)
    except DoxaError as exc:
        fail(str(exc), EXIT_USAGE)


def _reviewer(given: str | None) -> str:
    return given or getpass.getuser()


def _print(as_json: bool, value: Any, text: str) -> None:
    from faq_mining.review_models import to_json

    typer.echo(json.dumps(to_json(value), ensure_ascii=False, indent=2) if as_json else text)


def _line(candidate: StagedCandidate) -> str:
    target = f" -> FAQ #{candidate.merge_with_id}" if candidate.merge_with_id else ""
    return (
        f"#{candidate.id:<5} {candidate.status:<9} {candidate.action:<5}{target}  conf {candidate.confidence:.2f}"
        f"  {candidate.source_count} ticket(s)  {candidate.question}"
    )


def _outcome_text(outcome: ReviewOutcome) -> str:
    faq = f"; FAQ #{outcome.faq_id} v{outcome.faq_version}" if outcome.faq_id is not None else ""
    return f"candidate #{outcome.staging_id} ({outcome.action}) is {outcome.status} by {outcome.reviewed_by}{faq}"


def list_candidates(
    status: Annotated[str | None, typer.Option("--status", help="PENDING, APPROVED, REJECTED or REVERTED.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many (1-1000).")] = 50,
    offset: Annotated[int, typer.Option("--offset", help="Skip this many, newest first.")] = 0,
    as_json: JsonOption = False,
) -> None:
    """Staged candidates, newest first."""
    with _review() as (_, review):
        page = review.list(status, limit, offset)
    lines = [_line(c) for c in page.items]
    lines.append(f"{len(page.items)} of {page.total} (offset {page.offset})")
    _print(as_json, page, "\n".join(lines))


def stats(as_json: JsonOption = False) -> None:
    """Candidates by status and action, and the production FAQs."""
    with _review() as (_, review):
        counts = review.stats()
    text = "\n".join(
        [
            "status: " + ", ".join(f"{k} {v}" for k, v in counts.by_status.items()),
            "action: " + ", ".join(f"{k} {v}" for k, v in counts.by_action.items()),
            f"production FAQs: {counts.live_faqs} live, {counts.deleted_faqs} deleted",
        ]
    )
    _print(as_json, counts, text)


def show(staging_id: Annotated[int, typer.Argument(help="The candidate's id.")], as_json: JsonOption = False) -> None:
    """One candidate with its sources, its audit trail and, for a MERGE, the diff against its target."""
    with _review() as (_, review):
        detail = review.get(staging_id)
        preview = review.existing(staging_id) if detail.candidate.merge_with_id is not None else None
    c = detail.candidate
    lines = [
        _line(c),
        f"tags: {', '.join(c.tags)}   version {c.version}   pii redacted: {', '.join(c.pii_kinds) or 'none'}",
        f"sources: {', '.join(c.source_ticket_ids)}",
        f"Q: {c.question}",
        f"A: {c.answer}",
    ]
    if c.phrasings:  # what the FAQ will also be found by once approved
        lines.append("also asked as:")
        lines.extend(f"  - {p['text']} ({p['origin']})" for p in c.phrasings)
    if preview is not None:
        state = "live" if preview.target_is_live else "DELETED"
        lines.append(f"merge target FAQ #{preview.target.id} v{preview.target.version} ({state}):")
        lines.extend(d for d in (preview.question_diff, preview.answer_diff, preview.tags_diff) if d)
    lines.append("audit:")
    lines.extend(f"  {e.at:%Y-%m-%d %H:%M} {e.action:<9} {e.actor}" for e in detail.audit)
    _print(as_json, {"detail": detail, "merge_preview": preview}, "\n".join(lines))


def edit(
    staging_id: Annotated[int, typer.Argument(help="The candidate's id.")],
    question: Annotated[str | None, typer.Option("--question", help="New question (embedded again).")] = None,
    answer: Annotated[str | None, typer.Option("--answer", help="New answer.")] = None,
    tags: Annotated[str | None, typer.Option("--tags", help="New tags, comma-separated: a,b.")] = None,
    reviewer: ReviewerOption = None,
    expected_version: VersionOption = None,
    as_json: JsonOption = False,
) -> None:
    """Edit a PENDING candidate."""
    tag_list = None if tags is None else [t for t in tags.split(",") if t.strip()]
    with _review() as (_, review):
        edited = review.update(
            staging_id,
            editor=_reviewer(reviewer),
            question=question,
            answer=answer,
            tags=tag_list,
            expected_version=expected_version,
        )
    _print(as_json, edited, f"{_line(edited)}\nversion {edited.version}")


def _decide(
    services: Services,
    review: FaqReview,
    staging_id: int,
    decision: Decision,
    reviewer: str,
    note: str | None,
    expected_version: int | None,
) -> ReviewOutcome:
    from faq_mining.review_flow import resume_review
    from faq_mining.review_models import ReviewOutcome
    from faq_mining.state import ReviewDecision

    # A mining run waiting on this candidate's interrupt is resumed; otherwise FaqReview decides directly.
    record = resume_review(
        services,
        staging_id,
        ReviewDecision(decision=decision, reviewer=reviewer, note=note, expected_version=expected_version),
    )
    assert record.action is not None and record.status is not None and record.version is not None
    return ReviewOutcome(
        staging_id=record.staging_id,
        action=record.action,
        status=record.status,
        version=record.version,
        reviewed_by=record.reviewer,
        faq_id=record.faq_id,
        faq_version=record.faq_version,
    )


def _decision_command(decision: Decision, summary: str) -> Callable[..., None]:
    """The `doxa faq approve` or `reject` command: the two differ only in the decision they send."""

    def command(
        staging_id: Annotated[int, typer.Argument(help="The candidate's id.")],
        reviewer: ReviewerOption = None,
        note: NoteOption = None,
        expected_version: VersionOption = None,
        as_json: JsonOption = False,
    ) -> None:
        with _review() as (services, review):
            outcome = _decide(services, review, staging_id, decision, _reviewer(reviewer), note, expected_version)
        _print(as_json, outcome, _outcome_text(outcome))

    command.__doc__ = summary  # typer's help text
    return command


approve = _decision_command(
    "approve", "Promote a PENDING candidate: NEW inserts a production FAQ, MERGE updates its target (snapshot kept)."
)
reject = _decision_command(
    "reject", "Reject a PENDING candidate (its tickets stay claimed: mining does not stage them again)."
)


def revert(
    staging_id: Annotated[int, typer.Argument(help="The approved candidate's id.")],
    reviewer: ReviewerOption = None,
    as_json: JsonOption = False,
) -> None:
    """Undo an approval: a MERGE target gets its previous version back, a NEW FAQ is soft-deleted."""
    with _review() as (_, review):
        outcome = review.revert(staging_id, _reviewer(reviewer))
    _print(as_json, outcome, _outcome_text(outcome))


def delete(
    faq_id: Annotated[int, typer.Argument(help="The production FAQ's id.")],
    reviewer: ReviewerOption = None,
    as_json: JsonOption = False,
) -> None:
    """Soft-delete a production FAQ: it leaves every search at once, its history stays."""
    with _review() as (_, review):
        deleted = review.delete_faq(faq_id, _reviewer(reviewer))
    _print(as_json, deleted, f"FAQ #{deleted.id} deleted (version {deleted.version})")


def search(
    query: Annotated[str, typer.Argument(help="A question, as a customer would ask it.")],
    top_k: Annotated[int, typer.Option("--top-k", min=1, max=100, help="How many FAQs.")] = 5,
    min_similarity: Annotated[float, typer.Option("--min-similarity", help="Drop FAQs below this cosine.")] = 0.0,
    as_json: JsonOption = False,
) -> None:
    """The live production FAQs whose question is closest to QUERY."""
    from kb.faq_retriever import FaqRetriever

    with _review() as (services, _):
        hits = FaqRetriever.from_services(services).search(query, top_k, min_similarity)
    text = "\n".join(f"FAQ #{h.id} ({h.similarity:.3f}) {h.question}\n    {h.answer}" for h in hits) or "no FAQ found"
    _print(as_json, hits, text)


def register(app: typer.Typer) -> None:
    """Add the review commands to `doxa faq`."""
    app.command("list")(list_candidates)
    app.command("stats")(stats)
    app.command("show")(show)
    app.command("edit")(edit)
    app.command("approve")(approve)
    app.command("reject")(reject)
    app.command("revert")(revert)
    app.command("delete")(delete)
    app.command("search")(search)
