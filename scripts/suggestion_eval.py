#!/usr/bin/env python3
"""Do `calibrate --suggest`'s suggestions help on answers they were not learned from?

    python scripts/suggestion_eval.py [--data ../shared/eval] [--sets scientsbank beetle]
                                      [--seeds 13 1 2] [--min-fixes 2] [--top 5]

Per data set of ../shared/eval with a 1/0 mark per answer (SciEntsBank, Beetle), one rubric
per question drafted from its reference answer(s) with no edits (``evalsets.build_rubrics``).
For each seed, 20 marked answers per question are drawn (``evalsets.calibration_split``); the
mark is the per-point label of the drafted rubric's points (a one-point rubric: the answer's
mark is its point; several points: only the total mark is used, labels inferred as
``suggest`` does). ``essaycheck.suggestions.suggest`` runs on those 20; every suggestion it
returns (each fixes more verdicts than it breaks; at most ``--top`` per point) is applied.
Agreement is measured on the OTHER answers of each question only, before and after: accuracy
of "made" (covered or partial) against the 1/0 mark, mean absolute error of the mark as a
share of max_score, and ROC AUC of the continuous score (``evaluation.credit``), pooled; and
per question, the share of changed questions whose held-out accuracy fell, rose or stayed.

Measured (2 Dec 2026, seeds 13 1 2 3 4, defaults: at least 2 fixes, up to 5 per point):
SciEntsBank, held-out made-accuracy 0.707 -> 0.729, mark MAE 0.304 -> 0.284, ROC AUC 0.753 ->
0.772 (about 130 suggestions on some 52 of 135 questions per draw; of those questions about 22
better, 7 worse, the worst -0.18). Beetle (drafted rubrics of several points: total marks
only, inferred labels): 1 to 7 suggestions per draw, no change (0.668 -> 0.668). With
``--min-fixes 1``: SciEntsBank 0.707 -> 0.735 but 17 of ~105 changed questions worse per draw;
``--top 1``: 0.707 -> 0.724, 6 worse.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import evalsets
import numpy as np

from essaycheck.analysis import Analyzer, build_pipeline
from essaycheck.checker import Checker
from essaycheck.evaluation import MarkedAnswer, credit, roc_auc
from essaycheck.results import COVERED, PARTIAL, CheckResult
from essaycheck.suggestions import apply_suggestions, suggest


def held_out_figures(checker: Checker, rows: list[dict], indices: list[int]
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row of ``indices``: made (0/1), the mark as a share, the continuous score."""
    made, share, score = (np.zeros(len(indices)) for _ in range(3))
    items = ((rows[i]["rid"], rows[i]["student_answer"], k) for k, i in enumerate(indices))
    for k, outcome in checker.check_many(items):
        if not isinstance(outcome, CheckResult):
            continue
        rid = rows[indices[k]]["rid"]
        covered, partial = checker.matcher(rid).thresholds
        made[k] = float(any(p.status in (COVERED, PARTIAL) for p in outcome.points))
        share[k] = outcome.score / outcome.max_score
        score[k] = credit(outcome, covered, partial, checker.rubric(rid).mark_shift)
    return made, share, score


def run(name: str, data: Path, nlp, seeds: list[int], min_fixes: int, top: int) -> None:
    rows = evalsets.load(data, name)
    started = time.time()
    checker = Checker(evalsets.build_rubrics(rows, Analyzer(nlp), name), nlp=nlp).fit()
    print(f"\n{evalsets.DISPLAY[name]}: {len(rows)} answers, {len(checker.question_ids)} "
          f"questions (rubrics drafted in {time.time() - started:.0f} s)")
    totals = []
    for seed in seeds:
        sample, held = evalsets.calibration_split(rows, seed=seed)
        by_question: dict[str, list[MarkedAnswer]] = {}
        for i in sample:
            row = rows[i]
            rubric = checker.rubric(row["rid"])
            mark = row["human"] * rubric.max_score
            point_marks: dict[str, float] = {}
            if len(rubric.points) == 1:
                point_marks = {rubric.points[0].id: float(row["human"])}
            by_question.setdefault(row["rid"], []).append(MarkedAnswer(
                row["rid"], row["student_answer"], mark,
                {k: v > 0 for k, v in point_marks.items()}, point_marks=point_marks))
        started = time.time()
        rubrics, changed, applied = [], set(), 0
        for rubric in checker.rubrics:
            found = suggest(checker, rubric, by_question.get(rubric.id, []), limit=top,
                            min_fixes=min_fixes)
            if found:
                changed.add(rubric.id)
                applied += len(found)
                rubric = apply_suggestions(rubric, found)
            rubrics.append(rubric)
        took = time.time() - started
        after_checker = checker.with_rubrics(rubrics)
        labels = np.array([rows[i]["human"] for i in held])
        before = held_out_figures(checker, rows, held)
        after = held_out_figures(after_checker, rows, held)
        qid = np.array([rows[i]["rid"] for i in held])
        fell = rose = same = 0
        deltas = []
        for rid in sorted(changed):
            mask = qid == rid
            delta = float(np.mean(after[0][mask] == labels[mask])
                          - np.mean(before[0][mask] == labels[mask]))
            deltas.append(delta)
            fell += delta < -1e-9
            rose += delta > 1e-9
            same += abs(delta) <= 1e-9
        figures = {
            "acc": (np.mean(before[0] == labels), np.mean(after[0] == labels)),
            "mae": (np.mean(np.abs(before[1] - labels)), np.mean(np.abs(after[1] - labels))),
            "auc": (roc_auc(list(labels), list(before[2])), roc_auc(list(labels), list(after[2]))),
        }
        totals.append(figures)
        worst = min(deltas) if deltas else 0.0
        print(f"  seed {seed}: {applied} suggestions applied to {len(changed)} questions "
              f"({took:.0f} s); held-out {len(held)} answers: "
              f"made-accuracy {figures['acc'][0]:.3f} -> {figures['acc'][1]:.3f}, "
              f"mark MAE {figures['mae'][0]:.3f} -> {figures['mae'][1]:.3f}, "
              f"ROC AUC {figures['auc'][0]:.3f} -> {figures['auc'][1]:.3f}; changed questions: "
              f"{rose} better, {fell} worse, {same} same (worst {worst:+.3f})")
    for key, label in (("acc", "made-accuracy"), ("mae", "mark MAE"), ("auc", "ROC AUC")):
        b = np.mean([t[key][0] for t in totals])
        a = np.mean([t[key][1] for t in totals])
        print(f"  mean over {len(seeds)} seeds, {label}: {b:.3f} -> {a:.3f} ({a - b:+.3f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=evalsets.DEFAULT_DATA)
    parser.add_argument("--sets", nargs="+", default=["scientsbank"],
                        choices=["scientsbank", "beetle"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[13, 1, 2])
    parser.add_argument("--min-fixes", type=int, default=2)
    parser.add_argument("--top", type=int, default=5, help="suggestions applied per point")
    args = parser.parse_args()
    nlp = build_pipeline()
    for name in args.sets:
        run(name, args.data, nlp, args.seeds, args.min_fixes, args.top)


if __name__ == "__main__":
    main()
