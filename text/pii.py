r"""Personal data and secrets in ticket text: detect, redact, and report kinds without values.

Runs before any LLM call or embedding, and again on what the LLM writes before it is staged. Findings
carry a kind and a span, never the matched text, so they are safe to log and to store.

Example:
    >>> result = redact_pii("Hi John,\nmy card 4111 1111 1111 1111 fails, mail me at jo@acme.io")
    >>> result.text
    'Hi [NAME],\nmy card [CARD] fails, mail me at [EMAIL]'
    >>> [str(kind) for kind in result.kinds], result.count
    (['card_number', 'email', 'person_name'], 3)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import phonenumbers

from text.pii_names import find_person_names
from text.pii_patterns import (
    Span,
    find_card_numbers,
    find_emails,
    find_ibans,
    find_ip_addresses,
    find_secret_tokens,
    find_url_secrets,
)


class PiiKind(StrEnum):
    """A kind of personal data or secret; the value is what gets recorded instead of the data."""

    EMAIL = "email"
    PHONE = "phone"
    CARD_NUMBER = "card_number"
    IBAN = "iban"
    IP_ADDRESS = "ip_address"
    URL_SECRET = "url_secret"
    SECRET = "secret"
    PERSON_NAME = "person_name"

    @property
    def placeholder(self) -> str:
        """The typed marker that replaces a value of this kind in redacted text."""
        return _PLACEHOLDERS[self]


_PLACEHOLDERS = {
    PiiKind.EMAIL: "[EMAIL]",
    PiiKind.PHONE: "[PHONE]",
    PiiKind.CARD_NUMBER: "[CARD]",
    PiiKind.IBAN: "[IBAN]",
    PiiKind.IP_ADDRESS: "[IP]",
    PiiKind.URL_SECRET: "[SECRET]",
    PiiKind.SECRET: "[SECRET]",
    PiiKind.PERSON_NAME: "[NAME]",
}


def has_placeholder(text: str) -> bool:
    """Whether redaction replaced something in this text (it holds a `[EMAIL]`-style marker)."""
    return any(marker in text for marker in set(_PLACEHOLDERS.values()))


# When spans overlap, the merged span is labelled with the kind listed first: the more specific
# structure wins (a card number's digits also parse as a phone number, a URL's password as an e-mail).
_KIND_PRECEDENCE = (
    PiiKind.URL_SECRET,
    PiiKind.SECRET,
    PiiKind.IBAN,
    PiiKind.CARD_NUMBER,
    PiiKind.EMAIL,
    PiiKind.IP_ADDRESS,
    PiiKind.PHONE,
    PiiKind.PERSON_NAME,
)


@dataclass(frozen=True, slots=True)
class PiiFinding:
    """Where a value of some kind sits in a text: `text[start:end]`. Holds no part of the value."""

    kind: PiiKind
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class RedactionResult:
    """Text with every finding replaced by its placeholder, the kinds found (sorted) and how many."""

    text: str
    kinds: tuple[PiiKind, ...]
    count: int


def detect_pii(text: str, *, default_region: str = "FR") -> list[PiiFinding]:
    """Find personal data and secrets in `text`, sorted by position, overlapping spans merged.

    `default_region` is the ISO country used to read phone numbers written without a "+" prefix.
    """
    detectors: dict[PiiKind, Callable[[str], Iterable[Span]]] = {
        PiiKind.URL_SECRET: find_url_secrets,
        PiiKind.SECRET: find_secret_tokens,
        PiiKind.IBAN: find_ibans,
        PiiKind.CARD_NUMBER: find_card_numbers,
        PiiKind.EMAIL: find_emails,
        PiiKind.IP_ADDRESS: find_ip_addresses,
        PiiKind.PHONE: lambda source: _find_phone_numbers(source, default_region),
        PiiKind.PERSON_NAME: find_person_names,
    }
    raw = [
        PiiFinding(kind, start, end) for kind, detect in detectors.items() for start, end in detect(text) if end > start
    ]
    return _merge_overlapping(raw)


def redact_pii(text: str, *, default_region: str = "FR") -> RedactionResult:
    """Replace each finding with its kind's placeholder (`[EMAIL]`, `[PHONE]`, ...).

    Placeholders are never detected themselves, so redacting redacted text changes nothing.
    """
    findings = detect_pii(text, default_region=default_region)
    pieces: list[str] = []
    cursor = 0
    for finding in findings:
        pieces.append(text[cursor : finding.start])
        pieces.append(finding.kind.placeholder)
        cursor = finding.end
    pieces.append(text[cursor:])
    kinds = tuple(sorted({finding.kind for finding in findings}))
    return RedactionResult(text="".join(pieces), kinds=kinds, count=len(findings))


def redact_texts(texts: Iterable[str], *, default_region: str = "FR") -> tuple[list[str], tuple[PiiKind, ...]]:
    """Each text redacted, and the kinds found across all of them: what a row stored for later reading keeps."""
    results = [redact_pii(text, default_region=default_region) for text in texts]
    kinds = tuple(sorted({kind for result in results for kind in result.kinds}))
    return [result.text for result in results], kinds


def redact_json(value: Any, *, default_region: str = "FR") -> tuple[Any, tuple[PiiKind, ...]]:
    """A JSON-like value (dicts, lists, strings) with every string redacted, and the kinds found.

    For records shown to people later (an escalation's context): the structure stays, the values go.
    """
    found: set[PiiKind] = set()

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            result = redact_pii(item, default_region=default_region)
            found.update(result.kinds)
            return result.text
        if isinstance(item, dict):
            return {key: walk(child) for key, child in item.items()}
        if isinstance(item, list | tuple):
            return [walk(child) for child in item]
        return item

    return walk(value), tuple(sorted(found))


def contains_pii(text: str, *, default_region: str = "FR") -> bool:
    """Whether `text` holds any personal data or secret (for the skip-instead-of-redact policy)."""
    return bool(detect_pii(text, default_region=default_region))


def _find_phone_numbers(text: str, default_region: str) -> Iterator[Span]:
    """Valid phone numbers for their region; dates, prices and ids do not pass `Leniency.VALID`."""
    matcher = phonenumbers.PhoneNumberMatcher(text, default_region, leniency=phonenumbers.Leniency.VALID)
    for match in matcher:
        yield match.start, match.end


def _merge_overlapping(findings: list[PiiFinding]) -> list[PiiFinding]:
    """One finding per group of overlapping spans, covering the group and named by precedence."""
    rank = {kind: position for position, kind in enumerate(_KIND_PRECEDENCE)}
    merged: list[PiiFinding] = []
    for finding in sorted(findings, key=lambda item: (item.start, -item.end)):
        if merged and finding.start < merged[-1].end:
            previous = merged[-1]
            kind = min(previous.kind, finding.kind, key=rank.__getitem__)
            merged[-1] = PiiFinding(kind, previous.start, max(previous.end, finding.end))
        else:
            merged.append(finding)
    return merged
