"""What each piece of drafting that anticipates students' words gains, out of fold.

Drafts the public eval sets' rubrics (as ``eval_report.py`` does) under several
``extract.Anticipation`` settings, scores every answer with default matcher settings, and
prints, per setting, the figures of ``eval_report.py`` (ROC AUC and out-of-fold accuracy, SAF
Pearson r and QWK, of the continuous score) and of the mark. Then, per piece (the lexicon's
word family, its synonyms, related words the teacher's texts use), the piece's caps and cuts are
chosen out of fold: 5-fold GroupKFold by question over the three sets pooled, each fold's
questions scored with the setting that did best on the other folds' questions (mean of
SciEntsBank's and Beetle's AUC and SAF's r, as ``fit_strength.py`` chooses).

    python scripts/drafting_ablation.py            # about 3 minutes on 2 cores
    python scripts/drafting_ablation.py --json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import asdict, replace
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import numpy as np
import strength
from evalsets import DATASETS, DEFAULT_DATA, DISPLAY, figures, load, references

from essaycheck.analysis import Analyzer, build_pipeline, clean_answer
from essaycheck.checker import Checker
from essaycheck.errors import EssaycheckError
from essaycheck.evaluation import credit, pearson, roc_auc
from essaycheck.extract import NO_ANTICIPATION, Anticipation, draft_rubric

DEFAULT = Anticipation()
#: the settings tried: off, each piece alone at several caps and cuts, and all together
PIECES = {
    "family": [replace(NO_ANTICIPATION, family=n, family_weight=w)
               for n in (2, 4) for w in (0.15, 0.3)],
    "synonyms": [replace(NO_ANTICIPATION, synonyms=n, synonym_weight=w)
                 for n in (2, 4) for w in (0.15, 0.3)],
    "context": [replace(NO_ANTICIPATION, context=n) for n in (2, 4)],
}


def draft_all(rows: list[dict], analyzer: Analyzer, name: str, anticipation: Anticipation):
    """One drafted rubric per question, as ``evalsets.build_rubrics``, with ``anticipation``."""
    first: dict[str, dict] = {}
    for row in rows:
        first.setdefault(row["rid"], row)
    out = []
    for rid, row in first.items():
        refs = references(row)
        max_score = float(row["score_max"]) if name == "saf" else 1.0
        out.append(draft_rubric(rid, row["question"], refs[0], analyzer, max_score=max_score,
                                alternatives=refs[1:], anticipation=anticipation))
    return out


class Scorer:
    """Every answer analysed once; scored under any drafting setting."""

    def __init__(self, data_dir: Path, nlp) -> None:
        self.nlp = nlp
        self.analyzer = Analyzer(nlp)
        self.rows = {name: load(data_dir, name) for name in DATASETS}
        self.analyses: dict[str, list] = {}
        for name, rows in self.rows.items():
            texts = []
            for i, row in enumerate(rows):
                try:
                    texts.append((clean_answer(row["student_answer"]), i))
                except EssaycheckError:
                    continue
            found = [None] * len(rows)
            for analysis, i in self.analyzer.analyse_many(iter(texts)):
                found[i] = analysis
            self.analyses[name] = found
        self.cache: dict[tuple, dict] = {}

    def score(self, name: str, anticipation: Anticipation) -> dict[str, np.ndarray]:
        """The continuous score and the mark (shares of max_score) of every row."""
        key = (name, anticipation)
        if key not in self.cache:
            rows = self.rows[name]
            checker = Checker(draft_all(rows, self.analyzer, name, anticipation),
                              nlp=self.nlp).fit()
            scores, marks = np.zeros(len(rows)), np.zeros(len(rows))
            for i, (row, analysis) in enumerate(zip(rows, self.analyses[name], strict=True)):
                if analysis is None:
                    continue
                rubric = checker.rubric(row["rid"])
                result = checker._result(rubric, analysis, row["student_answer"])
                covered, partial = checker.matcher(row["rid"]).thresholds
                scores[i] = credit(result, covered, partial)
                marks[i] = result.score / result.max_score
            self.cache[key] = {"score": scores, "mark": marks}
        return self.cache[key]


def all_figures(name: str, rows: list[dict], scored: dict[str, np.ndarray]) -> dict:
    """eval_report's figures of the continuous score, and the mark's AUC (or r)."""
    out = figures(name, scored["score"], rows)
    human = [row["human"] for row in rows]
    marks = scored["mark"].tolist()
    if name == "saf":
        out["pearson_of_mark"] = pearson(human, marks)
    else:
        out["roc_auc_of_mark"] = roc_auc([int(h) for h in human], marks)
    return out


def criterion(scorer: Scorer, anticipation: Anticipation, masks: dict[str, np.ndarray]
              ) -> float:
    """Mean of SciEntsBank's and Beetle's AUC and SAF's r over the masked rows."""
    values = []
    for name, rows in scorer.rows.items():
        if masks[name].any():
            scores = scorer.score(name, anticipation)["score"]
            values.append(strength.metric(name, rows, scores, masks[name]))
    values = [v for v in values if math.isfinite(v)]
    return float(np.mean(values)) if values else -math.inf


def out_of_fold(scorer: Scorer, candidates: list[Anticipation], fold_of: dict[str, np.ndarray]
                ) -> tuple[dict[str, dict[str, np.ndarray]], list[Anticipation]]:
    """Each fold's rows scored with the candidate chosen on the other folds."""
    combined = {name: {"score": np.zeros(len(rows)), "mark": np.zeros(len(rows))}
                for name, rows in scorer.rows.items()}
    chosen = []
    for k in range(int(max(f.max() for f in fold_of.values())) + 1):
        train = {name: fold_of[name] != k for name in scorer.rows}
        best = max(candidates, key=lambda c: criterion(scorer, c, train))
        chosen.append(best)
        for name in scorer.rows:
            test = fold_of[name] == k
            for part in ("score", "mark"):
                combined[name][part][test] = scorer.score(name, best)[part][test]
    return combined, chosen


def row_text(label: str, report: dict) -> str:
    cells = []
    for name in DATASETS:
        f = report[name]
        if name == "saf":
            cells.append(f"{f['pearson']:.3f} / {f['qwk']:.3f} / {f['pearson_of_mark']:.3f}")
        else:
            cells.append(f"{f['roc_auc']:.3f} / {f['accuracy']:.3f} / "
                         f"{f['roc_auc_of_mark']:.3f}")
    return f"| {label} | " + " | ".join(cells) + " |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--quick", action="store_true",
                        help="only the before and default rows (in sample)")
    args = parser.parse_args(argv)
    scorer = Scorer(args.data, build_pipeline())
    rows = scorer.rows

    def report_of(scored_by_set) -> dict:
        return {name: all_figures(name, rows[name], scored_by_set[name]) for name in rows}

    # strength.folds reads only each set's rows
    fold_of = strength.folds({name: cast(strength.Collected, SimpleNamespace(rows=r))
                              for name, r in rows.items()})
    lines = ["| drafting (SciEntsBank, Beetle: AUC / acc / AUC of the mark; SAF: r / QWK / "
             "r of the mark) | " + " | ".join(DISPLAY[n] for n in DATASETS) + " |",
             "|---|---|---|---|"]
    report: dict = {"rows": {}}
    fixed = {"model answer's own forms only (before)": NO_ANTICIPATION,
             "shipped defaults (in sample)": DEFAULT}
    for label, anticipation in fixed.items():
        figs = report_of({n: scorer.score(n, anticipation) for n in rows})
        report["rows"][label] = {"settings": asdict(anticipation), "figures": figs}
        lines.append(row_text(label, figs))
        print(lines[-1], file=sys.stderr)
    for piece, candidates in ({} if args.quick else PIECES).items():
        combined, chosen = out_of_fold(scorer, [NO_ANTICIPATION, *candidates], fold_of)
        label = f"+ {piece} alone, chosen out of fold"
        figs = report_of(combined)
        report["rows"][label] = {"chosen": [asdict(c) for c in chosen], "figures": figs}
        lines.append(row_text(label, figs))
        print(lines[-1], file=sys.stderr)
    if args.quick:
        print("\n".join(lines))
        return 0
    everything = sorted({*[c for cs in PIECES.values() for c in cs], DEFAULT,
                         replace(DEFAULT, context=0), replace(DEFAULT, synonyms=0),
                         replace(DEFAULT, family=0), NO_ANTICIPATION}, key=str)
    combined, chosen = out_of_fold(scorer, everything, fold_of)
    figs = report_of(combined)
    label = "any setting, chosen out of fold"
    report["rows"][label] = {"chosen": [asdict(c) for c in chosen], "figures": figs}
    lines.append(row_text(label, figs))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
