"""Technical entities in ticket text: error codes, versions, platforms, product components.

Used by the query analyzer's offline path and as keyword boosts for retrieval. Ticket ids
("TKT-456", "INC0012345"), order numbers, prices and dates are not entities: an error code needs an
error cue ("error 500", "HTTP 503"), a known form ("0x80070005", "ERR_CONNECTION_REFUSED",
"ECONNREFUSED", "E1234", "ORA-00942") or an HTTP reason phrase ("404 Not Found").

Example:
    >>> entities = extract_entities("Error 0x80070005 on Windows 11 when I export the invoice")
    >>> entities.error_codes, entities.versions, entities.platforms, entities.components
    (('0x80070005',), ('Windows 11',), ('Windows',), ('export', 'invoice'))
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from text.normalise import fold
from text.vocabulary import DEFAULT_COMPONENT_VOCABULARY, PLATFORM_PATTERNS, VERSIONED_PRODUCT_NAMES

_ERROR_CODE_RES = (
    # A cue then a code: "error 500", "erreur : 1603", "HTTP 503", "status code 401", "errno 111".
    re.compile(
        r"\b(?:error|erreur|err|errno|http|status|statut|exit)(?:\s+code)?\s*(?:n°|no\.?|#)?\s*[:=]?\s*"
        r"(?P<code>0x[0-9A-Fa-f]{4,8}|[A-Z]{0,5}-?\d{2,6})\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"\bcode\s+(?:d'|d’)?(?:erreur|error)\s*[:=]?\s*(?P<code>0x[0-9A-Fa-f]{4,8}|[A-Z]{0,5}-?\d{2,6})\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(?P<code>[1-5]\d{2})\s+(?:not found|internal server error|bad request|unauthori[sz]ed|forbidden|"
        r"bad gateway|service unavailable|gateway time-?out|too many requests|conflict|"
        r"method not allowed|request timeout|payment required|unprocessable entity)\b",
        re.IGNORECASE,
    ),
    re.compile(r"(?<![\w-])(?P<code>0x[0-9A-Fa-f]{4,8})\b"),
    re.compile(r"\b(?P<code>(?:NET::)?[A-Z]{2,}(?:_[A-Z0-9]+)+)\b"),
    re.compile(
        r"\b(?P<code>E(?:CONNREFUSED|CONNRESET|CONNABORTED|TIMEDOUT|NOENT|ACCES|PERM|ADDRINUSE|PIPE|"
        r"HOSTUNREACH|NETUNREACH|NOTFOUND|AI_AGAIN))\b"
    ),
    re.compile(r"\b(?P<code>(?:E|ERR|ORA|AADSTS|SQL|PLS|CS|TS|WSA)-?\d{3,8})\b"),
)

_VERSIONED_NAME = "|".join(re.escape(name) for name in VERSIONED_PRODUCT_NAMES)
_VERSION_RES = (
    # "iOS 17.2", "Windows 11", "Chrome 120.0.6099.109": reported with the product name.
    re.compile(rf"\b(?P<version>(?:{_VERSIONED_NAME}) v?\d+(?:\.\d+)*)(?!\w|\.\d)", re.IGNORECASE),
    # "v2.3.1", "version 14", "build 10.0.19045": reported as the number alone.
    re.compile(r"(?<![\w.])v(?P<version>\d+(?:\.\d+){1,3}(?:-[0-9A-Za-z.]+)?)\b"),
    re.compile(
        r"\b(?:version|release|build|firmware|ver\.)\s*:?\s*v?(?P<version>\d+(?:\.\d+){0,3})(?!\w|\.\d)",
        re.IGNORECASE,
    ),
    # Bare "2.3.1" (three parts, not a date such as 11.01.2024).
    re.compile(r"(?<![\w.])(?P<version>\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?)(?!\w|\.\d)"),
)
_DATE_LIKE_RE = re.compile(r"^(?:\d{1,2}\.\d{1,2}\.\d{2,4}|\d{4}\.\d{1,2}\.\d{1,2})$")


@dataclass(frozen=True, slots=True)
class Entities:
    """Entities found in a text, each list deduplicated in order of first appearance."""

    error_codes: tuple[str, ...] = ()
    versions: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    components: tuple[str, ...] = ()


def extract_entities(
    text: str, *, component_vocabulary: Mapping[str, Sequence[str]] = DEFAULT_COMPONENT_VOCABULARY
) -> Entities:
    """Error codes, versions, platforms and components (canonical names from `component_vocabulary`)."""
    return Entities(
        error_codes=_unique(_error_codes(text)),
        versions=_unique(_versions(text)),
        platforms=_unique(name for name, pattern in PLATFORM_PATTERNS.items() if pattern.search(text)),
        components=_components(text, component_vocabulary),
    )


def _error_codes(text: str) -> Iterable[str]:
    found: list[tuple[int, str]] = []
    for pattern in _ERROR_CODE_RES:
        found.extend((match.start("code"), match.group("code")) for match in pattern.finditer(text))
    return (code for _, code in sorted(found))


def _versions(text: str) -> Iterable[str]:
    found: list[tuple[int, int, str]] = []
    claimed: list[tuple[int, int]] = []
    for pattern in _VERSION_RES:
        for match in pattern.finditer(text):
            start, end = match.span("version")
            version = match.group("version")
            if _DATE_LIKE_RE.match(version) or any(start < right and left < end for left, right in claimed):
                continue
            claimed.append((start, end))
            found.append((start, end, _canonical_product_case(version)))
    return (version for _, _, version in sorted(found))


def _canonical_product_case(version: str) -> str:
    """Spell a product name as its makers do: "ios 17.2" -> "iOS 17.2"."""
    name, _, number = version.partition(" ")
    for known in VERSIONED_PRODUCT_NAMES:
        if number and name.lower() == known.lower():
            return f"{known} {number}"
    return version


def _components(text: str, vocabulary: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    folded = fold(text)
    patterns = _component_patterns(tuple((name, tuple(synonyms)) for name, synonyms in vocabulary.items()))
    hits = [(match.start(), name) for name, pattern in patterns if (match := pattern.search(folded))]
    return tuple(name for _, name in sorted(hits))


@lru_cache(maxsize=16)
def _component_patterns(vocabulary: tuple[tuple[str, tuple[str, ...]], ...]) -> list[tuple[str, re.Pattern[str]]]:
    """One accent-blind pattern per component; the name itself counts as a synonym."""
    compiled = []
    for name, synonyms in vocabulary:
        alternatives = sorted({fold(word) for word in (name, *synonyms)}, key=len, reverse=True)
        body = "|".join(re.escape(word).replace(r"\ ", r"\s+") for word in alternatives)
        compiled.append((name, re.compile(rf"(?<![\w-])(?:{body})(?![\w-])")))
    return compiled


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))
