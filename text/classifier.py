"""The offline ticket classifier: embeddings + TF-IDF n-grams in one logistic regression, plus keyword rules.

Used by the unified classifier agent when no LLM key is set or the LLM fails. One multinomial logistic
regression reads two views of a ticket side by side: its normalised sentence embedding (meaning, across
paraphrases) scaled by `embedding_weight`, and TF-IDF word 1-2-grams and character 2-5-grams (exact
terms, product names, error codes, French accents stripped). Trained on Banking77 this beats either view
alone by about a point (BENCHMARKS.md). Keyword rules from the taxonomy add `keyword_boost` to a
category's log-odds when its keywords occur, which matters when a category has only a handful of examples.

`confidence` is the softmax probability of the top class; on Banking77 its expected calibration error is
about 1%, so it can be thresholded as is. The model is saved as one `.npz` of arrays plus a JSON header
(no pickle), which records the embedding model and dimension; loading it beside another model is refused.

Example:
    >>> classifier = TicketClassifier.from_taxonomy(default_taxonomy(), embedder)
    >>> classifier.predict("I was charged twice on my invoice").label
    'facturation'
"""

from __future__ import annotations

import hashlib
import json
import logging
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, Field
from sklearn.linear_model import LogisticRegression

from core.embeddings import Embedder, Vectors
from core.errors import EmbeddingModelMismatch, InvalidInputError
from core.settings import Settings
from text.classifier_features import KeywordRules, TextFeatures
from text.taxonomy import Taxonomy, default_taxonomy, load_taxonomy

log = logging.getLogger(__name__)

FORMAT_NAME = "doxa-ticket-classifier"
FORMAT_VERSION = 1
# Chosen on a stratified 20% validation split of Banking77's train split (never its test split).
DEFAULT_REGULARISATION_C = 30.0
DEFAULT_EMBEDDING_WEIGHT = 2.0
DEFAULT_KEYWORD_BOOST = 1.0
DEFAULT_ALTERNATIVES = 3
DEFAULT_MODEL_FILE = "model.npz"
Floats = npt.NDArray[np.float32]


class Prediction(BaseModel):
    """The classifier's answer for one ticket."""

    label: str = Field(description="The most probable category.")
    confidence: float = Field(ge=0.0, le=1.0, description="Probability of `label` (softmax, calibrated).")
    alternatives: list[tuple[str, float]] = Field(
        default_factory=list, description="The next most probable categories with their probabilities."
    )

    @property
    def margin(self) -> float:
        """How far the winner is ahead of the runner-up (1.0 when there is none)."""
        return self.confidence - self.alternatives[0][1] if self.alternatives else 1.0


class TicketClassifier:
    """A fitted classifier; build one with `fit`, `from_taxonomy` or `load`."""

    def __init__(
        self,
        *,
        labels: list[str],
        embedding_coef: Floats,
        text_coef: Floats,
        intercept: Floats,
        text_features: TextFeatures,
        keyword_rules: KeywordRules,
        embedder: Embedder,
        embedding_weight: float,
        provenance: dict[str, Any] | None = None,
    ) -> None:
        self.labels = labels
        self.embedding_coef = embedding_coef  # (dimension, classes), already multiplied by embedding_weight
        self.text_coef = text_coef  # (text features, classes)
        self.intercept = intercept
        self.text_features = text_features
        self.keyword_rules = keyword_rules
        self.embedder = embedder
        self.embedding_weight = embedding_weight
        self.provenance = provenance or {}

    # --- fitting -----------------------------------------------------------------------------------
    @classmethod
    def fit(
        cls,
        texts: Sequence[str],
        labels: Sequence[str],
        embedder: Embedder,
        *,
        vectors: Vectors | None = None,
        keywords: Mapping[str, Sequence[str]] | None = None,
        keyword_boost: float = DEFAULT_KEYWORD_BOOST,
        regularisation_c: float = DEFAULT_REGULARISATION_C,
        embedding_weight: float = DEFAULT_EMBEDDING_WEIGHT,
        provenance: dict[str, Any] | None = None,
    ) -> TicketClassifier:
        """Learn from labelled texts; pass `vectors` when their embeddings are already computed."""
        if len(texts) != len(labels):
            raise InvalidInputError(f"{len(texts)} texts but {len(labels)} labels")
        label_names = sorted(set(labels))
        if len(label_names) < 2:
            raise InvalidInputError("at least two distinct labels are needed to fit a classifier")
        unknown = set(keywords or {}) - set(label_names)
        if unknown:
            raise InvalidInputError(f"keywords given for labels without examples: {sorted(unknown)}")
        if vectors is None:
            vectors = embedder.embed_documents(list(texts))
        _check_vectors(vectors, len(texts), embedder.dimension)
        text_features = TextFeatures.fit(texts)
        design = text_features.joined(texts, vectors, embedding_weight)
        targets = np.array([label_names.index(label) for label in labels])
        model = LogisticRegression(C=regularisation_c, max_iter=3000)
        model.fit(design, targets)
        coef = np.asarray(model.coef_, dtype=np.float32)
        intercept = np.asarray(model.intercept_, dtype=np.float32)
        if len(label_names) == 2:  # sklearn keeps one row for two classes: logits (0, z) give the same softmax
            coef = np.vstack([np.zeros_like(coef), coef])
            intercept = np.concatenate([np.zeros(1, dtype=np.float32), intercept])
        dimension = vectors.shape[1]
        return cls(
            labels=label_names,
            embedding_coef=np.ascontiguousarray(coef[:, :dimension].T * embedding_weight),
            text_coef=np.ascontiguousarray(coef[:, dimension:].T),
            intercept=intercept,
            text_features=text_features,
            keyword_rules=KeywordRules(label_names, keywords or {}, keyword_boost),
            embedder=embedder,
            embedding_weight=embedding_weight,
            provenance={"examples": len(texts), **(provenance or {})},
        )

    @classmethod
    def from_taxonomy(cls, taxonomy: Taxonomy, embedder: Embedder) -> TicketClassifier:
        """Fit on a taxonomy's examples and descriptions, with its keywords as rules."""
        texts, labels = taxonomy.training_pairs()
        return cls.fit(
            texts,
            labels,
            embedder,
            keywords=taxonomy.keywords(),
            provenance={"taxonomy": taxonomy.name},
        )

    # --- prediction --------------------------------------------------------------------------------
    def predict_proba(self, texts: Sequence[str], vectors: Vectors | None = None) -> Floats:
        """Class probabilities, one row per text, columns in `self.labels` order."""
        if vectors is None:
            vectors = self.embedder.encode(list(texts))
        _check_vectors(vectors, len(texts), self.embedding_coef.shape[0])
        logits = vectors @ self.embedding_coef + self.intercept
        logits += np.asarray(self.text_features.transform(texts) @ self.text_coef, dtype=np.float32)
        logits += self.keyword_rules.log_odds_bonus(texts)
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return np.asarray(exp / exp.sum(axis=1, keepdims=True), dtype=np.float32)

    def predict_batch(
        self, texts: Sequence[str], vectors: Vectors | None = None, alternatives: int = DEFAULT_ALTERNATIVES
    ) -> list[Prediction]:
        """Predictions for many texts; `alternatives` is how many runners-up each one lists."""
        probabilities = self.predict_proba(texts, vectors)
        predictions = []
        for row in probabilities:
            ranked = np.argsort(-row, kind="stable")[: alternatives + 1]
            ranking = [(self.labels[i], float(row[i])) for i in ranked]
            predictions.append(Prediction(label=ranking[0][0], confidence=ranking[0][1], alternatives=ranking[1:]))
        return predictions

    def predict(self, text: str, vector: Vectors | None = None, alternatives: int = DEFAULT_ALTERNATIVES) -> Prediction:
        """The prediction for one ticket; pass `vector` when its embedding is already known."""
        vectors = None if vector is None else vector.reshape(1, -1)
        return self.predict_batch([text], vectors, alternatives)[0]

    # --- persistence -------------------------------------------------------------------------------
    def save(self, path: Path) -> Path:
        """Write the model to `path` (a `.npz` file: arrays plus a JSON header, no pickle)."""
        header = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "embedding_model": self.embedder.model_name,
            "embedding_dim": int(self.embedding_coef.shape[0]),
            "labels": self.labels,
            "embedding_weight": self.embedding_weight,
            "text_features": self.text_features.header(),
            "keyword_rules": self.keyword_rules.header(),
            "provenance": self.provenance,
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, Any] = {
            "header": np.array(json.dumps(header, ensure_ascii=False)),
            "embedding_coef": self.embedding_coef,
            "text_coef": self.text_coef,
            "intercept": self.intercept,
            **self.text_features.arrays(),
        }
        with path.open("wb") as stream:  # an open file keeps numpy from appending a second `.npz`
            np.savez_compressed(stream, **arrays)
        return path

    @classmethod
    def load(cls, path: Path, embedder: Embedder) -> TicketClassifier:
        """Read a model written by `save`; refuses one made with another embedding model or dimension."""
        if not path.is_file():
            raise InvalidInputError(f"no classifier model at {path}")
        try:
            with np.load(path, allow_pickle=False) as stored:
                arrays = {name: stored[name] for name in stored.files}
            header = json.loads(str(arrays.pop("header")))
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise InvalidInputError(f"{path} is not a Doxa classifier model: {exc}") from exc
        if header.get("format") != FORMAT_NAME or header.get("version") != FORMAT_VERSION:
            raise InvalidInputError(f"{path} is not a version-{FORMAT_VERSION} Doxa classifier model")
        if header["embedding_model"] != embedder.model_name or header["embedding_dim"] != embedder.dimension:
            raise EmbeddingModelMismatch(
                f"classifier {path} was fitted on {header['embedding_model']} ({header['embedding_dim']}-d) "
                f"but the configured model is {embedder.model_name} ({embedder.dimension}-d); refit it"
            )
        try:
            classifier = cls(
                labels=list(header["labels"]),
                embedding_coef=arrays.pop("embedding_coef"),
                text_coef=arrays.pop("text_coef"),
                intercept=arrays.pop("intercept"),
                text_features=TextFeatures.from_stored(header["text_features"], arrays),
                keyword_rules=KeywordRules.from_header(header["labels"], header["keyword_rules"]),
                embedder=embedder,
                embedding_weight=float(header["embedding_weight"]),
                provenance=dict(header.get("provenance", {})),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise InvalidInputError(f"{path} is an incomplete Doxa classifier model: {exc}") from exc
        expected_shapes = {
            "embedding_coef": (embedder.dimension, len(classifier.labels)),
            "text_coef": (classifier.text_features.size, len(classifier.labels)),
            "intercept": (len(classifier.labels),),
        }
        for name, shape in expected_shapes.items():
            if getattr(classifier, name).shape != shape:
                raise InvalidInputError(f"{path}: {name} has shape {getattr(classifier, name).shape}, not {shape}")
        return classifier


def _check_vectors(vectors: Vectors, rows: int, dimension: int) -> None:
    """Refuse vectors whose shape does not match the texts or the model."""
    if vectors.ndim != 2 or vectors.shape != (rows, dimension):
        raise EmbeddingModelMismatch(
            f"expected {rows} vectors of dimension {dimension}, got an array of shape {vectors.shape}"
        )


def default_model_path(settings: Settings) -> Path:
    """Where `doxa classify fit` saves the model and the classifier agent looks for it."""
    return settings.state_dir("classifier") / DEFAULT_MODEL_FILE


def load_or_fit_default(settings: Settings, embedder: Embedder) -> TicketClassifier:
    """The user's fitted model under DOXA_HOME if there is one, else one fitted on the taxonomy.

    The taxonomy is DOXA_TAXONOMY_PATH or the built-in default; its fitted model is cached under
    DOXA_HOME, keyed by the taxonomy's content and the embedding model, so later starts only load it.
    """
    path = default_model_path(settings)
    if path.is_file():
        return TicketClassifier.load(path, embedder)
    taxonomy = load_taxonomy(settings.taxonomy_path) if settings.taxonomy_path else default_taxonomy()
    fingerprint = hashlib.sha256(f"{embedder.model_name}\n{taxonomy.model_dump_json()}".encode()).hexdigest()[:16]
    cached = settings.state_dir("classifier") / f"taxonomy-{fingerprint}.npz"
    if cached.is_file():
        return TicketClassifier.load(cached, embedder)
    log.info("no classifier at %s: fitting one on the taxonomy %r", path, taxonomy.name)
    classifier = TicketClassifier.from_taxonomy(taxonomy, embedder)
    classifier.save(cached)
    return classifier
