"""Negative-sentiment detection for the evaluator's offline path: lexicon rules, French and English.

A strongly negative ticket goes to a human rather than an automatic answer. The score sums word
weights from `text.sentiment_lexicon`, scaled by intensifiers ("très", "really"), flipped by a
negation within three words ("not happy", "pas content"), boosted by capitals and exclamation
marks; profanity and threats (leaving, legal action, chargeback, public complaint) weigh extra.
The sum is squashed into [-1, 1] the way VADER does.

Example:
    >>> result = analyze_sentiment("Je ne suis pas content, je vais porter plainte !")
    >>> result.label, result.strongly_negative, result.cues
    ('negative', True, ['negated:content', 'threat:legal'])
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

from text.normalise import fold
from text.sentiment_lexicon import (
    DAMPENERS,
    FRUSTRATION_PATTERN,
    IDIOM_PATTERN,
    IDIOM_WEIGHTS,
    INTENSIFIERS,
    NEGATORS,
    PROFANITY,
    THREAT_PATTERNS,
    WORD_WEIGHTS,
)

SentimentLabel = Literal["negative", "neutral", "positive"]

DEFAULT_STRONGLY_NEGATIVE_THRESHOLD = -0.65
"""Score at or below which a ticket counts as strongly negative: a very strong word ("furious",
"worst"), a strong one intensified ("really terrible") or two clear ones ("disappointed and annoyed").
A lone "terrible" (-0.61) is not enough. Any threat cue makes a ticket strongly negative anyway."""

LABEL_THRESHOLD = 0.1
"""Scores within ±0.1 of zero are neutral: a lone "thanks" or "bad" does not make a mood."""

NEGATION_FACTOR = -0.75
INTENSIFIER_FACTOR = 1.5
DAMPENER_FACTOR = 0.5
CAPS_FACTOR = 1.5
PROFANITY_WEIGHT = -2.5
THREAT_WEIGHT = -4.0
FRUSTRATION_WEIGHT = -2.0
SHOUTING_WEIGHT = -1.0
NORMALISATION_ALPHA = 15.0
NEGATION_WINDOW = 3

_TOKEN_RE = re.compile(r"\w+(?:'\w+)*|[.!?;,:]")
_FRENCH_ELISION_RE = re.compile(r"^(?:n|j|l|d|qu|c|s|m|t)'", re.IGNORECASE)
_CLAUSE_BREAKS = frozenset(".!?;,:")
# A threat right after a negation in the same clause ("I don't want to cancel my subscription").
_NEGATION_BEFORE_RE = re.compile(
    r"\b(?:not|never|no|dont|don't|won't|wont|ne|n'|pas|jamais|sans)[\s']+(?:[\w']+\s+){0,3}$"
)


@dataclass(frozen=True, slots=True)
class SentimentResult:
    """Score in [-1, 1], its label, whether it warrants escalation, and the cues that produced it."""

    score: float
    label: SentimentLabel
    strongly_negative: bool
    cues: list[str]


def analyze_sentiment(
    text: str, *, strongly_negative_threshold: float = DEFAULT_STRONGLY_NEGATIVE_THRESHOLD
) -> SentimentResult:
    """Score the mood of a ticket or a customer reply.

    `strongly_negative` is true when the score is at or below `strongly_negative_threshold` or when
    the text threatens to leave, sue, charge back or complain publicly.
    """
    folded = fold(text)
    cues: list[str] = []
    total = 0.0
    for match in IDIOM_PATTERN.finditer(text):
        total += IDIOM_WEIGHTS[match.group().lower()]
        cues.append(f"idiom:{match.group().lower()}")
    # Idiom words are blanked so "terrible" in "pas terrible" is not scored a second time.
    total += _score_words(IDIOM_PATTERN.sub(lambda match: " " * len(match.group()), text), cues)

    threat_found = False
    for category, pattern in THREAT_PATTERNS.items():
        for match in pattern.finditer(folded):
            if not _NEGATION_BEFORE_RE.search(folded[max(0, match.start() - 40) : match.start()]):
                threat_found = True
                total += THREAT_WEIGHT
                cues.append(f"threat:{category}")
                break
    for match in FRUSTRATION_PATTERN.finditer(folded):
        total += FRUSTRATION_WEIGHT
        cues.append(f"frustration:{match.group()}")

    letters = [char for char in text if char.isalpha()]
    if len(letters) >= 12 and sum(char.isupper() for char in letters) / len(letters) >= 0.7:
        total += SHOUTING_WEIGHT
        cues.append("shouting")
    exclamations = text.count("!")
    if exclamations >= 2 and total < 0:
        total *= 1 + min(0.45, 0.15 * exclamations)
        cues.append("exclamations")

    score = total / math.sqrt(total * total + NORMALISATION_ALPHA)
    label: SentimentLabel = (
        "negative" if score <= -LABEL_THRESHOLD else "positive" if score >= LABEL_THRESHOLD else "neutral"
    )
    return SentimentResult(
        score=round(score, 4),
        label=label,
        strongly_negative=threat_found or score <= strongly_negative_threshold,
        cues=cues,
    )


def _score_words(text: str, cues: list[str]) -> float:
    """Sum of lexicon weights and profanity, each word adjusted by the few words before it."""
    tokens = _tokens(text)
    total = 0.0
    for index, (original, word) in enumerate(tokens):
        if word in PROFANITY:
            total += PROFANITY_WEIGHT
            cues.append(f"profanity:{word}")
            continue
        weight = WORD_WEIGHTS.get(word)
        if weight is None or _is_modifier_of_next(word, tokens, index):
            continue
        window = _words_before(tokens, index)
        if window and window[-1] in INTENSIFIERS:
            weight *= INTENSIFIER_FACTOR
        elif window and window[-1] in DAMPENERS:
            weight *= DAMPENER_FACTOR
        if original.isupper() and len(original) >= 3:
            weight *= CAPS_FACTOR
        if any(previous in NEGATORS for previous in window):
            weight *= NEGATION_FACTOR
            cues.append(f"negated:{word}")
        else:
            cues.append(f"{'negative' if weight < 0 else 'positive'}:{word}")
        total += weight
    return total


def _is_modifier_of_next(word: str, tokens: list[tuple[str, str]], index: int) -> bool:
    """Whether a word that is both a sentiment word and an intensifier ("super") modifies the next."""
    return word in INTENSIFIERS and index + 1 < len(tokens) and tokens[index + 1][1] in WORD_WEIGHTS


def _words_before(tokens: list[tuple[str, str]], index: int) -> list[str]:
    """Up to `NEGATION_WINDOW` folded words before `index`, stopping at punctuation."""
    window: list[str] = []
    for _, word in reversed(tokens[max(0, index - NEGATION_WINDOW) : index]):
        if word in _CLAUSE_BREAKS:
            break
        window.insert(0, word)
    return window


def _tokens(text: str) -> list[tuple[str, str]]:
    """(original, folded) pairs; French elisions split off ("n'est" → "n", "est"), "don't" → "dont"."""
    pairs: list[tuple[str, str]] = []
    for match in _TOKEN_RE.finditer(text.replace("’", "'")):
        original = match.group()
        elision = _FRENCH_ELISION_RE.match(original)
        if elision and len(original) > elision.end():
            pairs.append((elision.group()[:-1], fold(elision.group()[:-1])))
            original = original[elision.end() :]
        pairs.append((original, fold(original).replace("'", "")))
    return pairs
