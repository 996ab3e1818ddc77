"""The production FAQ table as a list: live FAQs, most recently changed first, page by page."""

from __future__ import annotations

from dataclasses import dataclass

from core.database import Database
from core.errors import InvalidInputError
from faq_mining.faq_store import FAQ_COLUMNS, FaqRow

MAX_PAGE = 1000


@dataclass(frozen=True)
class FaqPage:
    """One page of live FAQs and how many are live in all."""

    items: list[FaqRow]
    total: int
    limit: int
    offset: int


def list_live_faqs(db: Database, limit: int = 50, offset: int = 0) -> FaqPage:
    """Live (not soft-deleted) FAQs, most recently updated first, `limit` (1-1000) from `offset`."""
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise InvalidInputError(f"limit must be 1 to {MAX_PAGE} and offset not negative")
    with db.connection() as conn:
        rows = conn.execute(
            f"SELECT {FAQ_COLUMNS} FROM faq WHERE NOT is_deleted ORDER BY updated_at DESC, id DESC LIMIT %s OFFSET %s",
            (limit, offset),
        ).fetchall()
        total = conn.execute("SELECT count(*) AS n FROM faq WHERE NOT is_deleted").fetchone()
        conn.rollback()
    return FaqPage([FaqRow.from_row(row) for row in rows], int(total["n"]) if total else 0, limit, offset)
