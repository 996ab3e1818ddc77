"""Self-calibration of the answer confidence from a knowledge base alone, with no labelled traffic.

The knowledge base already holds questions with known answers: an FAQ's phrasings, a section's title.
Leaving one out of the index and asking it is a query the knowledge base answers (a positive: correct when
its own unit still comes first); leaving a whole FAQ or document out and asking the same phrasing is a
same-domain question that only *looks* answerable (a negative: any answer is wrong), exactly the hard case of
real traffic. Leave-out is done on the stored vectors (a masked matrix product), never by re-indexing.

A phrasing held out of a one-row unit leaves what the row holds besides it (an FAQ's answer, a chunk's text)
as the row's vector, embedded on its own: the phrasing itself never scores against a vector built from it.
A probe whose unit has nothing left is no positive at all (nothing could answer it) and is only a negative.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

import numpy as np

from kb.answer_confidence import (
    CANDIDATE_ROWS,
    FEATURE_NAMES,
    AnswerModel,
    QueryTerms,
    UnitEvidence,
    answer_features,
    feature_vector,
)

if TYPE_CHECKING:
    from core.settings import Settings

_BATCH_CELLS = 4_000_000  # probes x rows scored at once (16 MB of float32)
_FOLDS = 5
_REPEATS = 5  # cross-validation splits averaged
_CURVE_THRESHOLDS = (*(round(0.05 * step, 2) for step in range(1, 20)), 0.99)  # shown and stored
_CHOICE_THRESHOLDS = tuple(round(0.01 * step, 2) for step in range(5, 100))  # searched for the operating point
_WILSON_Z = 1.2816  # one-sided 90%


@dataclass(frozen=True)
class QuestionOnlyUnits:
    """Units that hold nothing but one question (no answer, no other phrasing), and which ask the same thing.

    Such a unit cannot be probed on its own, and leaving it out is no negative while another row asks the
    same: the knowledge base still answers it. So those grouped in `answers` (complete linkage: every pair
    `similarity` alike) are one answer, probing each other; and leaving one out also leaves out every
    question-only row `similarity` alike to the question asked, grouped with it or not.
    """

    units: frozenset[str] = frozenset()
    answers: Mapping[str, str] = field(default_factory=dict)
    similarity: float = 1.0


@dataclass(frozen=True)
class CalibrationIndex:
    """The index as calibration sees it: one normalised vector, unit and term set per row.

    A probe is answered by any unit of its answer (`answer_of`), and leaving its unit out leaves them all
    out, since a question that the knowledge base still answers is no negative.
    """

    vectors: np.ndarray  # (rows, dim), float32, normalised
    units: tuple[str, ...]
    terms: tuple[frozenset[str], ...]
    question_only: QuestionOnlyUnits = field(default_factory=QuestionOnlyUnits)

    def answer_of(self, unit: str) -> str:
        """The answer a unit gives (its own id unless it shares one)."""
        return self.question_only.answers.get(unit, unit)


@dataclass(frozen=True)
class Probe:
    """A phrasing asked with its row held out: `replacement` is what the row holds without it (None: nothing)."""

    unit_id: str
    row: int
    vector: np.ndarray
    query: QueryTerms
    replacement: np.ndarray | None = None
    replacement_terms: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ExtraLabel:
    """A labelled real query (customer feedback): its vector, terms, the unit answered and whether it was right."""

    vector: np.ndarray
    query: QueryTerms
    unit_id: str
    satisfied: bool


@dataclass(frozen=True)
class CalibrationSet:
    """Features and labels of the probes (and extra labels), with the unit each came from."""

    features: np.ndarray
    labels: np.ndarray
    groups: np.ndarray
    weights: np.ndarray
    positives: int  # held-out phrasings whose unit still had content
    negatives: int  # phrasings asked with their whole unit left out
    extra: int = 0
    stand_in_positives: int = 0  # positives asked against a stand-in row (the unit's only phrasing held out)


@dataclass(frozen=True)
class CurvePoint:
    """What one probability threshold gives on the calibration set (cross-validated probabilities).

    `precision` is over the answerable probes and feedback labels (a confident one is right when its own
    unit came first); `negatives_rejected` over the same-domain negatives. The bounds are one-sided 90%
    Wilson bounds: what the threshold is chosen on, so that a small knowledge base, whose few probes say
    little, gets a more cautious threshold than a large one with the same point estimates.
    """

    threshold: float
    precision: float
    coverage: float  # of answerable probes, the share confident and correct
    negatives_rejected: float
    precision_lower: float = 0.0
    negatives_confident_upper: float = 1.0


@dataclass(frozen=True)
class Calibration:
    """A fitted model, its curve and what it was fitted on."""

    model: AnswerModel
    curve: list[CurvePoint] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {"model": self.model.as_dict(), "curve": [vars(point) for point in self.curve]}


@dataclass
class ProbeOutcomes:
    """Features of each probe asked with its row held out (answerable ones) and with its whole unit left out."""

    held_out: list[dict[str, float]]
    correct: list[bool]  # whether a unit of the held-out probe's own answer came first
    stand_ins: int  # held-out probes answered by a stand-in row (`Probe.replacement`)
    held_out_answers: list[str]
    left_out: list[dict[str, float]]


def probe_features(index: CalibrationIndex, probes: Sequence[Probe]) -> ProbeOutcomes:
    """Per probe: features with only its row held out (and whether its answer came first), and with its answer out."""
    answer_array = np.array([index.answer_of(unit) for unit in index.units])
    question_only = index.question_only
    question_only_rows = np.array([unit in question_only.units for unit in index.units])
    outcomes = ProbeOutcomes([], [], 0, [], [])
    batch_size = max(1, min(256, _BATCH_CELLS // max(len(index.units), 1)))
    for start in range(0, len(probes), batch_size):
        batch = probes[start : start + batch_size]
        scores = np.stack([p.vector for p in batch]) @ index.vectors.T
        for probe, row_scores in zip(batch, scores, strict=True):
            answer = index.answer_of(probe.unit_id)
            own = answer_array == answer
            replaced = row_scores.copy()
            replaced[probe.row] = -np.inf if probe.replacement is None else float(probe.replacement @ probe.vector)
            remaining = own & np.isfinite(replaced)
            if remaining.any():
                features, top = _features(index, probe, replaced)
                outcomes.held_out.append(features)
                outcomes.correct.append(top is not None and index.answer_of(top) == answer)
                outcomes.held_out_answers.append(answer)
                outcomes.stand_ins += probe.replacement is not None
            if probe.unit_id in question_only.units:
                own = own | (question_only_rows & (row_scores >= question_only.similarity))
            outside = np.where(own, -np.inf, row_scores)
            outcomes.left_out.append(_features(index, probe, outside)[0])
    return outcomes


def _features(index: CalibrationIndex, probe: Probe, scores: np.ndarray) -> tuple[dict[str, float], str | None]:
    """Features of a probe's best candidate rows under masked scores, and the unit that comes first."""
    count = min(CANDIDATE_ROWS, int(np.isfinite(scores).sum()))
    if count == 0:
        return answer_features(probe.query, []), None
    rows = np.argpartition(-scores, count - 1)[:count]
    grouped: dict[str, tuple[list[float], set[str]]] = {}
    for row in sorted(rows, key=lambda r: -scores[r]):
        unit = index.units[row]
        cosines, terms = grouped.setdefault(unit, ([], set()))
        cosines.append(float(scores[row]))
        terms.update(probe.replacement_terms if row == probe.row else index.terms[row])
    units = [UnitEvidence(unit, tuple(c), frozenset(t)) for unit, (c, t) in grouped.items()]
    units.sort(key=lambda unit: -unit.best)
    return answer_features(probe.query, units), units[0].unit_id


def extra_label_features(index: CalibrationIndex, labels: Sequence[ExtraLabel]) -> list[tuple[dict[str, float], bool]]:
    """Features of labelled real queries against the full index, labelled correct only when satisfied with its top."""
    out = []
    for label in labels:
        probe = Probe(label.unit_id, -1, label.vector, label.query)
        features, top = _features(index, probe, index.vectors @ label.vector)
        out.append((features, label.satisfied and top == label.unit_id))
    return out


def calibration_set(
    index: CalibrationIndex,
    probes: Sequence[Probe],
    extra: Sequence[ExtraLabel] = (),
    *,
    extra_weight: float = 3.0,
) -> CalibrationSet:
    """Positives (held-out phrasings), same-domain negatives (whole answers left out) and any extra labels.

    Folds are split by answer, so units that share one never train each other's score.
    """
    outcomes = probe_features(index, probes)
    held_out, left_out = outcomes.held_out, outcomes.left_out
    extra_rows = extra_label_features(index, extra)
    rows = [feature_vector(f) for f in (*held_out, *left_out)] + [feature_vector(f) for f, _ in extra_rows]
    labels = [float(ok) for ok in outcomes.correct] + [0.0] * len(left_out) + [float(ok) for _, ok in extra_rows]
    groups = [
        *outcomes.held_out_answers,
        *(index.answer_of(p.unit_id) for p in probes),
        *(index.answer_of(label.unit_id) for label in extra),
    ]
    weights = [1.0] * (len(held_out) + len(left_out)) + [extra_weight] * len(extra_rows)
    return CalibrationSet(
        features=np.array(rows).reshape(-1, len(FEATURE_NAMES)),
        labels=np.array(labels),
        groups=np.array(groups),
        weights=np.array(weights),
        positives=len(held_out),
        negatives=len(left_out),
        extra=len(extra_rows),
        stand_in_positives=outcomes.stand_ins,
    )


@dataclass(frozen=True)
class FitLimits:
    """What a fit must reach, and what a knowledge base needs before one is tried.

    Each field is the setting of the same name after `answer_` (DOXA_ANSWER_TARGET_PRECISION, ...).
    """

    target_precision: float
    max_out_of_scope_confident: float  # of the same-domain negatives
    fallback_threshold: float
    min_probes: int  # answerable probes
    min_units: int

    @classmethod
    def of(cls, settings: Settings) -> FitLimits:
        """The limits the settings configure."""
        return cls(**{limit.name: getattr(settings, f"answer_{limit.name}") for limit in fields(cls)})


def fit(data: CalibrationSet, limits: FitLimits, fitted_on: dict[str, Any]) -> Calibration:
    """A logistic model and the lowest threshold that is safe on the cross-validated calibration set.

    Safe: the precision of confident answerable probes reaches `target_precision` and at most
    `max_out_of_scope_confident` of the same-domain negatives are confident, both read at their cautious
    bound (`CurvePoint`). The two are kept apart rather than folded into one precision over a set that is
    half negatives by construction: how many unanswerable questions real traffic holds is not known here,
    and a fixed half would make every threshold as cautious as the worst traffic mix.

    Below `min_probes` answerable probes or `min_units` units, or with one class only, the conservative
    cosine fallback is returned, saying why.
    """
    units = len(set(data.groups.tolist()))
    described = {**fitted_on, "positives": data.positives, "negatives": data.negatives, "extra_labels": data.extra}
    reason = None
    if data.positives < limits.min_probes:
        reason = f"{data.positives} answerable probes, fewer than the {limits.min_probes} needed to calibrate"
    elif units < limits.min_units:
        reason = f"{units} FAQs or documents, fewer than the {limits.min_units} needed to calibrate"
    elif len(set(data.labels.tolist())) < 2:
        reason = "every probe has the same label"
    if reason is not None:
        model = AnswerModel.fallback(limits.fallback_threshold, reason)
        return Calibration(AnswerModel(**{**vars(model), "fitted_on": {**described, "reason": reason}}))
    from sklearn.linear_model import LogisticRegression

    used = features_for(data)
    columns = np.array([name in used for name in FEATURE_NAMES])
    mean = np.where(columns, data.features.mean(axis=0), 0.0)
    spread = data.features.std(axis=0)
    scale = np.where(columns & (spread > 1e-9), spread, 1.0)
    standard = np.where(columns, (data.features - mean) / scale, 0.0)
    cv_probabilities = _cross_validated(standard, data)
    fine = precision_curve(cv_probabilities, data, _CHOICE_THRESHOLDS)
    chosen = choose_threshold(fine, limits.target_precision, limits.max_out_of_scope_confident)
    threshold = chosen.threshold
    curve = sorted({*precision_curve(cv_probabilities, data), chosen}, key=lambda point: point.threshold)
    final = LogisticRegression(C=1.0, max_iter=1000).fit(standard, data.labels, sample_weight=data.weights)
    model = AnswerModel(
        kind="logistic",
        threshold=threshold,
        mean=tuple(float(v) for v in mean),
        scale=tuple(float(v) for v in scale),
        coef=tuple(float(v) for v in final.coef_[0]),
        intercept=float(final.intercept_[0]),
        fitted_on={
            **described,
            "target_precision": limits.target_precision,
            "max_out_of_scope_confident": limits.max_out_of_scope_confident,
            "reached": _reached(chosen),
            "features_used": list(used),
            "stand_in_positives": data.stand_in_positives,
        },
    )
    return Calibration(model, curve)


DENSE_FEATURES = ("best_cosine", "margin", "phrasing_spread", "top_share", "neighbour_share")


def features_for(data: CalibrationSet) -> tuple[str, ...]:
    """The features the probes can teach honestly.

    When most positives were asked against a stand-in row (an FAQ's only phrasing held out, its answer
    embedded alone), the probe's wording is the FAQ's own question and the stand-in lacks the question's
    words: the lexical and query-length features of such probes say how FAQ questions differ from answers,
    not how customers' questions differ from FAQs, so only the dense features are fitted. With phrasings
    asked as themselves (an FAQ asked many ways, or feedback labels), every feature is.
    """
    if data.stand_in_positives * 2 > data.positives:
        return DENSE_FEATURES
    return FEATURE_NAMES


def _cross_validated(standard: np.ndarray, data: CalibrationSet) -> np.ndarray:
    """Out-of-fold probabilities, folds split by unit so a unit's probes never train their own score.

    Averaged over `_REPEATS` splits: on a small knowledge base which units happen to share a fold moves the
    chosen threshold by 0.1 or more, and the average does not depend on one draw. Each split orders the
    units by a hash of their label and the repeat, so the same knowledge base gets the same folds.
    """
    from sklearn.linear_model import LogisticRegression

    labels = sorted(set(data.groups.tolist()))
    folds = min(_FOLDS, len(labels))
    total = np.zeros(len(data.labels))
    for repeat in range(_REPEATS):
        order = sorted(labels, key=lambda label: hashlib.sha256(f"{repeat}:{label}".encode()).digest())
        fold_of = {label: position % folds for position, label in enumerate(order)}
        row_folds = np.array([fold_of[group] for group in data.groups.tolist()])
        for fold in range(folds):
            train, test = row_folds != fold, row_folds == fold
            if len(set(data.labels[train].tolist())) < 2:
                total[test] += float(data.labels[train][0])
                continue
            model = LogisticRegression(C=1.0, max_iter=1000).fit(
                standard[train], data.labels[train], sample_weight=data.weights[train]
            )
            total[test] += model.predict_proba(standard[test])[:, 1]
    return total / _REPEATS


def precision_curve(
    probabilities: np.ndarray, data: CalibrationSet, thresholds: Sequence[float] = ()
) -> list[CurvePoint]:
    """Precision, coverage and negatives rejected at each threshold (default 0.05, 0.10 ... 0.95 and 0.99)."""
    row = np.arange(len(data.labels))
    answerable = row < data.positives
    negative = (row >= data.positives) & (row < data.positives + data.negatives)
    labelled = ~negative  # answerable probes and feedback labels: what precision is read on
    n_answerable, n_negative = int(answerable.sum()), int(negative.sum())
    points = []
    for threshold in thresholds or _CURVE_THRESHOLDS:
        confident = probabilities >= threshold
        weight = float(data.weights[confident & labelled].sum())
        right = float((data.weights * data.labels)[confident & labelled].sum())
        false_accepts = int((confident & negative).sum())
        points.append(
            CurvePoint(
                threshold=float(threshold),
                precision=round(right / weight, 4) if weight else 1.0,
                coverage=round(float((confident & answerable & (data.labels > 0)).sum()) / max(n_answerable, 1), 4),
                negatives_rejected=round(1 - false_accepts / n_negative, 4) if n_negative else 1.0,
                precision_lower=round(_wilson(right, weight, upper=False), 4) if weight else 1.0,
                negatives_confident_upper=round(_wilson(false_accepts, n_negative, upper=True), 4),
            )
        )
    return points


def _wilson(successes: float, trials: float, *, upper: bool) -> float:
    """The one-sided Wilson score bound of a proportion (`_WILSON_Z`); 0 or 1 with no trials."""
    if trials <= 0:
        return 1.0 if upper else 0.0
    p, z2 = successes / trials, _WILSON_Z**2
    centre = p + z2 / (2 * trials)
    half = _WILSON_Z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials**2))
    return ((centre + half) if upper else (centre - half)) / (1 + z2 / trials)


def choose_threshold(
    curve: Sequence[CurvePoint], target_precision: float, max_out_of_scope_confident: float
) -> CurvePoint:
    """The lowest threshold whose bounds meet both limits (else the highest threshold on the curve)."""
    safe = [
        point
        for point in curve
        if point.precision_lower >= target_precision and point.negatives_confident_upper <= max_out_of_scope_confident
    ]
    return min(safe, key=lambda point: point.threshold) if safe else max(curve, key=lambda point: point.threshold)


def _reached(point: CurvePoint) -> dict[str, float]:
    return {name: value for name, value in vars(point).items() if name != "threshold"}
