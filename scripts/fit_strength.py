"""Fit the weights of the point strength (``matching.STRENGTH_WEIGHTS``) on ../shared/eval.

A point's strength in a segment of an answer is a weighted sum of three pieces of evidence
(coverage of its keyword groups, recall of its content words, recall of its character n-grams;
see ``essaycheck.matching``). This script chooses the weights from the human-marked answers in
../shared/eval and reports how well they carry over to answers nobody fitted them on:

- **the family**: weights on a 0.05 grid, summing to 1, with coverage at least the "covered"
  threshold (so a point whose keyword groups are all met is covered: a teacher's keywords keep
  their meaning), scored by the mean of SciEntsBank's and Beetle's ROC AUC and SAF's Pearson r
  of ``evaluation.credit``, the same continuous score ``make eval`` reports;
- **out of fold**: 5-fold ``GroupKFold`` by question over the three sets pooled; each question's
  answers are scored with weights chosen on the other folds' questions;
- **leave one data set out**: weights chosen on two sets, figures on the third;
- **ablation**: the same out-of-fold procedure with one piece of evidence or one rule removed;
- ``--logistic``: the alternative the weights were measured against, a logistic regression
  over many more features (strength = P(a marker says the point is made)), out of fold and left
  out by data set, with its own drop-one ablation.

Drafted rubrics, default settings and the vectorisers fitted on each rubric, exactly as
``scripts/eval_report.py`` (both take the data sets from ``evalsets.py``; the evidence and its
vectorised scores are ``strength.py``). Nothing here runs inside essaycheck: the chosen weights
are copied into ``matching.STRENGTH_WEIGHTS`` as constants; ``--check`` fails if they differ.

    python scripts/fit_strength.py              # figures and the constants (about 30 s)
    python scripts/fit_strength.py --check      # exit 1 if matching.py holds other weights
    python scripts/fit_strength.py --logistic   # also the logistic regression (about 90 s)
    python scripts/fit_strength.py --json       # every figure, for machines
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import evalsets
import numpy as np
from evalsets import FOLDS
from strength import (
    COVERED,
    FEATURES,
    PARTIAL,
    STEP,
    Collected,
    answer_scores,
    choose,
    collect,
    folds,
    grid,
    instance_strengths,
    out_of_fold,
    scores_for,
)

from essaycheck.analysis import build_pipeline
from essaycheck.checker import Checker
from essaycheck.errors import EssaycheckError
from essaycheck.evaluation import credit
from essaycheck.matching import NEGATED, STRENGTH_WEIGHTS, MatchSettings, _segments, token_features


def self_check(c: Collected, checker: Checker, sample: int = 300) -> float:
    """Largest difference between the vectorised scores and the product's own
    ``evaluation.credit(checker.check(...))`` over a sample of answers (should be 0)."""
    settings = MatchSettings()
    ours = scores_for(c, (settings.coverage_weight, settings.recall_weight,
                          settings.char_weight), settings.covered, settings.partial)
    worst = 0.0
    for i in range(0, len(c.rows), max(1, len(c.rows) // sample)):
        try:
            result = checker.check(c.rows[i]["rid"], c.rows[i]["student_answer"])
        except EssaycheckError:
            continue
        worst = max(worst, abs(credit(result, settings.covered, settings.partial) - ours[i]))
    return worst


def leave_one_out(sets, candidates, **options) -> tuple[dict, dict]:
    """Scores of each set with weights chosen on the other sets."""
    scores, chosen = {}, {}
    for held in sets:
        others = {n: c for n, c in sets.items() if n != held}
        weights, _ = choose(others, candidates,
                            {n: np.ones(len(c.rows), bool) for n, c in others.items()},
                            **options)
        chosen[held] = weights
        scores[held] = scores_for(sets[held], weights, **options)
    return scores, chosen


def figures_of(sets, scores) -> dict[str, dict[str, float]]:
    return {n: evalsets.figures(n, scores[n], c.rows) for n, c in sets.items()}


def reliability(sets, weights) -> list[dict]:
    """How often markers judged a single-point answer right, by band of the point's strength."""
    bands = [(0.0, 0.14), (0.14, 0.28), (0.28, 0.5), (0.5, 0.75), (0.75, 1.01)]
    out = []
    for n, c in sets.items():
        s = instance_strengths(c, weights, PARTIAL)
        s = np.where(c.listed, np.minimum(s, COVERED - 1e-6), s)
        best = np.maximum.reduceat(s, c.bag_start) if len(s) else np.zeros(0)
        single = c.bag_points == 1
        human = np.array([row["human"] for row in c.rows])[c.bag_row]
        for low, high in bands:
            inside = single & (best >= low) & (best < high)
            out.append({"dataset": n, "band": f"{low:.2f}-{min(high, 1):.2f}",
                        "answers": int(inside.sum()),
                        "judged_made": float(human[inside].mean()) if inside.any()
                        else math.nan})
    return out


# -- the logistic-regression alternative ----------------------------------------------------
LOGISTIC_FEATURES = ("coverage", "recall", "char_recall", "cosine", "precision",
                     "negation_mismatch", "listed", "whole_coverage", "whole_recall",
                     "whole_char_recall", "whole_cosine", "question_overlap", "log_length")


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(w * b.get(f, 0.0) for f, w in a.items())


def _vector(matcher, features: list[str]) -> dict[str, float]:
    counts: dict[str, int] = {}
    for feature in features:
        counts[feature] = counts.get(feature, 0) + 1
    vector = {f: (1.0 + math.log(n)) * matcher.term_idf(f)
              for f, n in counts.items()}
    norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
    return {f: v / norm for f, v in vector.items()}


def _logistic_features(matcher, rubric, analysis, analyzer, cache) -> list[list[dict]]:
    """Per point, per (wording, segment) instance in ``evidence`` order: the extra features."""
    if rubric.id not in cache:  # per point, the vector of each of its wordings
        by_point = []
        for point in rubric.points:
            docs = [analyzer.analyse(text) for text in (point.text,) + tuple(point.accept)]
            by_point.append([_vector(matcher, token_features(d, 0, len(d),
                                                             matcher.question_words))
                             for d in docs])
        cache[rubric.id] = by_point
    wording_vectors = cache[rubric.id]
    ranges = _segments(analysis, matcher.fitted_settings.window)
    spelled = [matcher.spell(lemma) if content else lemma
               for lemma, content in zip(analysis.lemmas, analysis.content, strict=True)]
    whole = matcher.evidence(analysis, [(0, len(analysis.sentences))]) \
        if analysis.sentences else None
    content = [spelled[i] for i in range(len(analysis)) if analysis.content[i]]
    asked = matcher.question_overlap(content)
    log_length = math.log1p(len(content))
    vectors, precisions, unigrams = [], [], []
    for first, last in ranges:
        start, end = analysis.sentences[first][0], analysis.sentences[last - 1][1]
        features = token_features(analysis, start, end, matcher.question_words, matcher.spell)
        vectors.append(_vector(matcher, features))
        own = [f for f in features if " " not in f]
        unigrams.append(set(own))
        precisions.append(sum(1 for f in own if f.removeprefix(NEGATED) in matcher.vocabulary)
                          / len(own) if own else 0.0)
    whole_vector = _vector(matcher, token_features(analysis, 0, len(analysis),
                                                   matcher.question_words, matcher.spell))
    out = []
    for p, (wordings, vectors_of_point) in enumerate(zip(matcher.wordings, wording_vectors,
                                                          strict=True)):
        rows = []
        for f, (wording, wording_vector) in enumerate(zip(wordings, vectors_of_point,
                                                          strict=True)):
            w_cov, w_rec, w_char = whole[p][f][:3] if whole is not None else (0.0, 0.0, 0.0)
            w_cos = _cosine(wording_vector, whole_vector)
            for vector, precision, words in zip(vectors, precisions, unigrams, strict=True):
                flipped = sum(1 for w, _, _ in wording.words if w not in words and (
                    w.removeprefix(NEGATED) if w.startswith(NEGATED) else NEGATED + w)
                    in words)
                rows.append({
                    "cosine": _cosine(wording_vector, vector), "precision": precision,
                    "negation_mismatch": flipped / max(1, len(wording.words)),
                    "whole_coverage": w_cov, "whole_recall": w_rec, "whole_char_recall": w_char,
                    "whole_cosine": w_cos, "question_overlap": asked, "log_length": log_length})
        out.append(rows)
    return out


def _design(c: Collected, names) -> np.ndarray:
    columns = {"coverage": c.evidence[:, 0], "recall": c.evidence[:, 1],
               "char_recall": c.evidence[:, 2], "listed": c.listed.astype(float), **c.extra}
    return np.column_stack([columns[n] for n in names])


def _fit_logistic(sets, names, masks, shipped):
    """Logistic regression on the single-point questions' answers (one instance per answer:
    the one the shipped weights rank first), each set weighing the same, SAF's mark as a soft
    label; returns (coef, intercept) on the raw features."""
    from sklearn.linear_model import LogisticRegression

    xs, ys, ws = [], [], []
    used = [n for n in sets if masks[n].any()]
    for n in used:
        c = sets[n]
        s = instance_strengths(c, shipped, PARTIAL)
        s = np.where(c.listed, np.minimum(s, COVERED - 1e-6), s)
        keep = (c.bag_points == 1) & masks[n][c.bag_row]
        if not keep.any():
            continue
        ends = np.r_[c.bag_start[1:], len(s)]
        pick = np.array([start + int(np.argmax(s[start:end]))
                         for start, end in zip(c.bag_start, ends, strict=True)])[keep]
        x = _design(c, names)[pick]
        y = np.array([row["human"] for row in c.rows])[c.bag_row[keep]]
        weight = np.full(len(y), 1.0 / len(y))
        xs += [x, x]
        ys += [np.ones(len(y)), np.zeros(len(y))]
        ws += [weight * y, weight * (1 - y)]
    x, y, w = np.vstack(xs), np.concatenate(ys), np.concatenate(ws)
    mean, scale = x.mean(0), x.std(0) + 1e-9
    model = LogisticRegression(C=1.0, max_iter=5000).fit((x - mean) / scale, y,
                                                         sample_weight=w * len(w))
    coef = model.coef_[0] / scale
    return coef, float(model.intercept_[0] - (mean * coef).sum())


def _logistic_scores(c: Collected, names, model, covered=COVERED, partial=PARTIAL) -> np.ndarray:
    coef, intercept = model
    p = 1 / (1 + np.exp(-(_design(c, names) @ coef + intercept)))
    # question words alone earn nothing; scaled rather than clipped, so that the probability
    # still ranks those answers among themselves (a clip ties them all and costs AUC)
    p = np.where(c.own, p, p * partial / 2)
    return answer_scores(c, p, covered, partial)


def logistic_experiment(sets, fold, shipped, names=LOGISTIC_FEATURES) -> dict:
    def oof(names):
        scores = {n: np.zeros(len(c.rows)) for n, c in sets.items()}
        for k in range(FOLDS):
            model = _fit_logistic(sets, names, {n: fold[n] != k for n in sets}, shipped)
            for n, c in sets.items():
                test = fold[n] == k
                scores[n][test] = _logistic_scores(c, names, model)[test]
        return figures_of(sets, scores)

    report = {"features": list(names), "out_of_fold": oof(names), "leave_one_out": {},
              "drop_one": {}}
    for held in sets:
        model = _fit_logistic(sets, names, {n: np.full(len(c.rows), n != held)
                                            for n, c in sets.items()}, shipped)
        report["leave_one_out"][held] = evalsets.figures(
            held, _logistic_scores(sets[held], names, model), sets[held].rows)
    model = _fit_logistic(sets, names, {n: np.ones(len(c.rows), bool)
                                        for n, c in sets.items()}, shipped)
    report["coefficients"] = dict(zip(names, np.round(model[0], 3).tolist(), strict=True))
    report["intercept"] = round(model[1], 3)
    # what the fitted probability says about an answer with nothing of the point's own
    p0 = []
    for c in sets.values():
        p = 1 / (1 + np.exp(-(_design(c, names) @ model[0] + model[1])))
        none = (c.evidence.sum(1) == 0)
        if none.any():
            p0.append(float(np.median(p[none])))
    report["median_probability_with_no_evidence"] = float(np.mean(p0)) if p0 else math.nan
    for name in names:
        report["drop_one"][name] = oof([n for n in names if n != name])
    return report


# -- the report ---------------------------------------------------------------------------
def run(data_dir: Path, logistic: bool = False, stems_ablation: bool = True,
        quiet: bool = False) -> dict:
    nlp = build_pipeline()
    sets, checkers = {}, {}
    for name in evalsets.DATASETS:
        started = time.time()
        sets[name], checkers[name] = collect(
            data_dir, name, nlp, extra_features=_logistic_features if logistic else None)
        if not quiet:
            print(f"[{name}: {len(sets[name].rows)} answers, {len(sets[name].bag)} instances, "
                  f"{time.time() - started:.1f} s]", file=sys.stderr)
    fold = folds(sets)
    family = grid()
    everything = {n: np.ones(len(c.rows), bool) for n, c in sets.items()}
    final, value = choose(sets, family, everything)
    shipped = tuple(w for _, w in STRENGTH_WEIGHTS)
    report: dict[str, Any] = {
        "family": f"{len(family)} weightings: step {STEP}, summing to 1, coverage >= {COVERED}",
        "weights": dict(zip(FEATURES, final, strict=True)), "criterion_all_rows": value,
        "shipped": dict(STRENGTH_WEIGHTS), "matches_shipped": final == shipped,
        "self_check_max_difference": max(self_check(sets[n], checkers[n]) for n in sets),
        "in_sample": figures_of(sets, {n: scores_for(c, final) for n, c in sets.items()}),
    }
    scores, chosen = out_of_fold(sets, family, fold)
    report["out_of_fold"] = figures_of(sets, scores)
    report["out_of_fold_weights"] = [dict(zip(FEATURES, w, strict=True)) for w in chosen]
    scores, chosen_by_set = leave_one_out(sets, family)
    report["leave_one_out"] = figures_of(sets, scores)
    report["leave_one_out_weights"] = {n: dict(zip(FEATURES, w, strict=True))
                                       for n, w in chosen_by_set.items()}
    ablations = {
        "without char_recall": (grid(fixed={"char_recall": 0.0}), {}),
        "without recall": (grid(fixed={"recall": 0.0}), {}),
        "coverage alone": (grid(fixed={"coverage": 1.0}), {}),
        "without coverage (limit lifted)": (grid(0.0, fixed={"coverage": 0.0}), {}),
        "without the list cap": (family, {"list_cap": False}),
        "without the question-words cap": (family, {"question_cap": False}),
    }
    report["ablation"] = {}
    for label, (candidates, options) in ablations.items():
        scores, chosen = out_of_fold(sets, candidates, fold, **options)
        report["ablation"][label] = {"figures": figures_of(sets, scores),
                                     "weights": dict(zip(FEATURES, chosen[0], strict=True))}
    if stems_ablation:
        plain = {n: collect(data_dir, n, nlp, MatchSettings(stems=False))[0] for n in sets}
        scores, chosen = out_of_fold(plain, family, fold)
        report["ablation"]["without stems"] = {
            "figures": figures_of(plain, scores),
            "weights": dict(zip(FEATURES, chosen[0], strict=True))}
    report["reliability"] = reliability(sets, final)
    if logistic:
        report["logistic"] = logistic_experiment(sets, fold, shipped)
    return report


def _row(figures: dict) -> str:
    s, b, f = figures["scientsbank"], figures["beetle"], figures["saf"]
    return (f"{s['roc_auc']:.3f} / {s['accuracy']:.3f} | {b['roc_auc']:.3f} / "
            f"{b['accuracy']:.3f} | {f['pearson']:.3f} / {f['qwk']:.3f}")


def text(report: dict) -> str:
    lines = ["Weights chosen on every row: " + ", ".join(
        f"{k} {v:.2f}" for k, v in report["weights"].items())
        + ("  (as shipped)" if report["matches_shipped"] else "  (matching.py differs!)"),
        f"Self-check, vectorised scores against Checker.check: largest difference "
        f"{report['self_check_max_difference']:.2g}", "",
        "| figures (SciEntsBank AUC / acc | Beetle AUC / acc | SAF r / QWK) | values |",
        "|---|---|",
        f"| in sample (weights chosen on these rows) | {_row(report['in_sample'])} |",
        f"| out of fold (GroupKFold by question) | {_row(report['out_of_fold'])} |",
        f"| leave one data set out | {_row(report['leave_one_out'])} |", "",
        "Out-of-fold weights per fold: " + "; ".join(
            ", ".join(f"{v:.2f}" for v in w.values()) for w in report["out_of_fold_weights"]),
        "Left-out weights: " + "; ".join(
            f"{n}: " + ", ".join(f"{v:.2f}" for v in w.values())
            for n, w in report["leave_one_out_weights"].items()), "",
        "| ablation (out of fold) | SciEntsBank | Beetle | SAF |", "|---|---|---|---|"]
    for label, entry in report["ablation"].items():
        lines.append(f"| {label} | {_row(entry['figures'])} |")
    lines += ["", "| data set | strength band | single-point answers | judged made |",
              "|---|---|---|---|"]
    for entry in report["reliability"]:
        lines.append(f"| {entry['dataset']} | {entry['band']} | {entry['answers']} | "
                     f"{entry['judged_made']:.2f} |")
    if "logistic" in report:
        lo = report["logistic"]
        lines += ["", "Logistic regression (strength = P(made)), coefficients on the raw "
                  "features: " + ", ".join(f"{k} {v:+.2f}" for k, v in lo["coefficients"].items())
                  + f", intercept {lo['intercept']:+.2f}",
                  f"Median P(made) for instances with no evidence at all: "
                  f"{lo['median_probability_with_no_evidence']:.2f}", "",
                  "| logistic | SciEntsBank | Beetle | SAF |", "|---|---|---|---|",
                  f"| out of fold, all features | {_row(lo['out_of_fold'])} |",
                  f"| leave one data set out | {_row(lo['leave_one_out'])} |"]
        for name, figures in lo["drop_one"].items():
            lines.append(f"| out of fold, without {name} | {_row(figures)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=evalsets.DEFAULT_DATA)
    parser.add_argument("--check", action="store_true",
                        help="exit 1 unless the weights chosen equal matching.STRENGTH_WEIGHTS")
    parser.add_argument("--logistic", action="store_true",
                        help="also run the logistic-regression alternative (slower)")
    parser.add_argument("--no-stems-ablation", action="store_true",
                        help="skip the ablation that needs a second pass without stems")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    missing = [f for f in evalsets.DATASETS.values() if not (args.data / f).exists()]
    if missing:
        print(f"Error: {args.data} lacks {', '.join(missing)}", file=sys.stderr)
        return 2
    report = run(args.data, logistic=args.logistic,
                 stems_ablation=not (args.no_stems_ablation or args.check))
    if args.json:
        from essaycheck.evaluation import json_ready

        print(json.dumps(json_ready(report), indent=2))
    else:
        print(text(report))
    if not report["matches_shipped"]:
        print(f"\nmatching.STRENGTH_WEIGHTS = {tuple(report['weights'].items())!r}"
              " would be the fitted constants", file=sys.stderr)
        if args.check:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
