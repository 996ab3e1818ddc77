"""Fusion of dense and keyword signals."""

from __future__ import annotations

import pytest

from kb.fusion import CandidateSignals, FusionWeights, fuse, keyword_bonus, reciprocal_rank_fusion, saturate


def test_saturate_is_bounded_and_halves_at_the_saturation_point() -> None:
    assert saturate(0.0, 24.0) == 0.0
    assert saturate(-3.0, 24.0) == 0.0
    assert saturate(24.0, 24.0) == pytest.approx(0.5)
    assert saturate(1e9, 24.0) < 1.0


def test_dense_only_weights_rank_by_cosine() -> None:
    candidates = [
        CandidateSignals("a", 0.50, title_bm25=90.0, identifier_coverage=1.0),
        CandidateSignals("b", 0.60),
    ]
    ranked = fuse(candidates, FusionWeights.dense_only())
    assert [c.chunk_id for c in ranked] == ["b", "a"]
    assert ranked[1].fused_score == pytest.approx(0.50)
    assert not FusionWeights.dense_only().uses_keywords


def test_keyword_bonus_is_capped_by_the_weights() -> None:
    weights = FusionWeights()
    strongest = CandidateSignals("a", 0.0, title_bm25=1e9, body_bm25=1e9, identifier_coverage=1.0)
    cap = weights.title_weight + weights.body_weight + weights.identifier_weight
    assert keyword_bonus(strongest, weights) < cap
    assert keyword_bonus(strongest, weights) == pytest.approx(cap, rel=1e-6)


def test_an_exact_identifier_match_outranks_a_slightly_closer_passage() -> None:
    candidates = [
        CandidateSignals("similar", 0.71, body_bm25=2.0),
        CandidateSignals("exact-code", 0.64, body_bm25=6.0, identifier_coverage=1.0),
    ]
    ranked = fuse(candidates, FusionWeights())
    assert ranked[0].chunk_id == "exact-code"
    assert ranked[0].fused_score == pytest.approx(ranked[0].signals.cosine + ranked[0].keyword_bonus)


def test_ties_break_on_cosine_then_chunk_id() -> None:
    candidates = [CandidateSignals("b", 0.5), CandidateSignals("a", 0.5)]
    assert [c.chunk_id for c in fuse(candidates, FusionWeights())] == ["a", "b"]


def test_weights_refuse_negative_values() -> None:
    with pytest.raises(ValueError):
        FusionWeights(title_weight=-0.1)
    with pytest.raises(ValueError):
        FusionWeights(saturation=0)


def test_reciprocal_rank_fusion_sums_reciprocal_ranks() -> None:
    fused = dict(reciprocal_rank_fusion([["a", "b"], ["b", "c"]], k=60))
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["a"] == pytest.approx(1 / 61)
    assert next(iter(fused)) == "b"
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([["a"]], weights=[1.0, 2.0])
