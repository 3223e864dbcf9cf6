#!/usr/bin/env python3
"""Does calibration on 20 marked answers make a question's marking worse? (ACCURACY.md,
"Calibration that never makes marking worse").

    python scripts/calibration_draws.py             # before / after, 3-7 minutes
    python scripts/calibration_draws.py --explore   # and the alternatives (* shift not held
                                                    # back), --draws 5 to keep it short

On each data set of ../shared/eval, for ``--draws`` random draws (seeds 1, 2, ...) of 20
marked answers per question (half the question's answers if it has fewer than 40, as
eval_report.py draws them), each question is calibrated on its drawn answers alone, as
``essaycheck calibrate`` does it (``calibration.calibrate_question``), and its marks on the
question's other answers are compared with the uncalibrated rubric's. Per question, the
agreement of the mark with the human one, on the answers calibration did not see:

- SciEntsBank and Beetle (2-way, max mark 1): accuracy of the whole mark (0.5 and up counts
  as correct, as ``evaluation.whole_marks`` rounds) and ROC AUC of the mark;
- SAF (marks of 0.5 to 3.5 in steps of a quarter or an eighth): quadratic weighted kappa on
  the mark as a share of max_score in quarters (0, 1/4, ... 1), and Pearson r of the mark.

Reported over every (draw, question): the share of questions where calibration lowers the
figure, the share where it raises it, the mean change and the worst. The point strengths of
every answer are computed once per data set; the calibrations then run on numpy arrays.
"""

from __future__ import annotations

import argparse
import math
import time
from collections import defaultdict

import evalsets
import numpy as np

from essaycheck.analysis import Analyzer, build_pipeline, clean_answer
from essaycheck.calibration import (
    SINGLE_SPLIT,
    Rule,
    calibrate_question,
    marks_for,
    point_strengths,
)
from essaycheck.checker import Checker
from essaycheck.errors import EssaycheckError
from essaycheck.evaluation import pearson, quadratic_kappa, roc_auc, whole_marks

RULES = {
    "before: one 5-fold split, any gain applied": SINGLE_SPLIT,
    "after (as shipped)": Rule(),
}
EXPLORE = {
    "thresholds and shift, 4 splits, margin 1 SE*": Rule(("thresholds and shift",), 4, 1.0, 0.0),
    "the shift alone, 4 splits, margin 1 SE*": Rule(("shift",), 4, 1.0, 0.0),
    "shift, then thresholds, 4 splits, margin 1 SE*": Rule(("shift", "thresholds and shift"),
                                                           4, 1.0, 0.0),
    "shift, then thresholds, 4 splits, margin 1.5 SE": Rule(("shift", "thresholds and shift"),
                                                            4, 1.5, 1.0),
}


def question_figures(name: str, human, marks, max_score: float) -> dict[str, float]:
    """One question's agreement of essaycheck's ``marks`` with the ``human`` ones on its
    held-out answers."""
    if name == "saf":
        quarters_h = whole_marks(4 * human / max_score).tolist()
        quarters_p = whole_marks(4 * marks / max_score).tolist()
        return {"qwk": quadratic_kappa(quarters_h, quarters_p, list(range(5))),
                "r": pearson(human, marks)}
    labels = human.astype(int)
    return {"accuracy": float(np.mean(whole_marks(marks) == labels)),
            "auc": roc_auc(labels, marks) if 0 < labels.sum() < len(labels) else math.nan}


def collect(name: str, nlp) -> list[dict]:
    """Per question: its rubric, every answer's point strengths and the human marks."""
    rows = evalsets.load(evalsets.DEFAULT_DATA, name)
    rubrics = evalsets.build_rubrics(rows, Analyzer(nlp), name)
    checker = Checker(rubrics, nlp=nlp).fit()
    questions = []
    for rubric in rubrics:
        answers, human = [], []
        for row in rows:
            if row["rid"] != rubric.id:
                continue
            try:
                clean_answer(row["student_answer"])
            except EssaycheckError:
                continue
            answers.append(row["student_answer"])
            human.append(row["human"] * rubric.max_score)
        strengths, listed = point_strengths(checker, rubric, answers)
        questions.append({"rubric": rubric, "strengths": strengths, "listed": listed,
                          "human": np.array(human), "start": checker.matcher(rubric.id)
                          .thresholds})
    return questions


def draw(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A calibration sample of one question's answers (as evalsets.calibration_split draws
    it) and the rest."""
    rng = np.random.default_rng(seed)
    size = min(evalsets.CALIBRATION_SAMPLE, n // 2)
    order = rng.permutation(n)
    return np.sort(order[:size]), np.sort(order[size:])


def measure(name: str, questions: list[dict], rules: dict[str, Rule], draws: int
            ) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, float]]:
    """Per rule, per figure: the change calibration makes on every (draw, question), and the
    share of calibrations applied."""
    changes: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    applied: dict[str, list[bool]] = defaultdict(list)
    for seed in range(1, draws + 1):
        for q_index, q in enumerate(questions):
            rubric, s, lst, human = q["rubric"], q["strengths"], q["listed"], q["human"]
            sample, held = draw(len(human), seed * 1000 + q_index)
            before = question_figures(name, human[held], marks_for(
                rubric, s[held], lst[held], q["start"]), rubric.max_score)
            for label, rule in rules.items():
                entry, _, _ = calibrate_question(rubric, s[sample], lst[sample], human[sample],
                                                 q["start"], rule=rule, report=False)
                applied[label].append(entry.applied)
                after = before
                if entry.applied and entry.thresholds:
                    after = question_figures(name, human[held], marks_for(
                        rubric, s[held], lst[held],
                        (entry.thresholds["covered"], entry.thresholds["partial"]),
                        entry.weights, entry.mark_shift), rubric.max_score)
                for metric, value in after.items():
                    if math.isfinite(value) and math.isfinite(before[metric]):
                        changes[label][metric].append(value - before[metric])
    return ({label: {m: np.array(v) for m, v in figures.items()}
             for label, figures in changes.items()},
            {label: float(np.mean(v)) for label, v in applied.items()})


def summary(values: np.ndarray) -> dict[str, float]:
    """Share of questions lowered and raised, the mean change and the worst."""
    return {"lowered": float(np.mean(values < -1e-9)), "raised": float(np.mean(values > 1e-9)),
            "mean": float(values.mean()), "worst": float(values.min())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--draws", type=int, default=20)
    parser.add_argument("--explore", action="store_true", help="also the alternatives")
    args = parser.parse_args()
    rules = dict(RULES, **(EXPLORE if args.explore else {}))
    nlp = build_pipeline()
    for name in evalsets.DATASETS:
        began = time.perf_counter()
        questions = collect(name, nlp)
        changes, applied = measure(name, questions, rules, args.draws)
        print(f"\n{evalsets.DISPLAY[name]}: {len(questions)} questions x {args.draws} draws, "
              f"figures on each question's other answers ({time.perf_counter() - began:.0f} s)")
        metrics = list(next(iter(changes.values())))
        print(f"  {'rule':48s} {'applied':>8s}  " + "  ".join(
            f"{m + ': lowered / raised / mean / worst':>40s}" for m in metrics))
        for label in rules:
            cells = [summary(changes[label][m]) for m in metrics]
            print(f"  {label:48s} {applied[label]:>8.1%}  " + "  ".join(
                f"{c['lowered']:>12.1%} / {c['raised']:>6.1%} / {c['mean']:+.4f} / "
                f"{c['worst']:+.3f}" for c in cells), flush=True)


if __name__ == "__main__":
    main()
