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
import sys
from dataclasses import asdict, replace
from pathlib import Path

import ablation
from ablation import all_figures, out_of_fold, row_text
from evalsets import DATASETS, DEFAULT_DATA, DISPLAY, references

from essaycheck.analysis import Analyzer, build_pipeline
from essaycheck.checker import Checker
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


class Scorer(ablation.Scorer):
    """Every answer analysed once; scored under any drafting setting."""

    def checker(self, name: str, candidate: Anticipation) -> Checker:
        """The set's questions drafted with ``candidate``, fitted with default settings."""
        return Checker(draft_all(self.rows[name], self.analyzer, name, candidate),
                       nlp=self.nlp).fit()


def main(argv: list[str] | None = None) -> int:
    """Print the table (or ``--json``, the figures) of the settings tried."""
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

    fold_of = ablation.folds(rows)
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
