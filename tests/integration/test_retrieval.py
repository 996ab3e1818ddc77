"""Hybrid retrieval over really ingested documents: embedded Postgres, Qdrant/pgvector, the real model."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from core.services import Services
from kb.fusion import FusionWeights
from kb.ingest import KnowledgeBaseIngestor
from kb.retrieval import HybridRetriever, KbContext, RetrievedPassage, retrieve_kb_context
from kb.vector_store.base import VectorPoint

pytestmark = pytest.mark.slow

WINDOWS = {
    "access-denied.md": "# Windows update errors\n\n## Access denied\n\n"
    "If a Windows update fails with error 0x80070005, run the update assistant as an administrator.\n",
    "install-failure.md": "# Windows update errors\n\n## Install failure\n\n"
    "When an update stops while installing with error 0x80070643, repair the .NET Framework and retry.\n",
}
BILLING = {
    "refunds.md": "# Billing\n\n## Refunds\n\nRefunds are paid back to the card used within ten days.\n",
    "invoices.md": "# Billing\n\n## Invoices\n\nInvoices are e-mailed on the first day of every month.\n",
}


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def ingested(services: Services, tmp_path: Path) -> KnowledgeBaseIngestor:
    ingestor = KnowledgeBaseIngestor.from_services(services)
    ingestor.run([write(tmp_path / "windows", WINDOWS)], category="windows")
    ingestor.run([write(tmp_path / "billing", BILLING)], category="billing")
    return ingestor


@pytest.fixture
def retriever(services: Services, ingested: KnowledgeBaseIngestor) -> HybridRetriever:
    return HybridRetriever.from_services(services, revision_check_s=0)


def test_contract_reports_cosine_and_fused_scores(retriever: HybridRetriever) -> None:
    context = retriever.retrieve("How long do refunds take?", None, None, top_k=3, score_threshold=0.0)
    results, meta = context["results"], context["metadata"]
    assert results[0]["metadata"]["section"] == "Billing > Refunds"
    assert [r["metadata"]["rank"] for r in results] == list(range(1, len(results) + 1))
    fused = [r["fused_score"] for r in results]
    assert fused == sorted(fused, reverse=True)
    top = results[0]
    assert set(top["metadata"]) >= {"doc_id", "section", "source", "rank", "title", "page", "chunk_id"}
    assert top["fused_score"] == pytest.approx(top["similarity_score"] + top["signals"]["keyword_bonus"], abs=2e-6)
    assert "cosine" in top["ranking_explanation"]
    similarities = [r["similarity_score"] for r in results]
    assert meta["chunk_count"] == len(results)
    assert meta["max_similarity"] == max(similarities) and meta["min_similarity"] == min(similarities)
    assert meta["mean_similarity"] == pytest.approx(sum(similarities) / len(similarities), abs=1e-6)


def test_score_threshold_keeps_a_passage_exactly_at_it(retriever: HybridRetriever) -> None:
    query = "How long do refunds take?"
    scores = [r["similarity_score"] for r in retriever.retrieve(query, score_threshold=0.0)["results"]]
    lowest = min(scores)
    at = retriever.retrieve(query, score_threshold=lowest)["results"]
    above = retriever.retrieve(query, score_threshold=lowest + 1e-6)["results"]
    assert len(at) == len(scores)
    assert len(above) == len(scores) - 1
    assert all(r["similarity_score"] >= lowest + 1e-6 for r in above)


def test_kb_confident_at_the_threshold_but_not_just_above(retriever: HybridRetriever) -> None:
    query = "How long do refunds take?"
    best = retriever.retrieve(query, score_threshold=0.0)["metadata"]["max_similarity"]
    assert retriever.retrieve(query, kb_confidence_threshold=best)["metadata"]["kb_confident"] is True
    assert retriever.retrieve(query, kb_confidence_threshold=best + 1e-6)["metadata"]["kb_confident"] is False


def test_nothing_above_the_threshold_is_not_confident(retriever: HybridRetriever) -> None:
    context = retriever.retrieve("refunds", score_threshold=0.99, kb_confidence_threshold=0.0)
    assert context["results"] == []
    assert context["metadata"]["chunk_count"] == 0 and context["metadata"]["kb_confident"] is False


@pytest.mark.parametrize(("attempt", "limit_reached"), [(1, False), (2, False), (3, True), (4, True)])
def test_kb_limit_reached_from_the_last_allowed_attempt(
    retriever: HybridRetriever, attempt: int, limit_reached: bool
) -> None:
    context = retrieve_kb_context(retriever, "refunds", None, None, attempt_number=attempt, max_retrieval_attempts=3)
    assert context["metadata"]["kb_limit_reached"] is limit_reached


def test_category_filter_applies_to_both_sides(retriever: HybridRetriever) -> None:
    # "update" and the error code match Windows pages by keyword and meaning; billing must still win.
    context = retriever.retrieve("update error 0x80070005 refund", category="billing", score_threshold=0.0)
    assert context["results"]
    assert {r["metadata"]["category"] for r in context["results"]} == {"billing"}


def test_exact_error_code_match_ranks_first(retriever: HybridRetriever) -> None:
    context = retriever.retrieve("my update failed with error 0x80070643", score_threshold=0.0)
    top = context["results"][0]
    assert top["metadata"]["section"] == "Windows update errors > Install failure"
    assert top["signals"]["identifier_coverage"] == 1.0
    assert top["signals"]["keyword_rank"] == 1


def test_keywords_boost_matching_passages(retriever: HybridRetriever) -> None:
    def invoices(context: KbContext) -> RetrievedPassage:
        return next(r for r in context["results"] if r["metadata"]["section"] == "Billing > Invoices")

    plain = invoices(retriever.retrieve("when do I pay", score_threshold=0.0, top_k=10))
    boosted = invoices(retriever.retrieve("when do I pay", "invoices, month", score_threshold=0.0, top_k=10))
    assert boosted["signals"]["keyword_coverage"] == 1.0
    assert boosted["fused_score"] >= plain["fused_score"] + FusionWeights().keyword_list_weight
    assert boosted["metadata"]["rank"] == 1


def test_new_ingest_rebuilds_the_keyword_index(
    retriever: HybridRetriever, ingested: KnowledgeBaseIngestor, tmp_path: Path
) -> None:
    before = retriever.retrieve("quokka", score_threshold=0.0)
    assert all(r["signals"]["keyword_rank"] is None for r in before["results"])
    revision = before["metadata"]["keyword_index_revision"]
    ingested.run([write(tmp_path / "animals", {"quokka.md": "# Quokkas\n\nThe quokka lives on Rottnest Island.\n"})])
    after = retriever.retrieve("quokka", score_threshold=0.0)
    assert after["metadata"]["keyword_index_revision"] > revision
    assert after["results"][0]["metadata"]["section"] == "Quokkas"
    assert after["results"][0]["signals"]["keyword_rank"] == 1


def test_dense_only_weights_ignore_keywords(services: Services, ingested: KnowledgeBaseIngestor) -> None:
    dense = HybridRetriever.from_services(services, weights=FusionWeights.dense_only())
    results = dense.retrieve("my update failed with error 0x80070643", score_threshold=0.0)["results"]
    assert all(r["fused_score"] == r["similarity_score"] for r in results)
    assert [r["metadata"]["rank"] for r in results] == list(range(1, len(results) + 1))


def test_pgvector_back_end_filters_by_category(services: Services, tmp_path: Path) -> None:
    services.settings = services.settings.model_copy(update={"vector_backend": "pgvector"})
    ingestor = KnowledgeBaseIngestor.from_services(services)
    ingestor.run([write(tmp_path / "windows", WINDOWS)], category="windows")
    ingestor.run([write(tmp_path / "billing", BILLING)], category="billing")
    retriever = HybridRetriever.from_services(services)
    results = retriever.retrieve("error 0x80070005", category="windows", score_threshold=0.0)["results"]
    assert results[0]["metadata"]["section"] == "Windows update errors > Access denied"
    assert {r["metadata"]["category"] for r in results} == {"windows"}


def test_vector_without_a_chunk_row_is_skipped(retriever: HybridRetriever, services: Services) -> None:
    query = "How long do refunds take?"
    orphan = VectorPoint(str(uuid.uuid4()), services.embedder.embed_query(query), {"category": "billing"})
    retriever.vector_store.upsert([orphan])
    results = retriever.retrieve(query, top_k=2, score_threshold=0.0)["results"]
    assert len(results) == 2
    assert orphan.id not in {r["metadata"]["chunk_id"] for r in results}
