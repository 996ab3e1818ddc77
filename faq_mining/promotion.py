"""The SQL of promotion, run inside the caller's transaction with the candidate row already locked.

Approving NEW inserts a production FAQ from the candidate; approving MERGE snapshots the target and
rewrites it with the candidate's content (the candidate carries the whole merged entry, which is what the
review diff shows); revert undoes either. Every function writes its own audit rows.

Promotion also gives the FAQ the candidate's phrasings (how its source tickets asked, questions a reviewer
replaced), and a merge keeps the question it replaces as one: each is a vector of its own in
`faq_phrasing`, tagged with the approval that added it, so a revert removes exactly those.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from psycopg.types.json import Jsonb

from core.errors import ConflictError, NotFoundError
from faq_mining.faq_store import FAQ_COLUMNS, Connection, FaqRow
from faq_mining.review_models import StagedCandidate

_QUALIFIED_FAQ_COLUMNS = ", ".join(f"faq.{column}" for column in FAQ_COLUMNS.split(", "))


def audit(
    conn: Connection, event: str, actor: str, *, staging_id: int | None, faq_id: int | None, **detail: Any
) -> None:
    """Append one audit row (`event` is its action column: staged, edited, approved, merged, ...)."""
    conn.execute(
        "INSERT INTO faq_audit (staging_id, faq_id, action, actor, detail) VALUES (%s, %s, %s, %s, %s)",
        (staging_id, faq_id, event, actor, Jsonb(detail)),
    )


def lock_faq(conn: Connection, faq_id: int) -> FaqRow:
    """The production FAQ, locked until the transaction ends."""
    row = conn.execute(f"SELECT {FAQ_COLUMNS} FROM faq WHERE id = %s FOR UPDATE", (faq_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"FAQ {faq_id} does not exist")
    return FaqRow.from_row(row)


# Embeds questions as the FAQ tables store them: one pgvector literal per text.
EmbedQuestions = Callable[[Sequence[str]], list[str]]


def add_phrasings(
    conn: Connection,
    faq: FaqRow,
    phrasings: Sequence[Mapping[str, str]],
    staging_id: int | None,
    embed: EmbedQuestions,
) -> int:
    """Give a production FAQ these phrasings (not its question, none it has already); return how many were added."""
    known = {
        row["phrasing"].casefold()
        for row in conn.execute("SELECT phrasing FROM faq_phrasing WHERE faq_id = %s", (faq.id,)).fetchall()
    }
    known.add(faq.question.strip().casefold())
    new: dict[str, str] = {}
    for phrasing in phrasings:
        text = phrasing["text"].strip()
        if text and text.casefold() not in known:
            known.add(text.casefold())
            new[text] = phrasing.get("origin", "ticket")
    if not new:
        return 0
    vectors = embed(list(new))
    conn.execute(
        "INSERT INTO faq_phrasing (faq_id, phrasing, origin, staging_id, embedding, embedding_model)"
        " SELECT %s, p, o, %s, v::vector, %s FROM unnest(%s::text[], %s::text[], %s::text[]) AS t(p, o, v)"
        " ON CONFLICT (faq_id, phrasing) DO NOTHING",
        (faq.id, staging_id, faq.embedding_model, list(new), list(new.values()), vectors),
    )
    return len(new)


def promote_new(conn: Connection, candidate: StagedCandidate, reviewer: str, embed: EmbedQuestions) -> FaqRow:
    """Insert the candidate into production (its embedding copied in SQL); return the new FAQ."""
    row = conn.execute(
        "INSERT INTO faq (question, answer, tags, question_embedding, embedding_model, source_staging_id,"
        " source_ticket_ids, promoted_at, promoted_by, metadata)"
        " SELECT question, answer, tags, question_embedding, embedding_model, id, source_ticket_ids, now(), %s,"
        " jsonb_build_object('source_staging_id', id, 'source_ticket_ids', to_jsonb(source_ticket_ids),"
        "   'promoted_at', now(), 'promoted_by', %s::text, 'confidence', confidence) || metadata"
        f" FROM faq_staging WHERE id = %s RETURNING {FAQ_COLUMNS}",
        (reviewer, reviewer, candidate.id),
    ).fetchone()
    assert row is not None
    created = FaqRow.from_row(row)
    phrasings = add_phrasings(conn, created, candidate.phrasings, candidate.id, embed)
    audit(
        conn,
        "approved",
        reviewer,
        staging_id=candidate.id,
        faq_id=created.id,
        action="NEW",
        faq_version=1,
        phrasings_added=phrasings,
    )
    return created


def promote_merge(conn: Connection, candidate: StagedCandidate, reviewer: str, embed: EmbedQuestions) -> FaqRow:
    """Snapshot the live target, then rewrite it with the candidate's content and sources."""
    assert candidate.merge_with_id is not None
    target = lock_faq(conn, candidate.merge_with_id)
    if target.is_deleted:
        raise ConflictError(
            f"candidate {candidate.id} merges into FAQ {target.id}, which was deleted; reject it or restage it as NEW"
        )
    conn.execute(
        "INSERT INTO faq_snapshot (faq_id, version, question, answer, tags, staging_id)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (target.id, target.version, target.question, target.answer, target.tags, candidate.id),
    )
    row = conn.execute(
        "UPDATE faq SET question = s.question, answer = s.answer, tags = s.tags,"
        " question_embedding = s.question_embedding, embedding_model = s.embedding_model,"
        " source_ticket_ids = ARRAY(SELECT DISTINCT unnest(faq.source_ticket_ids || s.source_ticket_ids) ORDER BY 1),"
        " version = faq.version + 1, updated_at = now(),"
        " metadata = faq.metadata || jsonb_build_object('last_merge', jsonb_build_object('staging_id', s.id,"
        "   'merged_at', now(), 'merged_by', %s::text))"
        f" FROM faq_staging s WHERE s.id = %s AND faq.id = %s RETURNING {_QUALIFIED_FAQ_COLUMNS}",
        (reviewer, candidate.id, target.id),
    ).fetchone()
    assert row is not None
    merged = FaqRow.from_row(row)
    replaced = [{"text": target.question, "origin": "edit"}] if target.question != merged.question else []
    phrasings = add_phrasings(conn, merged, [*replaced, *candidate.phrasings], candidate.id, embed)
    audit(
        conn,
        "approved",
        reviewer,
        staging_id=candidate.id,
        faq_id=merged.id,
        action="MERGE",
        faq_version=merged.version,
        phrasings_added=phrasings,
    )
    audit(
        conn,
        "merged",
        reviewer,
        staging_id=candidate.id,
        faq_id=merged.id,
        from_version=target.version,
        to_version=merged.version,
    )
    return merged


def soft_delete(conn: Connection, faq: FaqRow, actor: str, *, staging_id: int | None, reason: str) -> FaqRow:
    """Mark a locked, live FAQ deleted (it leaves every search at once)."""
    row = conn.execute(
        "UPDATE faq SET is_deleted = true, deleted_at = now(), deleted_by = %s, version = version + 1,"
        f" updated_at = now() WHERE id = %s RETURNING {FAQ_COLUMNS}",
        (actor, faq.id),
    ).fetchone()
    assert row is not None
    deleted = FaqRow.from_row(row)
    audit(conn, "deleted", actor, staging_id=staging_id, faq_id=faq.id, reason=reason, faq_version=deleted.version)
    return deleted


def restore_snapshot(
    conn: Connection, candidate: StagedCandidate, target: FaqRow, embed_question: Callable[[str], str], reviewer: str
) -> FaqRow:
    """Put back the version this candidate's merge replaced; refuses when a later change would be lost.

    Snapshots keep text only: the restored question is embedded again with the registered model
    (`embed_question` returns a pgvector literal), which gives back the vector it had.
    """
    snapshot = conn.execute(
        "SELECT id, version, question, answer, tags, staging_id FROM faq_snapshot WHERE faq_id = %s"
        " ORDER BY version DESC LIMIT 1",
        (target.id,),
    ).fetchone()
    if snapshot is None or snapshot["staging_id"] != candidate.id:
        raise ConflictError(
            f"FAQ {target.id} changed after candidate {candidate.id} was merged into it; revert the later change first"
        )
    if target.version != snapshot["version"] + 1:
        raise ConflictError(f"FAQ {target.id} is at version {target.version}, edited since the merge; revert refused")
    row = conn.execute(
        "UPDATE faq SET question = %s, answer = %s, tags = %s, question_embedding = %s::vector,"
        " source_ticket_ids = ARRAY(SELECT t FROM unnest(source_ticket_ids) AS t WHERE NOT t = ANY(%s::text[])),"
        f" version = version + 1, updated_at = now() WHERE id = %s RETURNING {FAQ_COLUMNS}",
        (
            snapshot["question"],
            snapshot["answer"],
            snapshot["tags"],
            embed_question(snapshot["question"]),
            candidate.source_ticket_ids,
            target.id,
        ),
    ).fetchone()
    assert row is not None
    restored = FaqRow.from_row(row)
    conn.execute("DELETE FROM faq_phrasing WHERE faq_id = %s AND staging_id = %s", (target.id, candidate.id))
    audit(
        conn,
        "reverted",
        reviewer,
        staging_id=candidate.id,
        faq_id=target.id,
        action="MERGE",
        restored_version=snapshot["version"],
        faq_version=restored.version,
    )
    return restored
