"""Accent- and case-blind text: the one `fold` that entity, urgency, sentiment and keyword matching share."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence


def fold(text: str) -> str:
    """Lower case without accents, curly apostrophes made straight ("L’État" -> "l'etat").

    Matching runs on folded text on both sides, so `Prélèvement`, `prelevement` and `PRÉLÈVEMENT` meet.
    """
    decomposed = unicodedata.normalize("NFKD", text.replace("’", "'").lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def same_text_groups(texts: Sequence[str]) -> list[list[int]]:
    """Indices of the texts grouped by what they say (case, accents and spacing aside), first seen first.

    A blank text says nothing, so it is never grouped with another.

    Example:
        >>> same_text_groups(["Restart it.", "", "restart  it.", ""])
        [[0, 2], [1], [3]]
    """
    groups: dict[str, list[int]] = {}
    for index, text in enumerate(texts):
        key = " ".join(fold(text).split())
        groups.setdefault(key or f"\0{index}", []).append(index)
    return list(groups.values())
