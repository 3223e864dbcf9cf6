"""Accuracy report on the human-marked public data in ../shared/eval (see its README.md).

For each data set, in one run: build one rubric per question from its reference answers with
``essaycheck.extract.draft_rubric`` (no hand editing), score every answer, and print, side by
side, essaycheck and a plain whole-answer TF-IDF cosine baseline:

- SciEntsBank and Beetle (2-way correct / incorrect): ROC AUC of the continuous score, and
  accuracy with the decision threshold chosen by 5-fold cross-validation grouped by question
  (GroupKFold), so each answer is judged by a threshold fitted on other questions;
- SAF (points out of a maximum): Pearson r of the continuous score with score / score_max, and
  quadratic weighted kappa on the three labels (Incorrect / Partially correct / Correct) with
  the two cut points chosen the same grouped, out-of-fold way;
- the same of the mark (what a teacher sees, as a share of max_score): ROC AUC, accuracy with
  an out-of-fold threshold and of the whole mark (half of max_score and up counts as correct),
  SAF's Pearson r. Issue 10's targets are judged on these, the continuous figure beside them;
  issue 5's, on the continuous score, are kept.

The matcher runs with its default settings on every data set: no per-data-set switch. The
point strength's weights (``matching.STRENGTH_WEIGHTS``) were chosen on these same rows, so a
further column scores every question with weights chosen out of fold instead (GroupKFold by
question over the three sets pooled, ``scripts/fit_strength.py``); targets are judged on the
lower of the two. A second block repeats the comparison after ``essaycheck calibrate``-style
calibration on 20 marked answers per question, reported only on the other answers of each
question (for every column).

    python scripts/eval_report.py                 # the table (about 25 seconds on 2 cores)
    python scripts/eval_report.py --write ACCURACY.md   # and record it
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import strength
from evalsets import (
    CALIBRATION_SAMPLE,
    DATASETS,
    DEFAULT_DATA,
    DISPLAY,
    build_rubrics,
    calibrated_scores_and_marks,
    calibration_split,
    essaycheck_scores,
    figures,
    load,
    mark_figures,
    references,
)

from essaycheck.analysis import Analyzer, build_pipeline
from essaycheck.checker import Checker
from essaycheck.evaluation import format_figure

#: (dataset, metric) -> (target, the issue that set it). Issue 5's are of the continuous score;
#: issue 10 judges the mark (what a teacher sees), with the continuous figure beside it.
TARGETS = {
    ("scientsbank", "roc_auc"): (0.80, 5), ("scientsbank", "accuracy"): (0.75, 5),
    ("beetle", "accuracy"): (0.78, 5), ("saf", "pearson"): (0.45, 5),
    ("scientsbank", "roc_auc_of_mark"): (0.80, 10), ("beetle", "accuracy_of_mark"): (0.80, 10),
    ("saf", "pearson_of_mark"): (0.45, 10),
}
#: the continuous figure beside each figure of the mark
CONTINUOUS = {"roc_auc_of_mark": "roc_auc", "accuracy_of_mark": "accuracy",
              "whole_mark_accuracy": "accuracy", "pearson_of_mark": "pearson"}


# -- the baseline -----------------------------------------------------------------------
def baseline_scores(rows: list[dict]) -> np.ndarray:
    """Plain whole-answer TF-IDF cosine with the reference answer (the best of several),
    the vectoriser fitted on the data set's questions and reference answers, not on answers."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    documents = sorted({text for row in rows for text in references(row)}
                       | {row["question"] for row in rows})
    vectorizer = TfidfVectorizer().fit(documents)
    answers = vectorizer.transform([row["student_answer"] for row in rows])
    cache: dict[str, object] = {}
    scores = np.zeros(len(rows))
    for i, row in enumerate(rows):
        if row["rid"] not in cache:
            cache[row["rid"]] = vectorizer.transform(references(row))
        scores[i] = (cache[row["rid"]] @ answers[i].T).toarray().max()
    return scores


# -- the report -------------------------------------------------------------------------
#: the rows of each data set, in order: a figure of the continuous score, then the mark's
METRIC_NAMES = {"roc_auc": "2-way ROC AUC", "roc_auc_of_mark": "2-way ROC AUC of the mark",
                "accuracy": "2-way accuracy (OOF threshold)",
                "accuracy_of_mark": "2-way accuracy of the mark (OOF threshold)",
                "whole_mark_accuracy": "2-way accuracy of the whole mark (>= half correct)",
                "pearson": "Pearson r", "pearson_of_mark": "Pearson r of the mark",
                "qwk": "QWK, 3 labels (OOF cuts)"}


def run(data_dir: Path, names: list[str], calibrated: bool = True, quiet: bool = False,
        overrides: dict | None = None, alternatives: bool = True) -> dict:
    from essaycheck.matching import MatchSettings

    nlp = build_pipeline()
    analyzer = Analyzer(nlp)
    settings = MatchSettings(**overrides) if overrides else None
    report: dict[str, Any] = {"datasets": {},
                              "settings": overrides or "MatchSettings() defaults"}
    # The strength's weights (matching.STRENGTH_WEIGHTS) were chosen on these rows; so that no
    # figure rests on weights fitted to the answers it reports, the same choice is also made
    # out of fold (strength.py, as fit_strength.py: GroupKFold by question over the sets pooled).
    out_of_fold = set(names) == set(DATASETS) and not overrides and alternatives
    collected = {}
    for name in names:
        started = time.time()
        rows = load(data_dir, name)
        rubrics = build_rubrics(rows, analyzer, name, alternatives)
        checker = Checker(rubrics, nlp=nlp, settings=settings).fit()
        scores, marks = essaycheck_scores(checker, rows)
        if out_of_fold:
            collected[name] = strength.collect(data_dir, name, nlp, rows=rows,
                                               checker=checker)[0]
        base = baseline_scores(rows)
        entry: dict[str, Any] = {
            "rows": len(rows), "questions": len(rubrics),
            "points_per_rubric": round(float(np.mean([len(r.points) for r in rubrics])), 2),
            "baseline": figures(name, base, rows),
            "essaycheck": figures(name, scores, rows) | mark_figures(name, marks, rows)}
        if calibrated:
            sample, held = calibration_split(rows)
            cal_scores, cal_marks, _ = calibrated_scores_and_marks(name, rubrics, rows, sample,
                                                                   nlp, settings)
            subset = [rows[i] for i in held]
            entry["calibration"] = {
                "sample_per_question": CALIBRATION_SAMPLE, "reported_rows": len(held),
                "baseline": figures(name, base[held], subset),
                "default": figures(name, scores[held], subset)
                | mark_figures(name, marks[held], subset),
                "calibrated": figures(name, cal_scores[held], subset)
                | mark_figures(name, cal_marks[held], subset)}
        entry["seconds"] = round(time.time() - started, 1)
        report["datasets"][name] = entry
        if not quiet:
            print(f"[{name}: {len(rows)} answers, {len(rubrics)} questions, "
                  f"{entry['seconds']} s]", file=sys.stderr)
    if out_of_fold:
        started = time.time()
        fold = strength.folds(collected)
        oof, chosen = strength.out_of_fold(collected, strength.grid(), fold)
        for name, c in collected.items():
            # the mark of each fold's answers under the weights chosen without them
            marks = np.zeros(len(c.rows))
            for k, weights in enumerate(chosen):
                marks[fold[name] == k] = strength.marks_for(c, weights)[fold[name] == k]
            report["datasets"][name]["weights_out_of_fold"] = (
                figures(name, oof[name], c.rows) | mark_figures(name, marks, c.rows))
        report["weights_out_of_fold"] = [dict(zip(strength.FEATURES, w, strict=True))
                                         for w in chosen]
        if not quiet:
            print(f"[weights chosen out of fold: {time.time() - started:.1f} s]",
                  file=sys.stderr)
    return report


def _cell(figures: dict, metric: str) -> str:
    return format_figure(figures[metric]) if metric in figures else "–"


def _judged(entry: dict, metric: str) -> float:
    """The figure targets are judged on: the lower of in-sample and weights out of fold."""
    value = entry["essaycheck"][metric]
    held = entry.get("weights_out_of_fold", {}).get(metric)
    return value if held is None else min(value, held)


def table(report: dict) -> str:
    """The report as Markdown: every figure, then issue 10's targets, then calibration's."""
    lines = []
    oof = any("weights_out_of_fold" in e for e in report["datasets"].values())
    head = "| dataset | metric | baseline | essaycheck |" + (
        " essaycheck, weights out of fold |" if oof else "") + " target | met? |"
    lines += [head, "|" + "---|" * (head.count("|") - 1)]
    for name, entry in report["datasets"].items():
        for metric in METRIC_NAMES:
            if metric not in entry["essaycheck"]:
                continue
            target = TARGETS.get((name, metric))
            met = "" if target is None else (
                "yes" if _judged(entry, metric) >= target[0] else "no")
            lines.append(f"| {DISPLAY[name]} | {METRIC_NAMES[metric]} | "
                         f"{_cell(entry['baseline'], metric)} | "
                         f"{_cell(entry['essaycheck'], metric)} | "
                         + (f"{_cell(entry.get('weights_out_of_fold', {}), metric)} | "
                            if oof else "")
                         + (" | " if target is None else f">= {target[0]:.2f} (#{target[1]}) | ")
                         + f"{met} |")
    ten = [(name, metric) for (name, metric), (_, issue) in TARGETS.items()
           if issue == 10 and name in report["datasets"]]
    if ten:
        lines += ["", "Issue 10's targets, on the mark (drafted rubrics, default settings, the "
                  "lower of in-sample and weights out of fold), the continuous figure beside "
                  "it:", "",
                  "| dataset | target | of the mark | of the continuous score | met? |",
                  "|---|---|---|---|---|"]
        for name, metric in ten:
            entry = report["datasets"][name]
            value, beside = _judged(entry, metric), _judged(entry, CONTINUOUS[metric])
            needed = TARGETS[(name, metric)][0]
            lines.append(f"| {DISPLAY[name]} | {METRIC_NAMES[metric]} >= {needed:.2f} | "
                         f"{format_figure(value)} | {format_figure(beside)} | "
                         f"{'yes' if value >= needed else 'no'} |")
    if any("calibration" in e for e in report["datasets"].values()):
        lines += ["", f"After calibration on {CALIBRATION_SAMPLE} marked answers per question "
                  "(figures on the other answers only):", "",
                  "| dataset | metric | baseline | essaycheck default | essaycheck calibrated |",
                  "|---|---|---|---|---|"]
        for name, entry in report["datasets"].items():
            cal = entry.get("calibration")
            if not cal:
                continue
            for metric in METRIC_NAMES:
                if metric not in cal["default"]:
                    continue
                lines.append(f"| {DISPLAY[name]} | {METRIC_NAMES[metric]} | "
                             f"{_cell(cal['baseline'], metric)} | "
                             f"{_cell(cal['default'], metric)} | "
                             f"{_cell(cal['calibrated'], metric)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help="folder holding the eval CSVs (default: ../shared/eval)")
    parser.add_argument("--datasets", default=",".join(DATASETS),
                        help="comma-separated subset of: " + ", ".join(DATASETS))
    parser.add_argument("--no-calibration", action="store_true",
                        help="skip the calibrated comparison")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="NAME=VALUE",
                        help="ablation only: run with one MatchSettings field changed "
                             "(repeatable); the reported figures use the defaults")
    parser.add_argument("--no-alternatives", action="store_true",
                        help="ablation only: draft Beetle rubrics from the first reference "
                             "answer alone")
    parser.add_argument("--write", type=Path, default=None,
                        help="also replace the figures section of this Markdown file")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.datasets.split(",") if n.strip()]
    unknown = [n for n in names if n not in DATASETS]
    if unknown:
        parser.error(f"unknown data set(s): {', '.join(unknown)}")
    missing = [DATASETS[n] for n in names if not (args.data / DATASETS[n]).exists()]
    if missing:
        print(f"Error: {args.data} lacks {', '.join(missing)}; pass --data with the folder "
              "that holds the eval CSVs (../shared/eval)", file=sys.stderr)
        return 2
    overrides = {}
    for item in args.overrides:
        key, _, value = item.partition("=")
        overrides[key.strip()] = (value.lower() == "true" if value.lower() in ("true", "false")
                                  else float(value) if "." in value else int(value))
    if (overrides or args.no_alternatives) and args.write:
        parser.error("--write records the default settings only; drop --set/--no-alternatives")
    report = run(args.data, names, calibrated=not args.no_calibration, overrides=overrides,
                 alternatives=not args.no_alternatives)
    if args.json:
        from essaycheck.evaluation import json_ready

        print(json.dumps(json_ready(report), indent=2))
    else:
        print(table(report))
    if args.write:
        write_markdown(args.write, report)
    return 0


BEGIN, END = "<!-- eval-report:begin -->", "<!-- eval-report:end -->"


def write_markdown(path: Path, report: dict) -> None:
    """Replace the block between the eval-report markers in ``path`` with the latest table."""
    from essaycheck.files import atomic_write_text

    block = f"{BEGIN}\n{table(report)}\n{END}"
    text = path.read_text(encoding="utf-8") if path.exists() else f"{BEGIN}\n{END}\n"
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    atomic_write_text(path, text)


if __name__ == "__main__":
    sys.exit(main())
