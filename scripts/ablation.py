"""What the ablation scripts share (``drafting_ablation.py``, ``keywordless_ablation.py``):
every answer of the public eval sets analysed once and scored under any candidate setting, the
figures of a scoring, and a candidate chosen out of fold.

A script subclasses :class:`Scorer` with ``checker(name, candidate)``, the fitted checker a
candidate gives one set's rows; the rest is here.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import numpy as np
import strength
from evalsets import DATASETS, figures, load

from essaycheck.analysis import Analyzer, clean_answer
from essaycheck.checker import Checker
from essaycheck.errors import EssaycheckError
from essaycheck.evaluation import credit, pearson, roc_auc


class Scorer:
    """Every answer analysed once; scored under any candidate (``checker``), each scoring
    kept."""

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
        self.cache: dict[tuple, dict[str, np.ndarray]] = {}

    def checker(self, name: str, candidate) -> Checker:
        """The fitted checker that ``candidate`` gives the set ``name``'s questions."""
        raise NotImplementedError

    def score(self, name: str, candidate: Hashable) -> dict[str, np.ndarray]:
        """The continuous score and the mark (shares of max_score) of every row."""
        key = (name, candidate)
        if key not in self.cache:
            rows = self.rows[name]
            checker = self.checker(name, candidate)
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


def folds(rows: dict[str, list[dict]]) -> dict[str, np.ndarray]:
    """Each row's fold, as ``strength.folds`` (which reads only each set's rows) gives it."""
    return strength.folds({name: cast(strength.Collected, SimpleNamespace(rows=r))
                           for name, r in rows.items()})


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


def criterion(scorer: Scorer, candidate: Hashable, masks: dict[str, np.ndarray]) -> float:
    """Mean of SciEntsBank's and Beetle's AUC and SAF's r over the masked rows."""
    values = []
    for name, rows in scorer.rows.items():
        if masks[name].any():
            scores = scorer.score(name, candidate)["score"]
            values.append(strength.metric(name, rows, scores, masks[name]))
    values = [v for v in values if math.isfinite(v)]
    return float(np.mean(values)) if values else -math.inf


def out_of_fold(scorer: Scorer, candidates: Sequence, fold_of: dict[str, np.ndarray]
                ) -> tuple[dict[str, dict[str, np.ndarray]], list]:
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
    """A table row: per set, AUC / accuracy / AUC of the mark (SAF: r / QWK / r of the mark)."""
    cells = []
    for name in DATASETS:
        f = report[name]
        if name == "saf":
            cells.append(f"{f['pearson']:.3f} / {f['qwk']:.3f} / {f['pearson_of_mark']:.3f}")
        else:
            cells.append(f"{f['roc_auc']:.3f} / {f['accuracy']:.3f} / "
                         f"{f['roc_auc_of_mark']:.3f}")
    return f"| {label} | " + " | ".join(cells) + " |"
