"""Import curated FAQs (a help centre's existing FAQ page) into production, each with the ways it is asked.

The file is JSON Lines of `{question, answer[, id][, tags][, variants]}`, the format `doxa eval` reads.
Every row is checked before anything is written (a question and an answer, no personal data, no question
twice), and the import is one transaction: a bad row writes nothing. The file is the reviewed source, so
rows skip the candidate review; the audit trail records who imported which file. Re-running is idempotent:
a live FAQ that asks the same question (its question or a phrasing, ignoring case) is kept as it is and
only gains the variants it lacks, each a phrasing of its own (`faq_phrasing`, origin `variant`). Rows that
give the same answer are one FAQ: the first row's, with the others' questions as its variants
(`fold_shared_answers`).

Example:
    >>> rows = read_faq_file(Path("faqs.jsonl"))
    >>> import_faqs(FaqStore.from_services(services), services.embedder, rows, actor="alice", source="faqs.jsonl")
    ImportResult(created=[1, 2], existing=[], phrasings_added=5, rows_folded=0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from psycopg.types.json import Jsonb

from core.embeddings import Embedder
from core.errors import InvalidInputError
from core.jsonl import read_json_objects
from faq_mining import promotion
from faq_mining.faq_store import FAQ_COLUMNS, Connection, FaqRow, FaqStore, normalise_tags
from text.normalise import same_text_groups
from text.pii import detect_pii


@dataclass(frozen=True)
class FaqImportRow:
    """One FAQ of an import file."""

    question: str
    answer: str
    tags: list[str] = field(default_factory=list)
    variants: list[str] = field(default_factory=list)
    source_id: str | None = None
    rows_folded: int = 0  # later rows of the file with the same answer, whose questions are variants here


@dataclass(frozen=True)
class ImportResult:
    """FAQs created, live FAQs that already asked the question, phrasings added, rows folded into another."""

    created: list[int]
    existing: list[int]
    phrasings_added: int
    rows_folded: int = 0


def read_faq_file(path: Path, *, fold: bool = True) -> list[FaqImportRow]:
    """The rows of an import file, each checked; InvalidInputError names the file and line of the first bad one.

    With `fold`, rows that give the same answer come back as one (`fold_shared_answers`).
    """
    rows: list[FaqImportRow] = []
    seen: dict[str, int] = {}
    for number, record in read_json_objects(path):
        where = f"{path}:{number}"
        question, answer = record.get("question"), record.get("answer")
        if not isinstance(question, str) or not question.strip():
            raise InvalidInputError(f"{where}: 'question' must be a non-empty string")
        if not isinstance(answer, str) or not answer.strip():
            raise InvalidInputError(f"{where}: 'answer' must be a non-empty string")
        tags, variants = _strings(record, "tags", where), _strings(record, "variants", where)
        kinds = sorted({f.kind.value for text in (question, answer, *tags, *variants) for f in detect_pii(text)})
        if kinds:
            raise InvalidInputError(f"{where}: contains personal data or secrets ({', '.join(kinds)})")
        question = " ".join(question.split())
        key = question.casefold()
        if key in seen:
            raise InvalidInputError(f"{where}: the question of line {seen[key]} again")
        seen[key] = number
        source_id = record.get("id")
        rows.append(
            FaqImportRow(
                question=question,
                answer=answer.strip(),
                tags=normalise_tags(tags),
                variants=variants,
                source_id=None if source_id is None else str(source_id),
            )
        )
    if not rows:
        raise InvalidInputError(f"{path}: no FAQs")
    return fold_shared_answers(rows) if fold else rows


def fold_shared_answers(rows: Sequence[FaqImportRow]) -> list[FaqImportRow]:
    """Rows that give the same answer as one FAQ: the first row's, asked the others' ways too.

    An intent list exported one training phrase per row, each with the intent's response, is one FAQ per
    response; kept apart, every row's nearest rival would be a twin with the same answer.
    """
    folded = []
    for group in same_text_groups([row.answer for row in rows]):
        first, others = rows[group[0]], [rows[i] for i in group[1:]]
        asked = [*first.variants, *(text for row in others for text in (row.question, *row.variants))]
        folded.append(
            FaqImportRow(
                question=first.question,
                answer=first.answer,
                tags=normalise_tags([*first.tags, *(tag for row in others for tag in row.tags)]),
                variants=list(dict.fromkeys(text for text in asked if text.casefold() != first.question.casefold())),
                source_id=first.source_id,
                rows_folded=len(others),
            )
        )
    return folded


def import_faqs(
    store: FaqStore, embedder: Embedder, rows: Sequence[FaqImportRow], *, actor: str, source: str
) -> ImportResult:
    """Create the FAQs the table lacks and give every row's FAQ its variants, in one transaction."""
    if not actor.strip():
        raise InvalidInputError("an import needs the name of who imports it")

    def embed(texts: Sequence[str]) -> list[str]:
        return store.embed_questions(embedder, texts)

    question_vectors = embed([row.question for row in rows])
    created: list[int] = []
    existing: list[int] = []
    added = 0
    with store.db.transaction() as conn:
        for row, vector in zip(rows, question_vectors, strict=True):
            # A live FAQ asks it already when it is its question or one of its phrasings: a re-import whose
            # rows came in another order folds under another first question, which is a phrasing here.
            found = conn.execute(
                f"SELECT {FAQ_COLUMNS} FROM faq WHERE NOT is_deleted AND (lower(question) = lower(%(q)s)"
                " OR id IN (SELECT faq_id FROM faq_phrasing WHERE lower(phrasing) = lower(%(q)s)))"
                " ORDER BY lower(question) = lower(%(q)s) DESC, id LIMIT 1 FOR UPDATE",
                {"q": row.question},
            ).fetchone()
            if found is not None:
                faq = FaqRow.from_row(found)
                existing.append(faq.id)
            else:
                faq = _insert(conn, row, vector, store.model_name, actor, source)
                created.append(faq.id)
            variants = [{"text": text, "origin": "variant"} for text in row.variants]
            phrasings = promotion.add_phrasings(conn, faq, variants, None, embed)
            added += phrasings
            if found is None or phrasings:
                event = "imported" if found is None else "variants_imported"
                promotion.audit(
                    conn, event, actor, staging_id=None, faq_id=faq.id, source=source, phrasings_added=phrasings
                )
    return ImportResult(created, existing, added, sum(row.rows_folded for row in rows))


def _insert(conn: Connection, row: FaqImportRow, vector: str, model: str, actor: str, source: str) -> FaqRow:
    metadata = {"imported_from": source, **({"source_id": row.source_id} if row.source_id else {})}
    inserted = conn.execute(
        "INSERT INTO faq (question, answer, tags, question_embedding, embedding_model, promoted_by, metadata)"
        f" VALUES (%s, %s, %s, %s::vector, %s, %s, %s) RETURNING {FAQ_COLUMNS}",
        (row.question, row.answer, row.tags, vector, model, actor, Jsonb(metadata)),
    ).fetchone()
    assert inserted is not None
    return FaqRow.from_row(inserted)


def _strings(record: dict[str, object], name: str, where: str) -> list[str]:
    value = record.get(name, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidInputError(f"{where}: {name!r} must be a list of strings")
    return list(dict.fromkeys(" ".join(item.split()) for item in value if item.strip()))
