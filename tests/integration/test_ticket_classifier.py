"""The offline ticket classifier with the real MiniLM model: default taxonomy, persistence, Banking77 subset."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.embeddings import Embedder
from core.errors import EmbeddingModelMismatch, InvalidInputError
from text.classifier import TicketClassifier
from text.taxonomy import default_taxonomy

pytestmark = pytest.mark.slow

TYPICAL_TICKETS = {
    "Je n'arrive pas à me connecter, mot de passe refusé": "authentification",
    "I was charged twice on my invoice": "facturation",
    "Could you add dark mode?": "feature_request",
    "The app crashes with error 500 when exporting": "technique",
    "Ma facture de mars comporte une erreur de montant": "facturation",
    "Le logiciel plante à chaque export PDF": "technique",
    "My two-factor code never arrives": "authentification",
    "Serait-il possible d'ajouter un export Excel ?": "feature_request",
    "Merci beaucoup pour votre aide, bonne journée": "autre",
}


@pytest.fixture(scope="module")
def default_classifier(embedder: Embedder) -> TicketClassifier:
    return TicketClassifier.from_taxonomy(default_taxonomy(), embedder)


@pytest.mark.parametrize(("text", "expected"), TYPICAL_TICKETS.items())
def test_default_taxonomy_classifies_typical_french_and_english_tickets(
    default_classifier: TicketClassifier, text: str, expected: str
) -> None:
    assert default_classifier.predict(text).label == expected


def test_confidence_is_a_probability_and_alternatives_are_ranked(default_classifier: TicketClassifier) -> None:
    prediction = default_classifier.predict("I cannot log in and my invoice is wrong", alternatives=4)
    assert 0.0 <= prediction.confidence <= 1.0
    probabilities = [prediction.confidence] + [p for _, p in prediction.alternatives]
    assert probabilities == sorted(probabilities, reverse=True)
    assert sum(probabilities) == pytest.approx(1.0, abs=1e-4)
    assert {label for label, _ in prediction.alternatives} | {prediction.label} == set(default_classifier.labels)
    assert prediction.margin == pytest.approx(prediction.confidence - prediction.alternatives[0][1])


def test_precomputed_vector_gives_the_same_prediction(default_classifier: TicketClassifier, embedder: Embedder) -> None:
    text = "Where can I download my receipt?"
    assert default_classifier.predict(text, embedder.embed_query(text)) == default_classifier.predict(text)


def test_keywords_nudge_the_decision(default_classifier: TicketClassifier) -> None:
    text = "Question sur la TVA"
    with_rules = default_classifier.predict_proba([text])[0]
    boost = default_classifier.keyword_rules.boost
    default_classifier.keyword_rules.boost = 0.0
    try:
        without_rules = default_classifier.predict_proba([text])[0]
    finally:
        default_classifier.keyword_rules.boost = boost
    billing = default_classifier.labels.index("facturation")
    assert with_rules[billing] > without_rules[billing]


def test_save_load_round_trip_gives_identical_predictions(
    default_classifier: TicketClassifier, embedder: Embedder, tmp_path: Path
) -> None:
    texts = list(TYPICAL_TICKETS) + ["Quel est le prix de l'offre Pro ?"]
    path = default_classifier.save(tmp_path / "model.npz")
    assert path == tmp_path / "model.npz"
    loaded = TicketClassifier.load(path, embedder)
    np.testing.assert_allclose(loaded.predict_proba(texts), default_classifier.predict_proba(texts), atol=1e-6)
    assert loaded.predict_batch(texts) == default_classifier.predict_batch(texts)


def test_loading_beside_another_model_or_dimension_is_refused(
    default_classifier: TicketClassifier, embedder: Embedder, tmp_path: Path
) -> None:
    path = default_classifier.save(tmp_path / "model.npz")
    other_name = Embedder("another/model", embedder.model_path, embedder.dimension)
    with pytest.raises(EmbeddingModelMismatch, match="another/model"):
        TicketClassifier.load(path, other_name)
    other_dimension = Embedder(embedder.model_name, embedder.model_path, 768)
    with pytest.raises(EmbeddingModelMismatch, match="768"):
        TicketClassifier.load(path, other_dimension)


def test_a_file_that_is_not_a_model_is_refused(embedder: Embedder, tmp_path: Path) -> None:
    path = tmp_path / "model.npz"
    path.write_text("not a model")
    with pytest.raises(InvalidInputError):
        TicketClassifier.load(path, embedder)


def test_a_model_with_missing_arrays_is_refused(
    default_classifier: TicketClassifier, embedder: Embedder, tmp_path: Path
) -> None:
    path = default_classifier.save(tmp_path / "model.npz")
    with np.load(path, allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files if name != "text_coef"}
    with path.open("wb") as stream:
        np.savez(stream, **arrays)
    with pytest.raises(InvalidInputError, match="incomplete"):
        TicketClassifier.load(path, embedder)


def test_fit_refuses_a_single_label_and_mismatched_lengths(embedder: Embedder) -> None:
    with pytest.raises(InvalidInputError, match="two distinct labels"):
        TicketClassifier.fit(["a", "b"], ["x", "x"], embedder)
    with pytest.raises(InvalidInputError, match="labels"):
        TicketClassifier.fit(["a", "b"], ["x"], embedder)


def test_two_labels_give_complementary_probabilities(embedder: Embedder) -> None:
    texts = ["refund my money", "I was billed twice", "cannot log in", "password rejected"]
    classifier = TicketClassifier.fit(texts, ["billing", "billing", "access", "access"], embedder)
    prediction = classifier.predict("my login does not work", alternatives=1)
    assert prediction.label == "access"
    assert prediction.confidence + prediction.alternatives[0][1] == pytest.approx(1.0, abs=1e-5)


def test_banking77_subset_reaches_a_sensible_accuracy(embedder: Embedder, shared_data: Path) -> None:
    rows = [json.loads(line) for line in (shared_data / "banking77" / "tickets.jsonl").open(encoding="utf-8")]
    chosen = sorted({row["category"] for row in rows})[::8][:10]
    train: dict[str, list[str]] = {label: [] for label in chosen}
    for row in rows:
        if row["split"] == "train" and row["category"] in train and len(train[row["category"]]) < 20:
            train[row["category"]].append(row["body"])
    texts = [text for label in chosen for text in train[label]]
    labels = [label for label in chosen for _ in train[label]]
    test = [row for row in rows if row["split"] == "test" and row["category"] in train]
    classifier = TicketClassifier.fit(texts, labels, embedder)
    predicted = [p.label for p in classifier.predict_batch([row["body"] for row in test])]
    accuracy = np.mean([p == row["category"] for p, row in zip(predicted, test, strict=True)])
    assert len(test) == 400
    assert accuracy >= 0.85  # chance is 0.10; a model that ignores the text or shuffles labels cannot pass
