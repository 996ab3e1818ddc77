"""The answer model fitted on this knowledge base: built from its stored vectors, kept in Postgres, refitted on change.

The state a model was fitted on is the KB revision (`kb_state`, bumped by every ingest or deletion) plus a
fingerprint of the live FAQs (count, latest update, phrasings), so a promotion, merge, edit or soft delete is a
new state too. `AnswerModelRefresher` is what the retriever asks for the model: it answers from memory, and a
daemon thread checks the state every `DOXA_ANSWER_REFIT_CHECK_S` seconds and refits in the background, so a
query never waits for a fit and always uses the last fitted model.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import psycopg

from core.database import Database
from core.embeddings import Embedder
from core.errors import DoxaError
from core.settings import Settings
from kb.answer_confidence import AnswerModel
from kb.calibration import Calibration, CurvePoint
from kb.faq_calibration import IndexRow, fit_rows

log = logging.getLogger(__name__)

_SAMPLE_SEED = 20261201


@dataclass(frozen=True)
class KbState:
    """What a model is fitted on: the KB revision and the live FAQs' fingerprint."""

    kb_revision: int
    faq_fingerprint: str


@dataclass(frozen=True)
class StoredCalibration:
    """A model as stored, with the state it was fitted on."""

    id: int
    state: KbState
    model: AnswerModel
    curve: list[CurvePoint]
    seconds: float
    fitted_at: datetime

    def as_dict(self) -> dict[str, Any]:
        """What `doxa kb calibrate --json` prints."""
        return {
            "id": self.id,
            "kb_revision": self.state.kb_revision,
            "faq_fingerprint": self.state.faq_fingerprint,
            "fitted_at": self.fitted_at.isoformat(),
            "seconds": round(self.seconds, 2),
            "model": self.model.as_dict(),
            "curve": [vars(point) for point in self.curve],
        }


class CalibrationStore:
    """SQL of the answer calibration: the KB state, the rows to probe, the stored models."""

    def __init__(self, db: Database, embedding_model: str) -> None:
        self.db = db
        self.embedding_model = embedding_model

    def state(self) -> KbState:
        """The KB revision and the FAQ fingerprint now (two cheap aggregate reads)."""
        with self.db.connection() as conn:
            revision = conn.execute("SELECT revision FROM kb_state").fetchone()
            faqs = conn.execute(
                "SELECT count(*) AS n, coalesce(max(version), 0) AS v, coalesce(sum(version), 0) AS s,"
                " coalesce(max(updated_at)::text, '') AS at FROM faq WHERE NOT is_deleted"
            ).fetchone()
            conn.rollback()
        fingerprint = f"{faqs['n']}:{faqs['s']}:{faqs['at']}" if faqs else "0"
        return KbState(int(revision["revision"]) if revision else 0, fingerprint)

    def latest(self) -> StoredCalibration | None:
        """The last model fitted for the configured embedding model."""
        with self.db.connection() as conn:
            row = conn.execute(
                "SELECT id, kb_revision, faq_fingerprint, model, curve, seconds, fitted_at FROM kb_answer_calibration"
                " WHERE embedding_model = %s ORDER BY fitted_at DESC, id DESC LIMIT 1",
                (self.embedding_model,),
            ).fetchone()
            conn.rollback()
        if row is None:
            return None
        try:
            model = AnswerModel.from_dict(row["model"])
        except ValueError as exc:
            # Written by a release with other features: unusable, so there is no model until the refit.
            log.warning("stored answer model %s is not usable (%s); it will be refitted", row["id"], exc)
            return None
        return StoredCalibration(
            id=int(row["id"]),
            state=KbState(int(row["kb_revision"]), row["faq_fingerprint"]),
            model=model,
            curve=[CurvePoint(**point) for point in row["curve"]],
            seconds=float(row["seconds"]),
            fitted_at=row["fitted_at"],
        )

    def save(self, state: KbState, calibration: Calibration, seconds: float) -> None:
        """Store a fitted model with the state it was fitted on."""
        model = calibration.model
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO kb_answer_calibration (kb_revision, faq_fingerprint, embedding_model, kind, threshold,"
                " model, curve, seconds) VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s)",
                (
                    state.kb_revision,
                    state.faq_fingerprint,
                    self.embedding_model,
                    model.kind,
                    model.threshold,
                    json.dumps(model.as_dict()),
                    json.dumps([vars(point) for point in calibration.curve]),
                    seconds,
                ),
            )

    def faq_rows(self, embedder: Embedder) -> list[IndexRow]:
        """Per live FAQ, the rows the FAQ retriever reads: its question, then each other phrasing.

        A held-out question leaves the answer as its row's remainder; nothing remains of a phrasing's row.
        """
        with self.db.connection() as conn:
            rows = conn.execute(
                "SELECT id, question, answer, question_embedding::real[] AS vector FROM faq"
                " WHERE NOT is_deleted AND embedding_model = %s ORDER BY id",
                (self.embedding_model,),
            ).fetchall()
            phrasings = conn.execute(
                "SELECT p.faq_id, p.phrasing, p.embedding::real[] AS vector FROM faq_phrasing p"
                " JOIN faq f ON f.id = p.faq_id WHERE NOT f.is_deleted AND p.embedding_model = %s"
                " ORDER BY p.faq_id, p.id",
                (self.embedding_model,),
            ).fetchall()
            conn.rollback()
        by_faq: dict[int, list[IndexRow]] = {}
        for row in phrasings:
            by_faq.setdefault(int(row["faq_id"]), []).append(
                IndexRow(
                    unit_id=f"faq:{row['faq_id']}",
                    text=row["phrasing"],
                    vector=np.asarray(row["vector"], dtype=np.float32),
                    probe_text=row["phrasing"],
                )
            )
        return [
            indexed
            for row in rows
            for indexed in (
                IndexRow(
                    unit_id=f"faq:{row['id']}",
                    text=f"{row['question']} {row['answer']}",
                    vector=np.asarray(row["vector"], dtype=np.float32),
                    probe_text=row["question"],
                    remainder=row["answer"],
                ),
                *by_faq.get(int(row["id"]), ()),
            )
        ]

    def chunk_rows(self, max_probes: int) -> list[IndexRow]:
        """Every chunk with its stored vector; the first chunk of up to `max_probes` sections (seeded) is probed.

        The sample is drawn from the sections ordered by their first chunk's content, so which are probed does
        not depend on where the documents were ingested from (their ids hash their paths).
        """
        with self.db.connection() as conn:
            rows = conn.execute(
                "SELECT c.id::text AS id, c.document_id, c.section_id, c.ordinal, c.section_path, c.text,"
                " c.content_hash, e.vector"
                " FROM kb_chunk c JOIN embedding_cache e ON e.content_hash = c.content_hash AND e.model = %s"
                " ORDER BY c.document_id, c.ordinal",
                (self.embedding_model,),
            ).fetchall()
            conn.rollback()
        first_of_section: dict[str, int] = {}
        for position, row in enumerate(rows):
            first_of_section.setdefault(row["section_id"] or row["id"], position)
        probed = sorted(first_of_section.values(), key=lambda position: (rows[position]["content_hash"], position))
        if len(probed) > max_probes:
            probed = random.Random(_SAMPLE_SEED).sample(probed, max_probes)
        chosen = set(probed)
        return [
            IndexRow(
                unit_id=f"doc:{row['document_id']}",
                text=f"{row['section_path']} {row['text']}",
                vector=np.frombuffer(row["vector"], dtype="<f4"),
                probe_text=row["section_path"] if position in chosen and row["section_path"].strip() else None,
                remainder=row["text"],
            )
            for position, row in enumerate(rows)
        ]


def fit_knowledge_base(
    store: CalibrationStore, embedder: Embedder, settings: Settings, extra: Any = ()
) -> tuple[KbState, Calibration, float]:
    """Fit the answer model on the KB as it is now (documents and FAQs), without storing it."""
    started = time.perf_counter()
    state = store.state()
    rows = [*store.chunk_rows(settings.answer_max_section_probes), *store.faq_rows(embedder)]
    fitted_on = {"source": "knowledge_base", "kb_revision": state.kb_revision, "faq_fingerprint": state.faq_fingerprint}
    calibration = fit_rows(rows, embedder, settings, fitted_on, extra)
    return state, calibration, time.perf_counter() - started


def refit(store: CalibrationStore, embedder: Embedder, settings: Settings, extra: Any = ()) -> StoredCalibration:
    """Fit on the KB as it is now, store the model and return it as stored."""
    state, calibration, seconds = fit_knowledge_base(store, embedder, settings, extra)
    store.save(state, calibration, seconds)
    log.info(
        "answer model fitted kind=%s threshold=%.2f kb_revision=%d seconds=%.1f",
        calibration.model.kind,
        calibration.model.threshold,
        state.kb_revision,
        seconds,
    )
    stored = store.latest()
    if stored is None:  # pragma: no cover - the row was just written in a committed transaction
        raise RuntimeError("the answer calibration just stored cannot be read back")
    return stored


_STOP_WAIT_S = 30.0  # how long a stopping service waits for a refit in progress


class AnswerModelRefresher:
    """The retriever's answer-model source: the last fitted model from memory, refitted in the background."""

    def __init__(
        self, store: CalibrationStore, embedder: Embedder, settings: Settings, labels: Any | None = None
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.labels = labels  # a `kb.feedback_labels.LabelSource`, or None
        self._latest: StoredCalibration | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def current(self) -> AnswerModel | None:
        """The last fitted model; never touches the database."""
        latest = self._latest
        return latest.model if latest is not None else None

    def load(self) -> StoredCalibration | None:
        """Read the last stored model into memory (start-up)."""
        self._latest = self.store.latest()
        return self._latest

    def refresh(self, *, force: bool = False) -> bool:
        """Refit when the KB state differs from the stored model's (or when forced); True when it refitted."""
        with self._lock:
            latest = self._latest or self.store.latest()
            if not force and latest is not None and latest.state == self.store.state():
                self._latest = latest
                return False
            from kb.feedback_labels import extra_labels

            extra = extra_labels(self.labels, self.embedder) if self.labels is not None else ()
            self._latest = refit(self.store, self.embedder, self.settings, extra)
            return True

    def start(self) -> None:
        """Check for changes every DOXA_ANSWER_REFIT_CHECK_S seconds on a daemon thread."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="answer-model-refit", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = _STOP_WAIT_S) -> None:
        """Stop the background checks, waiting up to `timeout_s` for a refit in progress to end.

        The engines are closed right after a service stops: a refit still running then would fail on a
        closed pool. One that outlasts the wait is left to end on its own (the thread is a daemon).
        """
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_s)
            if thread.is_alive():
                log.warning("an answer-model refit is still running after %.0f s; not waiting for it", timeout_s)

    @property
    def running(self) -> bool:
        """Whether the background checks' thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.refresh()
            except (DoxaError, psycopg.Error, ValueError, RuntimeError):
                # A failed refit must not end the checks: queries keep the last model, the next check retries.
                log.exception("answer model refit failed; queries keep the last fitted model")
            self._stop.wait(self.settings.answer_refit_check_s)


# Keyed by id(): `Services` is a dataclass, so unhashable. An entry goes when its services are collected
# (weakref.finalize), before their id can be reused by new services. Re-entrant: a collection, and so the
# finalizer, can run in a thread that holds the lock.
_shared: dict[int, AnswerModelRefresher] = {}
_shared_lock = threading.RLock()


def shared_refresher(services: Any) -> AnswerModelRefresher:
    """The process's refresher for these services: the last stored model, loaded once.

    A one-shot command uses it as stored; the service also calls `start_answer_refits`.
    """
    with _shared_lock:
        refresher = _shared.get(id(services))
        if refresher is None:
            from kb.answer_feedback import AnswerFeedbackStore

            store = CalibrationStore(services.db, services.settings.embedding_model)
            refresher = AnswerModelRefresher(
                store, services.embedder, services.settings, labels=AnswerFeedbackStore(services.db)
            )
            refresher.load()
            _shared[id(services)] = refresher
            weakref.finalize(services, _drop_refresher, id(services))
        return refresher


def _drop_refresher(key: int) -> None:
    with _shared_lock:
        refresher = _shared.pop(key, None)
    if refresher is not None:
        refresher.stop(timeout_s=0)


def start_answer_refits(services: Any) -> AnswerModelRefresher:
    """Start the background refits of this process's answer model (the API's lifespan); `stop()` ends them."""
    refresher = shared_refresher(services)
    refresher.start()
    return refresher


def forget_refresher(services: Any) -> None:
    """Stop and drop the refresher of services being closed."""
    with _shared_lock:
        refresher = _shared.pop(id(services), None)
    if refresher is not None:
        refresher.stop()
