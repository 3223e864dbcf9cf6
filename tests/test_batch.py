"""The stream-level core of class scoring: CSV in (csvio), results and class totals out
(scoring)."""

from __future__ import annotations

import codecs
import csv
import io
import json
import pickle
import threading
from concurrent.futures import ThreadPoolExecutor
from itertools import count, islice

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from essaycheck import csvio, scoring
from essaycheck.analysis import MAX_ANSWER_CHARS
from essaycheck.csvio import (
    SAMPLE_CHARS,
    CsvEncodingError,
    CsvFormatError,
    CsvInput,
    CsvResultWriter,
    InputRow,
    JsonLinesWriter,
    detect_delimiter,
    find_undecodable,
    neutralise,
    result_columns,
    suggest_encoding,
)
from essaycheck.errors import EmptyAnswerError, PipelineError, UnknownQuestionError
from essaycheck.results import CheckResult
from essaycheck.scoring import ClassSummary, ordered_window, score_rows

SS = "secret-speech-1956"
TH = "thaw-significance"
GOOD = ("Khrushchev wanted to weaken his rivals like Molotov and Malenkov, who were linked to "
        "the purges. He also wanted to distance the Party from Stalin's crimes, which had "
        "damaged its reputation.")


def read(text: str, **options) -> CsvInput:
    return CsvInput(io.StringIO(text, newline=""), "answers.csv", **options)


def rows_of(text: str, **options) -> list[InputRow]:
    return list(read(text, **options))


def scored(checker, text: str) -> list:
    source = read(text)
    return list(score_rows(checker, source, source.layout))


# --------------------------------------------------------------------------------------------
# Reading


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiter_is_detected(delimiter):
    text = delimiter.join(["student_id", "question_id", "answer"]) + "\r\n"
    text += delimiter.join(["s1", SS, '"He wanted power, control; and more."']) + "\r\n"
    source = read(text)
    assert source.layout.delimiter == delimiter
    [row] = source
    assert (row.student_id, row.question_id, row.answer) == ("s1", SS,
                                                              "He wanted power, control; and more.")


def test_header_decides_when_the_sniffer_guesses_wrong():
    # commas everywhere in the answers, semicolons only between fields
    answers = ["a, b, c, d, e, f, g, h, i, j"] * 5
    text = "question_id;answer\n" + "".join(f"{SS};{a}\n" for a in answers)
    assert detect_delimiter(text, ("question_id", "answer")) == ";"
    assert [r.answer for r in rows_of(text)] == answers


def test_delimiter_fallback_without_a_usable_sample():
    assert detect_delimiter("just one column\n") == ","
    assert detect_delimiter("a\tb\tc\n") == "\t"


def test_bom_is_dropped_and_remembered():
    source = read(f"\ufeffquestion_id,answer\n{SS},{GOOD}\n")
    assert source.layout.bom is True
    assert source.layout.columns == ("question_id", "answer")
    assert read(f"question_id,answer\n{SS},x\n").layout.bom is False


def test_multiline_answers_keep_their_text_and_line_numbers():
    text = ('student_id,question_id,answer\r\n'
            's1,q,"first line\r\nsecond line\r\n\r\nfourth"\r\n'
            's2,q,"one\ntwo"\r\n'
            's3,q,plain\r\n')
    rows = rows_of(text)
    assert [r.line for r in rows] == [2, 6, 8]
    assert rows[0].answer == "first line\r\nsecond line\r\n\r\nfourth"
    assert rows[1].answer == "one\ntwo"
    assert [r.number for r in rows] == [1, 2, 3]


def test_blank_lines_are_skipped_and_counted():
    source = read("question_id,answer\n\nq,a\n,\n  ,  \nq,b\n\n")
    rows = list(source)
    assert [(r.line, r.answer) for r in rows] == [(3, "a"), (6, "b")]
    assert source.blank_rows == 4


def test_missing_column_names_it_and_the_columns_found():
    with pytest.raises(CsvFormatError) as info:
        read("student,question_id,text\ns1,q,x\n")
    error = info.value
    assert error.column == "answer" and error.role == "answer" and error.line == 1
    assert error.found == ("student", "question_id", "text")
    message = str(error)
    assert "answers.csv" in message and "'answer'" in message
    assert "'student', 'question_id', 'text'" in message


def test_data_without_a_header_is_refused():
    with pytest.raises(CsvFormatError) as info:
        read(f"{SS},Khrushchev wanted power\n{TH},The thaw\n")
    assert "no column 'question_id'" in str(info.value)
    assert SS in str(info.value)   # the columns found: the first data row


@pytest.mark.parametrize("text", ["", "\n\n", "   \r\n"])
def test_an_empty_file_is_refused(text):
    with pytest.raises(CsvFormatError, match="empty"):
        read(text)


def test_a_doubled_column_is_refused():
    with pytest.raises(CsvFormatError, match="appears more than once"):
        read("question_id,answer,answer\nq,a,b\n")


def test_column_names_are_configurable_and_matched_loosely():
    source = read("Pupil;Question ID ;Response\nann;q1;text\n", question_column="question id",
                  answer_column="response", student_column="pupil")
    [row] = source
    assert (row.student_id, row.question_id, row.answer) == ("ann", "q1", "text")
    assert source.layout.answer_column == "Response"


def test_a_header_only_file_has_no_rows():
    assert rows_of("question_id,answer\r\n") == []


def test_rows_with_too_many_or_too_few_fields_are_kept_and_flagged():
    rows = rows_of("student_id,question_id,answer\ns1,q,a,b,c\ns2,q\ns3,q,fine\n")
    assert rows[0].problem and "5 field(s)" in rows[0].problem and "line 2" in rows[0].problem
    assert rows[0].cells == ("s1", "q", "a") and rows[0].extra == ("b", "c")
    assert rows[1].problem and rows[1].cells == ("s2", "q", "")
    assert rows[2].problem is None


def test_reading_is_streamed():
    """An endless input yields its first rows: nothing reads the whole file first."""

    class Endless(io.TextIOBase):
        def __init__(self):
            self.lines = (f"{SS},answer {i}\n" if i else "question_id,answer\n" for i in count())

        def read(self, size=-1):
            chunk = ""
            while len(chunk) < size:
                chunk += next(self.lines)
            return chunk

        def readline(self, size=-1):
            return next(self.lines)

        def __iter__(self):
            return self.lines

    rows = list(islice(CsvInput(Endless()), 5000))
    assert rows[-1].number == 5000
    assert rows[-1].line == 5001


def test_a_file_in_another_encoding_is_reported():
    data = "question_id,answer\nq,caf\u00e9 cr\u00e8me\n".encode("cp1252")
    with pytest.raises(CsvEncodingError) as info:
        list(CsvInput(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline=""),
                      "a.csv"))
    assert info.value.suggestion == "cp1252"
    assert find_undecodable(io.BytesIO(data), "utf-8") == (2, 0xE9)
    assert find_undecodable(io.BytesIO(data), "cp1252") is None
    assert find_undecodable(io.BytesIO(b"x\n"), "utf-8") is None


def test_encoding_suggestions():
    assert suggest_encoding(codecs.BOM_UTF16_LE + b"q\x00", "utf-8") == "utf-16"
    assert suggest_encoding(b"que", "utf-8") == "cp1252"
    assert suggest_encoding(b"que", "cp1252") == "latin-1"


def test_long_fields_are_read_and_an_unclosed_quote_is_named(monkeypatch):
    big = 'question_id,answer\nq,"' + "x" * (2 * SAMPLE_CHARS) + "\n"
    rows = rows_of(big)   # an unclosed quote takes the rest of the file: one long answer
    assert len(rows) == 1 and len(rows[0].answer) > 2 * SAMPLE_CHARS
    old = csv.field_size_limit()
    monkeypatch.setattr(csvio, "FIELD_LIMIT", 1000)
    csv.field_size_limit(1000)
    try:
        with pytest.raises(CsvFormatError, match="line 2: .*never closed"):
            rows_of(big)
    finally:
        csv.field_size_limit(old)


# --------------------------------------------------------------------------------------------
# Scoring


def test_every_bad_row_kind_gets_an_error_and_the_run_goes_on(checker):
    long_answer = "word " * (MAX_ANSWER_CHARS // 5 + 10)
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["student_id", "question_id", "answer"])
    writer.writerows([
        ["s1", SS, GOOD],
        ["s2", "no-such-question", GOOD],
        ["s3", "", GOOD],
        ["s4", SS, ""],
        ["s5", SS, "   \n  "],
        ["s6", TH, long_answer],
        ["s7", SS, GOOD, "stray field"],
        ["s8"],
        ["s9", f"  {SS} ", GOOD],
    ])
    results = scored(checker, text.getvalue())
    assert [r.row.student_id for r in results] == [f"s{i}" for i in range(1, 10)]
    assert [r.status for r in results] == ["ok"] + ["error"] * 7 + ["ok"]
    errors = {r.row.student_id: r.error for r in results if r.error}
    assert errors["s2"].code == "unknown_question"
    assert errors["s2"].message.startswith("line 3, column 'question_id': unknown question id")
    assert errors["s3"].message == "line 4, column 'question_id': no question id"
    assert errors["s4"].message == "line 5, column 'answer': empty answer"
    assert errors["s5"].code == "empty_answer"
    assert errors["s6"].code == "answer_too_long"
    assert "column 'answer'" in errors["s6"].message and "50,000" in errors["s6"].message
    assert errors["s7"].code == "bad_row" and "3 column(s)" in errors["s7"].message
    assert errors["s8"].code == "bad_row" and "1 field(s)" in errors["s8"].message
    assert results[0].result.question_id == SS and results[0].result.score > 0
    assert results[-1].result == results[0].result   # padding around the id is ignored


def test_errors_cross_the_worker_pool_as_their_own_class(checker):
    """What a worker sends back (pickled) gives the same rows as scoring in this process."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows([["student_id", "question_id", "answer"], ["s1", SS, GOOD],
                                  ["s2", "nope", GOOD], ["s3", "", GOOD], ["s4", SS, ""]])
    text = buffer.getvalue()
    rows = list(read(text))
    layout = read(text).layout
    payload = [(row.question_id, row.answer) for row in rows]
    outcomes = pickle.loads(pickle.dumps(scoring.score_payload(checker, payload)))
    assert [type(o) for o in outcomes] == [CheckResult, UnknownQuestionError,
                                          UnknownQuestionError, EmptyAnswerError]
    here = list(score_rows(checker, iter(rows), layout))
    there = [scoring._row_result(row, outcome, layout)
             for row, outcome in zip(rows, outcomes, strict=True)]
    assert [(r.status, r.message, r.error) for r in there] == [
        (r.status, r.message, r.error) for r in here]
    assert there[2].error.message == "line 4, column 'question_id': no question id"


def test_a_worker_that_cannot_build_its_checker_sends_its_error(monkeypatch):
    monkeypatch.setattr(scoring, "_worker_checker", None)
    monkeypatch.setattr(scoring, "_worker_error", PipelineError("no pipeline 'xx'"))
    fatal, outcomes = pickle.loads(pickle.dumps(scoring._score_in_worker([(SS, GOOD)])))
    assert type(fatal) is PipelineError and str(fatal) == "no pipeline 'xx'"
    assert outcomes == []


def test_scoring_is_streamed(checker):
    source = (InputRow(number=i, line=i + 1, cells=(SS, GOOD), question_id=SS, answer=GOOD)
              for i in count(1))
    layout = read("question_id,answer\n").layout
    first = list(islice(score_rows(checker, source, layout, chunk_rows=4), 6))
    assert [r.row.number for r in first] == [1, 2, 3, 4, 5, 6]


def test_ordered_window_keeps_order_and_bounds_the_work_in_flight():
    in_flight = 0
    most = 0
    lock = threading.Lock()
    pulled = []

    def work(n):
        nonlocal in_flight, most
        with lock:
            in_flight += 1
            most = max(most, in_flight)
        try:
            return n * n
        finally:
            with lock:
                in_flight -= 1

    def tasks():
        for n in count():
            pulled.append(n)
            yield n, n

    with ThreadPoolExecutor(4) as pool:
        out = list(islice(ordered_window(lambda n: pool.submit(work, n), tasks(), 3), 50))
    assert out == [(n, n * n) for n in range(50)]
    assert most <= 3
    assert len(pulled) <= 50 + 3


# --------------------------------------------------------------------------------------------
# Writing


@pytest.mark.parametrize("cell, expected", [
    ("=1+2", "'=1+2"), ("+44 20", "'+44 20"), ("-3", "'-3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("plain", "plain"), ("", ""), ("a=b", "a=b"),
    ("'quoted", "'quoted"),
])
def test_neutralise(cell, expected):
    assert neutralise(cell) == expected


def test_csv_writer_adds_columns_and_neutralises(checker):
    text = ("student_id;question_id;answer;=note\n"
            f"@s1;{SS};{GOOD};-1\n"
            f"s2;nope;=HYPERLINK(\"http://x\");+1\n")
    source = read(text)
    out = io.StringIO()
    writer = CsvResultWriter(out, source.layout, checker.rubrics_by_id)
    for item in score_rows(checker, source, source.layout):
        writer.write(item)
    header, first, second = list(csv.reader(io.StringIO(out.getvalue(), newline=""),
                                            delimiter=";"))
    points = [f"{r.id}:{p.id}" for r in checker.rubrics_by_id.values() for p in r.points]
    assert header == ["student_id", "question_id", "answer", "'=note", "score", "max_score",
                      "status", "message", *points]
    row = dict(zip(header, first, strict=True))
    assert row["student_id"] == "'@s1" and row["'=note"] == "'-1"
    assert row["status"] == "ok" and row["max_score"] == "6"
    assert all(row[p] in ("covered", "partial", "missed") for p in points if p.startswith(SS))
    assert all(row[p] == "" for p in points if p.startswith(TH))
    row = dict(zip(header, second, strict=True))
    assert row["answer"] == "'=HYPERLINK(\"http://x\")" and row["status"] == "error"
    assert row["score"] == "" and "unknown question id 'nope'" in row["message"]
    assert all(row[p] == "" for p in points)


def test_added_columns_never_hide_an_input_column(checker):
    layout = read("question_id,answer,score,status\n").layout
    columns = result_columns(layout, checker.rubrics_by_id)
    assert columns[:6] == ["question_id", "answer", "score", "status", "essaycheck_score",
                           "max_score"]
    assert "essaycheck_status" in columns and len(set(columns)) == len(columns)


def test_json_lines_hold_the_full_detail(checker):
    text = f'student_id,question_id,answer,notes\ns1,{SS},"{GOOD}",n\ns2,{SS},,n,extra\n'
    source = read(text)
    out = io.StringIO()
    writer = JsonLinesWriter(out, source.layout)
    for item in score_rows(checker, source, source.layout):
        writer.write(item)
    first, second = [json.loads(line) for line in out.getvalue().split("\n")[:-1]]
    assert first["status"] == "ok" and first["line"] == 2 and first["row"] == 1
    assert first["fields"] == {"student_id": "s1", "question_id": SS, "answer": GOOD,
                               "notes": "n"}
    covered = [p for p in first["result"]["points"] if p["status"] == "covered"]
    assert covered and covered[0]["evidence"]
    span = covered[0]["evidence"][0]
    assert GOOD[span["start"]:span["end"]] == span["text"]
    assert first["error"] is None
    assert second["status"] == "error" and second["result"] is None
    assert second["error"]["code"] == "bad_row" and second["extra_fields"] == ["extra"]


# --------------------------------------------------------------------------------------------
# Class totals (the report: test_report.py)


def class_summary(checker, answers, detail_limit=1000):
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["student_id", "question_id", "answer"])
    writer.writerows(answers)
    summary = ClassSummary(checker.rubrics_by_id, detail_limit=detail_limit)
    for item in scored(checker, text.getvalue()):
        summary.add(item)
    return summary


def test_class_summary_counts_and_most_missed(checker):
    summary = class_summary(checker, [
        ["a", SS, GOOD], ["b", SS, GOOD], ["c", SS, "Stalin was bad."], ["d", SS, ""],
        ["e", "nope", "x"]], detail_limit=2)
    assert (summary.rows, summary.scored, summary.failed) == (5, 3, 2)
    stats = summary.questions[SS]
    assert stats.answers == 3 and stats.errors == 1 and len(stats.details) == 2
    assert summary.truncated
    assert [s.rubric.id for s in summary.asked] == [SS]
    missed = summary.most_missed()
    assert missed and all(m.question_id == SS for m in missed)
    assert missed == sorted(missed, key=lambda m: -m.missed_share)
    lines = summary.summary_lines()
    assert lines[0] == "Rows scored: 3 of 5; rows with errors: 2"
    assert any(line.startswith(SS) and "/ 6" in line for line in lines)
    assert any("missed by" in line for line in lines)


# --------------------------------------------------------------------------------------------
# Properties: any CSV content, never a traceback, every row once and in order

CELL = st.text(st.characters(exclude_categories=("Cs",)), max_size=12) | st.sampled_from(
    ["", "=1+1", "-x", "a,b", 'say "hi"', "line\nbreak", "cr\rlf\r\n", "\ufeffx", " ", ";", "\t"])


@st.composite
def csv_files(draw):
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    terminator = draw(st.sampled_from(["\r\n", "\n"]))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    rows = draw(st.lists(st.tuples(
        CELL, st.sampled_from([SS, TH, "", "other"]) | CELL, CELL,
        st.lists(CELL, max_size=2)), max_size=6))
    rows = [[student, qid, answer, *rest] for student, qid, answer, rest in rows]
    if terminator == "\n" and quoting == csv.QUOTE_MINIMAL:
        # csv.writer leaves a lone "\r" unquoted unless it is in the line terminator, which
        # makes a file no reader can split right; real exporters quote it
        rows = [[cell.replace("\r", "") for cell in row] for row in rows]
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, quoting=quoting, lineterminator=terminator)
    writer.writerow(["student_id", "question_id", "answer", "notes"])
    starts = []
    for row in rows:
        starts.append(len(io.StringIO(buffer.getvalue(), newline="").readlines()) + 1)
        writer.writerow(row)
    bom = "\ufeff" if draw(st.booleans()) else ""
    return bom + buffer.getvalue(), rows, starts, delimiter


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(csv_files())
def test_any_csv_keeps_every_row_once_in_order(checker, case):
    text, rows, starts, delimiter = case
    source = read(text)
    assert source.layout.delimiter == delimiter
    out = io.StringIO(newline="")
    writer = CsvResultWriter(out, source.layout, checker.rubrics_by_id)
    lines = []
    for item in score_rows(checker, source, source.layout):
        writer.write(item)
        lines.append(item.row.line)
    kept = [(row, start) for row, start in zip(rows, starts, strict=True)
            if any(c.strip() for c in row)]
    assert lines == [start for _, start in kept]
    output = list(csv.reader(io.StringIO(out.getvalue(), newline=""), delimiter=delimiter))
    assert len(output) == len(kept) + 1
    for (row, _), written in zip(kept, output[1:], strict=True):
        width = 4
        cells = (row + [""] * width)[:width]
        assert written[:width] == [neutralise(c) for c in cells]
        status = written[width + 2]
        assert status in ("ok", "error")
        if len(row) != width:
            assert status == "error"


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(list('ab,;\t"\r\n \ufeff=') + ["question_id", "answer"]),
                max_size=40).map("".join) | st.text(max_size=60))
def test_any_text_reads_or_fails_cleanly(text):
    try:
        source = read(text)
        rows = list(source)
    except CsvFormatError as error:
        assert str(error)
        return
    lines = [r.line for r in rows]
    assert lines == sorted(set(lines)) and all(line >= 2 for line in lines)
    assert [r.number for r in rows] == list(range(1, len(rows) + 1))
