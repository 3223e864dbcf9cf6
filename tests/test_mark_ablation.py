"""scripts/mark_ablation.py: its marks are the checker's, and its choice is out of fold."""

from __future__ import annotations

import csv

import numpy as np

from .conftest import small_eval_data


def _with_copies(folder):
    """The miniature eval sets, where every third answer copies its question (with the
    topic's words in it, so that the question's words are the point's too)."""
    for path in folder.glob("*-train.csv"):
        with open(path, encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        for i, row in enumerate(rows):
            row["question"] = f"Explain why {row['reference_answer'].split('.')[0].lower()}?"
            if i % 3 == 0:
                row["student_answer"] = row["question"]
        with open(path, "w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


def test_mark_ablation_marks_as_the_checker_does(tmp_path, nlp, script):
    small_eval_data(tmp_path)
    _with_copies(tmp_path)
    ablation, strength, evalsets = (script("mark_ablation"), script("strength"),
                                    script("evalsets"))
    for name in ("scientsbank", "beetle", "saf"):
        c, checker = strength.collect(tmp_path, name, nlp,
                                      extra_features=ablation._question_words)
        ablation.with_model_strengths(c, checker)
        _, marks = evalsets.essaycheck_scores(checker, c.rows)
        shipped = ablation.marks(c, ablation.Variant())
        assert np.abs(shipped - marks).max() <= 0.01 + 1e-9
        assert np.abs(strength.marks_for(c, ablation.WEIGHTS) - marks).max() <= 0.01 + 1e-9
        copies = np.arange(len(c.rows)) % 3 == 0
        assert c.repeats[copies].all() and not c.repeats[~copies].any()
        # with no rule, the copies keep what little their words earn; never more than the rule
        free = ablation.marks(c, ablation.Variant(share=None))
        assert (free >= shipped - 1e-12).all()
        assert np.array_equal(free[~copies], shipped[~copies])
        # a covered point graded up to the model answer's own strength: never above the mark
        graded = ablation.marks(c, ablation.Variant(covered_floor=0.9, full_at_model=True))
        assert (graded <= shipped + 1e-12).all()


def test_mark_ablation_prints_its_table(tmp_path, capsys, script):
    small_eval_data(tmp_path)
    _with_copies(tmp_path)
    assert script("mark_ablation").main(["--data", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "| shipped now |" in out and "| repeat rule chosen out of fold |" in out
    assert "the rule chosen per fold:" in out and "the covered floor chosen per fold:" in out
