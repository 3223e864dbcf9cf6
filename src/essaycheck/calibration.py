"""Calibration: fit a rubric's thresholds (and, if asked, point weights) to a teacher's marks.

From a small marked sample (10 to 20 answers per question is enough to help) ``calibrate``
learns, per rubric, the ``thresholds: {covered, partial}`` and the ``mark_shift`` that make
essaycheck's marks agree best with the teacher's (least squared error: the thresholds that
order the answers as the teacher does, then the shift that sets the level, the mean of what
is left; a mild pull towards the current thresholds keeps a flat choice where it was), and
optionally point ``weight``s by non-negative least squares (scikit-learn). The shift is what
thresholds cannot do: a teacher who marks a question more leniently than its rubric reads
lifts answers with no evidence for some points too. It reports the agreement to expect from
k-fold cross-validation over the marked answers, never the in-sample figure, and applies a
calibration (with the shift, or thresholds alone if that does better) only where that
cross-validated error is lower than the current rubric's.

Matching is done once per answer; thresholds and weights only change how point strengths turn
into a mark, so the search is cheap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .analysis import clean_answer
from .errors import EssaycheckError
from .evaluation import MarkedAnswer, agreement
from .rubric import Rubric

#: fewest marked answers for a question before it is calibrated
MIN_ANSWERS = 5
COVERED_GRID = tuple(round(x, 3) for x in np.arange(0.20, 0.851, 0.025))
PARTIAL_RATIOS = (0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
#: pull towards the current thresholds, in squared-mark-share units per unit of distance²
PRIOR = 0.02
FOLDS = 5
SEED = 7


def MarkedItem(question_id: str, answer: str, mark: float) -> MarkedAnswer:  # noqa: N802
    """A marked answer from its three essentials (for callers without point labels)."""
    return MarkedAnswer(question_id, answer, float(mark))


@dataclass
class QuestionCalibration:
    """What calibration learned for one question, and what cross-validation expects of it."""

    question_id: str
    answers: int
    before: dict[str, float]
    thresholds: dict[str, float] | None = None
    weights: dict[str, float] | None = None
    mark_shift: float = 0.0
    applied: bool = False
    reason: str = ""
    cv_current: dict[str, Any] = field(default_factory=dict)
    cv_calibrated: dict[str, Any] = field(default_factory=dict)


@dataclass
class CalibrationOutcome:
    """Calibrated rubrics (every rubric, changed or not) and the per-question report."""

    rubrics: list[Rubric]
    questions: list[QuestionCalibration]
    cv_current: dict[str, Any] = field(default_factory=dict)
    cv_calibrated: dict[str, Any] = field(default_factory=dict)
    skipped_rows: int = 0

    @property
    def changed(self) -> list[str]:
        """Ids of the rubrics calibration changed."""
        return [q.question_id for q in self.questions if q.applied]


# -- strengths and marks ------------------------------------------------------------------
def _strengths(checker, rubric: Rubric, answers: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Point strengths (answers x points) and which were made only in a list of key words."""
    matcher = checker.matcher(rubric.id)
    strengths = np.zeros((len(answers), len(rubric.points)))
    listed = np.zeros_like(strengths, dtype=bool)
    for row, answer in enumerate(answers):
        analysis = checker.analyzer.analyse(clean_answer(answer))
        for col, match in enumerate(matcher.match(analysis)):
            strengths[row, col] = match.strength
            listed[row, col] = match.listed
    return strengths, listed


def _credits(strengths: np.ndarray, listed: np.ndarray, covered: float,
             partial: float) -> np.ndarray:
    credit = np.where(strengths >= covered, 1.0, np.where(strengths >= partial, 0.5, 0.0))
    # a point named only in a list of key words is capped below "covered"
    return np.where(listed & (credit == 1.0), np.where(strengths >= partial, 0.5, 0.0), credit) \
        if listed.any() else credit


def _marks(rubric: Rubric, credit: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Marks the rubric gives for these point credits (as ``feedback.mark`` does)."""
    if rubric.bands:
        count = credit.sum(axis=1)
        earned = np.zeros(len(credit))
        for needed, band_mark in rubric.bands:
            earned = np.where(count >= needed, band_mark, earned)
        return earned
    share = credit @ weights / weights.sum()
    return np.round(share * rubric.max_score, 1)


def _fit(rubric: Rubric, strengths: np.ndarray, listed: np.ndarray, marks: np.ndarray,
         start: tuple[float, float], learn_weights: bool, learn_shift: bool = True
         ) -> tuple[float, float, np.ndarray, float]:
    """Thresholds (and weights, and the mark shift) with the least squared error on these
    answers. With ``learn_shift``, thresholds are chosen for the spread of the errors (the
    shift then takes their mean), so they are fitted to how the teacher orders answers."""
    weights = np.array([p.weight for p in rubric.points], dtype=float)
    scale = rubric.max_score or 1.0
    best = None
    for covered in COVERED_GRID:
        for ratio in PARTIAL_RATIOS:
            partial = round(covered * ratio, 3)
            predicted = _marks(rubric, _credits(strengths, listed, covered, partial), weights)
            residual = (marks - predicted) / scale
            error = float(np.var(residual) if learn_shift else np.mean(residual ** 2))
            error += PRIOR * ((covered - start[0]) ** 2 + (partial - start[1]) ** 2)
            key = (round(error, 12), abs(covered - start[0]) + abs(partial - start[1]))
            if best is None or key < best[0]:
                best = (key, covered, partial)
    _, covered, partial = best
    if learn_weights and not rubric.bands and len(rubric.points) > 1:
        weights = _fit_weights(_credits(strengths, listed, covered, partial), marks / scale,
                               weights)
    shift = 0.0
    if learn_shift and len(marks) > 1:
        predicted = _marks(rubric, _credits(strengths, listed, covered, partial), weights)
        residual = (marks - predicted) / scale
        mean = float(np.mean(residual))
        # shrunk towards no shift by its own uncertainty (positive-part James-Stein): a level
        # clearly off moves, a difference within the noise of a small sample does not
        noise = float(np.var(residual, ddof=1)) / len(residual)
        if mean:
            mean *= max(0.0, 1.0 - noise / mean ** 2)
        shift = round(float(np.clip(mean, -1.0, 1.0)), 3)
    return covered, partial, weights, shift


def _shifted(rubric: Rubric, marks: np.ndarray, shift: float) -> np.ndarray:
    """Marks moved by a mark shift, kept within 0..max_score (as ``feedback.mark`` does)."""
    if not shift:
        return marks
    return np.round(np.clip(marks + shift * rubric.max_score, 0.0, rubric.max_score), 1)


def _fit_weights(credit: np.ndarray, share: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Point weights by non-negative least squares, shrunk halfway to the current ones."""
    from sklearn.linear_model import LinearRegression

    if credit.std(axis=0).max() == 0:
        return current
    model = LinearRegression(positive=True, fit_intercept=False).fit(credit, share)
    coef = np.asarray(model.coef_, dtype=float)
    if not np.isfinite(coef).all() or coef.sum() <= 0:
        return current
    learned = coef / coef.mean() * current.mean()
    return np.maximum(0.5 * learned + 0.5 * current, 0.1 * current.mean())


def _cross_validated(rubric: Rubric, strengths, listed, marks, start, learn_weights,
                     learn_shift: bool = True, seed: int = SEED) -> np.ndarray:
    """Out-of-fold marks: each answer marked with a calibration fitted on the other folds."""
    from sklearn.model_selection import KFold

    folds = min(FOLDS, len(marks))
    predicted = np.zeros(len(marks))
    for train, test in KFold(folds, shuffle=True, random_state=seed).split(marks):
        covered, partial, weights, shift = _fit(rubric, strengths[train], listed[train],
                                                marks[train], start, learn_weights, learn_shift)
        predicted[test] = _shifted(rubric, _marks(rubric, _credits(
            strengths[test], listed[test], covered, partial), weights), shift)
    return predicted


def calibrate_rubrics(checker, rows: list[MarkedAnswer], weights: bool = False,
                      cross_validate: bool = True, min_answers: int = MIN_ANSWERS
                      ) -> CalibrationOutcome:
    """Calibrate every rubric of a fitted ``Checker`` that has at least ``min_answers`` marked
    answers in ``rows``; return all rubrics (calibrated where it helps) and the report.

    With ``cross_validate`` (the default) a calibration is applied only where its k-fold
    cross-validated squared error beats the current rubric's; without it (faster, for
    experiments) it is always applied.
    """
    by_question: dict[str, list[MarkedAnswer]] = {}
    skipped = 0
    for row in rows:
        if row.mark is None or row.question_id not in checker.rubrics_by_id:
            skipped += 1
            continue
        try:
            clean_answer(row.answer)
        except EssaycheckError:
            skipped += 1
            continue
        by_question.setdefault(row.question_id, []).append(row)

    rubrics, report = [], []
    pooled_human, pooled_current, pooled_calibrated = [], [], []
    for rubric in checker.rubrics:
        marked = by_question.get(rubric.id, [])
        start = checker.matcher(rubric.id).thresholds
        entry = QuestionCalibration(rubric.id, len(marked),
                                    {"covered": start[0], "partial": start[1]})
        if len(marked) < min_answers:
            entry.reason = (f"not calibrated: {len(marked)} marked answer(s), "
                            f"at least {min_answers} needed")
            report.append(entry)
            rubrics.append(rubric)
            continue
        marks = np.array([row.mark for row in marked], dtype=float)
        if (marks > rubric.max_score + 1e-9).any() or (marks < 0).any():
            entry.reason = (f"not calibrated: marks outside 0..{rubric.max_score:g} "
                            "(the rubric's max_score)")
            report.append(entry)
            rubrics.append(rubric)
            continue
        strengths, listed = _strengths(checker, rubric, [row.answer for row in marked])
        learn_shift = True
        apply = True
        if cross_validate:
            current_w = np.array([p.weight for p in rubric.points], dtype=float)
            current = _shifted(rubric, _marks(rubric, _credits(strengths, listed, *start),
                                              current_w), rubric.mark_shift)
            predicted = _cross_validated(rubric, strengths, listed, marks, start, weights)
        covered, partial, learned, shift = _fit(rubric, strengths, listed, marks, start,
                                                weights, learn_shift)
        entry.thresholds = {"covered": covered, "partial": partial}
        entry.mark_shift = shift
        if weights and not rubric.bands and len(rubric.points) > 1:
            entry.weights = {p.id: round(float(w), 3) for p, w in zip(rubric.points, learned)}
        if cross_validate:
            entry.cv_current = agreement(marks, current)
            entry.cv_calibrated = agreement(marks, predicted)
            pooled_human.extend(marks / rubric.max_score)
            pooled_current.extend(current / rubric.max_score)
            pooled_calibrated.extend(predicted / rubric.max_score)
            error_now = float(np.mean((current - marks) ** 2))
            error_cv = float(np.mean((predicted - marks) ** 2))
            apply = error_cv < error_now - 1e-12
            entry.reason = (f"cross-validated mean squared error {error_cv:.3f} against "
                            f"{error_now:.3f} now: " + ("applied" if apply else "kept as it was"))
        else:
            entry.reason = "applied (not cross-validated)"
        entry.applied = apply
        if apply:
            rubric = _calibrated(rubric, covered, partial, entry.weights, shift)
        report.append(entry)
        rubrics.append(rubric)
    outcome = CalibrationOutcome(rubrics, report, skipped_rows=skipped)
    if pooled_human:
        outcome.cv_current = agreement(pooled_human, pooled_current)
        outcome.cv_calibrated = agreement(pooled_human, pooled_calibrated)
    return outcome


def _calibrated(rubric: Rubric, covered: float, partial: float,
                weights: dict[str, float] | None, shift: float = 0.0) -> Rubric:
    thresholds = {"covered": round(float(covered), 3), "partial": round(float(partial), 3)}
    points = rubric.points
    if weights:
        points = tuple(replace(p, weight=round(float(weights[p.id]), 3)) for p in points)
    return replace(rubric, thresholds=thresholds, points=points, mark_shift=float(shift))


def format_outcome(outcome: CalibrationOutcome) -> str:
    """The calibration report for a terminal."""
    from .evaluation import format_figure

    lines = ["Calibration (figures from 5-fold cross-validation over the marked answers, "
             "never in-sample; shift: share of max_score added to every mark)", ""]
    head = (f"{'question':<28} {'n':>4} {'covered':>11} {'partial':>11} {'shift':>6} "
            f"{'qwk now':>8} {'qwk cv':>7} {'r now':>6} {'r cv':>6}  result")
    lines += [head, "-" * len(head)]
    for q in outcome.questions:
        thresholds = q.thresholds or {}
        covered = (f"{q.before['covered']:.3f}>{thresholds['covered']:.3f}"
                   if thresholds else "")
        partial = (f"{q.before['partial']:.3f}>{thresholds['partial']:.3f}"
                   if thresholds else "")
        shift = f"{q.mark_shift:+.2f}" if thresholds else ""
        now, cv = q.cv_current or {}, q.cv_calibrated or {}
        lines.append(
            f"{q.question_id[:28]:<28} {q.answers:>4} {covered:>11} {partial:>11} {shift:>6} "
            f"{format_figure(now.get('qwk', math.nan)):>8} "
            f"{format_figure(cv.get('qwk', math.nan)):>7} "
            f"{format_figure(now.get('pearson', math.nan)):>6} "
            f"{format_figure(cv.get('pearson', math.nan)):>6}  "
            f"{'applied' if q.applied else q.reason if not q.thresholds else 'kept'}")
        if q.weights and q.applied:
            lines.append(" " * 30 + "weights: " + ", ".join(f"{k}={v:g}"
                                                            for k, v in q.weights.items()))
    if outcome.cv_current:
        now, cv = outcome.cv_current, outcome.cv_calibrated
        lines += ["", "Expected agreement on new answers (cross-validated, marks as a share of "
                  "max_score):",
                  f"  current rubrics:    Pearson {format_figure(now['pearson'])}, "
                  f"Spearman {format_figure(now['spearman'])}",
                  f"  calibrated rubrics: Pearson {format_figure(cv['pearson'])}, "
                  f"Spearman {format_figure(cv['spearman'])}"]
    if outcome.skipped_rows:
        lines.append(f"{outcome.skipped_rows} row(s) skipped: no mark, unknown question or an "
                     "answer that cannot be checked.")
    return "\n".join(lines)


def outcome_dict(outcome: CalibrationOutcome) -> dict[str, Any]:
    """The calibration report as JSON-ready data."""
    from .evaluation import json_ready

    return json_ready({
        "changed": outcome.changed,
        "cv_current": outcome.cv_current,
        "cv_calibrated": outcome.cv_calibrated,
        "skipped_rows": outcome.skipped_rows,
        "questions": [q.__dict__ for q in outcome.questions],
    })
