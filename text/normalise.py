"""Accent- and case-blind text: the one `fold` that entity, urgency, sentiment and keyword matching share."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Lower case without accents, curly apostrophes made straight ("L’État" -> "l'etat").

    Matching runs on folded text on both sides, so `Prélèvement`, `prelevement` and `PRÉLÈVEMENT` meet.
    """
    decomposed = unicodedata.normalize("NFKD", text.replace("’", "'").lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))
