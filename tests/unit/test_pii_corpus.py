"""The one PII detector on the corpus of forms real tickets carry (tests/data/pii_corpus.jsonl).

The figures in RELIABILITY.md come from `python -m benchmarks.pii_corpus`; this test holds the floor
under them, so a change that loses a form or starts redacting order numbers fails here.
"""

from __future__ import annotations

import pytest

from benchmarks.pii_corpus import doxa_detector, load_corpus, score
from text.pii import redact_pii

CORPUS = load_corpus()


def test_recall_and_false_positives_on_the_corpus() -> None:
    result = score(doxa_detector(), CORPUS)
    assert result.recall >= 0.95, result.missed
    assert result.false_positive_rate <= 0.05, result.false_positives


@pytest.mark.parametrize("line", [line for line in CORPUS if not line.get("heldout") and line["values"]])
def test_every_written_form_is_redacted(line: dict[str, object]) -> None:
    redacted = redact_pii(str(line["text"])).text
    for value in line["values"]:  # type: ignore[attr-defined]
        assert value not in redacted


@pytest.mark.parametrize("line", [line for line in CORPUS if not line.get("heldout") and not line["values"]])
def test_look_alikes_survive(line: dict[str, object]) -> None:
    redacted = redact_pii(str(line["text"])).text
    for kept in line["keep"]:  # type: ignore[attr-defined]
        assert kept in redacted


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The adversarial test's findings, each a form that reached a public FAQ or a team e-mail.
        ("card 4111.1111.1111.1111 fails", "card [CARD] fails"),
        ("mail jane.doe at orange dot fr", "mail [EMAIL]"),
        ("Jeanne Dupont confirmed the fix", "[NAME] confirmed the fix"),
        ("Jane Doe's mailbox was full", "[NAME]'s mailbox was full"),
        ("the customer called Jeanne Dupont", "the customer called [NAME]"),
        ("Hello, Jeanne,\nthe VPN works", "Hello, [NAME],\nthe VPN works"),
        ("call 06.12.34.56.78", "call [PHONE]"),
        ("call +33 6 12 34 56 78", "call [PHONE]"),
    ],
)
def test_the_adversarial_findings_are_redacted(text: str, expected: str) -> None:
    assert redact_pii(text).text == expected
