"""The keyword side of hybrid retrieval: an in-process BM25 index over KB chunks, per field.

Each chunk is indexed twice, as two BM25 fields: its section path (the title side, "Doc > Section")
and its text (the body side). Titles of help-centre articles read like the questions people ask, so
the two fields are weighted separately at fusion time (see `kb.fusion`).

Tokenisation folds case and accents, drops English and French stop words, stems with the Snowball
stemmer of the text's language when PyStemmer is installed, and keeps identifiers whole: an error
code (`0x80070005`, `ERR_CONNECTION_REFUSED`), a version (`v2.3.1`) or a file name (`torrc.d`) is one
token, and its parts are indexed beside it so `connection refused` still matches.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

import bm25s
import numpy as np
import numpy.typing as npt
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_FRENCH

from text.normalise import fold

log = logging.getLogger(__name__)

Scores = npt.NDArray[np.float32]

# A token is a run of letters/digits, optionally joined by . _ - / to further runs (versions, codes,
# file names, snake_case), with a trailing + or # kept for c++ and c#.
_TOKEN = re.compile(r"[a-z0-9]+(?:[._\-/][a-z0-9]+)*[+#]*")
_JOINERS = re.compile(r"[._\-/]")
_MIN_STEM_LENGTH = 4


_STOPWORDS_EN = frozenset(fold(word) for word in STOPWORDS_EN)
_STOPWORDS_FR = frozenset(fold(word) for word in STOPWORDS_FRENCH)
_STOPWORDS = _STOPWORDS_EN | _STOPWORDS_FR


@lru_cache(maxsize=2)
def _stemmer(language: str) -> Any:
    """PyStemmer's Snowball stemmer for `language`, or None when PyStemmer is not installed."""
    try:
        import Stemmer
    except ImportError:
        log.warning("PyStemmer is not installed: keyword search runs without stemming")
        return None
    return Stemmer.Stemmer(language)


def is_identifier(token: str) -> bool:
    """Whether a token names something exactly: it holds a digit, an underscore or an inner dot."""
    return any(char.isdigit() for char in token) or "_" in token or "." in token


def _stemmer_language(words: Sequence[str]) -> str:
    """The Snowball stemmer for these folded tokens: "french" when French stop words outnumber English ones.

    Not `text.analysis.detect_language` (markers, accents and elisions of the raw text): the index and its
    queries pick their stemmer by this count over the very stop words the index drops, and changing the rule
    would re-rank retrieval.
    """
    english = sum(word in _STOPWORDS_EN for word in words)
    french = sum(word in _STOPWORDS_FR for word in words)
    return "french" if french > english else "english"


def tokenize(text: str) -> list[str]:
    """Index terms of a text: folded, stop words dropped, stemmed, identifiers kept whole and split."""
    raw = _TOKEN.findall(fold(text))
    stemmer = _stemmer(_stemmer_language(raw))
    terms: list[str] = []
    for token in raw:
        parts = _JOINERS.split(token)
        if len(parts) > 1:
            terms.append(token)
        for part in parts:
            if len(part) < 2 and len(parts) > 1 or not part or part in _STOPWORDS:
                continue
            if stemmer is not None and part.isalpha() and len(part) >= _MIN_STEM_LENGTH:
                part = stemmer.stemWord(part)
            terms.append(part)
    return terms


def identifiers(text: str) -> list[str]:
    """The identifier tokens of a text (error codes, versions, snake_case names), folded, unique."""
    return list(dict.fromkeys(token for token in _TOKEN.findall(fold(text)) if is_identifier(token)))


@dataclass(frozen=True)
class KeywordDocument:
    """What the keyword index needs of one chunk."""

    chunk_id: str
    title: str  # the section path, "Document > Section"
    body: str  # the chunk text
    category: str | None = None


@dataclass(frozen=True)
class KeywordMatch:
    """BM25 scores of one chunk for one query, per field, and the exact matches it holds."""

    chunk_id: str
    title_score: float
    body_score: float
    identifier_coverage: float  # share of the query's identifiers found verbatim
    keyword_coverage: float = 0.0  # share of the given keywords whose every term it contains


class KeywordSource(Protocol):
    """Where the index reads chunks from, and the revision that says when they changed."""

    def revision(self) -> int:
        """A number that changes whenever chunks are added, changed or removed."""
        ...

    def keyword_documents(self) -> tuple[int, list[KeywordDocument]]:
        """Every chunk, with the revision they were read at."""
        ...


class KeywordIndex:
    """BM25 (k1, b) over chunk titles and bodies, searched with an optional category filter.

    Example:
        >>> index = KeywordIndex.build([KeywordDocument("c1", "Errors", "Code 0x80070005 means...")])
        >>> index.search("0x80070005", limit=5)[0].chunk_id
        'c1'
    """

    def __init__(
        self, documents: Sequence[KeywordDocument], *, k1: float = 1.2, b: float = 0.75, revision: int = 0
    ) -> None:
        self.revision = revision
        self.chunk_ids = [doc.chunk_id for doc in documents]
        self._position = {chunk_id: i for i, chunk_id in enumerate(self.chunk_ids)}
        self._category_code: dict[str, int] = {}
        self._categories = np.array(
            [self._category_code.setdefault(doc.category or "", len(self._category_code)) for doc in documents],
            dtype=np.int32,
        )
        # The last query's field scores: `retrieve` asks for the top matches, then for the scores of
        # the dense side's candidates, with the same query; one (key, value) tuple, so threads see
        # either the old or the new entry, never half of one.
        self._last: tuple[tuple[str, tuple[str, ...]], tuple[Scores, Scores, Scores, Scores]] | None = None
        self._title = _bm25([tokenize(doc.title) for doc in documents], k1, b)
        self._body = _bm25([tokenize(doc.body) for doc in documents], k1, b)

    @classmethod
    def build(cls, documents: Iterable[KeywordDocument], *, revision: int = 0) -> KeywordIndex:
        """Index documents with Doxa's BM25 parameters (k1 1.2, b 0.75)."""
        return cls(list(documents), revision=revision)

    def __len__(self) -> int:
        return len(self.chunk_ids)

    def search(
        self, query: str, *, limit: int, category: str | None = None, extra_terms: Sequence[str] = ()
    ) -> list[KeywordMatch]:
        """The `limit` best chunks by title + body BM25, restricted to `category` when given.

        `extra_terms` (the ticket's keywords) are added to the query, so chunks matching them rank
        higher; identifiers among query and keywords are matched exactly for `identifier_coverage`.
        """
        title, body, coverage, keyword_coverage = self._field_scores(query, extra_terms)
        combined = title + body + coverage + keyword_coverage
        if category is not None:
            code = self._category_code.get(category)
            combined = np.where(self._categories == code, combined, 0.0) if code is not None else combined * 0
        matched = np.flatnonzero(combined > 0)
        if matched.size > limit:
            matched = matched[np.argpartition(-combined[matched], limit - 1)[:limit]]
        ordered = matched[np.argsort(-combined[matched], kind="stable")]
        return [self._match(int(i), title, body, coverage, keyword_coverage) for i in ordered]

    def scores_for(self, query: str, chunk_ids: Sequence[str], extra_terms: Sequence[str] = ()) -> list[KeywordMatch]:
        """Keyword scores of the given chunks (found by the dense side only), in the given order."""
        title, body, coverage, keyword_coverage = self._field_scores(query, extra_terms)
        return [
            self._match(self._position[chunk_id], title, body, coverage, keyword_coverage)
            if chunk_id in self._position
            else KeywordMatch(chunk_id, 0.0, 0.0, 0.0)
            for chunk_id in chunk_ids
        ]

    def _match(self, i: int, title: Scores, body: Scores, coverage: Scores, keyword_coverage: Scores) -> KeywordMatch:
        return KeywordMatch(
            self.chunk_ids[i], float(title[i]), float(body[i]), float(coverage[i]), float(keyword_coverage[i])
        )

    def _field_scores(self, query: str, keywords: Sequence[str]) -> tuple[Scores, Scores, Scores, Scores]:
        """Title BM25, body BM25, identifier coverage and keyword coverage of every chunk."""
        key = (query, tuple(keywords))
        last = self._last
        if last is not None and last[0] == key:
            return last[1]
        scores = self._compute_field_scores(query, keywords)
        self._last = (key, scores)
        return scores

    def _compute_field_scores(self, query: str, keywords: Sequence[str]) -> tuple[Scores, Scores, Scores, Scores]:
        text = " ".join([query, *keywords])
        terms = tokenize(text)
        wanted = identifiers(text)
        coverage = np.zeros(len(self.chunk_ids), dtype=np.float32)
        for token in wanted:
            coverage += self._contains_all([token])
        if wanted:
            coverage /= len(wanted)
        keyword_terms = [found for found in (tokenize(keyword) for keyword in keywords) if found]
        keyword_coverage = np.zeros(len(self.chunk_ids), dtype=np.float32)
        for phrase in keyword_terms:
            keyword_coverage += self._contains_all(phrase)
        if keyword_terms:
            keyword_coverage /= len(keyword_terms)
        return self._scores(self._title, terms), self._scores(self._body, terms), coverage, keyword_coverage

    def _contains_all(self, terms: Sequence[str]) -> npt.NDArray[np.bool_]:
        """Per chunk, whether its title or body holds every one of the terms."""
        present = np.ones(len(self.chunk_ids), dtype=bool)
        for term in terms:
            present &= (self._scores(self._title, [term]) > 0) | (self._scores(self._body, [term]) > 0)
        return present

    def _scores(self, field: bm25s.BM25 | None, terms: list[str]) -> Scores:
        known = [term for term in terms if field is not None and term in field.vocab_dict]
        if field is None or not known:
            return np.zeros(len(self.chunk_ids), dtype=np.float32)
        return np.asarray(field.get_scores(known), dtype=np.float32)


def _bm25(corpus: list[list[str]], k1: float, b: float) -> bm25s.BM25 | None:
    """A BM25 index of one field, or None when the field holds no term at all (bm25s refuses that)."""
    if not any(corpus):
        return None
    field = bm25s.BM25(k1=k1, b=b)
    field.index(corpus, show_progress=False)
    return field


class CachedKeywordIndex:
    """The keyword index of a source, kept in memory and rebuilt when the source's revision changes.

    The revision is read at most once per `revision_check_s` seconds (0: on every query), so a
    change made by another process (an ingest) is seen within that delay.

    Example:
        >>> keyword_index = CachedKeywordIndex(PostgresPassages(db, model), revision_check_s=1.0)
        >>> keyword_index.current().search("reset password", limit=20)
    """

    def __init__(
        self,
        source: KeywordSource,
        *,
        revision_check_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if revision_check_s < 0:
            raise ValueError(f"revision_check_s must be >= 0, got {revision_check_s}")
        self.source = source
        self.revision_check_s = revision_check_s
        self._clock = clock
        self._index: KeywordIndex | None = None
        self._checked_at = float("-inf")
        self._lock = threading.Lock()
        self._rebuilding = False
        self.builds = 0

    def current(self) -> KeywordIndex:
        """The index for the source's current revision.

        The first build blocks every caller; later rebuilds run in the one caller that saw the new
        revision, while the others keep answering from the previous index until it is ready.
        """
        with self._lock:
            now = self._clock()
            stale = self._index
            if stale is not None and (self._rebuilding or now - self._checked_at < self.revision_check_s):
                return stale
            self._checked_at = now
            if stale is not None and self.source.revision() == stale.revision:
                return stale
            if stale is None:
                self._index = self._build()
                return self._index
            self._rebuilding = True
        try:
            fresh = self._build()
        finally:
            with self._lock:
                self._rebuilding = False
        with self._lock:
            self._index = fresh
        return fresh

    def _build(self) -> KeywordIndex:
        started = time.perf_counter()
        revision, documents = self.source.keyword_documents()
        index = KeywordIndex.build(documents, revision=revision)
        self.builds += 1
        log.info(
            "built keyword index",
            extra={"chunks": len(documents), "revision": revision, "seconds": round(time.perf_counter() - started, 3)},
        )
        return index
