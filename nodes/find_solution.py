"""Solution finder agent: retrieve passages from the knowledge base with their confidence signals."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from langgraph.runtime import Runtime

from nodes.answer_probability import answer_probability, retrieval_model
from nodes.context import FaqMatch, FaqSearch, SectionSource, TicketContext, context_of
from state.agents import AnswerSource, Citation, Solution
from state.ticket import TicketState
from text.markdown_text import passage_window

# A section up to this long is shown whole; of a longer one, the whole blocks around the passage that fit.
SECTION_ANSWER_CHARS = 1500
# Passage ids of production FAQs in `results` (and so in `shown_chunk_ids`): "faq:12".
FAQ_PASSAGE_PREFIX = "faq:"
CITED_PASSAGES = 3  # the top passages cited, and the ones the composer is shown


def solution_from_retrieval(
    retrieved: Mapping[str, Any],
    *,
    exclude: Collection[str],
    top_k: int,
    kb_confidence_threshold: float,
    query: str = "",
) -> Solution:
    """Map `retrieve_kb_context`'s contract onto the solution the evaluator and composer read.

    Passages the customer was already shown (and said did not help) are dropped. `kb_confident` is the
    answer model's decision on the top passage left: the retriever's own probability when its top passage
    is still first, else the same model re-scoring the passages in hand.
    """
    all_results = list(retrieved.get("results", []))
    results = [r for r in all_results if r.get("metadata", {}).get("chunk_id") not in exclude]
    results = results[:top_k]
    similarities = [float(r["similarity_score"]) for r in results]
    best = max(similarities, default=0.0)
    metadata = retrieved.get("metadata", {})
    model = retrieval_model(metadata, kb_confidence_threshold)
    if not results:
        probability = 0.0
    elif results[0] is (all_results[0] if all_results else None) and "answer_probability" in metadata:
        probability = float(metadata["answer_probability"])
    else:
        top_unit = f"doc:{results[0].get('metadata', {}).get('doc_id', '')}"
        probability = answer_probability(model, query, results, [], top_unit)
    citations: list[Citation] = []
    seen: set[tuple[str, str]] = set()
    for result in results[:CITED_PASSAGES]:
        meta = result.get("metadata", {})
        key = source_key(result)
        if key in seen:
            continue
        seen.add(key)
        kind: AnswerSource = "faq" if meta.get("kind") == "faq" else "documents"
        citations.append(Citation(title=str(meta.get("title") or key[0]), source=key[0], section=key[1], kind=kind))
    return Solution(
        results=results,
        solution_text=str(results[0]["chunk_text"]) if results else "",
        confidence=min(1.0, max(0.0, best)),
        max_similarity=best,
        mean_similarity=round(sum(similarities) / len(similarities), 6) if similarities else 0.0,
        answer_probability=probability,
        answer_threshold=model.threshold,
        kb_confident=bool(results) and probability >= model.threshold,
        kb_limit_reached=bool(metadata.get("kb_limit_reached", False)),
        citations=citations,
        answered_by=citations[0].kind if citations else "none",
    )


def find_solution(state: TicketState, runtime: Runtime[TicketContext]) -> dict[str, Any]:
    """Search the KB with the reformulation, keywords and category, skipping passages already shown.

    The category filter is dropped when it finds nothing (the KB may not use the ticket taxonomy).
    """
    analysis, classification = state["analysis"], state["classification"]
    policy = context_of(runtime).policy
    shown = set(state.get("shown_chunk_ids", []))
    shown_sections = set(state.get("shown_section_ids", []))

    def search(category: str | None) -> Mapping[str, Any]:
        return context_of(runtime).retriever.retrieve(
            analysis.reformulation,
            analysis.keywords,
            category,
            top_k=policy.top_k + len(shown) + (2 * policy.top_k if shown_sections else 0),
            score_threshold=policy.score_threshold,
            kb_confidence_threshold=policy.kb_confidence_threshold,
            attempt_number=state.get("attempt", 1),
            max_retrieval_attempts=policy.max_attempts,
        )

    retrieved = without_sections(search(classification.primary_category), shown_sections)
    if not retrieved.get("results"):
        retrieved = without_sections(search(None), shown_sections)
    solution = solution_from_retrieval(
        retrieved,
        exclude=shown,
        top_k=policy.top_k,
        kb_confidence_threshold=policy.kb_confidence_threshold,
        query=analysis.reformulation,
    )
    faqs = live_faqs(context_of(runtime).faqs, analysis.reformulation, shown, policy.score_threshold)
    solution = prefer_faq(
        solution, faqs[0] if faqs else None, top_k=policy.top_k, kb_confidence_threshold=policy.kb_confidence_threshold
    )
    if faqs:
        solution = rescore_with_faqs(solution, retrieved, faqs, analysis.reformulation, policy.kb_confidence_threshold)
    section = section_answer(context_of(runtime).sections, solution)
    if section:
        solution = solution.model_copy(update={"solution_text": section})
    return {"solution": solution, "path": ["find_solution"]}


def source_key(passage: Mapping[str, object]) -> tuple[str, str]:
    """(source, section) of a retrieved passage: what a citation names."""
    metadata = passage.get("metadata")
    meta = metadata if isinstance(metadata, dict) else {}
    return str(meta.get("source", "")), str(meta.get("section", ""))


def without_sections(retrieved: Mapping[str, Any], sections: Collection[str]) -> Mapping[str, Any]:
    """The retrieval without passages of sections already sent: their text would repeat an earlier answer."""
    if not sections:
        return retrieved
    kept = [r for r in retrieved.get("results", []) if r.get("metadata", {}).get("section_id") not in sections]
    return {**retrieved, "results": kept}


def section_answer(sections: SectionSource | None, solution: Solution) -> str | None:
    """What of the top passage's section to answer with (parent-child chunking).

    The whole section when it is short enough; else the whole blocks around the passage that fit, so a list
    the passage was cut inside is not cut short (`passage_window`). None: answer with the passage itself.
    """
    if sections is None or not solution.results:
        return None
    metadata = solution.results[0].get("metadata")
    section_id = metadata.get("section_id") if isinstance(metadata, dict) else None
    section = sections.fetch_section(str(section_id)) if section_id else None
    if section is None:
        return None
    if len(section.text) <= SECTION_ANSWER_CHARS:
        return section.text
    return passage_window(section.text, solution.solution_text, SECTION_ANSWER_CHARS)


def live_faqs(faqs: FaqSearch | None, query: str, shown: Collection[str], min_similarity: float) -> list[FaqMatch]:
    """The best three live FAQs at or above `min_similarity` that the customer was not already shown."""
    if faqs is None:
        return []
    already_shown = {int(p.removeprefix(FAQ_PASSAGE_PREFIX)) for p in shown if p.startswith(FAQ_PASSAGE_PREFIX)}
    return list(faqs.search(query, top_k=3, min_similarity=min_similarity, exclude_ids=already_shown))


def best_faq(faqs: FaqSearch | None, query: str, shown: Collection[str], threshold: float) -> FaqMatch | None:
    """The best live FAQ at or above `threshold` that the customer was not already shown."""
    hits = live_faqs(faqs, query, shown, threshold)
    return hits[0] if hits else None


def rescore_with_faqs(
    solution: Solution, retrieved: Mapping[str, Any], faqs: Sequence[FaqMatch], query: str, fallback_threshold: float
) -> Solution:
    """The answer probability of the solution's top answer with the FAQs found counted as competitors (or as it)."""
    if not solution.results:
        return solution
    model = retrieval_model(retrieved.get("metadata", {}), fallback_threshold)
    top = solution.results[0].get("metadata", {})
    top_unit = f"faq:{solution.faq_id}" if solution.faq_id is not None else f"doc:{_doc_id(top)}"
    passages = [r for r in solution.results if not _is_faq(r.get("metadata"))]
    probability = answer_probability(model, query, passages, faqs, top_unit)
    return solution.model_copy(
        update={
            "answer_probability": probability,
            "answer_threshold": model.threshold,
            "kb_confident": probability >= model.threshold,
        }
    )


def _is_faq(metadata: object) -> bool:
    return isinstance(metadata, dict) and metadata.get("kind") == "faq"


def _doc_id(metadata: object) -> str:
    return str(metadata.get("doc_id", "")) if isinstance(metadata, dict) else ""


def prefer_faq(solution: Solution, faq: FaqMatch | None, *, top_k: int, kb_confidence_threshold: float) -> Solution:
    """Answer with the FAQ when it reaches the confidence threshold and beats the best document passage.

    The FAQ becomes the first passage (id "faq:<id>", so a customer who says it did not help is not shown
    it again) and the first citation, "FAQ #<id>".
    """
    if faq is None or faq.similarity < kb_confidence_threshold or faq.similarity <= solution.confidence:
        return solution
    passage: dict[str, object] = {
        "chunk_text": faq.answer,
        "similarity_score": faq.similarity,
        "fused_score": faq.similarity,
        "metadata": {
            "kind": "faq",
            "faq_id": faq.id,
            "faq_version": faq.version,
            "chunk_id": f"{FAQ_PASSAGE_PREFIX}{faq.id}",
            "source": f"faq/{faq.id}",
            "title": f"FAQ #{faq.id}",
            "section": faq.question,
            "rank": 1,
        },
    }
    citation = Citation(title=f"FAQ #{faq.id}", source=f"faq/{faq.id}", section=faq.question, kind="faq")
    return solution.model_copy(
        update={
            "results": [passage, *solution.results][:top_k],
            "solution_text": faq.answer,
            "confidence": min(1.0, faq.similarity),
            "max_similarity": faq.similarity,
            "citations": [citation, *solution.citations][:CITED_PASSAGES],
            "answered_by": "faq",
            "faq_id": faq.id,
        }
    )
