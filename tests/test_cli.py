"""The core CLI commands: rubric check and checking one answer."""

from __future__ import annotations

import json

from click.testing import CliRunner

from essaycheck.cli import main

from .conftest import RUBRIC_DIR


def run(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


def test_rubric_check_reports_shipped_rubrics_valid():
    result = run("rubric", "check", RUBRIC_DIR)
    assert result.exit_code == 0, result.output
    assert "ok      secret-speech-1956: 6 points" in result.output
    assert "ok      thaw-significance: 7 points" in result.output
    assert "All 2 rubric(s)" in result.output


def test_rubric_check_names_file_field_and_fix(tmp_path):
    (tmp_path / "bad.yaml").write_text("id: q\nquestion: Why?\nmodel_answer: x\npoints:\n"
                                       "  - id: a\n    text: ''\n  - id: a\n    text: y\n")
    result = run("rubric", "check", tmp_path)
    assert result.exit_code == 1
    assert "bad.yaml: max_score: missing required field (fix: add 'max_score:'" in result.output
    assert "bad.yaml: points[0].text: is empty" in result.output
    assert "duplicate point id 'a'" in result.output


def test_check_one_answer_from_stdin():
    result = run("check", "secret-speech-1956", "--rubrics", RUBRIC_DIR,
                 input="Khrushchev wanted to weaken his rivals such as Molotov, who were linked "
                       "to the purges, and to strengthen his power.")
    assert result.exit_code == 0, result.output
    assert "[x] weaken-rivals: covered" in result.output
    assert "[ ] signal-to-allies: missed" in result.output and "hint:" in result.output


def test_check_json_and_errors():
    result = run("check", "thaw-significance", "--json", "--rubrics", RUBRIC_DIR,
                 input="Censorship was relaxed so writers could publish.")
    assert json.loads(result.output)["max_score"] == 8
    empty = run("check", "thaw-significance", "--rubrics", RUBRIC_DIR, input="  ")
    assert empty.exit_code == 1 and "empty answer" in empty.output
    unknown = run("check", "nope", "--rubrics", RUBRIC_DIR, input="text")
    assert unknown.exit_code == 1 and "unknown question id 'nope'" in unknown.output
    bad_dir = run("check", "x", "--rubrics", "/no/such/dir", input="text")
    assert bad_dir.exit_code == 2 and "no such directory" in bad_dir.output
