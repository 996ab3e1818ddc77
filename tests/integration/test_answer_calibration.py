"""Self-calibration of kb_confident on the real embedded Postgres and the real model."""

from __future__ import annotations

import gc
import json
import shutil
import threading
from pathlib import Path

from core.services import Services
from kb import calibration_store
from kb.calibration_store import AnswerModelRefresher, CalibrationStore, shared_refresher
from kb.ingest import KnowledgeBaseIngestor
from kb.retrieval import HybridRetriever
from kb.status import knowledge_base_status

HELPCENTRE = Path(__file__).resolve().parents[2] / "examples" / "helpcentre" / "articles"


def _refresher(services: Services) -> AnswerModelRefresher:
    store = CalibrationStore(services.db, services.settings.embedding_model)
    return AnswerModelRefresher(store, services.embedder, services.settings)


def test_a_tiny_knowledge_base_falls_back_to_the_conservative_threshold_and_says_so(
    services: Services, tmp_path: Path
) -> None:
    (tmp_path / "login.md").write_text("# Login help\n\n## Password\n\nUse the reset link on the sign-in page.\n")
    KnowledgeBaseIngestor.from_services(services).run([tmp_path])
    refresher = _refresher(services)
    assert refresher.refresh() is True
    model = refresher.current()
    assert model is not None and model.kind == "fallback"
    assert model.threshold == services.settings.answer_fallback_threshold
    status = knowledge_base_status(services)["answer_model"]
    assert status["kind"] == "fallback" and "too small to calibrate" in status["note"] and status["stale"] is False


def test_calibration_is_fitted_from_a_small_kb_and_refitted_after_an_ingest(services: Services, tmp_path: Path) -> None:
    articles = tmp_path / "articles"
    shutil.copytree(HELPCENTRE, articles)
    extra = articles / "zz-extra"
    shutil.move(str(articles / "relays"), str(tmp_path / "relays"))  # ingested later
    KnowledgeBaseIngestor.from_services(services).run([articles])
    services.settings.answer_min_probes = 10
    refresher = _refresher(services)
    assert refresher.refresh() is True
    first = refresher.store.latest()
    assert first is not None and first.model.kind == "logistic"
    assert first.model.fitted_on["positives"] >= 10 and first.model.fitted_on["negatives"] >= 10
    assert 0.0 < first.model.threshold <= 0.99 and first.curve
    assert refresher.refresh() is False  # nothing changed: the stored model stands

    shutil.move(str(tmp_path / "relays"), str(extra))
    KnowledgeBaseIngestor.from_services(services).run([articles])
    assert refresher.store.state() != first.state
    assert refresher.refresh() is True
    second = refresher.store.latest()
    assert second is not None and second.id != first.id and second.state.kb_revision > first.state.kb_revision

    # The retriever uses the refitted model: its probability and threshold, not the plain cosine.
    retriever = HybridRetriever.from_services(services, answer_model=refresher)
    context = retriever.retrieve("How do I set up a relay?", top_k=3, score_threshold=0.0)
    metadata = context["metadata"]
    assert metadata["answer_model"] == "logistic" and metadata["answer_threshold"] == second.model.threshold
    assert 0.0 <= metadata["answer_probability"] <= 1.0
    assert metadata["kb_confident"] is (metadata["answer_probability"] >= second.model.threshold)


def test_before_any_fit_the_retriever_uses_the_plain_cosine_threshold(services: Services) -> None:
    refresher = _refresher(services)
    assert refresher.current() is None  # nothing loaded yet: the retriever falls back to the cosine threshold
    retriever = HybridRetriever.from_services(services, answer_model=refresher)
    metadata = retriever.retrieve("anything", top_k=3, kb_confidence_threshold=0.5)["metadata"]
    assert metadata["answer_model"] == "fallback" and metadata["answer_threshold"] == 0.5


def test_a_model_stored_for_another_feature_set_is_refitted_not_served(services: Services, tmp_path: Path) -> None:
    (tmp_path / "login.md").write_text("# Login help\n\n## Password\n\nUse the reset link on the sign-in page.\n")
    KnowledgeBaseIngestor.from_services(services).run([tmp_path])
    refresher = _refresher(services)
    state = refresher.store.state()
    old = {"kind": "logistic", "threshold": 0.5, "features": ["best_cosine"], "mean": [0.0], "scale": [1.0],
           "coef": [1.0], "intercept": 0.0, "fitted_on": {}}  # fmt: skip
    with services.db.transaction() as conn:
        conn.execute(
            "INSERT INTO kb_answer_calibration (kb_revision, faq_fingerprint, embedding_model, kind, threshold, model,"
            " curve, seconds) VALUES (%s, %s, %s, 'logistic', 0.5, %s::jsonb, '[]'::jsonb, 0)",
            (state.kb_revision, state.faq_fingerprint, services.settings.embedding_model, json.dumps(old)),
        )
    assert refresher.load() is None  # an older release's model: unusable, not an error for the first query
    assert refresher.refresh() is True
    refitted = refresher.store.latest()
    assert refitted is not None and refitted.state == state and refitted.model.kind == "fallback"


def test_stopping_waits_for_the_refit_in_progress(services: Services) -> None:
    refresher = _refresher(services)
    started, release = threading.Event(), threading.Event()
    refit = refresher.refresh

    def slow_refresh(*, force: bool = False) -> bool:
        started.set()
        release.wait(5)
        return refit(force=force)

    refresher.refresh = slow_refresh  # type: ignore[method-assign]
    refresher.start()
    assert started.wait(5)
    threading.Timer(0.2, release.set).start()
    refresher.stop()
    assert not refresher.running  # the refit ended before stop returned: nothing runs on closed engines
    assert refresher.store.latest() is not None


def test_a_shared_refresher_goes_with_its_services(services: Services) -> None:
    other = Services(services.settings, services.db)
    key = id(other)
    assert shared_refresher(other) is shared_refresher(other)
    assert key in calibration_store._shared
    del other
    gc.collect()
    assert key not in calibration_store._shared  # a later Services with the same id gets its own


def test_the_same_help_centre_gets_the_same_fit_wherever_it_was_ingested_from(
    services: Services, tmp_path: Path
) -> None:
    def fit_from(folder: Path) -> tuple[set[str], float]:
        shutil.copytree(HELPCENTRE, folder)
        KnowledgeBaseIngestor.from_services(services).run([folder])
        store = CalibrationStore(services.db, services.settings.embedding_model)
        probed = {row.probe_text or "" for row in store.chunk_rows(max_probes=8) if row.probe_text}
        _, calibration, _ = calibration_store.fit_knowledge_base(store, services.embedder, services.settings)
        with services.db.transaction() as conn:  # empty the KB for the next folder (embeddings stay cached)
            conn.execute("TRUNCATE kb_chunk, kb_section, kb_document CASCADE")
        return probed, calibration.model.threshold

    services.settings.answer_min_probes = 10
    here, there = fit_from(tmp_path / "a"), fit_from(tmp_path / "elsewhere" / "b")
    assert len(here[0]) == 8 and here == there  # the same sections probed, the same threshold
