"""Rows that give the same answer are one FAQ asked many ways, in `doxa eval` files as on `doxa faq import`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from faq_mining.faq_import import read_faq_file
from kb.evaluation import FaqItem, LabelledQuery, fold_shared_answers, load_faqs, resolve_gold
from text.normalise import same_text_groups


def test_texts_are_grouped_by_what_they_say_and_blank_ones_stay_alone() -> None:
    assert same_text_groups(["Restart it.", "", "restart  it.", "", "Réinstallez.", "Reinstallez."]) == [
        [0, 2],
        [1],
        [3],
        [4, 5],
    ]


def test_an_eval_file_folds_rows_with_one_answer_and_gold_rows_count_as_their_faq(tmp_path: Path) -> None:
    path = tmp_path / "kb.jsonl"
    rows = [
        {"id": "card#0", "question": "How do I activate my card?", "answer": "Open Cards > Activate."},
        {"id": "card#1", "question": "My card is not active", "answer": "Open Cards > Activate.", "variants": ["x"]},
        {"id": "pin", "question": "I forgot my PIN", "answer": "Cards > Show PIN."},
        {"id": "q1", "question": "Where is my refund?", "answer": ""},
        {"id": "q2", "question": "Refund not received", "answer": ""},
    ]
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n")

    faqs = load_faqs(path)

    assert faqs[0] == FaqItem(
        "card#0", "How do I activate my card?", "Open Cards > Activate.", ("My card is not active", "x"), ("card#1",)
    )
    assert [faq.id for faq in faqs] == ["card#0", "pin", "q1", "q2"]  # rows without an answer are left alone
    queries = [LabelledQuery("card inactive", ("card#1",)), LabelledQuery("pin?", ("pin", "card#1", "card#0"))]
    assert resolve_gold(queries, faqs) == [
        LabelledQuery("card inactive", ("card#0",)),
        LabelledQuery("pin?", ("pin", "card#0")),
    ]
    assert fold_shared_answers(faqs) == faqs  # folding twice changes nothing


def test_an_import_file_folds_rows_with_one_answer_into_the_first(tmp_path: Path) -> None:
    path = tmp_path / "intents.jsonl"
    rows = [
        {"question": "How do I activate my card?", "answer": "Open Cards > Activate.", "tags": ["cards"]},
        {"question": "Where is the PIN?", "answer": "Cards > Show PIN."},
        {"question": "My card is not active", "answer": "open cards >  activate.", "tags": ["onboarding"]},
    ]
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n")

    card, pin = read_faq_file(path)

    assert (card.question, card.variants, card.rows_folded) == (
        "How do I activate my card?",
        ["My card is not active"],
        1,
    )
    assert card.tags == ["cards", "onboarding"] and card.answer == "Open Cards > Activate."
    assert (pin.question, pin.variants, pin.rows_folded) == ("Where is the PIN?", [], 0)
    assert [row.question for row in read_faq_file(path, fold=False)] == [
        "How do I activate my card?",
        "Where is the PIN?",
        "My card is not active",
    ]


def test_a_fit_depends_on_what_the_units_hold_not_on_their_ids_or_order() -> None:
    from typing import cast

    from core.embeddings import Embedder
    from core.settings import Settings
    from kb.faq_calibration import IndexRow, by_content, fit_rows
    from tests.fakes import HashingEmbedder

    class Documents(HashingEmbedder):
        def embed_documents(self, texts: list[str]) -> np.ndarray:
            return self.encode(texts)

    embedder = Documents()
    topics = [f"topic{n} subject{n} matter{n}" for n in range(14)]
    ways = ["how do I fix {t}", "{t} is broken again", "I need help with {t} today"]

    def rows(ids: list[str], order: list[int]) -> list[IndexRow]:
        out = []
        for n in order:  # units in this order, each unit's rows in its own order
            for way in ways:
                text = way.format(t=topics[n])
                out.append(IndexRow(ids[n], text, embedder.encode([text])[0], probe_text=text))
        return out

    first = rows([f"faq:{n}" for n in range(14)], list(range(14)))
    second = rows([f"doc:{chr(122 - n)}" for n in range(14)], list(range(13, -1, -1)))
    assert [r.unit_id for r in by_content(first)[0]] == [r.unit_id for r in by_content(second)[0]]
    settings = Settings(mistral_api_key=None)
    one = fit_rows(first, cast(Embedder, embedder), settings, {}).model
    other = fit_rows(second, cast(Embedder, embedder), settings, {}).model
    assert one.kind == "logistic" and (one.threshold, one.coef) == (other.threshold, other.coef)
