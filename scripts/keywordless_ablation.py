#!/usr/bin/env python3
"""What match-time alternatives gain for points without keywords, out of fold.

A mark scheme's bare "key elements" are points without keyword groups: the matcher makes a
group of each content word, and (``MatchSettings.alternative_*``) lets each also be met by the
lexicon's alternatives of the word, chosen as drafting anticipates a keyword's. The public eval
sets' drafted rubrics all have keyword groups, so this measures them on a variant of the same
rubrics with every point's keyword groups removed (its text and accepted wordings kept), under
several settings, with default settings otherwise; and checks that the rubrics as drafted (with
keyword groups) are scored exactly the same whatever the settings.

Per setting, the figures of ``eval_report.py`` (ROC AUC and out-of-fold accuracy, SAF Pearson r
and QWK, of the continuous score) and of the mark (ROC AUC, SAF r). Then per piece (word family,
synonyms, words the rubric's own texts use) and for any setting, the setting is chosen out of
fold: 5-fold GroupKFold by question over the three sets pooled, each fold's questions scored
with the setting that did best on the other folds' questions (mean of SciEntsBank's and
Beetle's AUC and SAF's r, as ``drafting_ablation.py`` and ``fit_strength.py`` choose), "off"
among the choices.

    python scripts/keywordless_ablation.py          # about 4 minutes on 2 cores
    python scripts/keywordless_ablation.py --json
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, replace
from pathlib import Path

import ablation
import numpy as np
from ablation import all_figures, out_of_fold, row_text
from evalsets import DATASETS, DEFAULT_DATA, DISPLAY, build_rubrics

from essaycheck.analysis import build_pipeline
from essaycheck.checker import Checker
from essaycheck.matching import MatchSettings
from essaycheck.rubric import Rubric

DEFAULT = MatchSettings()
OFF = replace(DEFAULT, alternative_family=0, alternative_synonyms=0, alternative_context=0)
#: family, synonyms and context words together at their caps (the shipped default is synonyms
#: alone: the other pieces lowered SAF's figures out of fold)
ALL = replace(DEFAULT, alternative_family=2, alternative_synonyms=2, alternative_context=2)
PIECES = {
    "family": [replace(OFF, alternative_family=n, alternative_weight=w)
               for n in (2, 4) for w in (0.15, 0.3)],
    "synonyms": [replace(OFF, alternative_synonyms=n, alternative_weight=w)
                 for n in (2, 4) for w in (0.15, 0.3)],
    "context": [replace(OFF, alternative_context=n) for n in (2, 4)],
}
TOGETHER = [ALL, replace(ALL, alternative_weight=0.15),
            replace(ALL, alternative_family=4, alternative_synonyms=4, alternative_weight=0.15)]


def without_keywords(rubric: Rubric) -> Rubric:
    """The rubric with every point's keyword groups removed (text and accept wordings kept)."""
    return replace(rubric, points=tuple(replace(p, keywords=()) for p in rubric.points))


class Scorer(ablation.Scorer):
    """Every answer analysed once; scored under any rubric variant and settings."""

    def __init__(self, data_dir: Path, nlp) -> None:
        super().__init__(data_dir, nlp)
        self.rubrics = {name: build_rubrics(rows, self.analyzer, name)
                        for name, rows in self.rows.items()}

    def score(self, name: str, candidate, bare: bool = True) -> dict[str, np.ndarray]:
        """The continuous score and the mark (shares of max_score) of every row under the
        settings ``candidate``, on the rubrics without keyword groups (``bare``) or as
        drafted."""
        return super().score(name, (candidate, bare))

    def checker(self, name: str, candidate: tuple[MatchSettings, bool]) -> Checker:
        """The set's drafted rubrics (without keyword groups if ``bare``) fitted with the
        settings."""
        settings, bare = candidate
        rubrics = [without_keywords(r) if bare else r for r in self.rubrics[name]]
        return Checker(rubrics, nlp=self.nlp, settings=settings).fit()


def _alternatives(settings: MatchSettings) -> dict:
    """The settings' alternative_* fields, as the report shows what was chosen."""
    keys = ("alternative_family", "alternative_synonyms", "alternative_context",
            "alternative_weight")
    return {k: v for k, v in asdict(settings).items() if k in keys}


def main(argv: list[str] | None = None) -> int:
    """Print the table (or ``--json``, the figures) of the settings tried."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--quick", action="store_true",
                        help="only the off and default rows (in sample)")
    args = parser.parse_args(argv)
    scorer = Scorer(args.data, build_pipeline())
    rows = scorer.rows

    def report_of(scored_by_set) -> dict:
        return {name: all_figures(name, rows[name], scored_by_set[name]) for name in rows}

    # as drafted, with keyword groups, the alternatives change nothing
    unchanged = {name: bool(np.array_equal(scorer.score(name, OFF, bare=False)["score"],
                                           scorer.score(name, ALL, bare=False)["score"])
                            and np.array_equal(scorer.score(name, OFF, bare=False)["mark"],
                                               scorer.score(name, ALL, bare=False)["mark"]))
                 for name in rows}
    print(f"[rubrics as drafted, alternatives off and on: identical {unchanged}]",
          file=sys.stderr)
    fold_of = ablation.folds(rows)
    lines = ["| points without keywords (SciEntsBank, Beetle: AUC / acc / AUC of the mark; "
             "SAF: r / QWK / r of the mark) | " + " | ".join(DISPLAY[n] for n in DATASETS)
             + " |", "|---|---|---|---|"]
    report: dict = {"as_drafted_unchanged": unchanged, "rows": {}}
    drafted = report_of({n: scorer.score(n, DEFAULT, bare=False) for n in rows})
    report["rows"]["as drafted, with keyword groups"] = {"figures": drafted}
    lines.append(row_text("rubrics as drafted, with keyword groups (for reference)", drafted))
    fixed = {"keyword groups removed, no alternatives (before)": OFF,
             "keyword groups removed, shipped alternatives (in sample)": DEFAULT,
             "keyword groups removed, family, synonyms and context at 2 (in sample)": ALL}
    for label, settings in fixed.items():
        figs = report_of({n: scorer.score(n, settings) for n in rows})
        report["rows"][label] = {"settings": _alternatives(settings), "figures": figs}
        lines.append(row_text(label, figs))
        print(lines[-1], file=sys.stderr)
    if not args.quick:
        runs = {f"+ {piece} alone, chosen out of fold": [OFF, *candidates]
                for piece, candidates in PIECES.items()}
        runs["any setting, chosen out of fold"] = [
            OFF, *[c for cs in PIECES.values() for c in cs], *TOGETHER]
        for label, candidates in runs.items():
            combined, chosen = out_of_fold(scorer, candidates, fold_of)
            figs = report_of(combined)
            report["rows"][label] = {"chosen": [_alternatives(c) for c in chosen],
                                     "figures": figs}
            lines.append(row_text(label, figs))
            print(lines[-1], file=sys.stderr)
            print(f"  chosen: {[_alternatives(c) for c in chosen]}", file=sys.stderr)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
