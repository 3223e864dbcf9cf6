#!/usr/bin/env python3
"""Alternatives for calibration on 20 marked answers per question (ACCURACY.md, "Calibration").

    python scripts/calibration_levels.py          # about 90 seconds on two cores

On each data set of ../shared/eval, for five calibration samples (20 answers per question,
seeds 13, 1, 2, 3, 4, as eval_report.py draws them), fits per question on the sample and reports
the figures of the other answers, averaged over the samples:

- thresholds on the shipped grid and on a free grid, fitted to the continuous score (the
  shipped `calibrate` fits them to the marks instead), with and without the question-words cap
  (the point strengths rescored for each candidate, caps included, from
  scripts/strength.py's evidence, as fit_strength.py uses it);
- a per-question mark mapping: the score shifted by the sample's mean mark minus its mean
  score (whole, or halved), or mapped linearly (least squares, slope mildly shrunk).

The first rows are the default and `essaycheck calibrate` as shipped (thresholds and a mark
shift, shrunk and gated by cross-validation, as eval_report.py runs it); the others are
alternatives, measured, not shipped.
"""

from __future__ import annotations

from collections import defaultdict

import evalsets
import numpy as np
import strength

from essaycheck.analysis import build_pipeline
from essaycheck.matching import MatchSettings

SEEDS = (13, 1, 2, 3, 4)
SHIPPED = [(c, round(c * r, 3)) for c in np.round(np.arange(0.20, 0.851, 0.025), 3)
           for r in (0.4, 0.5, 0.6, 0.7, 0.8, 0.9)]
FREE = [(c, p) for c in np.round(np.arange(0.05, 0.901, 0.025), 3)
        for p in np.round(np.arange(0.01, 0.80, 0.025), 3) if p < c]


def scored(c: strength.Collected, weights, covered: float, partial: float,
           question_cap: bool = True) -> np.ndarray:
    """Every answer's score with the given thresholds, the strengths rescored for them."""
    strengths = strength.instance_strengths(c, weights, partial, question_cap)
    return strength.answer_scores(c, strengths, covered, partial)


def main() -> None:
    nlp = build_pipeline()
    settings = MatchSettings()
    weights = (settings.coverage_weight, settings.recall_weight, settings.char_weight)
    default = (settings.covered, settings.partial)
    for name in evalsets.DATASETS:
        c, checker = strength.collect(evalsets.DEFAULT_DATA, name, nlp)
        rows = c.rows
        human = np.array([row["human"] for row in rows])
        question = np.array([row["rid"] for row in rows])

        capped = {cp: scored(c, weights, *cp) for cp in set(SHIPPED) | set(FREE) | {default}}
        uncapped = {cp: scored(c, weights, *cp, question_cap=False) for cp in FREE}
        base = capped[default]
        results = defaultdict(list)
        for seed in SEEDS:
            sample, held = evalsets.calibration_split(rows, seed=seed)
            held_rows = [rows[i] for i in held]
            fitted = {label: base.copy() for label in (
                "thresholds, shipped grid", "thresholds, free grid",
                "thresholds, free grid, no question-words cap", "mark mapping: shift",
                "mark mapping: half shift", "mark mapping: linear")}
            for q in sorted(set(question[sample])):
                idx = [i for i in sample if question[i] == q]
                rows_q = question == q
                for label, candidates, table in (
                        ("thresholds, shipped grid", SHIPPED, capped),
                        ("thresholds, free grid", FREE, capped),
                        ("thresholds, free grid, no question-words cap", FREE, uncapped)):
                    best = min(candidates, key=lambda cp: (
                        float(((table[cp][idx] - human[idx]) ** 2).sum()),
                        abs(cp[0] - default[0]) + abs(cp[1] - default[1])))
                    fitted[label][rows_q] = table[best][rows_q]
                shift = human[idx].mean() - base[idx].mean()
                fitted["mark mapping: shift"][rows_q] = base[rows_q] + shift
                fitted["mark mapping: half shift"][rows_q] = base[rows_q] + shift / 2
                x, y = base[idx], human[idx]
                slope = max(0.0, float(np.cov(x, y, bias=True)[0, 1] / (x.var() + 0.01)))
                fitted["mark mapping: linear"][rows_q] = y.mean() + slope * (base[rows_q]
                                                                             - x.mean())
            results["none (default settings)"].append(evalsets.figures(name, base[held], held_rows))
            shipped, _ = evalsets.calibrated_scores(name, checker.rubrics, rows, sample, nlp)
            results["calibrate as shipped (thresholds, mark shift)"].append(
                evalsets.figures(name, shipped[held], held_rows))
            for label, scores in fitted.items():
                results[label].append(evalsets.figures(name, scores[held], held_rows))
        print(f"\n{evalsets.DISPLAY[name]} (held-out answers, mean of {len(SEEDS)} samples)")
        for label, figures in results.items():
            keys = list(figures[0])
            means = [np.mean([f[k] for f in figures]) for k in keys]
            print(f"  {label:46s} " + "  ".join(
                f"{k} {m:.3f}" for k, m in zip(keys, means, strict=True)), flush=True)


if __name__ == "__main__":
    main()
