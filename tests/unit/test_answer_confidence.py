"""The answer-confidence features, the self-calibration fit and its fallback, on small synthetic indexes."""

from __future__ import annotations

import numpy as np
import pytest

from kb.answer_confidence import AnswerModel, QueryTerms, UnitEvidence, answer_features, unit_evidence
from kb.calibration import (
    CalibrationIndex,
    CalibrationSet,
    CurvePoint,
    ExtraLabel,
    FitLimits,
    Probe,
    QuestionOnlyUnits,
    calibration_set,
    choose_threshold,
    fit,
    precision_curve,
)
from kb.keyword_index import tokenize

LIMITS = FitLimits(
    target_precision=0.9, max_out_of_scope_confident=0.1, fallback_threshold=0.7, min_probes=30, min_units=5
)


def test_margin_is_to_the_next_different_unit_not_another_row_of_the_same_one() -> None:
    units = unit_evidence([("faq-1", 0.90, "reset password"), ("faq-1", 0.88, "forgot password"), ("faq-2", 0.60, "x")])
    features = answer_features(QueryTerms.of("reset my password"), units)
    assert features["best_cosine"] == pytest.approx(0.90)
    assert features["margin"] == pytest.approx(0.30)  # 0.90 - 0.60, not 0.90 - 0.88
    assert features["top_share"] == pytest.approx(2 / 3)


def test_lexical_features_read_the_query_terms_found_in_the_top_unit() -> None:
    units = [
        UnitEvidence("a", (0.7,), frozenset(tokenize("The proxy refuses connections"))),
        UnitEvidence("b", (0.6,), frozenset(tokenize("Bridges"))),
    ]
    query = QueryTerms.of("proxy error 0x80070005")
    features = answer_features(query, units)
    assert 0 < features["lexical_overlap"] < 1 and features["lexical_margin"] == features["lexical_overlap"]
    assert features["identifier_miss"] == 1.0  # the error code is in no unit


def test_the_features_of_an_answer_other_than_the_best_unit() -> None:
    units = unit_evidence([("doc", 0.80, "a"), ("faq", 0.70, "b")])
    features = answer_features(QueryTerms.of("a"), units, top_unit="faq")
    assert features["best_cosine"] == pytest.approx(0.70) and features["margin"] == pytest.approx(-0.10)


def _clustered_index(units: int, rows_per_unit: int, seed: int = 3) -> tuple[CalibrationIndex, list[Probe]]:
    """Units as tight clusters of phrasing vectors on a sphere: held-out phrasings find their own unit."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(units, 32))
    vectors, names, probes = [], [], []
    for u, centre in enumerate(centres):
        for _ in range(rows_per_unit):
            v = centre + rng.normal(scale=0.35, size=32)
            vectors.append(v / np.linalg.norm(v))
            names.append(f"u{u}")
    matrix = np.array(vectors, dtype=np.float32)
    index = CalibrationIndex(matrix, tuple(names), tuple(frozenset({name}) for name in names))
    for row, name in enumerate(names):
        probes.append(Probe(name, row, matrix[row], QueryTerms(frozenset({name}), frozenset())))
    return index, probes


def test_calibration_fits_a_model_that_separates_held_out_phrasings_from_left_out_units() -> None:
    index, probes = _clustered_index(units=12, rows_per_unit=5)
    data = calibration_set(index, probes)
    assert data.positives == data.negatives == 60
    calibration = fit(data, LIMITS, fitted_on={})
    model = calibration.model
    assert model.kind == "logistic"
    probabilities = model.probabilities(data.features)
    answerable = probabilities[: data.positives][data.labels[: data.positives] == 1]
    assert answerable.mean() > probabilities[data.positives :].mean() + 0.3
    assert model.fitted_on["reached"]["precision"] >= 0.9


def test_a_tiny_knowledge_base_falls_back_to_the_conservative_threshold_and_says_why() -> None:
    index, probes = _clustered_index(units=3, rows_per_unit=2)
    data = calibration_set(index, probes)
    calibration = fit(data, LIMITS, fitted_on={})
    assert calibration.model.kind == "fallback" and calibration.model.threshold == 0.7
    assert "fewer than the 30" in calibration.model.fitted_on["reason"]
    assert calibration.model.confident({"best_cosine": 0.71}) and not calibration.model.confident({"best_cosine": 0.69})


def test_a_one_row_unit_with_nothing_else_is_only_a_negative() -> None:
    vectors = np.eye(3, dtype=np.float32)
    index = CalibrationIndex(vectors, ("a", "b", "c"), (frozenset(),) * 3)
    probes = [Probe(u, i, vectors[i], QueryTerms(frozenset(), frozenset())) for i, u in enumerate("abc")]
    data = calibration_set(index, probes)
    assert data.positives == 0 and data.negatives == 3


def test_question_only_units_that_share_an_answer_probe_each_other_and_leave_together() -> None:
    # a and b ask the same thing; c is another question, d another still, 0.6 alike to a.
    vectors = np.array([[1.0, 0.0, 0.0], [0.96, 0.28, 0.0], [0.0, 1.0, 0.0], [0.6, 0.0, 0.8]], dtype=np.float32)

    def left_out_best(question_only: QuestionOnlyUnits) -> tuple[CalibrationSet, float]:
        index = CalibrationIndex(vectors, ("a", "b", "c", "d"), (frozenset(),) * 4, question_only=question_only)
        probes = [Probe(u, i, vectors[i], QueryTerms(frozenset(), frozenset())) for i, u in enumerate("abcd")]
        data = calibration_set(index, probes)
        return data, float(data.features[data.positives][0])  # best cosine of a's negative

    data, best = left_out_best(QuestionOnlyUnits(frozenset("abcd"), {"a": "a", "b": "a"}, similarity=0.9))
    assert data.positives == 2 and data.negatives == 4  # a and b answer each other; c and d only leave out
    assert data.labels[:2].tolist() == [1.0, 1.0]
    assert data.groups.tolist()[:4] == ["a", "a", "a", "a"]  # one answer: never in two folds
    assert best == pytest.approx(0.6)  # a's negative leaves b out too: d is the best left
    # At a lower similarity d asks the same as a and leaves with it; a unit with an answer of its own stays.
    assert left_out_best(QuestionOnlyUnits(frozenset("abcd"), {"a": "a", "b": "a"}, similarity=0.55))[1] == 0.0
    assert left_out_best(QuestionOnlyUnits(frozenset("abc"), {"a": "a", "b": "a"}, similarity=0.55))[1] == (
        pytest.approx(0.6)
    )


def test_only_question_only_units_that_ask_the_same_share_an_answer() -> None:
    from kb.faq_calibration import IndexRow, question_only_units

    vectors = np.array([[1.0, 0.0], [0.99, 0.14], [0.98, 0.2], [0.0, 1.0], [0.99, 0.1]], dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    rows = [
        IndexRow("q1", "How do I reset it", vectors[0], probe_text="How do I reset it"),
        IndexRow("q2", "How can I reset it", vectors[1], probe_text="How can I reset it"),
        IndexRow("faq", "Reset it. Open settings.", vectors[2], probe_text="Reset it", remainder="Open settings."),
        IndexRow("q3", "Where is my card", vectors[3], probe_text="Where is my card"),
        IndexRow("many", "Reset", vectors[4], probe_text="Reset"),
        IndexRow("many", "Resetting", vectors[4], probe_text="Resetting"),
    ]
    found = question_only_units(rows, vectors[[0, 1, 2, 3, 4, 4]], similarity=0.95)
    assert found == QuestionOnlyUnits(frozenset({"q1", "q2", "q3"}), {"q1": "q1", "q2": "q1"}, 0.95)
    assert question_only_units(rows, vectors[[0, 1, 2, 3, 4, 4]], similarity=1.0) == QuestionOnlyUnits()


def test_extra_feedback_labels_count_with_their_weight() -> None:
    index, probes = _clustered_index(units=6, rows_per_unit=3)
    label = ExtraLabel(index.vectors[0], QueryTerms(frozenset(), frozenset()), "u0", satisfied=False)
    data = calibration_set(index, probes, [label], extra_weight=3.0)
    assert data.extra == 1 and data.weights[-1] == 3.0 and data.labels[-1] == 0.0


def test_the_threshold_is_the_lowest_whose_bounds_meet_both_the_precision_and_the_out_of_scope_limit() -> None:
    points = [
        CurvePoint(0.3, 0.95, 0.9, 0.70, precision_lower=0.93, negatives_confident_upper=0.35),  # too many negatives
        CurvePoint(0.5, 0.93, 0.8, 0.93, precision_lower=0.91, negatives_confident_upper=0.09),
        CurvePoint(0.7, 0.92, 0.6, 0.97, precision_lower=0.89, negatives_confident_upper=0.04),  # not precise enough
        CurvePoint(0.9, 0.99, 0.3, 0.99, precision_lower=0.97, negatives_confident_upper=0.02),
    ]
    assert choose_threshold(points, 0.90, 0.10).threshold == 0.5
    assert choose_threshold(points, 0.95, 0.10).threshold == 0.9
    assert choose_threshold(points, 0.99, 0.01).threshold == 0.9  # nothing safe: the most cautious point


def test_fewer_probes_with_the_same_rates_give_wider_bounds_and_so_a_more_cautious_choice() -> None:
    def curve(scale: int) -> list[CurvePoint]:
        # at 0.5: 19 of 20 answerable probes confident and right, 2 of 12 negatives confident
        probabilities = np.array([0.6] * 19 * scale + [0.6] * 1 * scale + [0.3] * 10 * scale + [0.6] * 2 * scale)
        labels = np.array([1.0] * 19 * scale + [0.0] * 1 * scale + [0.0] * 10 * scale + [0.0] * 2 * scale)
        positives = 20 * scale
        data = _data(probabilities, labels, positives)
        return precision_curve(probabilities, data, (0.5,))

    small, large = curve(1)[0], curve(20)[0]
    assert small.precision == large.precision == 0.95 and small.negatives_rejected == large.negatives_rejected
    assert small.precision_lower < large.precision_lower < 0.95
    assert small.negatives_confident_upper > large.negatives_confident_upper > 2 / 12
    assert choose_threshold([small], 0.9, 1.0).precision_lower < 0.9 <= large.precision_lower


def _data(probabilities: np.ndarray, labels: np.ndarray, positives: int) -> CalibrationSet:
    n = len(labels)
    return CalibrationSet(
        features=np.zeros((n, 1)),
        labels=labels,
        groups=np.arange(n),
        weights=np.ones(n),
        positives=positives,
        negatives=n - positives,
    )


def test_the_neighbour_share_falls_when_other_units_come_close() -> None:
    clear = answer_features(QueryTerms.of("q"), unit_evidence([("a", 0.80, "x"), ("b", 0.55, "y"), ("c", 0.50, "z")]))
    crowded = answer_features(QueryTerms.of("q"), unit_evidence([("a", 0.80, "x"), ("b", 0.79, "y"), ("c", 0.78, "z")]))
    assert clear["neighbour_share"] > 0.99 and 1 / 3 < crowded["neighbour_share"] < 0.45
    many_ways = answer_features(
        QueryTerms.of("q"), unit_evidence([("a", 0.80, "x"), ("a", 0.79, "x"), ("b", 0.79, "y")])
    )
    assert many_ways["neighbour_share"] == pytest.approx(2 / 3, abs=0.03)


def test_a_stored_model_round_trips_and_refuses_another_feature_set() -> None:
    model = AnswerModel("logistic", 0.6, (0.0,) * 9, (1.0,) * 9, (1.0,) + (0.0,) * 8, -0.5, {"positives": 40})
    assert AnswerModel.from_dict(model.as_dict()) == model
    with pytest.raises(ValueError, match="another feature set"):
        AnswerModel.from_dict({**model.as_dict(), "features": ["best_cosine"]})


def test_the_fit_limits_are_the_answer_settings_of_the_same_names() -> None:
    from core.settings import Settings

    settings = Settings(answer_target_precision=0.95, answer_min_probes=12, mistral_api_key=None)
    limits = FitLimits.of(settings)
    assert limits == FitLimits(0.95, settings.answer_max_out_of_scope_confident, 0.70, 12, settings.answer_min_units)
