"""Surface features of ticket text for the offline classifier: TF-IDF n-grams and keyword rules.

Both are stored as plain arrays and JSON (vocabularies, IDF weights, keyword lists), so a saved
classifier never needs pickle.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from core.errors import InvalidInputError

# Character n-grams seen once are mostly noise on thousands of examples, but on a taxonomy of a hundred
# phrases they are much of the signal, so the pruning starts only for larger training sets.
CHAR_MIN_DF_FROM_EXAMPLES = 1000
KEYWORD_HITS_CAP = 2  # a ticket full of billing words is not infinitely more likely to be billing


def fold_text(text: str) -> str:
    """Lower-case and strip accents, so `Prélèvement` and `prelevement` match alike."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("\u2019", "'"))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _vectorizer(analyzer: str, vocabulary: list[str] | None = None, min_df: int = 1) -> TfidfVectorizer:
    """The word (1-2-gram) or character (2-5-gram, within words) TF-IDF vectorizer."""
    ngram_range = (1, 2) if analyzer == "word" else (2, 5)
    return TfidfVectorizer(
        analyzer=analyzer,
        ngram_range=ngram_range,
        sublinear_tf=True,
        strip_accents="unicode",
        lowercase=True,
        min_df=min_df,
        vocabulary=vocabulary,
        dtype=np.float32,
    )


ANALYZERS = {"word": "word", "char": "char_wb"}


class TextFeatures:
    """Word and character TF-IDF, concatenated (each block L2-normalised)."""

    def __init__(self, vectorizers: dict[str, TfidfVectorizer]) -> None:
        self.vectorizers = vectorizers

    @classmethod
    def fit(cls, texts: Sequence[str]) -> TextFeatures:
        """Learn vocabularies and IDF weights from training texts."""
        char_min_df = 2 if len(texts) >= CHAR_MIN_DF_FROM_EXAMPLES else 1
        vectorizers = {
            "word": _vectorizer(ANALYZERS["word"]),
            "char": _vectorizer(ANALYZERS["char"], min_df=char_min_df),
        }
        for vectorizer in vectorizers.values():
            vectorizer.fit(texts)
        return cls(vectorizers)

    @property
    def size(self) -> int:
        """Number of columns `transform` returns."""
        return sum(len(vectorizer.vocabulary_) for vectorizer in self.vectorizers.values())

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Sparse TF-IDF rows, word block then character block."""
        blocks = [vectorizer.transform(texts) for vectorizer in self.vectorizers.values()]
        return sp.csr_matrix(sp.hstack(blocks, format="csr"))

    def joined(self, texts: Sequence[str], vectors: npt.NDArray[np.float32], weight: float) -> sp.csr_matrix:
        """The classifier's design matrix: weighted embeddings beside the TF-IDF columns."""
        dense = sp.csr_matrix(vectors * np.float32(weight))
        return sp.csr_matrix(sp.hstack([dense, self.transform(texts)], format="csr"))

    def header(self) -> dict[str, Any]:
        """The JSON part of the stored state: each block's vocabulary in column order."""
        return {
            name: sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
            for name, vectorizer in self.vectorizers.items()
        }

    def arrays(self) -> dict[str, npt.NDArray[np.float32]]:
        """The array part of the stored state: each block's IDF weights."""
        return {f"idf_{name}": np.asarray(v.idf_, dtype=np.float32) for name, v in self.vectorizers.items()}

    @classmethod
    def from_stored(cls, header: Mapping[str, list[str]], arrays: Mapping[str, Any]) -> TextFeatures:
        """Rebuild from `header()` and `arrays()` output."""
        vectorizers = {}
        for name, analyzer in ANALYZERS.items():
            vocabulary = list(header[name])
            idf = np.asarray(arrays[f"idf_{name}"], dtype=np.float64)
            if idf.shape != (len(vocabulary),):
                raise InvalidInputError(f"stored {name} IDF weights do not match its vocabulary")
            vectorizer = _vectorizer(analyzer, vocabulary=vocabulary)
            vectorizer.idf_ = idf
            vectorizers[name] = vectorizer
        return cls(vectorizers)


class KeywordRules:
    """Per-label keywords that add log-odds to their label when they occur in a ticket."""

    def __init__(self, labels: Sequence[str], keywords: Mapping[str, Sequence[str]], boost: float) -> None:
        self.labels = list(labels)
        self.keywords = {label: [k for k in words if k.strip()] for label, words in keywords.items()}
        self.boost = boost
        self._patterns = {
            self.labels.index(label): re.compile(
                "|".join(rf"(?<!\w){re.escape(fold_text(word.strip()))}(?!\w)" for word in words)
            )
            for label, words in self.keywords.items()
            if words
        }

    def log_odds_bonus(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """`boost` x (keyword hits, capped) per text and label."""
        bonus = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        if not self._patterns or self.boost == 0:
            return bonus
        for row, text in enumerate(texts):
            folded = fold_text(text)
            for column, pattern in self._patterns.items():
                hits = len(pattern.findall(folded))
                bonus[row, column] = self.boost * min(hits, KEYWORD_HITS_CAP)
        return bonus

    def header(self) -> dict[str, Any]:
        """JSON form for saving."""
        return {"boost": self.boost, "keywords": self.keywords}

    @classmethod
    def from_header(cls, labels: Sequence[str], header: Mapping[str, Any]) -> KeywordRules:
        """Rebuild from `header()` output."""
        return cls(labels, header.get("keywords", {}), float(header.get("boost", 0.0)))
