"""Reviewing staged FAQ candidates: list, inspect, edit, approve or reject, revert, soft-delete.

Every change is one transaction that locks the rows it changes (`SELECT ... FOR UPDATE`) and checks the
candidate's status (and version, when the caller passes the one it saw) under the lock, so a second
approval, concurrent or later, is a `ConflictError` and never a second promotion. The reviewer's
identity is a parameter: the CLI passes `--reviewer` (default $USER), the API the token's subject.

Example:
    >>> review = FaqReview.from_services(services)
    >>> page = review.list(status="PENDING", limit=20)
    >>> review.decide(page.items[0].id, "approve", reviewer="alice")
    ReviewOutcome(staging_id=..., status='APPROVED', faq_id=..., ...)
"""

from __future__ import annotations

import builtins
import difflib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from psycopg.types.json import Jsonb

from core.database import Database
from core.embeddings import Embedder
from core.errors import ConflictError, InvalidInputError, NotFoundError
from faq_mining import promotion
from faq_mining.faq_store import FAQ_COLUMNS, Connection, FaqRow, FaqStore, normalise_tags, staged_phrasings
from faq_mining.review_models import (
    ACTIONS,
    CANDIDATE_COLUMNS,
    STATUSES,
    AuditEntry,
    CandidateDetail,
    CandidateEdits,
    CandidatePage,
    Decision,
    MergePreview,
    ReviewOutcome,
    ReviewStats,
    StagedCandidate,
)
from text.pii import detect_pii

if TYPE_CHECKING:
    from core.services import Services

MAX_PAGE = 1000


class FaqReview:
    """The review operations over `faq_staging` and the production `faq` table."""

    def __init__(self, db: Database, embedder: Embedder, store: FaqStore) -> None:
        self.db = db
        self.embedder = embedder
        self.store = store

    @classmethod
    def from_services(cls, services: Services) -> FaqReview:
        """Review on the process's database and embedding model."""
        return cls(services.db, services.embedder, FaqStore.from_services(services))

    def list(self, status: str | None = None, limit: int = 50, offset: int = 0) -> CandidatePage:
        """Candidates newest first, optionally of one status, `limit` (1-1000) from `offset`."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInputError(f"limit must be between 1 and {MAX_PAGE}, got {limit}")
        if offset < 0:
            raise InvalidInputError(f"offset must not be negative, got {offset}")
        statuses = list(STATUSES) if status is None else [_status(status)]
        with self.db.connection() as conn:
            rows = conn.execute(
                f"SELECT {CANDIDATE_COLUMNS} FROM faq_staging WHERE status = ANY(%s)"
                " ORDER BY created_at DESC, id DESC LIMIT %s OFFSET %s",
                (statuses, limit, offset),
            ).fetchall()
            total = conn.execute("SELECT count(*) AS n FROM faq_staging WHERE status = ANY(%s)", (statuses,)).fetchone()
            conn.rollback()
        return CandidatePage(
            [StagedCandidate.from_row(r) for r in rows], int(total["n"]) if total else 0, limit, offset
        )

    def stats(self) -> ReviewStats:
        """Counts by status, by action, pending by action, and live / deleted production FAQs."""
        with self.db.connection() as conn:
            groups = conn.execute("SELECT status, action, count(*) AS n FROM faq_staging GROUP BY status, action")
            counts = [(row["status"], row["action"], int(row["n"])) for row in groups.fetchall()]
            faqs = conn.execute(
                "SELECT count(*) FILTER (WHERE NOT is_deleted) AS live, count(*) FILTER (WHERE is_deleted) AS deleted"
                " FROM faq"
            ).fetchone()
            conn.rollback()
        assert faqs is not None
        return ReviewStats(
            by_status={s: sum(n for st, _, n in counts if st == s) for s in STATUSES},
            by_action={a: sum(n for _, ac, n in counts if ac == a) for a in ACTIONS},
            pending_by_action={a: sum(n for st, ac, n in counts if ac == a and st == "PENDING") for a in ACTIONS},
            live_faqs=int(faqs["live"]),
            deleted_faqs=int(faqs["deleted"]),
        )

    def get(self, staging_id: int) -> CandidateDetail:
        """A candidate with its audit trail, oldest entry first."""
        with self.db.connection() as conn:
            candidate = _candidate(conn, staging_id)
            rows = conn.execute(
                "SELECT id, staging_id, faq_id, action, actor, detail, at FROM faq_audit WHERE staging_id = %s"
                " ORDER BY at, id",
                (staging_id,),
            ).fetchall()
            conn.rollback()
        return CandidateDetail(candidate, [AuditEntry(**row) for row in rows])

    def update(
        self,
        staging_id: int,
        *,
        editor: str,
        question: str | None = None,
        answer: str | None = None,
        tags: Sequence[str] | None = None,
        expected_version: int | None = None,
    ) -> StagedCandidate:
        """Edit a PENDING candidate (a new question is embedded again); bumps its version."""
        _require_actor(editor)
        edits = CandidateEdits(question, answer, None if tags is None else list(tags))
        if edits.empty:
            raise InvalidInputError("nothing to change: give a question, an answer or tags")
        embedding = self._embed(edits.question) if edits.question is not None else None
        with self.db.transaction() as conn:
            candidate = _lock_pending(conn, staging_id, expected_version)
            edited = self._apply_edits(conn, candidate, edits, embedding, editor)
        return edited

    def decide(
        self,
        staging_id: int,
        decision: Decision,
        reviewer: str,
        note: str | None = None,
        expected_version: int | None = None,
        edits: CandidateEdits | None = None,
    ) -> ReviewOutcome:
        """Approve (optionally after `edits`, in the same transaction) or reject a PENDING candidate."""
        _require_actor(reviewer)
        if decision not in ("approve", "reject"):
            raise InvalidInputError(f"decision must be 'approve' or 'reject', got {decision!r}")
        if decision == "reject" and edits is not None and not edits.empty:
            raise InvalidInputError("edits only go with an approval")
        embedding = self._embed(edits.question) if edits is not None and edits.question is not None else None
        # Phrasings are embedded before the candidate is locked: no model call while concurrent reviews wait.
        embed = self._embedder_for(self._phrasings_to_embed(staging_id)) if decision == "approve" else self._embed_all
        with self.db.transaction() as conn:
            candidate = _lock_pending(conn, staging_id, expected_version)
            if decision == "reject":
                promotion.audit(conn, "rejected", reviewer, staging_id=staging_id, faq_id=None, note=note)
                return self._close(conn, candidate, "REJECTED", reviewer, note, promoted=None)
            if edits is not None and not edits.empty:
                candidate = self._apply_edits(conn, candidate, edits, embedding, reviewer)
            _refuse_pii(candidate.question, candidate.answer, candidate.tags)
            if candidate.action == "NEW":
                promoted = promotion.promote_new(conn, candidate, reviewer, embed)
            else:
                promoted = promotion.promote_merge(conn, candidate, reviewer, embed)
            return self._close(conn, candidate, "APPROVED", reviewer, note, promoted=promoted)

    def revert(self, staging_id: int, reviewer: str) -> ReviewOutcome:
        """Undo an approval: a MERGE gets its target's previous version back, a NEW one's FAQ is soft-deleted."""
        _require_actor(reviewer)
        with self.db.transaction() as conn:
            candidate = _candidate(conn, staging_id, lock=True)
            if candidate.status != "APPROVED" or candidate.promoted_faq_id is None:
                raise ConflictError(
                    f"candidate {staging_id} is {candidate.status}; only an APPROVED one can be reverted"
                )
            target = promotion.lock_faq(conn, candidate.promoted_faq_id)
            if target.is_deleted and candidate.action == "MERGE":
                raise ConflictError(f"FAQ {target.id} was deleted after the merge; nothing to restore")
            if candidate.action == "MERGE":
                restored = promotion.restore_snapshot(conn, candidate, target, self._embed, reviewer)
            elif target.is_deleted:
                restored = target
                promotion.audit(conn, "reverted", reviewer, staging_id=staging_id, faq_id=target.id, action="NEW")
            else:
                restored = promotion.soft_delete(conn, target, reviewer, staging_id=staging_id, reason="reverted")
                promotion.audit(conn, "reverted", reviewer, staging_id=staging_id, faq_id=target.id, action="NEW")
            row = conn.execute(
                "UPDATE faq_staging SET status = 'REVERTED', version = version + 1, updated_at = now()"
                " WHERE id = %s RETURNING version",
                (staging_id,),
            ).fetchone()
        assert row is not None
        return ReviewOutcome(
            staging_id, candidate.action, "REVERTED", int(row["version"]), reviewer, restored.id, restored.version
        )

    def delete_faq(self, faq_id: int, actor: str) -> FaqRow:
        """Soft-delete a production FAQ: it leaves every search and similarity check at once."""
        _require_actor(actor)
        with self.db.transaction() as conn:
            faq = promotion.lock_faq(conn, faq_id)
            if faq.is_deleted:
                raise ConflictError(f"FAQ {faq_id} is already deleted")
            return promotion.soft_delete(conn, faq, actor, staging_id=None, reason="deleted by a reviewer")

    def existing(self, staging_id: int) -> MergePreview:
        """A MERGE candidate's target as it is now, with unified diffs of question, answer and tags."""
        with self.db.connection() as conn:
            candidate = _candidate(conn, staging_id)
            if candidate.merge_with_id is None:
                raise InvalidInputError(f"candidate {staging_id} is NEW: it has no merge target")
            row = conn.execute(f"SELECT {FAQ_COLUMNS} FROM faq WHERE id = %s", (candidate.merge_with_id,)).fetchone()
            conn.rollback()
        if row is None:
            raise NotFoundError(f"FAQ {candidate.merge_with_id} does not exist")
        target = FaqRow.from_row(row)
        before, after = f"faq/{target.id} v{target.version}", f"candidate/{candidate.id}"
        return MergePreview(
            candidate=candidate,
            target=target,
            target_is_live=not target.is_deleted,
            question_diff=_diff(target.question, candidate.question, before, after),
            answer_diff=_diff(target.answer, candidate.answer, before, after),
            tags_diff=_diff("\n".join(target.tags), "\n".join(candidate.tags), before, after),
        )

    def _phrasings_to_embed(self, staging_id: int) -> builtins.list[str]:
        """The texts an approval may add as phrasings, to embed before any lock is taken.

        The candidate's phrasings, its question (an edit may replace it) and a MERGE target's question.
        """
        with self.db.connection() as conn:
            row = conn.execute(
                "SELECT s.question, s.phrasings, f.question AS target_question FROM faq_staging s"
                " LEFT JOIN faq f ON f.id = s.merge_with_id WHERE s.id = %s",
                (staging_id,),
            ).fetchone()
            conn.rollback()
        if row is None:
            return []
        texts = [row["question"], *(p["text"] for p in row["phrasings"]), row["target_question"]]
        return [text.strip() for text in dict.fromkeys(t for t in texts if t)]

    def _embedder_for(self, texts: Sequence[str]) -> promotion.EmbedQuestions:
        """Embeds `texts` now; the function it returns looks them up (and embeds any other text it is given)."""
        known = dict(zip(texts, self._embed_all(texts), strict=True))

        def embed(questions: Sequence[str]) -> builtins.list[str]:
            missing = [q.strip() for q in questions if q.strip() not in known]
            known.update(zip(missing, self._embed_all(missing), strict=True))
            return [known[q.strip()] for q in questions]

        return embed

    def _embed(self, question: str) -> str:
        return self._embed_all([question])[0]

    def _embed_all(self, questions: Sequence[str]) -> builtins.list[str]:  # `list` is a method here
        return self.store.embed_questions(self.embedder, questions)

    def _apply_edits(
        self, conn: Connection, candidate: StagedCandidate, edits: CandidateEdits, embedding: str | None, actor: str
    ) -> StagedCandidate:
        question = candidate.question if edits.question is None else edits.question.strip()
        answer = candidate.answer if edits.answer is None else edits.answer.strip()
        tags = candidate.tags if edits.tags is None else normalise_tags(edits.tags)
        if not question or not answer:
            raise InvalidInputError("the question and the answer must not be empty")
        _refuse_pii(question, answer, tags)
        # The question it replaces is still a way customers ask: kept as a phrasing of the FAQ-to-be.
        phrasings = [p for p in candidate.phrasings if p["text"].casefold() != question.casefold()]
        if question != candidate.question:
            known = [p["text"] for p in phrasings]
            phrasings += staged_phrasings([candidate.question], question=question, known=known, origin="edit")
        row = conn.execute(
            "UPDATE faq_staging SET question = %s, answer = %s, tags = %s, phrasings = %s,"
            " question_embedding = coalesce(%s::vector, question_embedding), version = version + 1, updated_at = now()"
            f" WHERE id = %s RETURNING {CANDIDATE_COLUMNS}",
            (question, answer, tags, Jsonb(phrasings), embedding, candidate.id),
        ).fetchone()
        assert row is not None
        changed = [name for name in ("question", "answer", "tags") if getattr(edits, name) is not None]
        promotion.audit(conn, "edited", actor, staging_id=candidate.id, faq_id=None, fields=changed)
        return StagedCandidate.from_row(row)

    def _close(
        self,
        conn: Connection,
        candidate: StagedCandidate,
        status: str,
        reviewer: str,
        note: str | None,
        promoted: FaqRow | None,
    ) -> ReviewOutcome:
        row = conn.execute(
            "UPDATE faq_staging SET status = %s, reviewed_by = %s, reviewed_at = now(), review_note = %s,"
            " promoted_faq_id = %s, version = version + 1, updated_at = now() WHERE id = %s RETURNING version",
            (status, reviewer, note, promoted.id if promoted else None, candidate.id),
        ).fetchone()
        assert row is not None
        return ReviewOutcome(
            candidate.id,
            candidate.action,
            status,
            int(row["version"]),
            reviewer,
            promoted.id if promoted else None,
            promoted.version if promoted else None,
        )


def _candidate(conn: Connection, staging_id: int, *, lock: bool = False) -> StagedCandidate:
    row = conn.execute(
        f"SELECT {CANDIDATE_COLUMNS} FROM faq_staging WHERE id = %s" + (" FOR UPDATE" if lock else ""), (staging_id,)
    ).fetchone()
    if row is None:
        raise NotFoundError(f"FAQ candidate {staging_id} does not exist")
    return StagedCandidate.from_row(row)


def _lock_pending(conn: Connection, staging_id: int, expected_version: int | None) -> StagedCandidate:
    candidate = _candidate(conn, staging_id, lock=True)
    if candidate.status != "PENDING":
        raise ConflictError(
            f"candidate {staging_id} is {candidate.status}"
            + (f" (by {candidate.reviewed_by})" if candidate.reviewed_by else "")
            + "; only a PENDING candidate can be edited or reviewed"
        )
    if expected_version is not None and candidate.version != expected_version:
        raise ConflictError(
            f"candidate {staging_id} is at version {candidate.version}, not {expected_version}: it changed meanwhile"
        )
    return candidate


def _refuse_pii(question: str, answer: str, tags: Sequence[str]) -> None:
    kinds = sorted({finding.kind.value for text in (question, answer, *tags) for finding in detect_pii(text)})
    if kinds:
        raise InvalidInputError(f"the FAQ text contains personal data or secrets ({', '.join(kinds)}); edit it first")


def _require_actor(actor: str) -> None:
    if not actor or not actor.strip():
        raise InvalidInputError("a reviewer identity is required")


def _status(status: str) -> str:
    wanted = status.strip().upper()
    if wanted not in STATUSES:
        raise InvalidInputError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
    return wanted


def _diff(before: str, after: str, before_name: str, after_name: str) -> str:
    lines = difflib.unified_diff(
        before.splitlines(), after.splitlines(), fromfile=before_name, tofile=after_name, lineterm=""
    )
    return "\n".join(lines)
