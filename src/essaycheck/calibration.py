"""Calibration: fit a rubric's thresholds (and, if asked, point weights) to a teacher's marks.

From a small marked sample (10 to 20 answers per question is enough to help) ``calibrate``
learns, per rubric, the ``thresholds: {covered, partial}`` and the ``mark_shift`` that make
essaycheck's marks agree best with the teacher's (least squared error: the thresholds that
order the answers as the teacher does, then the shift that sets the level, the mean of what
is left; a mild pull towards the current thresholds keeps a flat choice where it was), and
optionally point ``weight``s by non-negative least squares (scikit-learn). The shift is what
thresholds cannot do: a teacher who marks a question more leniently than its rubric reads
lifts answers with no evidence for some points too. It reports the agreement to expect from
k-fold cross-validation over the marked answers, never the in-sample figure.

With 10 to 20 marked answers a fit can look better than the rubric by chance, and then marks
new answers worse. So a calibration must earn its place (``calibrate_question``): the shift
alone, then thresholds with a shift, each cross-validated over four splits and applied only if
its squared error beats the one before (at first the rubric as it is) by more than one standard
error of the per-answer gain; and the shift stops one standard error short of the sample's mean
error. Otherwise the rubric is left as it is and the report says why (ACCURACY.md, "Calibration
that never makes marking worse", measures the rule over many random draws).

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
from .feedback import CREDIT, MARK_DECIMALS
from .results import PARTIAL
from .rubric import Rubric

#: fewest marked answers for a question before it is calibrated
MIN_ANSWERS = 5
COVERED_GRID = tuple(round(x, 3) for x in np.arange(0.20, 0.851, 0.025))
PARTIAL_RATIOS = (0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
#: pull towards the current thresholds, in squared-mark-share units per unit of distance²
PRIOR = 0.02
FOLDS = 5
SEED = 7
#: the calibrations considered, simplest first: the shift alone on the rubric's thresholds (one
#: number, so it holds best on few answers), then thresholds with a shift (and weights if asked)
CANDIDATES = ("shift", "thresholds and shift")
#: standard errors of the sample's mean error a mark shift stops short of
SHIFT_MARGIN = 1.0
#: times cross-validation is repeated, each with other folds, before deciding
REPEATS = 4
#: standard errors of the cross-validated gain a calibration must clear to be applied
MARGIN = 1.0


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
    calibration: str = ""
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
def point_strengths(checker, rubric: Rubric, answers: list[str]
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Point strengths (answers x points) of a fitted ``Checker``'s rubric, and which points
    were made only in a list of key words: all that calibration needs of the answers."""
    matcher = checker.matcher(rubric.id)
    strengths = np.zeros((len(answers), len(rubric.points)))
    listed = np.zeros_like(strengths, dtype=bool)
    texts = ((clean_answer(answer), row) for row, answer in enumerate(answers))
    for analysis, row in checker.analyzer.analyse_many(texts):
        for col, match in enumerate(matcher.match(analysis)):
            strengths[row, col] = match.strength
            listed[row, col] = match.listed
    return strengths, listed


_strengths = point_strengths  # the name the tests and older scripts know


def _credits(strengths: np.ndarray, listed: np.ndarray, covered, partial,
             rubric: Rubric | None = None) -> np.ndarray:
    """Point credits as ``feedback.mark`` counts them: for a rubric with bands (or none
    given) the statuses' (1, 0.5 or 0), else ``feedback.point_credit``'s, vectorised.
    ``covered`` and ``partial`` may be arrays shaped to broadcast against ``strengths``
    (k x 1 x 1: every candidate of the grid at once)."""
    if rubric is not None and not rubric.bands:
        return _fine_credits(strengths, listed, covered, partial)
    credit = np.where(strengths >= covered, 1.0, np.where(strengths >= partial, 0.5, 0.0))
    # a point named only in a list of key words is capped below "covered"
    return np.where(listed & (credit == 1.0), np.where(strengths >= partial, 0.5, 0.0), credit) \
        if listed.any() else credit


def _fine_credits(strengths: np.ndarray, listed: np.ndarray, covered, partial) -> np.ndarray:
    """``feedback.point_credit`` of every point at once (test_calibration checks they agree)."""
    value = np.clip(np.minimum(strengths, covered - 1e-9), 0.0, 1.0)
    partial = np.minimum(np.maximum(partial, 1e-6), covered)
    below = value / partial / 3
    within = 1 / 3 + (value - partial) / np.maximum(covered - partial, 1e-6) / 3
    credit = np.where(value < partial, below, within)
    credit = np.where(listed, np.minimum(credit, CREDIT[PARTIAL]), credit)
    return np.where((strengths >= covered) & ~listed, 1.0, credit)


def _marks(rubric: Rubric, credit: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Marks the rubric gives for these point credits (as ``feedback.mark`` does); the last
    axis of ``credit`` is the points."""
    if rubric.bands:
        count = credit.sum(axis=-1)
        earned = np.zeros(count.shape)
        for needed, band_mark in rubric.bands:
            earned = np.where(count >= needed, band_mark, earned)
        return earned
    share = credit @ weights / weights.sum()
    return np.round(share * rubric.max_score, MARK_DECIMALS)


_GRID_COVERED = np.repeat(np.array(COVERED_GRID), len(PARTIAL_RATIOS))
_GRID_PARTIAL = np.array([round(c * r, 3) for c in COVERED_GRID for r in PARTIAL_RATIOS])


def _grid_marks(rubric: Rubric, strengths: np.ndarray, listed: np.ndarray,
                weights: np.ndarray) -> np.ndarray:
    """The marks under every threshold candidate of the grid: candidates x answers."""
    return _marks(rubric, _credits(strengths, listed, _GRID_COVERED[:, None, None],
                                   _GRID_PARTIAL[:, None, None], rubric), weights)


def _fit(rubric: Rubric, strengths: np.ndarray, listed: np.ndarray, marks: np.ndarray,
         start: tuple[float, float], learn_weights: bool, learn_shift: bool = True,
         learn_thresholds: bool = True, grid: np.ndarray | None = None,
         shift_margin: float = SHIFT_MARGIN) -> tuple[float, float, np.ndarray, float]:
    """Thresholds (and weights, and the mark shift) with the least squared error on these
    answers. With ``learn_shift``, thresholds are chosen for the spread of the errors (the
    shift then takes their mean), so they are fitted to how the teacher orders answers.
    Without ``learn_thresholds`` the rubric's thresholds stay and only the shift is fitted.
    ``grid`` is ``_grid_marks`` of these answers when the caller has it already."""
    weights = np.array([p.weight for p in rubric.points], dtype=float)
    scale = rubric.max_score or 1.0
    covered, partial = start
    if learn_thresholds:
        candidates = _grid_marks(rubric, strengths, listed, weights) if grid is None else grid
        residual = (marks - candidates) / scale
        error = residual.var(axis=1) if learn_shift else np.mean(residual ** 2, axis=1)
        distance2 = (_GRID_COVERED - start[0]) ** 2 + (_GRID_PARTIAL - start[1]) ** 2
        error = np.round(error + PRIOR * distance2, 12)
        distance = np.abs(_GRID_COVERED - start[0]) + np.abs(_GRID_PARTIAL - start[1])
        # the least error; on a tie the candidate nearest the current thresholds, then the first
        best = int(np.lexsort((distance, error))[0])
        covered, partial = float(_GRID_COVERED[best]), float(_GRID_PARTIAL[best])
        predicted = candidates[best]
    if learn_weights and not rubric.bands and len(rubric.points) > 1:
        weights = _fit_weights(_credits(strengths, listed, covered, partial, rubric),
                               marks / scale, weights)
        predicted = _marks(rubric, _credits(strengths, listed, covered, partial, rubric),
                           weights)
    elif not learn_thresholds:
        predicted = _marks(rubric, _credits(strengths, listed, covered, partial, rubric),
                           weights)
    shift = 0.0
    if learn_shift and len(marks) > 1:
        residual = (marks - predicted) / scale
        mean = float(np.mean(residual))
        # shrunk towards no shift by its own uncertainty (positive-part James-Stein): a level
        # clearly off moves, a difference within the noise of a small sample does not
        noise = float(np.var(residual, ddof=1)) / len(residual)
        if mean:
            mean *= max(0.0, 1.0 - noise / mean ** 2)
            # and then kept shift_margin standard errors short of it: a level that is only
            # likely off moves less than one that is surely off
            mean = math.copysign(max(0.0, abs(mean) - shift_margin * math.sqrt(noise)), mean)
        shift = round(float(np.clip(mean, -1.0, 1.0)), 3)
    return covered, partial, weights, shift


def marks_for(rubric: Rubric, strengths: np.ndarray, listed: np.ndarray,
              thresholds: tuple[float, float], weights: dict[str, float] | None = None,
              shift: float = 0.0) -> np.ndarray:
    """The marks of answers with these point strengths under a calibration: (covered,
    partial) thresholds, point weights (None: the rubric's) and a mark shift."""
    w = np.array([(weights or {}).get(p.id, p.weight) for p in rubric.points], dtype=float)
    credits = _credits(strengths, listed, *thresholds, rubric)
    return _shifted(rubric, _marks(rubric, credits, w), shift)


def _shifted(rubric: Rubric, marks: np.ndarray, shift: float) -> np.ndarray:
    """Marks moved by a mark shift, kept within 0..max_score (as ``feedback.mark`` does)."""
    if not shift:
        return marks
    return np.round(np.clip(marks + shift * rubric.max_score, 0.0, rubric.max_score),
                    MARK_DECIMALS)


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
                     learn_shift: bool = True, seed: int = SEED,
                     learn_thresholds: bool = True, shift_margin: float = SHIFT_MARGIN
                     ) -> np.ndarray:
    """Out-of-fold marks: each answer marked with a calibration fitted on the other folds."""
    from sklearn.model_selection import KFold

    folds = min(FOLDS, len(marks))
    predicted = np.zeros(len(marks))
    # the grid's marks of every answer once: a fold's fit only chooses among them
    grid = _grid_marks(rubric, strengths, listed, np.array([p.weight for p in rubric.points],
                                                            dtype=float)) \
        if learn_thresholds else None
    for train, test in KFold(folds, shuffle=True, random_state=seed).split(marks):
        covered, partial, weights, shift = _fit(
            rubric, strengths[train], listed[train], marks[train], start, learn_weights,
            learn_shift, learn_thresholds, None if grid is None else grid[:, train], shift_margin)
        predicted[test] = _shifted(rubric, _marks(rubric, _credits(
            strengths[test], listed[test], covered, partial, rubric), weights), shift)
    return predicted


@dataclass(frozen=True)
class Rule:
    """How calibration decides whether to apply: which calibrations it considers, how many
    times cross-validation is repeated (each with other folds), and the margin the
    cross-validated gain must clear, in standard errors of that gain, and the standard errors
    of the sample's mean error the mark shift stops short of."""

    candidates: tuple[str, ...] = CANDIDATES
    repeats: int = REPEATS
    margin: float = MARGIN
    shift_margin: float = SHIFT_MARGIN


#: the rule as shipped before the margins (one 5-fold split, any gain applied, the shift not
#: held back), for comparison
SINGLE_SPLIT = Rule(candidates=("thresholds and shift",), repeats=1, margin=0.0,
                    shift_margin=0.0)


def _standard_error(values: np.ndarray) -> float:
    """Standard error of the mean of ``values`` (0 for fewer than two)."""
    return float(np.std(values, ddof=1)) / math.sqrt(len(values)) if len(values) > 1 else 0.0


def calibrate_question(rubric: Rubric, strengths: np.ndarray, listed: np.ndarray,
                       marks: np.ndarray, start: tuple[float, float], weights: bool = False,
                       cross_validate: bool = True, rule: Rule = Rule(), report: bool = True
                       ) -> tuple[QuestionCalibration, np.ndarray, np.ndarray]:
    """Calibrate one question from its marked answers' point ``strengths`` and ``marks``: the
    report entry (what was fitted, whether it is applied and why), the current rubric's marks
    and the calibration's out-of-fold marks for those answers.

    Each candidate calibration of the ``rule``, simplest first, is cross-validated
    ``rule.repeats`` times and chosen only if its squared error beats the one chosen so far
    (at first the rubric as it is) by more than ``rule.margin`` standard errors of the
    per-answer gain: a gain within the noise of 10-20 answers leaves the rubric as it is, and
    a richer calibration has to earn its extra freedom. Without ``report`` the entry's
    agreement figures are left empty (faster, for measuring many calibrations).
    """
    entry = QuestionCalibration(rubric.id, len(marks),
                                {"covered": start[0], "partial": start[1]})
    current = marks_for(rubric, strengths, listed, start, shift=rubric.mark_shift)
    chosen, predicted = rule.candidates[-1], current
    if cross_validate:
        error_now = (current - marks) ** 2
        error_chosen, applied = error_now, ""
        best: tuple[str, np.ndarray, np.ndarray] | None = None  # least error, for the report
        for name in rule.candidates:
            runs = [_cross_validated(rubric, strengths, listed, marks, start, weights,
                                     seed=SEED + r, learn_thresholds=name != "shift",
                                     shift_margin=rule.shift_margin)
                    for r in range(rule.repeats)]
            error = np.mean([(run - marks) ** 2 for run in runs], axis=0)
            gain = error_chosen - error
            if float(gain.mean()) > rule.margin * _standard_error(gain) + 1e-12:
                applied, error_chosen, predicted = name, error, runs[0]
            if best is None or error.mean() < best[1].mean() - 1e-12:
                best = (name, error, runs[0])
        assert best is not None  # a rule has at least one candidate
        if applied:
            chosen = applied
        else:
            chosen, error_chosen, predicted = best
    learn_thresholds = chosen != "shift"
    covered, partial, learned, shift = _fit(rubric, strengths, listed, marks, start, weights,
                                            learn_thresholds=learn_thresholds,
                                            shift_margin=rule.shift_margin)
    entry.thresholds = {"covered": covered, "partial": partial}
    entry.mark_shift = shift
    entry.calibration = chosen
    if weights and not rubric.bands and len(rubric.points) > 1 and learn_thresholds:
        entry.weights = {p.id: round(float(w), 3)
                         for p, w in zip(rubric.points, learned, strict=True)}
    if not cross_validate:
        entry.applied = True
        entry.reason = "applied (not cross-validated)"
        return entry, current, predicted
    entry.applied = bool(applied)
    if report:
        entry.cv_current = agreement(marks, current)
        entry.cv_calibrated = agreement(marks, predicted)
    gain = error_now - error_chosen
    figures = (f"cross-validated mean squared error {error_chosen.mean():.3f} ({chosen}) "
               f"against {error_now.mean():.3f} now")
    if entry.applied:
        entry.reason = f"{figures}: applied"
    elif gain.mean() <= 1e-12:
        entry.reason = f"{figures}: left unapplied, it would not mark new answers better"
    else:
        entry.reason = (f"{figures}: left unapplied, its gain of {gain.mean():.3f} is within "
                        f"the noise of {len(marks)} marked answers (it needs more than "
                        f"{rule.margin * _standard_error(gain):.3f}; more marked answers can "
                        "show it)")
    return entry, current, predicted


def calibrate_rubrics(checker, rows: list[MarkedAnswer], weights: bool = False,
                      cross_validate: bool = True, min_answers: int = MIN_ANSWERS,
                      rule: Rule = Rule()) -> CalibrationOutcome:
    """Calibrate every rubric of a fitted ``Checker`` that has at least ``min_answers`` marked
    answers in ``rows``; return all rubrics (calibrated where it helps) and the report.

    With ``cross_validate`` (the default) a calibration is applied only where its repeated
    k-fold cross-validated squared error beats the current rubric's by the ``rule``'s margin
    (``calibrate_question``); without it (faster, for experiments) it is always applied.
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
        reason = ""
        marks = np.array([row.mark for row in marked], dtype=float)
        if len(marked) < min_answers:
            reason = (f"not calibrated: {len(marked)} marked answer(s), "
                      f"at least {min_answers} needed")
        elif (marks > rubric.max_score + 1e-9).any() or (marks < 0).any():
            reason = (f"not calibrated: marks outside 0..{rubric.max_score:g} "
                      "(the rubric's max_score)")
        if reason:
            report.append(QuestionCalibration(rubric.id, len(marked),
                                              {"covered": start[0], "partial": start[1]},
                                              reason=reason))
            rubrics.append(rubric)
            continue
        strengths, listed = point_strengths(checker, rubric, [row.answer for row in marked])
        entry, current, predicted = calibrate_question(rubric, strengths, listed, marks, start,
                                                       weights, cross_validate, rule)
        if cross_validate:
            pooled_human.extend(marks / rubric.max_score)
            pooled_current.extend(current / rubric.max_score)
            pooled_calibrated.extend(predicted / rubric.max_score)
        if entry.applied and entry.thresholds:
            # a shift alone leaves the rubric's thresholds as they are written
            thresholds = None if entry.calibration == "shift" else entry.thresholds
            rubric = _calibrated(rubric, thresholds, entry.weights, entry.mark_shift)
        report.append(entry)
        rubrics.append(rubric)
    outcome = CalibrationOutcome(rubrics, report, skipped_rows=skipped)
    if pooled_human:
        outcome.cv_current = agreement(pooled_human, pooled_current)
        outcome.cv_calibrated = agreement(pooled_human, pooled_calibrated)
    return outcome


def _calibrated(rubric: Rubric, thresholds: dict[str, float] | None,
                weights: dict[str, float] | None, shift: float = 0.0) -> Rubric:
    """The rubric with a calibration's thresholds (None: its own), weights and shift."""
    points = rubric.points
    if weights:
        points = tuple(replace(p, weight=round(float(weights[p.id]), 3)) for p in points)
    if thresholds is None:
        return replace(rubric, points=points, mark_shift=float(shift))
    rounded = {key: round(float(value), 3) for key, value in thresholds.items()}
    return replace(rubric, thresholds=rounded, points=points, mark_shift=float(shift))


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
            f"{_result(q)}")
        if q.thresholds and not q.applied:
            # why, in the teacher's terms: nothing is changed without evidence it helps
            lines.append(" " * 30 + "why: " + q.reason)
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


def _result(q: QuestionCalibration) -> str:
    """The result column: which calibration was applied, or that none was and why not."""
    if q.applied:
        return f"applied ({q.calibration})" if q.calibration else "applied"
    return "left unapplied" if q.thresholds else q.reason


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
