"""validate: turn analyses into stageable drafts, checking what the LLM wrote before anything is stored.

The LLM only proposes. NEW needs a question, an answer and tags; MERGE may only target a live production
FAQ that the analysis was shown (an id smuggled in through ticket text is refused, and the proposal
becomes NEW); the output is checked for personal data again (redacted, or skipped in `skip` mode).
Nothing here or later approves, merges or deletes: staged candidates are PENDING until a person decides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from langgraph.runtime import Runtime

from core.embeddings import Vectors
from faq_mining.faq_store import CandidateDraft, normalise_tags
from faq_mining.nodes.analyze import merge_targets
from faq_mining.nodes.context import MiningContext, mining_context
from faq_mining.nodes.extractive import question_of
from faq_mining.state import AnalyzedCluster, MiningFailure, MiningState, MiningStats
from text.pii import redact_pii


@dataclass
class _Checked:
    """An analysis that passed validation, with its final text and what was redacted from it."""

    item: AnalyzedCluster
    action: str
    question: str
    answer: str
    tags: list[str]
    merge_with_id: int | None
    similarity: float | None
    output_pii: set[str] = field(default_factory=set)
    notes: dict[str, Any] = field(default_factory=dict)


def validate(state: MiningState, runtime: Runtime[MiningContext]) -> dict[str, Any]:
    """Drafts for the valid analyses; SKIPs and invalid ones count as skipped_unsuitable (or skipped_pii)."""
    context = mining_context(runtime)
    stats = MiningStats()
    checked: list[_Checked] = []
    for item in state.get("analyzed", []):
        tickets = len(item.cluster.tickets)
        try:
            outcome = _check(item, context)
        except Exception as exc:  # noqa: BLE001  (one group's error must not abort the batch)
            reason = f"validation failed: {exc.__class__.__name__}: {exc}"[:500]
            stats.failed += tickets
            stats.failures.extend(MiningFailure(ticket_id=tid, reason=reason) for tid in item.cluster.ticket_ids)
            continue
        if isinstance(outcome, _Checked):
            checked.append(outcome)
        elif outcome == "pii":
            stats.skipped_pii += tickets
        else:
            stats.skipped_unsuitable += tickets
    vectors = _question_vectors(checked, context)
    drafts = [_draft(entry, vector, state.get("run_id")) for entry, vector in zip(checked, vectors, strict=True)]
    return {"drafts": drafts, "stats": stats}


def _check(item: AnalyzedCluster, context: MiningContext) -> _Checked | str:
    analysis = item.analysis
    if analysis.action == "SKIP":
        return "unsuitable"
    notes: dict[str, Any] = {}
    output_pii: set[str] = set()
    texts = [analysis.question, analysis.answer, *analysis.tags]
    redacted = []
    for text in texts:
        result = redact_pii(text)
        output_pii.update(str(kind) for kind in result.kinds)
        redacted.append(result.text)
    if output_pii and context.policy.pii_mode == "skip":
        return "pii"
    question, answer, tags = redacted[0].strip(), redacted[1].strip(), normalise_tags(redacted[2:])
    action, merge_with_id, similarity = analysis.action, analysis.merge_target_id, None
    nearest = item.cluster.neighbours[0].similarity if item.cluster.neighbours else None
    if action == "MERGE":
        shown = merge_targets(item.cluster, context.policy.merge_candidate_similarity)
        target = context.store.live_faq(merge_with_id) if merge_with_id in shown else None
        if target is None or merge_with_id is None:
            notes["merge_refused"] = f"target {merge_with_id} is not a live FAQ the analysis was shown"
            action, merge_with_id, similarity = "NEW", None, nearest
        else:
            similarity = shown[merge_with_id].similarity
            question = question or target.question
    else:
        merge_with_id, similarity = None, nearest
    if action == "NEW" and not question:
        question = item.cluster.question
    if not question or not answer or not tags:
        return "unsuitable"
    return _Checked(item, action, question, answer, tags, merge_with_id, similarity, output_pii, notes)


def _question_vectors(checked: list[_Checked], context: MiningContext) -> list[Vectors]:
    """The compare step's vector when the question is unchanged; the others embedded in one batch."""
    changed = [i for i, entry in enumerate(checked) if entry.question != entry.item.cluster.question]
    fresh = context.embedder.encode([checked[i].question for i in changed]) if changed else None
    vectors: list[Vectors] = []
    for i, entry in enumerate(checked):
        if fresh is not None and i in changed:
            vectors.append(np.asarray(fresh[changed.index(i)], dtype=np.float32))
        else:
            vector = entry.item.cluster.question_vector
            assert vector is not None, "compare sets every kept cluster's question vector"
            vectors.append(vector)
    return vectors


def _draft(entry: _Checked, vector: Vectors, run_id: str | None) -> CandidateDraft:
    cluster = entry.item.cluster
    metadata = {**entry.item.metadata, **entry.notes}
    if entry.output_pii:
        metadata["output_pii_redacted"] = sorted(entry.output_pii)
    return CandidateDraft(
        action="MERGE" if entry.action == "MERGE" else "NEW",
        question=entry.question,
        answer=entry.answer,
        tags=entry.tags,
        confidence=entry.item.analysis.confidence,
        merge_with_id=entry.merge_with_id,
        similarity=entry.similarity,
        source_ticket_ids=cluster.ticket_ids,
        question_embedding=vector,
        pii_kinds=sorted({*cluster.pii_kinds, *entry.output_pii}),
        run_id=run_id,
        metadata=metadata,
        phrasings=[question_of(ticket) for ticket in cluster.tickets],
    )
