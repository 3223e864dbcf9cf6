"""`essaycheck score` end to end: files in, files out, exit codes, golden output.

Golden files live in tests/golden/. After a deliberate change to scoring or to the output
format, regenerate them with::

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_cli_score.py

and review the diff before committing.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from essaycheck import cli, csvio, scoring

from .conftest import ROOT

EXAMPLE = ROOT / "examples" / "class-answers.csv"
GOLDEN = Path(__file__).resolve().parent / "golden"
SS = "secret-speech-1956"
TH = "thaw-significance"
GOOD = ("Khrushchev wanted to weaken his rivals like Molotov and Malenkov, who were linked to "
        "the purges. He also wanted to distance the Party from Stalin's crimes, which had "
        "damaged its reputation.")


@pytest.fixture
def score(checker, monkeypatch, tmp_path):
    """Run `essaycheck score ...` in a temporary folder with the session's checker."""
    monkeypatch.setattr(cli, "load_checker", lambda rubrics_dir, pipeline: checker)
    monkeypatch.setattr(cli, "load_rubrics", lambda rubrics_dir: checker.rubrics)
    monkeypatch.chdir(tmp_path)

    def run(*args):
        return CliRunner().invoke(cli.main, ["score", *map(str, args)], catch_exceptions=False)

    return run


def write_csv(path: Path, rows, delimiter=",", encoding="utf-8", header=None) -> Path:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header or ["student_id", "question_id", "answer"])
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def read_results(path: Path, delimiter=",", encoding="utf-8") -> list[dict]:
    with path.open(encoding=encoding, newline="") as handle:
        return list(csv.DictReader(handle, delimiter=delimiter))


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(actual.encode("utf-8"))
    assert path.exists(), f"no golden file {path}; run with UPDATE_GOLDEN=1 to create it"
    expected = path.read_bytes().decode("utf-8")
    assert actual == expected, (f"{name} differs from the golden file; if the change is "
                                "intended, rerun with UPDATE_GOLDEN=1 and review the diff")


# --------------------------------------------------------------------------------------------
# The example class, against golden files


def test_example_class_matches_golden_files(score, tmp_path):
    shutil.copy(EXAMPLE, "class-answers.csv")
    result = score("class-answers.csv", "-o", "results.csv", "--report", "report.html")
    assert result.exit_code == 1            # the example holds three bad rows on purpose
    check_golden("class-results.csv", (tmp_path / "results.csv").read_bytes().decode())
    check_golden("class-summary.txt", result.stdout)
    assert result.stderr.count("class-answers.csv: line ") == 3

    result = score("class-answers.csv", "-o", "results.jsonl")
    assert result.exit_code == 1
    check_golden("class-results.jsonl", (tmp_path / "results.jsonl").read_text())


def test_example_results_keep_every_row_and_column(score):
    shutil.copy(EXAMPLE, "class-answers.csv")
    score("class-answers.csv", "-o", "results.csv")
    with EXAMPLE.open(encoding="utf-8", newline="") as handle:
        original = list(csv.DictReader(handle))
    results = read_results(Path("results.csv"))
    assert len(results) == len(original) == 33
    for before, after in zip(original, results, strict=True):
        for column, value in before.items():
            assert after[column] == csvio.neutralise(value)
    statuses = [r["status"] for r in results]
    assert statuses.count("error") == 3 and statuses.count("ok") == 30
    point_columns = [c for c in results[0] if ":" in c]
    assert f"{SS}:weaken-rivals" in point_columns and f"{TH}:overall-judgement" in point_columns
    for row in results:
        for column in point_columns:
            own = row["status"] == "ok" and column.startswith(row["question_id"] + ":")
            assert (row[column] in ("covered", "partial", "missed")) == own


def test_example_report_parses_with_charts_and_a_row_per_student(score):
    shutil.copy(EXAMPLE, "class-answers.csv")
    result = score("class-answers.csv", "-o", "results.csv", "--report", "report.html")
    assert result.exit_code == 1
    html = Path("report.html").read_text(encoding="utf-8")

    class Page(HTMLParser):
        def __init__(self):
            super().__init__()
            self.svgs = self.students = self.marks = self.errors = 0
            self.ids, self.links = set(), []

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            classes = (attrs.get("class") or "").split()
            self.svgs += tag == "svg"
            self.marks += tag == "mark"
            self.students += tag == "tr" and "student" in classes
            self.errors += tag == "tr" and "error-row" in classes
            if "id" in attrs:
                self.ids.add(attrs["id"])
            if tag == "a" and attrs.get("href", "").startswith("#"):
                self.links.append(attrs["href"][1:])

    page = Page()
    page.feed(html)
    page.close()
    assert page.svgs == 4                     # distribution + points, for each question
    assert page.students == 30                # one row per scored answer
    assert page.errors == 3
    assert page.marks > 30
    assert all(target in page.ids for target in page.links)
    assert sum(link.startswith("line-") for link in page.links) == 30
    assert "<script" not in html and 'src="http' not in html and "<link" not in html


# --------------------------------------------------------------------------------------------
# Input formats


def test_bom_semicolon_input_round_trips_to_the_same_dialect(score, tmp_path):
    path = write_csv(tmp_path / "excel.csv", [["s1", SS, GOOD], ["s2", TH, "Café; crème"]],
                     delimiter=";", encoding="utf-8-sig")
    result = score(path, "-o", "out.csv")
    assert result.exit_code == 0, result.output
    data = Path("out.csv").read_bytes()
    assert data.startswith(codecs.BOM_UTF8)           # Excel's BOM goes back out
    rows = read_results(Path("out.csv"), delimiter=";", encoding="utf-8-sig")
    assert [r["student_id"] for r in rows] == ["s1", "s2"]
    assert rows[1]["answer"] == "Café; crème"
    assert all(r["status"] == "ok" for r in rows)


def test_tab_separated_multiline_input(score, tmp_path):
    answer = "First paragraph: he wanted to weaken his rivals.\n\nSecond\tparagraph."
    path = write_csv(tmp_path / "tabs.tsv", [["s1", SS, answer], ["s2", SS, GOOD]],
                     delimiter="\t")
    result = score(path, "-o", "out.csv")
    assert result.exit_code == 0, result.output
    rows = read_results(Path("out.csv"), delimiter="\t")
    assert rows[0]["answer"] == answer
    assert [r["status"] for r in rows] == ["ok", "ok"]
    assert score(path, "-o", "out.jsonl").exit_code == 0
    records = [json.loads(line) for line in Path("out.jsonl").read_text().split("\n") if line]
    assert [r["line"] for r in records] == [2, 5]
    assert records[0]["fields"]["answer"] == answer


def test_other_column_names_and_extra_columns(score, tmp_path):
    path = write_csv(tmp_path / "lms.csv", [["Ann", "10B", SS, GOOD]],
                     header=["Learner", "Group", "Item", "Response"])
    result = score(path, "-o", "out.csv", "--question-column", "Item", "--answer-column",
                   "Response", "--student-column", "Learner", "--report", "r.html")
    assert result.exit_code == 0, result.output
    [row] = read_results(Path("out.csv"))
    assert (row["Learner"], row["Group"], row["status"]) == ("Ann", "10B", "ok")
    assert ">Ann</a>" in Path("r.html").read_text()


def test_another_encoding_is_refused_with_a_hint_then_read(score, tmp_path):
    path = write_csv(tmp_path / "old.csv", [["s1", SS, GOOD], ["s2", SS, "Café crème \u2019"]],
                     encoding="cp1252")
    result = score(path, "-o", "out.csv")
    assert result.exit_code == 2
    assert "old.csv, line 3: not utf-8 text" in result.stderr
    assert "--encoding cp1252" in result.stderr
    assert not Path("out.csv").exists()
    result = score(path, "-o", "out.csv", "--encoding", "cp1252")
    assert result.exit_code == 0, result.output
    assert read_results(Path("out.csv"))[1]["answer"] == "Café crème \u2019"


def test_utf16_gets_the_right_hint(score, tmp_path):
    path = write_csv(tmp_path / "u16.csv", [["s1", SS, GOOD]], encoding="utf-16")
    result = score(path, "-o", "out.csv")
    assert result.exit_code == 2 and "--encoding utf-16" in result.stderr
    assert score(path, "-o", "out.csv", "--encoding", "utf-16").exit_code == 0


# --------------------------------------------------------------------------------------------
# Bad rows and bad files


def test_every_bad_row_kind_is_reported_and_the_run_continues(score, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "student_id,question_id,answer\n"
        f'ok1,{SS},"{GOOD}"\n'
        f'unknown,no-such-question,"{GOOD}"\n'
        f"empty,{SS},\n"
        f'long,{SS},"{"word " * 10_001}"\n'
        f"wide,{SS},He wanted power, and more\n"
        "narrow\n"
        f'ok2,{TH},"The thaw relaxed censorship, so writers had more freedom."\n',
        encoding="utf-8")
    result = score(path, "-o", "out.csv")
    assert result.exit_code == 1
    rows = read_results(Path("out.csv"))
    assert [r["student_id"] for r in rows] == ["ok1", "unknown", "empty", "long", "wide",
                                               "narrow", "ok2"]
    assert [r["status"] for r in rows] == ["ok"] + ["error"] * 5 + ["ok"]
    messages = [r["message"] for r in rows]
    assert messages[1].startswith("line 3, column 'question_id': unknown question id")
    assert messages[2] == "line 4, column 'answer': empty answer"
    assert messages[3].startswith("line 5, column 'answer': answer too long")
    assert messages[4].startswith("line 6: the row has 4 field(s) but the header has 3")
    assert messages[5].startswith("line 7: the row has 1 field(s)")
    for message in messages[1:6]:
        assert f"bad.csv: {message}" in result.stderr
    assert "Rows scored: 2 of 7; rows with errors: 5" in result.stdout


def test_missing_column_stops_at_once_naming_it(score, tmp_path):
    path = write_csv(tmp_path / "a.csv", [["s1", SS, GOOD]], header=["student", "question",
                                                                      "answer"])
    result = score(path, "-o", "out.csv")
    assert result.exit_code == 2
    assert "no column 'question_id'" in result.stderr
    assert "'student', 'question', 'answer'" in result.stderr
    assert "--question-column" in result.stderr
    assert not Path("out.csv").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["a.csv"]   # no temporary file left


def test_empty_file_is_a_file_error(score, tmp_path):
    (tmp_path / "empty.csv").write_text("")
    result = score("empty.csv", "-o", "out.csv")
    assert result.exit_code == 2 and "empty.csv is empty" in result.stderr


def test_missing_input_and_bad_options_are_usage_errors(score, tmp_path):
    assert score("nope.csv", "-o", "out.csv").exit_code == 2
    write_csv(tmp_path / "a.csv", [["s1", SS, GOOD]])
    assert score("a.csv").exit_code == 2                                  # no -o
    assert score("a.csv", "-o", "out.csv", "--jobs", "0").exit_code == 2
    result = score("a.csv", "-o", "out.csv", "--encoding", "klingon")
    assert result.exit_code == 2 and "unknown encoding" in result.stderr
    result = score("a.csv", "-o", "no/such/dir/out.csv")
    assert result.exit_code == 2 and "no folder" in result.stderr


# --------------------------------------------------------------------------------------------
# Output safety


def test_formulas_are_neutralised(score, tmp_path):
    path = write_csv(tmp_path / "f.csv", [
        ["=HYPERLINK(\"http://evil\")", SS, "-leading dash: he wanted to weaken his rivals."],
        ["@SUM(A1)", SS, "+1 the purges"], ["\tTAB", SS, "\rCR then text"]])
    result = score(path, "-o", "out.csv")
    assert result.exit_code == 0, result.output
    rows = read_results(Path("out.csv"))
    assert rows[0]["student_id"] == "'=HYPERLINK(\"http://evil\")"
    assert rows[0]["answer"].startswith("'-leading")
    assert rows[1]["student_id"] == "'@SUM(A1)" and rows[1]["answer"] == "'+1 the purges"
    assert rows[2]["student_id"] == "'\tTAB" and rows[2]["answer"].startswith("'\r")
    for row in rows:
        for value in row.values():
            assert not value.startswith(csvio.FORMULA_STARTS)
    # JSON keeps the text exactly as written
    score(path, "-o", "out.jsonl")
    first = json.loads(Path("out.jsonl").read_text().split("\n")[0])
    assert first["student_id"] == "=HYPERLINK(\"http://evil\")"


def test_never_overwrites_the_input(score, tmp_path):
    path = write_csv(tmp_path / "a.csv", [["s1", SS, GOOD]])
    before = path.read_bytes()
    for args in (["-o", "a.csv"], ["-o", "a.csv", "--force"], ["-o", "./a.csv", "--force"],
                 ["-o", "out.csv", "--report", "a.csv", "--force"]):
        result = score("a.csv", *args)
        assert result.exit_code == 2, args
        assert "is the input file" in result.stderr
        assert path.read_bytes() == before


def test_existing_output_needs_force(score, tmp_path):
    write_csv(tmp_path / "a.csv", [["s1", SS, GOOD]])
    Path("out.csv").write_text("keep me")
    Path("r.html").write_text("keep me too")
    result = score("a.csv", "-o", "out.csv")
    assert result.exit_code == 2 and "out.csv exists; pass --force" in result.stderr
    assert Path("out.csv").read_text() == "keep me"
    result = score("a.csv", "-o", "new.csv", "--report", "r.html")
    assert result.exit_code == 2 and "r.html exists" in result.stderr
    assert not Path("new.csv").exists()
    result = score("a.csv", "-o", "out.csv", "--report", "r.html", "--force")
    assert result.exit_code == 0, result.output
    assert read_results(Path("out.csv"))[0]["status"] == "ok"
    assert Path("r.html").read_text().startswith("<!DOCTYPE html>")


def test_exit_codes(score, tmp_path):
    write_csv(tmp_path / "good.csv", [["s1", SS, GOOD], ["s2", TH, "The thaw relaxed censorship."]])
    write_csv(tmp_path / "some-bad.csv", [["s1", SS, GOOD], ["s2", SS, ""]])
    write_csv(tmp_path / "header-only.csv", [])
    assert score("good.csv", "-o", "1.csv").exit_code == 0
    assert score("some-bad.csv", "-o", "2.csv").exit_code == 1
    assert score("header-only.csv", "-o", "3.csv").exit_code == 0
    assert read_results(Path("3.csv")) == []
    write_csv(tmp_path / "no-answer.csv", [["s1", SS]], header=["student_id", "question_id"])
    assert score("no-answer.csv", "-o", "4.csv").exit_code == 2


def test_quiet_prints_no_summary_and_format_can_be_forced(score, tmp_path):
    write_csv(tmp_path / "a.csv", [["s1", SS, GOOD]])
    result = score("a.csv", "-o", "out.txt", "--format", "json", "--quiet")
    assert result.exit_code == 0 and result.stdout == "" and result.stderr == ""
    record = json.loads(Path("out.txt").read_text())
    assert record["status"] == "ok" and record["result"]["points"][0]["point_id"]


# --------------------------------------------------------------------------------------------
# Parallel scoring


def test_jobs_2_gives_the_same_output_as_jobs_1(score, monkeypatch, tmp_path):
    monkeypatch.setattr(scoring, "CHUNK_ROWS", 4)      # several chunks over both workers
    rows = list(csv.reader(EXAMPLE.open(encoding="utf-8", newline="")))[1:20]
    path = write_csv(tmp_path / "small.csv", rows,
                     header=["student_id", "name", "class", "question_id", "answer"])
    one = score(path, "-o", "one.csv", "--jobs", "1")
    two = score(path, "-o", "two.csv", "--jobs", "2")
    assert one.exit_code == two.exit_code == 0, two.output
    assert Path("one.csv").read_bytes() == Path("two.csv").read_bytes()
    assert one.stdout.replace("one.csv", "X") == two.stdout.replace("two.csv", "X")


def test_readme_shows_the_current_summary_of_the_example_class():
    """The README's excerpt is the golden summary, so it cannot drift from what users see."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    golden = (Path(__file__).resolve().parent / "golden" / "class-summary.txt").read_text(
        encoding="utf-8")
    body = golden.split("\nWrote ")[0]
    assert body in readme, "update the README's 'Scoring a class' excerpt from the golden file"
