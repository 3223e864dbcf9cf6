"""The human-marked public eval sets of ../shared/eval, as the accuracy scripts use them.

One place for what ``eval_report.py``, ``fit_strength.py`` and ``calibration_levels.py`` share:
reading a set, drafting one rubric per question from its reference answers
(``essaycheck.extract.draft_rubric``, no hand editing), essaycheck's continuous score of every
answer, the figures (ROC AUC and accuracy with an out-of-fold threshold; Pearson r and
quadratic weighted kappa with out-of-fold cut points) and the marked calibration sample.
Importable from any script in this folder (a script's own folder is on ``sys.path``).
"""

from __future__ import annotations

import csv
import random
import re
from pathlib import Path

import numpy as np

from essaycheck.analysis import Analyzer
from essaycheck.checker import Checker
from essaycheck.evaluation import (
    accuracy,
    credit,
    pearson,
    quadratic_kappa,
    roc_auc,
    whole_marks,
)
from essaycheck.extract import draft_rubric
from essaycheck.results import CheckResult

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "eval"
DATASETS = {
    "scientsbank": "scientsbank-train.csv",
    "beetle": "beetle-train.csv",
    "saf": "saf-en-train.csv",
}
DISPLAY = {"scientsbank": "SciEntsBank", "beetle": "Beetle", "saf": "SAF (en)"}
SAF_LABELS = {"Incorrect": 0, "Partially correct": 1, "Correct": 2}
#: Folds of every grouped-by-question cross-validation (thresholds, cut points, weights).
FOLDS = 5
CALIBRATION_SAMPLE = 20
SEED = 13


# -- data -------------------------------------------------------------------------------
def rubric_id(question_id: str) -> str:
    """A rubric id made of the question id's safe characters."""
    return re.sub(r"[^a-z0-9._-]+", "-", question_id.lower()).strip("-.") or "q"


def references(row: dict) -> list[str]:
    """Every reference answer of a row: Beetle's ``all_reference_answers`` (categories
    dropped, duplicates removed), else the one ``reference_answer``."""
    if row.get("all_reference_answers"):
        found = []
        for part in row["all_reference_answers"].split(" || "):
            text = re.sub(r"^\s*\[[A-Z_]+\]\s*", "", part).strip()
            if text and text not in found:
                found.append(text)
        if found:
            return found
    return [row["reference_answer"]]


def load(data_dir: Path, name: str) -> list[dict]:
    """The rows of one data set, with ``rid`` (rubric id) and ``human`` (mark as a share)."""
    path = data_dir / DATASETS[name]
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["rid"] = rubric_id(row["question_id"])
        if name == "saf":
            row["human"] = float(row["score"]) / float(row["score_max"])
            row["label3"] = SAF_LABELS[row["label"]]
        else:
            row["human"] = float(row["score"])
    return rows


def build_rubrics(rows: list[dict], analyzer: Analyzer, name: str,
                  alternatives: bool = True) -> list:
    """One drafted rubric per question, from its reference answer(s) alone."""
    first: dict[str, dict] = {}
    for row in rows:
        first.setdefault(row["rid"], row)
    rubrics = []
    for rid, row in first.items():
        refs = references(row)
        max_score = float(row["score_max"]) if name == "saf" else 1.0
        rubrics.append(draft_rubric(rid, row["question"], refs[0], analyzer,
                                    max_score=max_score,
                                    alternatives=refs[1:] if alternatives else ()))
    return rubrics


# -- scores -----------------------------------------------------------------------------
def essaycheck_scores(checker: Checker, rows: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """The continuous score (``evaluation.credit``) and the mark as a share of max_score."""
    scores, marks = np.zeros(len(rows)), np.zeros(len(rows))
    items = ((row["rid"], row["student_answer"], i) for i, row in enumerate(rows))
    for i, outcome in checker.check_many(items):
        if isinstance(outcome, CheckResult):
            covered, partial = thresholds(checker, rows[i]["rid"])
            scores[i] = credit(outcome, covered, partial,
                               checker.rubric(rows[i]["rid"]).mark_shift)
            marks[i] = outcome.score / outcome.max_score
    return scores, marks


def thresholds(checker: Checker, rid: str) -> tuple[float, float]:
    """The covered and partial thresholds one question's matcher decides with."""
    return checker.matcher(rid).thresholds


# -- out-of-fold decisions --------------------------------------------------------------
def _best_threshold(scores: np.ndarray, labels: np.ndarray) -> float:
    candidates = np.unique(scores)
    cuts = np.concatenate([candidates[:1] - 1e-9, (candidates[:-1] + candidates[1:]) / 2,
                           candidates[-1:] + 1e-9])
    accuracies = [np.mean((scores >= cut) == labels) for cut in cuts]
    return float(cuts[int(np.argmax(accuracies))])


def oof_accuracy(scores: np.ndarray, labels: np.ndarray, groups: np.ndarray) -> float:
    """Accuracy with the threshold for each fold's questions chosen on the other folds."""
    from sklearn.model_selection import GroupKFold

    predicted = np.zeros(len(scores), dtype=int)
    for train, test in GroupKFold(FOLDS).split(scores, labels, groups):
        cut = _best_threshold(scores[train], labels[train])
        predicted[test] = scores[test] >= cut
    return accuracy(labels, predicted)


def _fast_kappa(labels: np.ndarray, predicted: np.ndarray, k: int = 3) -> float:
    """Quadratic weighted kappa by numpy, for the cut-point search (the reported figure comes
    from ``evaluation.quadratic_kappa``)."""
    observed = np.bincount(labels * k + predicted, minlength=k * k).reshape(k, k).astype(float)
    weights = (np.subtract.outer(np.arange(k), np.arange(k)) ** 2) / (k - 1) ** 2
    expected = np.outer(observed.sum(1), observed.sum(0)) / observed.sum()
    denominator = (weights * expected).sum()
    return 1 - (weights * observed).sum() / denominator if denominator else -2.0


def _best_cuts(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    grid = np.unique(np.quantile(scores, np.linspace(0.02, 0.98, 49)))
    best, best_kappa = (grid[0], grid[-1]), -2.0
    above = [(scores >= cut).astype(int) for cut in grid]
    for i in range(len(grid)):
        for j in range(i, len(grid)):
            kappa = _fast_kappa(labels, above[i] + above[j])
            if kappa > best_kappa:
                best, best_kappa = (float(grid[i]), float(grid[j])), kappa
    return best


def oof_kappa(scores: np.ndarray, labels: np.ndarray, groups: np.ndarray) -> float:
    """Quadratic weighted kappa on three labels, cut points chosen on the other folds."""
    from sklearn.model_selection import GroupKFold

    predicted = np.zeros(len(scores), dtype=int)
    for train, test in GroupKFold(FOLDS).split(scores, labels, groups):
        low, high = _best_cuts(scores[train], labels[train])
        predicted[test] = (scores[test] >= low).astype(int) + (scores[test] >= high)
    return quadratic_kappa(labels, predicted, [0, 1, 2])


def figures(name: str, scores: np.ndarray, rows: list[dict]) -> dict[str, float]:
    """The data set's figures for one score per row: AUC and accuracy, or r and QWK (SAF)."""
    groups = np.array([row["rid"] for row in rows])
    human = np.array([row["human"] for row in rows])
    if name == "saf":
        labels = np.array([row["label3"] for row in rows])
        return {"pearson": pearson(human, scores), "qwk": oof_kappa(scores, labels, groups)}
    labels = human.astype(int)
    return {"roc_auc": roc_auc(labels, scores), "accuracy": oof_accuracy(scores, labels, groups)}


def mark_figures(name: str, marks: np.ndarray, rows: list[dict]) -> dict[str, float]:
    """The same figures of the mark (a share of max_score), as issue 10 judges them: ROC AUC
    and accuracy with an out-of-fold threshold, and accuracy of the whole mark (at least half of
    max_score counts as correct, as ``evaluation.whole_marks`` rounds); SAF, Pearson r."""
    if name == "saf":
        return {"pearson_of_mark": pearson([row["human"] for row in rows], marks)}
    groups = np.array([row["rid"] for row in rows])
    labels = np.array([row["human"] for row in rows]).astype(int)
    return {"roc_auc_of_mark": roc_auc(labels, marks),
            "accuracy_of_mark": oof_accuracy(marks, labels, groups),
            "whole_mark_accuracy": accuracy(labels, whole_marks(marks))}


# -- calibration on a marked sample -----------------------------------------------------
def calibration_split(rows: list[dict], size: int = CALIBRATION_SAMPLE, seed: int = SEED):
    """Per question, ``size`` answers drawn at random to calibrate on; the rest to report."""
    rng = random.Random(seed)
    by_question: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        by_question.setdefault(row["rid"], []).append(i)
    sample = set()
    for indices in by_question.values():
        sample.update(rng.sample(indices, min(size, len(indices) // 2)))
    held_out = [i for i in range(len(rows)) if i not in sample]
    return sorted(sample), held_out


def calibrated_scores(name: str, rubrics: list, rows: list[dict], sample: list[int],
                      nlp, settings=None) -> tuple[np.ndarray, Checker]:
    """Every row's score after ``essaycheck calibrate`` on the ``sample`` rows' marks."""
    scores, _, calibrated = calibrated_scores_and_marks(name, rubrics, rows, sample, nlp,
                                                        settings)
    return scores, calibrated


def calibrated_scores_and_marks(name: str, rubrics: list, rows: list[dict], sample: list[int],
                                nlp, settings=None) -> tuple[np.ndarray, np.ndarray, Checker]:
    """Every row's score and mark (a share of max_score) after ``essaycheck calibrate`` on the
    ``sample`` rows' marks, and the calibrated checker."""
    from essaycheck.calibration import MarkedItem, calibrate_rubrics

    checker = Checker(rubrics, nlp=nlp, settings=settings).fit()
    marked = [MarkedItem(rows[i]["rid"], rows[i]["student_answer"],
                         rows[i]["human"] * checker.rubric(rows[i]["rid"]).max_score)
              for i in sample]
    outcome = calibrate_rubrics(checker, marked)  # as `essaycheck calibrate` does it
    calibrated = Checker(outcome.rubrics, nlp=nlp, settings=settings).fit()
    scores, marks = essaycheck_scores(calibrated, rows)
    return scores, marks, calibrated
