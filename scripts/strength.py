"""The point strength's evidence on the eval sets, and the choice of its weights, vectorised.

A point's strength in a segment of an answer is a weighted sum of three pieces of evidence
(coverage of its keyword groups, recall of its content words, recall of its character n-grams;
see ``essaycheck.matching``). ``collect`` gathers every (answer, point, wording, segment)
instance's evidence once; the scores of any weighting then follow with numpy, exactly as
``matching.combine`` and ``evaluation.credit`` compute them, so that ``fit_strength.py`` can
try every weighting and ``eval_report.py`` can report weights chosen out of fold.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from evalsets import FOLDS, build_rubrics, load

from essaycheck.analysis import Analyzer, clean_answer
from essaycheck.checker import Checker, question_repeat
from essaycheck.errors import EssaycheckError
from essaycheck.evaluation import pearson, roc_auc
from essaycheck.feedback import repeats_question
from essaycheck.matching import DEFAULT_THRESHOLDS, STRENGTH_WEIGHTS, MatchSettings

STEP = 0.05
COVERED, PARTIAL = DEFAULT_THRESHOLDS  # the strength thresholds a rubric decides with by default
FEATURES = tuple(name for name, _ in STRENGTH_WEIGHTS)  # coverage, recall, char_recall
#: More features per instance: ``(matcher, rubric, analysis, analyzer, cache)`` -> per point,
#: per instance in ``matcher.evidence`` order, a dict of named values.
ExtraFeatures = Callable[..., list[list[dict[str, float]]]]


# -- evidence -----------------------------------------------------------------------------
@dataclass
class Collected:
    """Every (answer, point, wording, segment) instance of one data set, as flat arrays."""

    name: str
    rows: list[dict]
    evidence: np.ndarray  # instances x 3: coverage, recall, char_recall
    own: np.ndarray  # any of the point's own words or keywords there
    listed: np.ndarray
    grouped: np.ndarray
    bag: np.ndarray  # instance -> (answer, point) bag
    bag_row: np.ndarray  # bag -> row
    bag_weight: np.ndarray  # bag -> point weight
    bag_points: np.ndarray  # bag -> number of points of its rubric
    bag_start: np.ndarray  # first instance of each bag (instances are grouped by bag)
    extra: dict[str, np.ndarray] = field(default_factory=dict)  # extra_features
    #: per row, whether the answer mostly repeats the question (``feedback.repeats_question``):
    #: its mark is 0 unless a point is covered
    repeats: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    max_score: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per row, its rubric's


def collect(data_dir: Path, name: str, nlp, settings: MatchSettings | None = None,
            extra_features: ExtraFeatures | None = None, rows: list[dict] | None = None,
            checker: Checker | None = None) -> tuple[Collected, Checker]:
    """Draft the rubrics as eval_report does (or take its ``rows`` and fitted ``checker``) and
    gather every instance's evidence; ``extra_features`` adds more per instance (``extra``)."""
    analyzer = Analyzer(nlp)
    if rows is None or checker is None:
        rows = load(data_dir, name)
        rubrics = build_rubrics(rows, analyzer, name)
        checker = Checker(rubrics, nlp=nlp, settings=settings).fit()
    evidence: list[tuple[float, float, float]] = []
    own: list[bool] = []
    listed: list[bool] = []
    grouped: list[bool] = []
    bag: list[int] = []  # instance -> bag
    bag_row: list[int] = []
    bag_weight: list[float] = []
    bag_points: list[int] = []
    bag_start: list[int] = []
    extra: dict[str, list] = {}
    forms_cache: dict[str, list] = {}
    repeats = np.zeros(len(rows), bool)
    max_score = np.ones(len(rows))

    def texts():
        for i, row in enumerate(rows):
            try:
                yield clean_answer(row["student_answer"]), i
            except EssaycheckError:
                continue

    for analysis, i in analyzer.analyse_many(texts()):
        rubric = checker.rubric(rows[i]["rid"])
        matcher = checker.matcher(rubric.id)
        if extra_features is not None:
            more = extra_features(matcher, rubric, analysis, analyzer, forms_cache)
        max_score[i] = rubric.max_score
        repeats[i] = repeats_question(*question_repeat(matcher, analysis))
        for p, point_rows in enumerate(matcher.evidence(analysis)):
            bag_start.append(len(evidence))
            if not point_rows:  # no words at all: one instance with no evidence
                point_rows = [(0.0, 0.0, 0.0, False, False, True, 1)]
            for k, (coverage, recall, char, has_own, is_listed, has_groups, _) in \
                    enumerate(point_rows):
                evidence.append((coverage, recall, char))
                own.append(has_own)
                listed.append(is_listed)
                grouped.append(has_groups)
                bag.append(len(bag_row))
                if extra_features is not None:
                    for key, values in more[p][k].items():
                        extra.setdefault(key, []).append(values)
            bag_row.append(i)
            bag_weight.append(rubric.points[p].weight)
            bag_points.append(len(rubric.points))
    return Collected(
        name, rows, np.array(evidence, dtype=float).reshape(-1, 3), np.array(own, bool),
        np.array(listed, bool), np.array(grouped, bool), np.array(bag, int),
        np.array(bag_row, int), np.array(bag_weight, float), np.array(bag_points, int),
        np.array(bag_start, int), {k: np.array(v, float) for k, v in extra.items()},
        repeats, max_score), checker


# -- scores -------------------------------------------------------------------------------
def scaled(values: np.ndarray, covered: float, partial: float) -> np.ndarray:
    """``evaluation.scaled_confidence``, vectorised."""
    v = np.clip(values, 0.0, 1.0)
    partial = min(max(partial, 1e-6), covered)
    return np.where(v < partial, v / partial / 3,
                    np.where(v < covered,
                             1 / 3 + (v - partial) / max(covered - partial, 1e-6) / 3,
                             2 / 3 + (v - covered) / max(1 - covered, 1e-6) / 3))


def instance_strengths(c: Collected, weights, partial: float, question_cap: bool = True
                       ) -> np.ndarray:
    """``matching.combine`` for every instance at once."""
    wc, wr, wg = weights
    coverage, recall, char = c.evidence.T
    rest = wr + wg
    ungrouped = (wr * recall + wg * char) / rest if rest else recall
    s = np.where(c.grouped, wc * coverage + wr * recall + wg * char, ungrouped)
    if question_cap:
        s = np.where(c.own, s, np.minimum(s, partial / 2))
    return s


def answer_scores(c: Collected, s: np.ndarray, covered: float = COVERED, partial: float = PARTIAL,
                  list_cap: bool = True) -> np.ndarray:
    """``evaluation.credit`` of every answer from its instances' strengths ``s``."""
    if list_cap:
        s = np.where(c.listed, np.minimum(s, covered - 1e-6), s)
    if not len(s):
        return np.zeros(len(c.rows))
    best = np.maximum.reduceat(s, c.bag_start)
    # rounded as PointMatch rounds it (Python's round, not numpy's; to 1e-9 first, as the
    # decision is, so that float noise cannot tip a tie at the third decimal)
    confidence = np.array([round(min(1.0, max(0.0, round(x, 9))), 3) for x in best.tolist()])
    credit_ = c.bag_weight * scaled(confidence, covered, partial)
    total = np.bincount(c.bag_row, credit_, minlength=len(c.rows))
    weight = np.bincount(c.bag_row, c.bag_weight, minlength=len(c.rows))
    return np.divide(total, weight, out=np.zeros(len(c.rows)), where=weight > 0)


def best_instances(c: Collected, s: np.ndarray, covered: float = COVERED
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per bag (an answer's point), from its instances' strengths ``s`` (a list of key words
    kept below ``covered``): the best strength, the first instance that reaches it (as the
    matcher breaks ties) and the point's confidence as the result reports it."""
    s = np.where(c.listed, np.minimum(s, covered - 1e-6), s)
    rounded = np.round(s, 9)
    best = np.maximum.reduceat(rounded, c.bag_start)
    ends = np.append(c.bag_start[1:], len(s))
    at_best = rounded >= np.repeat(best, ends - c.bag_start)
    first = np.array([start + int(np.argmax(at_best[start:end]))
                      for start, end in zip(c.bag_start.tolist(), ends.tolist(), strict=True)])
    confidence = np.array([round(min(1.0, max(0.0, x)), 3) for x in best.tolist()])
    return best, first, confidence


def answer_marks(c: Collected, s: np.ndarray, covered: float = COVERED,
                 partial: float = PARTIAL) -> np.ndarray:
    """The mark (``feedback.build_result``'s, as a share of max_score) of every answer from
    its instances' strengths ``s``: per point, ``feedback.point_credit`` of its best instance's
    confidence (at most half when that instance is a list of key words), the weighted mean,
    nothing for an answer that mostly repeats the question with no point covered, the mark
    rounded to ``feedback.MARK_DECIMALS`` (the drafted rubrics have no bands and no shift)."""
    from essaycheck.calibration import _fine_credits
    from essaycheck.feedback import MARK_DECIMALS

    if not len(s):
        return np.zeros(len(c.rows))
    best, first, confidence = best_instances(c, s, covered)
    made = confidence >= partial
    listed = c.listed[first] & made
    credit_ = _fine_credits(confidence, listed, covered, partial)
    covered_any = np.bincount(c.bag_row, best >= covered,
                              minlength=len(c.rows)) > 0
    total = np.bincount(c.bag_row, c.bag_weight * credit_, minlength=len(c.rows))
    weight = np.bincount(c.bag_row, c.bag_weight, minlength=len(c.rows))
    share = np.divide(total, weight, out=np.zeros(len(c.rows)), where=weight > 0)
    if len(c.repeats):
        share = np.where(c.repeats & ~covered_any, 0.0, share)
    if len(c.max_score):
        return np.round(share * c.max_score, MARK_DECIMALS) / c.max_score
    return np.round(share, MARK_DECIMALS)


def marks_for(c: Collected, weights, covered=COVERED, partial=PARTIAL) -> np.ndarray:
    """The mark of every answer (a share of max_score) under the given strength ``weights``."""
    return answer_marks(c, instance_strengths(c, weights, partial), covered, partial)


def scores_for(c: Collected, weights, covered=COVERED, partial=PARTIAL, question_cap=True,
               list_cap=True) -> np.ndarray:
    """``evaluation.credit`` of every answer under the given ``weights``."""
    return answer_scores(c, instance_strengths(c, weights, partial, question_cap), covered,
                         partial, list_cap)


# -- choosing weights ---------------------------------------------------------------------
def grid(coverage_min: float = COVERED, fixed: dict | None = None) -> list[tuple[float, ...]]:
    """Weights (coverage, recall, char_recall) on a 0.05 grid, summing to 1."""
    steps = int(round(1 / STEP))
    out: list[tuple[float, ...]] = []
    for c in range(steps + 1):
        for r in range(steps + 1 - c):
            w = (round(c * STEP, 2), round(r * STEP, 2), round((steps - c - r) * STEP, 2))
            if w[0] + 1e-9 < coverage_min:
                continue
            if fixed and any(abs(w[FEATURES.index(k)] - v) > 1e-9 for k, v in fixed.items()):
                continue
            out.append(w)
    return out


def metric(name: str, rows: list[dict], scores: np.ndarray, mask: np.ndarray) -> float:
    """The selection metric of one set: ROC AUC (2-way sets) or Pearson r (SAF)."""
    human = np.array([row["human"] for row in rows])[mask]
    if name == "saf":
        return pearson(human, scores[mask])
    return roc_auc(human.astype(int), scores[mask])


def choose(sets: dict[str, Collected], candidates, masks: dict[str, np.ndarray],
           **options) -> tuple[tuple[float, ...], float]:
    """The candidate weights with the best mean metric over the masked rows of the sets."""
    best: tuple[tuple[float, ...], float] | None = None
    for weights in candidates:
        values = [metric(n, c.rows, scores_for(c, weights, **options), masks[n])
                  for n, c in sets.items() if masks[n].any()]
        values = [v for v in values if math.isfinite(v)]
        value = float(np.mean(values)) if values else -math.inf
        if best is None or value > best[1] + 1e-12:
            best = (weights, value)
    if best is None:
        raise ValueError("no candidate weights to choose from")
    return best


def folds(sets: dict[str, Collected]) -> dict[str, np.ndarray]:
    """Each row's fold: 5-fold GroupKFold over every question of every set."""
    from sklearn.model_selection import GroupKFold

    groups = sorted({f"{n}:{row['rid']}" for n, c in sets.items() for row in c.rows})
    fold_of = {}
    for k, (_, test) in enumerate(GroupKFold(FOLDS).split(groups, groups=groups)):
        for index in test:
            fold_of[groups[index]] = k
    return {n: np.array([fold_of[f"{n}:{row['rid']}"] for row in c.rows])
            for n, c in sets.items()}


def out_of_fold(sets, candidates, fold, **options) -> tuple[dict, list]:
    """Scores of every answer with weights chosen on the other folds' questions."""
    scores = {n: np.zeros(len(c.rows)) for n, c in sets.items()}
    chosen = []
    for k in range(FOLDS):
        weights, _ = choose(sets, candidates, {n: fold[n] != k for n in sets}, **options)
        chosen.append(weights)
        for n, c in sets.items():
            test = fold[n] == k
            scores[n][test] = scores_for(c, weights, **options)[test]
    return scores, chosen
