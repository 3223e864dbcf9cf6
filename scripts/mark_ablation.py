"""What each piece of the mark costs, and the repeat-the-question rule chosen out of fold.

The mark (``feedback.build_result``) is the continuous score's evidence put through four
steps: a covered point earns its full weight, a point named only in a list of key words earns
at most half, an answer that mostly repeats the question earns nothing unless a point is
covered, and the mark is rounded to ``feedback.MARK_DECIMALS``. This script gathers the public
eval sets' evidence once (``strength.collect``: drafted rubrics, default settings, as
``eval_report.py``), computes the mark of every answer with numpy under variants of those
steps, and prints per variant SciEntsBank's and Beetle's ROC AUC of the mark and accuracy with
an out-of-fold threshold, and SAF's Pearson r of the mark, each in sample.

Then the repeat-the-question rule (``feedback.repeats_question``) is chosen out of fold among
variants that all still read a copy of the question as a repeat: the share of the answer's
content words that are the question's, alone or with how few words of its own the answer may
add, or with how much of the question it must reproduce (the shipped rule), or with the credit
scaled by the words added rather than zeroed. 5-fold GroupKFold by question over the three
sets pooled (``strength.folds``): each fold's answers are marked with the variant that did
best on the other folds' questions (mean of SciEntsBank's and Beetle's AUC of the mark and
SAF's r of the mark, as ``fit_strength.py`` chooses its weights on the continuous score).
Last, the same out-of-fold choice among floors for a covered point graded up to the strength
the model answer itself reaches on the point (measured, not shipped: a covered point earns its
full weight).

    python scripts/mark_ablation.py            # about a minute on 2 cores
    python scripts/mark_ablation.py --json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass, replace
from itertools import compress
from pathlib import Path

import numpy as np
import strength
from evalsets import DATASETS, DEFAULT_DATA, DISPLAY, figures, mark_figures

from essaycheck.analysis import build_pipeline
from essaycheck.calibration import _fine_credits
from essaycheck.feedback import REPEAT_REPRODUCES, REPEAT_SHARE, question_reproduced
from essaycheck.matching import STRENGTH_WEIGHTS

WEIGHTS = tuple(value for _, value in STRENGTH_WEIGHTS)


@dataclass(frozen=True)
class Variant:
    """One way of making the mark from the evidence."""

    share: float | None = REPEAT_SHARE  # None: no repeat-the-question rule
    extra: int | None = None  # a repeat adds fewer content words than this (None: any)
    #: a repeat uses at least this share of the question's distinct content words (None: any)
    reproduced: float | None = REPEAT_REPRODUCES
    scaled: bool = False  # scale credit by the words added instead of zeroing it
    list_half: bool = True  # a listed point earns at most half
    #: a point just covered earns this share of its weight, rising to all of it at strength 1
    #: (1: a covered point earns its full weight; 2/3: as the continuous score)
    covered_floor: float = 1.0
    #: ... all of it from the strength the model answer itself reaches on the point, not 1
    full_at_model: bool = False
    decimals: int | None = 2  # None: unrounded

    def label(self) -> str:
        """A short description."""
        if self.share is None:
            rule = "no repeat rule"
        else:
            rule = f"repeat: share >= {self.share:g}"
            if self.reproduced is not None:
                rule += f", reproducing >= {self.reproduced:g} of it"
            if self.extra is not None:
                rule += f", fewer than {self.extra} words added"
            if self.scaled:
                rule += ", credit scaled"
        parts = [rule]
        if not self.list_half:
            parts.append("no list cap at half")
        if self.covered_floor < 1:
            parts.append(f"covered graded from {self.covered_floor:.2f}"
                         + (" to the model answer's strength" if self.full_at_model else ""))
        if self.decimals is None:
            parts.append("unrounded")
        return "; ".join(parts)


BEFORE = Variant(share=0.7, extra=None, reproduced=None)


def _question_words(matcher, rubric, analysis, analyzer, cache):
    """Per answer (as every instance's extra feature): its share of question words and how
    many of its content words are not the question's, spelled as ``Checker`` reads them."""
    spelled = [matcher.spell(lemma) for lemma in compress(analysis.lemmas, analysis.content)]
    asked = matcher.question_words
    values = {"share": matcher.question_overlap(spelled),
              "reproduced": question_reproduced(spelled, asked),
              "outside": float(sum(1 for lemma in spelled if lemma not in asked))}

    class Same:
        def __getitem__(self, _):
            return values

    return [Same() for _ in rubric.points]


def per_row(c: strength.Collected, key: str) -> np.ndarray:
    """A per-answer extra feature (every instance of an answer carries it) as a row array."""
    out = np.zeros(len(c.rows))
    out[c.bag_row[c.bag]] = c.extra[key]
    return out


def with_model_strengths(c: strength.Collected, checker) -> strength.Collected:
    """``c`` with every instance's ``extra["model_strength"]``: the strength the rubric's model
    answer reaches on the instance's point (what "full at the model answer" grades up to)."""
    own = {rid: [m.strength for m in checker.matcher(rid).match(
        checker.analyzer.analyse(checker.rubric(rid).model_answer))]
        for rid in checker.question_ids}
    point = np.zeros(len(c.bag_row), int)  # bag -> its point's index in the rubric
    for b in range(1, len(c.bag_row)):
        point[b] = point[b - 1] + 1 if c.bag_row[b] == c.bag_row[b - 1] else 0
    per_bag = np.array([own[c.rows[r]["rid"]][k]
                        for r, k in zip(c.bag_row.tolist(), point.tolist(), strict=True)])
    c.extra["model_strength"] = per_bag[c.bag] if len(per_bag) else np.zeros(0)
    return c


def marks(c: strength.Collected, v: Variant, weights=None) -> np.ndarray:
    """Every answer's mark (a share of max_score) under variant ``v``: ``strength.answer_marks``
    with each step switchable."""
    covered, partial = strength.COVERED, strength.PARTIAL
    s = strength.instance_strengths(c, weights or WEIGHTS, partial)
    best, first, confidence = strength.best_instances(c, s, covered)
    listed = c.listed[first] & (confidence >= partial)
    credit = _fine_credits(confidence, listed if v.list_half else np.zeros_like(listed),
                           covered, partial)
    if v.covered_floor < 1:
        top = np.maximum(c.extra["model_strength"][c.bag_start], covered + 1e-6) \
            if v.full_at_model else 1.0
        above = np.clip((confidence - covered) / (top - covered), 0.0, 1.0)
        credit = np.where(credit == 1.0, v.covered_floor + (1 - v.covered_floor) * above,
                          credit)
    covered_any = np.bincount(c.bag_row, best >= covered, minlength=len(c.rows)) > 0
    total = np.bincount(c.bag_row, c.bag_weight * credit, minlength=len(c.rows))
    weight = np.bincount(c.bag_row, c.bag_weight, minlength=len(c.rows))
    share = np.divide(total, weight, out=np.zeros(len(c.rows)), where=weight > 0)
    if v.share is not None:
        asked, outside = per_row(c, "share"), per_row(c, "outside")
        repeats = (asked >= v.share - 1e-9) & ~covered_any
        if v.reproduced is not None:
            repeats &= per_row(c, "reproduced") >= v.reproduced - 1e-9
        if v.scaled and v.extra:
            share = np.where(repeats, share * np.minimum(1.0, outside / v.extra), share)
        else:
            if v.extra is not None:
                repeats &= outside < v.extra
            share = np.where(repeats, 0.0, share)
    if v.decimals is None:
        return share
    return np.round(share * c.max_score, v.decimals) / c.max_score


def criterion(sets: dict[str, strength.Collected], v: Variant, masks, cache) -> float:
    """Mean of SciEntsBank's and Beetle's ROC AUC of the mark and SAF's r of the mark."""
    values = []
    for name, c in sets.items():
        if masks[name].any():
            key = (name, v)
            if key not in cache:
                cache[key] = marks(c, v)
            values.append(strength.metric(name, c.rows, cache[key], masks[name]))
    values = [x for x in values if math.isfinite(x)]
    return float(np.mean(values)) if values else -math.inf


def report_of(sets, scored: dict[str, np.ndarray]) -> dict:
    """The mark's figures of every set."""
    return {name: mark_figures(name, scored[name], c.rows) for name, c in sets.items()}


def row_text(label: str, figs: dict) -> str:
    """A table row: per set, the mark's AUC / accuracy (SAF: its r)."""
    cells = []
    for name in DATASETS:
        f = figs[name]
        cells.append(f"{f['pearson_of_mark']:.3f}" if name == "saf" else
                     f"{f['roc_auc_of_mark']:.3f} / {f['accuracy_of_mark']:.3f}")
    return f"| {label} | " + " | ".join(cells) + " |"


#: the rule's candidates chosen among out of fold: each still reads a copy of the question
#: (share 1, all of it reproduced, no word added) as a repeat, which the tests demand; having
#: no rule is a fixed row, the ceiling
RULES = ([Variant(share=t, extra=None, reproduced=None) for t in (0.7, 0.8, 0.9, 1.0)]
         + [Variant(share=t, extra=n, reproduced=None) for t in (0.5, 0.6, 0.7, 0.8)
            for n in (1, 2, 3, 4, 6)]
         + [Variant(share=t, extra=n, reproduced=None, scaled=True) for t in (0.5, 0.7)
            for n in (2, 4, 6)]
         + [Variant(share=t, extra=None, reproduced=r) for t in (0.5, 0.6, 0.7, 0.8)
            for r in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)])


def chosen_out_of_fold(sets, candidates, fold, cache) -> tuple[dict, list[str]]:
    """Each fold's marks under the candidate that did best on the other folds' questions."""
    combined = {n: np.zeros(len(c.rows)) for n, c in sets.items()}
    chosen = []
    for k in range(int(max(f.max() for f in fold.values())) + 1):
        train = {n: fold[n] != k for n in sets}
        best = max(candidates, key=lambda v: criterion(sets, v, train, cache))
        chosen.append(best.label())
        for n in sets:
            combined[n][fold[n] == k] = cache[(n, best)][fold[n] == k]
    return combined, chosen


#: a covered point's credit at the threshold, tried with full credit at the model answer's
#: strength (1: the shipped full weight)
FLOORS = (1.0, 0.95, 0.9, 5 / 6, 2 / 3)


def main(argv: list[str] | None = None) -> int:
    """Print the table (or ``--json``, the figures) of the mark's variants."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    nlp = build_pipeline()
    sets = {name: with_model_strengths(*strength.collect(args.data, name, nlp,
                                                         extra_features=_question_words))
            for name in DATASETS}
    report: dict = {"rows": {}}
    lines = ["| the mark (SciEntsBank, Beetle: AUC of the mark / accuracy of the mark, OOF "
             "threshold; SAF: r of the mark) | " + " | ".join(DISPLAY[n] for n in DATASETS)
             + " |", "|---|---|---|---|"]
    continuous = {name: figures(name, strength.scores_for(c, WEIGHTS), c.rows)
                  for name, c in sets.items()}
    report["continuous"] = continuous
    lines.append("| the continuous score (for comparison) | " + " | ".join(
        f"{continuous[n]['pearson']:.3f}" if n == "saf" else
        f"{continuous[n]['roc_auc']:.3f} / {continuous[n]['accuracy']:.3f}"
        for n in DATASETS) + " |")
    default = Variant()
    fixed = {"before (share >= 0.7 zeroes, no covered point)": BEFORE,
             "shipped now": default,
             "no repeat rule": Variant(share=None),
             "before, list cap off": replace(BEFORE, list_half=False),
             "before, unrounded": replace(BEFORE, decimals=None),
             **{f"before, a covered point graded from {floor:.2f} of its weight":
                replace(BEFORE, covered_floor=floor) for floor in (0.95, 0.9, 5 / 6, 2 / 3)},
             "no repeat rule, no list cap, unrounded, covered graded from 2/3 (the continuous "
             "score, but a listed point's credit capped below 2/3, not at half)":
                 Variant(share=None, list_half=False, decimals=None, covered_floor=2 / 3)}
    fixed.update({f"shipped, a covered point graded from {floor:.2f} of its weight up to all "
                  "of it at the model answer's own strength (not shipped)":
                  Variant(covered_floor=floor, full_at_model=True) for floor in FLOORS[1:]})
    for label, v in fixed.items():
        figs = report_of(sets, {n: marks(c, v) for n, c in sets.items()})
        report["rows"][label] = {"variant": v.label(), "figures": figs}
        lines.append(row_text(label, figs))
        print(lines[-1], file=sys.stderr)
    fold = strength.folds(sets)
    cache: dict = {}
    combined, chosen = chosen_out_of_fold(sets, RULES, fold, cache)
    figs = report_of(sets, combined)
    label = "repeat rule chosen out of fold"
    report["rows"][label] = {"chosen": chosen, "figures": figs}
    lines.append(row_text(label, figs))
    floors, floor_chosen = chosen_out_of_fold(
        sets, [Variant(covered_floor=f, full_at_model=True) for f in FLOORS], fold, cache)
    label = "the covered floor (to the model answer's strength) chosen out of fold (not shipped)"
    report["rows"][label] = {"chosen": floor_chosen, "figures": report_of(sets, floors)}
    lines.append(row_text(label, report["rows"][label]["figures"]))
    everywhere = {n: np.ones(len(c.rows), bool) for n, c in sets.items()}
    ranked = sorted(RULES, key=lambda v: -criterion(sets, v, everywhere, cache))
    report["in_sample_ranking"] = [(v.label(), criterion(sets, v, everywhere, cache))
                                   for v in ranked]
    for name, c in sets.items():
        asked = per_row(c, "share")
        report.setdefault("repeats", {})[name] = {
            "before": int((asked >= 0.7).sum()),
            "now": int(((asked >= REPEAT_SHARE)
                        & (per_row(c, "reproduced") >= REPEAT_REPRODUCES)).sum())}
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        print("\n".join(lines))
        print("\nthe rule chosen per fold:\n" + "\n".join(f"  {c}" for c in chosen))
        print("the covered floor chosen per fold:\n"
              + "\n".join(f"  {c}" for c in floor_chosen))
        print("\nin sample, best rules: ")
        for text, value in report["in_sample_ranking"][:8]:
            print(f"  {value:.4f}  {text}")
        print("\nanswers the rule reads as repeats (before / now): " + ", ".join(
            f"{DISPLAY[n]} {r['before']} / {r['now']}" for n, r in report["repeats"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
