"""Agreement metrics on small hand-computed cases, reading a marked CSV, and `evaluate`."""

from __future__ import annotations

import json
import math
import warnings

import pytest
from click.testing import CliRunner

from essaycheck.cli import main
from essaycheck.evaluation import (
    MarkedAnswer,
    MarkedFileError,
    accuracy,
    adjacent_agreement,
    agreement,
    confusion,
    evaluate,
    exact_agreement,
    format_figure,
    format_report,
    json_ready,
    pearson,
    point_label,
    precision_recall,
    quadratic_kappa,
    read_marked,
    roc_auc,
    scaled_confidence,
    spearman,
    whole_marks,
)

from .conftest import RUBRIC_DIR, small_eval_data

SPEECH = "secret-speech-1956"
THAW = "thaw-significance"


# -- metrics, by hand -----------------------------------------------------------------------
def test_pearson_by_hand():
    # x = 1,2,3; y = 1,2,4: cov = 3, |dx| = sqrt 2, |dy| = sqrt(42)/3  ->  r = 9 / sqrt 84
    assert pearson([1, 2, 3], [1, 2, 4]) == pytest.approx(9 / math.sqrt(84))
    assert pearson([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)


def test_spearman_by_hand():
    # ranks 1,2,3 against 3,1,2: sum d^2 = 4 + 1 + 1 = 6; 1 - 6*6/(3*8) = -0.5
    assert spearman([1, 2, 3], [3, 1, 2]) == pytest.approx(-0.5)
    assert spearman([1, 2, 3], [10, 20, 400]) == pytest.approx(1.0)


def test_quadratic_kappa_by_hand():
    # weights (i-j)^2/4; observed disagreement 1/3 * 1/4 = 1/12; expected 15/36 = 5/12
    assert quadratic_kappa([0, 1, 2], [0, 2, 2]) == pytest.approx(1 - (1 / 12) / (5 / 12))
    assert quadratic_kappa([0, 1, 2, 2], [0, 1, 2, 2]) == pytest.approx(1.0)
    # the labels fix the scale even when a category is never used
    assert quadratic_kappa([0, 2], [0, 2], labels=[0, 1, 2]) == pytest.approx(1.0)


def test_exact_adjacent_and_confusion_by_hand():
    human, predicted = [0, 1, 2, 3], [0, 2, 2, 1]
    assert exact_agreement(human, predicted) == 0.5
    assert adjacent_agreement(human, predicted) == 0.75          # differences 0, 1, 0, 2
    labels, matrix = confusion(human, predicted)
    assert labels == [0, 1, 2, 3]
    assert matrix == [[1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 1, 0], [0, 1, 0, 0]]
    assert accuracy([1, 0, 1], [1, 1, 1]) == pytest.approx(2 / 3)


def test_roc_auc_by_hand():
    # positives 0.35, 0.8 against negatives 0.1, 0.4: 3 of 4 pairs ordered right
    assert roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75


def test_precision_recall_by_hand():
    figures = precision_recall([True, True, False, False], [True, False, True, False])
    assert (figures["precision"], figures["recall"], figures["f1"]) == (0.5, 0.5, 0.5)
    nothing = precision_recall([True, False], [False, False])
    assert math.isnan(nothing["precision"]) and nothing["recall"] == 0.0


def test_whole_marks_round_halves_up():
    assert whole_marks([0.4, 0.5, 1.5, 2.5, 2.49]).tolist() == [0, 1, 2, 3, 2]


def test_degenerate_inputs_give_nan_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isnan(pearson([1, 1, 1], [1, 2, 3]))
        assert math.isnan(pearson([1], [2]))
        assert math.isnan(spearman([2, 2], [1, 3]))
        assert math.isnan(quadratic_kappa([1, 1], [1, 1]))
        assert math.isnan(quadratic_kappa([], []))
        assert math.isnan(roc_auc([1, 1, 1], [0.2, 0.3, 0.4]))
        assert math.isnan(exact_agreement([], []))
        figures = agreement([2, 2, 2], [2, 2, 2])
        assert figures["exact"] == 1.0 and math.isnan(figures["pearson"])
        assert confusion([], []) == ([], [])
    assert format_figure(float("nan")) == "n/a" and format_figure(0.123) == "0.12"
    assert json.dumps(json_ready({"r": float("nan")})) == '{"r": null}'
    with pytest.raises(ValueError):
        pearson([1, 2], [1, 2, 3])


def test_scaled_confidence_puts_thresholds_at_thirds():
    assert scaled_confidence(0.0, 0.5, 0.28) == 0.0
    assert scaled_confidence(0.28, 0.5, 0.28) == pytest.approx(1 / 3)
    assert scaled_confidence(0.5, 0.5, 0.28) == pytest.approx(2 / 3)
    assert scaled_confidence(1.0, 0.5, 0.28) == pytest.approx(1.0)
    values = [scaled_confidence(x / 20, 0.6, 0.3) for x in range(21)]
    assert values == sorted(values)


def test_point_labels():
    assert point_label("1") is True and point_label("Covered") is True
    assert point_label("partial") is True
    assert point_label("no") is False and point_label("0") is False
    assert point_label("  ") is None
    with pytest.raises(ValueError):
        point_label("maybe")


# -- reading a marked CSV ------------------------------------------------------------------
def test_read_marked_semicolons_bom_and_point_columns(tmp_path):
    path = tmp_path / "marked.csv"
    path.write_text("\ufeffquestion_id;answer;mark;point:weaken-rivals\n"
                    f"{SPEECH};\"He weakened rivals; Molotov\";1,5;yes\n"
                    f"{SPEECH};Nothing;0;\n", encoding="utf-8")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = read_marked(handle, str(path))
    assert [r.mark for r in rows] == [1.5, 0.0]
    assert rows[0].answer == "He weakened rivals; Molotov"
    assert rows[0].points == {"weaken-rivals": True} and rows[1].points == {}
    assert rows[0].line == 2


@pytest.mark.parametrize("text, message", [
    ("question_id,answer\nq,a\n", "no column 'mark'"),
    ("question_id,answer,mark\nq,a,lots\n", "line 2, column 'mark': 'lots' is not a number"),
    ("question_id,answer,mark\nq,a,\n", "line 2: no mark"),
    ("question_id,text,mark\nq,a,1\n", "no column 'answer'"),
    ("question_id,answer,mark,point:x\nq,a,1,perhaps\n", "column 'point:x'"),
    ("question_id,answer,mark\n", "holds no answers"),
])
def test_read_marked_names_the_problem(tmp_path, text, message):
    path = tmp_path / "marked.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MarkedFileError) as info, path.open(encoding="utf-8", newline="") as handle:
        read_marked(handle, str(path))
    assert message in str(info.value)


# -- evaluate ------------------------------------------------------------------------------
RIVALS = ("Khrushchev wanted to weaken his rivals such as Molotov, who were linked to the "
          "purges, and to strengthen his power.")


def marked_rows(checker):
    return [
        MarkedAnswer(SPEECH, checker.rubric(SPEECH).model_answer, 6, {"weaken-rivals": True}, 2),
        MarkedAnswer(SPEECH, RIVALS, 1, {"weaken-rivals": True}, 3),
        MarkedAnswer(SPEECH, "Stalin was a dictator.", 0, {"weaken-rivals": False}, 4),
        MarkedAnswer(SPEECH, "He did not want to weaken his rivals.", 1,
                     {"weaken-rivals": True, "no-such-point": True}, 5),
        MarkedAnswer(THAW, checker.rubric(THAW).model_answer, 7, {}, 6),
        MarkedAnswer(THAW, "   ", 0, {}, 7),
        MarkedAnswer("nope", "text", 1, {}, 8),
    ]


def test_evaluate_reports_overall_per_question_and_per_point(checker):
    report = evaluate(checker, marked_rows(checker))
    assert report["rows"] == 7 and report["scored"] == 5
    assert {e["line"] for e in report["errors"]} == {7, 8}
    assert {e["error"] for e in report["errors"]} == {"empty_answer", "unknown_question"}
    assert set(report["questions"]) == {SPEECH, THAW}
    speech = report["questions"][SPEECH]
    assert speech["n"] == 4 and speech["max_score"] == 6
    overall = report["overall"]
    assert overall["n"] == 5 and overall["pearson"] > 0.9
    assert sum(map(sum, overall["confusion"]["matrix"])) == 5
    (point,) = report["points"]
    # the negated answer is labelled made by the marker but missed by essaycheck
    assert (point["point_id"], point["n"], point["precision"], point["recall"]) == \
        ("weaken-rivals", 4, 1.0, pytest.approx(2 / 3))
    assert report["unknown_points"] == [f"{SPEECH}:no-such-point"]
    text = format_report(report)
    for expected in ("pearson", "overall", "Confusion matrix", "weaken-rivals",
                     "no-such-point", "line 8: unknown question id"):
        assert expected in text
    json.dumps(json_ready(report))


def test_evaluate_command_text_and_json(tmp_path):
    path = tmp_path / "marked.csv"
    path.write_text(
        "question,text,teacher,point:weaken-rivals\n"
        f"{SPEECH},\"{RIVALS}\",1,1\n"
        f"{SPEECH},Stalin was a dictator.,0,0\n"
        f"{SPEECH},The speech was in 1956.,0,0\n", encoding="utf-8")
    args = ["evaluate", str(path), "--question-column", "question", "--answer-column", "text",
            "--mark-column", "teacher", "--rubrics", str(RUBRIC_DIR)]
    runner = CliRunner()
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "Agreement with the human marks (3 answers scored)" in result.output
    assert "overall" in result.output and "weaken-rivals" in result.output
    as_json = runner.invoke(main, args + ["--json"])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.output)
    assert data["overall"]["n"] == 3 and data["overall"]["exact"] == 1.0
    assert data["points"][0]["recall"] == 1.0


def test_evaluate_command_errors(tmp_path):
    path = tmp_path / "marked.csv"
    path.write_text("question_id,answer,mark\nnope,text,1\n", encoding="utf-8")
    runner = CliRunner()
    missing = runner.invoke(main, ["evaluate", str(path), "--mark-column", "score",
                                   "--rubrics", str(RUBRIC_DIR)])
    assert missing.exit_code == 2
    assert "no column 'score'" in missing.output and "'mark'" in missing.output
    unknown = runner.invoke(main, ["evaluate", str(path), "--rubrics", str(RUBRIC_DIR)])
    assert unknown.exit_code == 1 and "no answer could be scored" in unknown.output


# -- the accuracy report script ------------------------------------------------------------
def test_eval_report_prints_the_table_on_small_data(tmp_path, capsys, script):
    small_eval_data(tmp_path)
    module = script("eval_report")
    record = tmp_path / "ACCURACY.md"
    record.write_text("# Figures\n\n<!-- eval-report:begin -->\nstale figures\n"
                      "<!-- eval-report:end -->\nafter\n", encoding="utf-8")
    assert module.main(["--data", str(tmp_path), "--write", str(record)]) == 0
    out = capsys.readouterr().out
    assert ("| dataset | metric | baseline | essaycheck | essaycheck, weights out of fold "
            "| target | met? |") in out
    for expected in ("SciEntsBank | 2-way ROC AUC", "Beetle | 2-way accuracy",
                     "SAF (en) | Pearson r", "essaycheck calibrated",
                     "Beetle | 2-way accuracy of the whole mark"):
        assert expected in out
    # the answers that state the reference are the correct ones: a perfect ranking
    assert "| SciEntsBank | 2-way ROC AUC | 1.00 | 1.00 | 1.00 | >= 0.80 (#5) | yes |" in out
    # issue 10 judges the mark (the baseline has none), and issue 5's rows stay
    assert "| SciEntsBank | 2-way ROC AUC of the mark | – | 1.00 | 1.00 | >= 0.80 (#10) | yes |" \
        in out
    assert "| Beetle | 2-way accuracy of the mark (OOF threshold) | – |" in out
    assert "| SAF (en) | Pearson r of the mark | – |" in out
    assert ("| dataset | target | of the mark | of the continuous score | met? |\n|---|---|---|"
            "---|---|\n| SciEntsBank | 2-way ROC AUC of the mark >= 0.80 | 1.00 | 1.00 | yes |"
            ) in out
    text = record.read_text(encoding="utf-8")
    assert "stale figures" not in text and text.endswith("after\n") and "| Beetle |" in text
    assert module.main(["--data", str(tmp_path / "missing")]) == 2


def test_fit_strength_scores_answers_as_the_checker_does(tmp_path, nlp, script):
    small_eval_data(tmp_path)
    fit, strength, evalsets = script("fit_strength"), script("strength"), script("evalsets")
    sets, checkers = {}, {}
    for name in ("scientsbank", "beetle", "saf"):
        sets[name], checkers[name] = strength.collect(tmp_path, name, nlp)
        # its vectorised scores are evaluation.credit of Checker.check, exactly
        assert fit.self_check(sets[name], checkers[name]) < 1e-12
    family = strength.grid()
    assert all(abs(sum(w) - 1) < 1e-9 and w[0] >= 0.5 for w in family)
    from essaycheck.matching import STRENGTH_WEIGHTS

    assert tuple(w for _, w in STRENGTH_WEIGHTS) in family
    # out of fold: each question is scored with weights chosen without it
    fold = strength.folds(sets)
    scores, chosen = strength.out_of_fold(sets, family, fold)
    assert len(chosen) == strength.FOLDS and all(w in family for w in chosen)
    assert {n: len(s) for n, s in scores.items()} == {n: 36 for n in sets}
    # and its vectorised marks are the checker's (to a rounding of the last decimal)
    for name, c in sets.items():
        _, marks = evalsets.essaycheck_scores(checkers[name], c.rows)
        ours = strength.marks_for(c, tuple(w for _, w in STRENGTH_WEIGHTS))
        assert max(abs(a - b) for a, b in zip(ours, marks, strict=True)) <= 0.01 + 1e-9


def test_brief_agreement_is_the_full_one_without_the_costly_figures():
    human, predicted = [0, 1, 2, 3, 3, 1], [0.4, 1.2, 1.6, 2.9, 2.2, 1.5]
    full, brief = agreement(human, predicted), agreement(human, predicted, brief=True)
    assert list(brief) == ["n", "pearson", "exact", "adjacent", "mean_human", "mean_essaycheck"]
    assert brief == {key: full[key] for key in brief}
    assert set(full) - set(brief) == {"spearman", "qwk", "confusion"}
