"""Deterministic text heuristics for the ticket graph's offline paths: no model, no I/O.

- `detect_language` — French or English, from stop words and accents;
- `extract_keywords` — 5 to 8 retrieval keywords, codes and versions kept;
- `extract_entities` — error codes, versions, platforms, components (from `text.entities`);
- `urgency_signals` — urgency and impact phrases with a score hint (from `text.urgency`);
- `vagueness` — the validator's length and "no real content" checks.

Example:
    >>> extract_keywords("Export CSV fails with ERR_CONNECTION_REFUSED on Chrome since v2.3.1 update")
    ['ERR_CONNECTION_REFUSED', '2.3.1', 'export', 'csv', 'chrome', 'fails']
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from text.entities import Entities, extract_entities
from text.normalise import fold
from text.urgency import UrgencySignals, urgency_signals
from text.vocabulary import (
    DEFAULT_COMPONENT_VOCABULARY,
    KEYWORD_FILLER,
    LANGUAGE_MARKERS,
    STOP_WORDS,
    VAGUE_WORDS,
)

__all__ = [
    "MIN_DESCRIPTION_LENGTH",
    "Entities",
    "Language",
    "UrgencySignals",
    "VaguenessReport",
    "detect_language",
    "extract_entities",
    "extract_keywords",
    "urgency_signals",
    "vagueness",
]

Language = Literal["fr", "en"]

MIN_DESCRIPTION_LENGTH = 20
"""A description shorter than this (after collapsing repeated characters) is too short to act on."""

_PLACEHOLDER_RE = re.compile(r"\[[A-Z_]+\]")  # left by text.pii redaction: "[EMAIL]", "[NAME]"
_WORD_RE = re.compile(r"\w+(?:['’]\w+)*")
_KEYWORD_TOKEN_RE = re.compile(
    r"0x[0-9A-Fa-f]{4,8}\b|(?:NET::)?[A-Z]{2,}(?:_[A-Z0-9]+)+\b|v?\d+(?:\.\d+)+\b|[^\W_]+(?:[-_][^\W_]+)*"
)
_FRENCH_ACCENT_RE = re.compile(r"[éèêëàâçùûôîïœ]", re.IGNORECASE)
_FRENCH_ELISION_RE = re.compile(r"\b(?:l|d|j|n|qu|c|s|m)['’]\w", re.IGNORECASE)
_REPEATED_RUN_RE = re.compile(r"(.)\1{3,}")
_KEYBOARD_MASH_RE = re.compile(r"qwert|azert|asdf|qsdf|zxcv|wxcv|hjkl|uiop|sdfg|dfgh|fghj|ghjk|jklm|xcvb|cvbn|vbnm")
_STEM_ENDINGS = ("ing", "ed", "er", "ez", "e")
# Times, ordinals and sizes ("2am", "14h30", "3rd", "1er", "10MB") are not retrieval keywords.
_NUMERIC_NOISE_RE = re.compile(r"\d+(?:am|pm|h\d*|st|nd|rd|th|er|e|eme|ème|min|s|ms|kb|mb|gb|ko|mo|go|%)", re.I)
_VOWELS = frozenset("aeiouyœ")
_CONSONANT_RUN_RE = re.compile(r"[b-df-hj-np-tv-xz]{6,}")


@dataclass(frozen=True, slots=True)
class VaguenessReport:
    """The validator's heuristic verdict; `reasons` are stable codes, worded for customers elsewhere."""

    too_short: bool
    vague: bool
    reasons: tuple[str, ...]


def detect_language(text: str, *, default: Language = "en") -> Language:
    """Guess whether `text` is French or English; `default` when nothing tells them apart."""
    words = [word.replace("’", "'") for word in _WORD_RE.findall(fold(text))]
    tokens = [part for word in words for part in word.split("'") if part]
    scores: dict[str, float] = {
        language: float(sum(token in markers for token in tokens)) for language, markers in LANGUAGE_MARKERS.items()
    }
    # Accents and elisions ("l'export", "d'erreur") are French even where there are few stop words.
    scores["fr"] += 0.5 * len(_FRENCH_ACCENT_RE.findall(text)) + len(_FRENCH_ELISION_RE.findall(text))
    if scores["fr"] == scores["en"]:
        return default
    return "fr" if scores["fr"] > scores["en"] else "en"


def extract_keywords(text: str, k_min: int = 5, k_max: int = 8, language: Language | None = None) -> list[str]:
    """Keywords for retrieval, most telling first.

    Stop words (French and English whatever `language` says, tickets mix them) and help-desk filler
    are dropped. Each remaining word scores by frequency plus a bonus for appearing early (subjects
    come first); error codes, versions and known platforms/components score extra and keep their
    written form, other words are lower-cased. Singular and plural share one keyword, spelled the
    way the text spells it most often ("factures" twice, "facture" once: "factures"). Words scoring
    at least a third of the best are kept, then the count is brought within `k_min`..`k_max`:
    fewer than `k_min` only when the text has fewer content words.
    `language` narrows nothing today; it is accepted so callers can pass what they detected.
    """
    if not 1 <= k_min <= k_max:
        raise ValueError(f"need 1 <= k_min <= k_max, got k_min={k_min}, k_max={k_max}")
    del language  # both stop-word lists always apply; see the docstring
    clean = _PLACEHOLDER_RE.sub(" ", text)
    entities = extract_entities(clean)
    technical = {*entities.error_codes, *entities.versions}
    # "iOS 17.2" also yields "17.2"; a bare "11" from "Windows 11" says little on its own.
    technical |= {number for version in entities.versions if "." in (number := version.rpartition(" ")[2])}
    # Words naming a platform or component found in the text, in any of their synonyms ("facture").
    names = [*entities.platforms, *entities.components]
    names += [synonym for name in entities.components for synonym in DEFAULT_COMPONENT_VOCABULARY.get(name, ())]
    boosted = {fold(word) for name in names for word in name.split()}

    tokens = [match.group() for match in _KEYWORD_TOKEN_RE.finditer(clean)]
    scores: dict[str, float] = {}
    surfaces: dict[str, Counter[str]] = {}
    for position, token in enumerate(tokens):
        surface = _keyword_surface(token, technical)
        if surface is None:
            continue
        key = _dedupe_key(surface)
        if key not in scores:
            # First sighting: earlier words weigh more, technical tokens and known names more still.
            scores[key] = 1.0 - position / len(tokens)
            if surface in technical:
                scores[key] += 2.0
            elif key in boosted or fold(surface) in boosted:
                scores[key] += 1.0
        scores[key] += 1.0
        surfaces.setdefault(key, Counter())[surface] += 1

    ranked = sorted(scores, key=lambda key: -scores[key])  # stable: ties keep text order
    if not ranked:
        return []
    strong = sum(scores[key] >= scores[ranked[0]] / 3 for key in ranked)
    count = min(len(ranked), max(k_min, min(k_max, strong)))
    # The most frequent spelling of each keyword; on a tie the shorter (singular) one.
    return [max(surfaces[key].items(), key=lambda item: (item[1], -len(item[0])))[0] for key in ranked[:count]]


def vagueness(text: str, *, min_length: int = MIN_DESCRIPTION_LENGTH) -> VaguenessReport:
    """Check a subject or description for being too short or saying nothing specific.

    Reason codes: `too_short`, `no_words` (punctuation or emoji only), `only_generic_words`
    ("help", "problème", "urgent!!!", "ça marche pas"; a number or an acronym is content),
    `gibberish` (keyboard mashing, words without vowels), `repeated_characters` (padding such as
    "aaaaaa" or "!!!!!!"). Length is measured after collapsing repeated characters, so padding
    does not reach `min_length`.
    """
    stripped = text.strip()
    collapsed = _REPEATED_RUN_RE.sub(r"\1", stripped)
    reasons: list[str] = []
    if len(collapsed) < min_length:
        reasons.append("too_short")
    words = [word for word in _WORD_RE.findall(collapsed) if not word.isdigit()]
    if not any(char.isalnum() for char in stripped):
        reasons.append("no_words")
    elif words and not any(char.isdigit() for char in stripped) and all(_is_generic(word) for word in words):
        reasons.append("only_generic_words")
    elif words and sum(_looks_like_gibberish(word) for word in words) * 2 >= len(words):
        reasons.append("gibberish")
    if stripped and (len(stripped) - len(collapsed)) * 10 >= 3 * len(stripped.replace(" ", "")):
        reasons.append("repeated_characters")
    return VaguenessReport(
        too_short="too_short" in reasons,
        vague=any(reason != "too_short" for reason in reasons),
        reasons=tuple(reasons),
    )


def _keyword_surface(token: str, technical: set[str]) -> str | None:
    """The form a token takes as a keyword, or None when it is not one."""
    if token in technical or token.lstrip("vV") in technical:
        return token if token in technical else token.lstrip("vV")
    folded = fold(token)
    if folded in STOP_WORDS or folded in KEYWORD_FILLER or folded.replace(".", "").isdigit():
        return None
    too_short = len(token) < 3 and not (token.isupper() and len(token) == 2)  # "UI", "IP" are fine
    if too_short or _NUMERIC_NOISE_RE.fullmatch(token):
        return None
    keeps_case = any(char.isdigit() for char in token) or "_" in token
    return token if keeps_case else token.lower()


def _dedupe_key(surface: str) -> str:
    """A light stem: accent-blind, lower-case, without a plural and one common ending.

    "Factures"/"facture", "exporter"/"export"/"exporté", "crashes"/"crashed" share a key; a stem
    keeps at least four letters, so short words ("user", "order") stay whole.
    """
    key = fold(surface)
    if len(key) > 4 and key[-1] in "sx" and key[-2] not in "su":
        key = key[:-1]
    for ending in _STEM_ENDINGS:
        if key.endswith(ending) and len(key) - len(ending) >= 4:
            return key[: -len(ending)]
    return key


def _is_generic(word: str) -> bool:
    """Whether a word is vague or a stop word; "doesn't" counts as "doesnt" or "doesn" + "t".

    A short all-caps word that is not itself vague ("EU", "ATM", "PDF") is an acronym, so content.
    """
    folded = fold(word)
    if folded in VAGUE_WORDS:
        return True
    if word.isupper() and 2 <= len(word) <= 5:
        return False
    generic = VAGUE_WORDS | STOP_WORDS
    parts = [part for part in folded.split("'") if part]
    return folded.replace("'", "") in generic or all(part in generic for part in parts)


def _looks_like_gibberish(word: str) -> bool:
    """Keyboard runs, words without vowels, or six consonants in a row; short acronyms ("HTTP") pass."""
    if len(word) < 4 or any(char.isdigit() for char in word) or (word.isupper() and len(word) <= 5):
        return False
    folded = fold(word)
    if _KEYBOARD_MASH_RE.search(folded):
        return True
    return not any(char in _VOWELS for char in folded) or _CONSONANT_RUN_RE.search(folded) is not None
