"""csvio: what a careless spreadsheet export can do to a class file, and that no row is ever
lost without a word (unclosed quotes, UTF-16 without a byte-order mark, formula cells)."""

from __future__ import annotations

import csv
import io
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from essaycheck.csvio import (
    CsvEncodingError,
    CsvFormatError,
    CsvInput,
    neutralise,
    utf16_without_bom,
)
from essaycheck.scoring import score_rows

SS = "secret-speech-1956"
TH = "thaw-significance"
IDS = (SS, TH)
HEADER = "student_id,question_id,answer\n"


def read(text: str, ids=IDS) -> CsvInput:
    return CsvInput(io.StringIO(text, newline=""), "class.csv", question_ids=ids)


def test_an_unclosed_quote_that_swallows_rows_stops_naming_the_lines():
    text = (HEADER + f's1,{SS},"He wanted power.\n' + f"s2,{TH},Censorship eased.\n"
            + f"s3,{SS},He hated Stalin.\n" + f"s4,{TH},Writers were freer.\n")
    with pytest.raises(CsvFormatError) as caught:
        list(read(text))
    message = str(caught.value)
    assert caught.value.line == 2
    assert message.startswith("class.csv, line 2: a quote (\") opened on this line")
    assert "the file ends inside it" in message
    assert "lines 3-5" in message and "3 of them look like rows of their own" in message
    assert "Close the quote" in message


def test_a_quote_closed_by_a_later_answers_quote_is_caught_too():
    text = (HEADER + f's1,{SS},"He wanted power.\n' + f"s2,{TH},Censorship eased.\n"
            + f's3,{SS},"He hated Stalin."\n' + f"s4,{TH},Writers were freer.\n")
    with pytest.raises(CsvFormatError, match=r"line 2: .* not closed until line 4"):
        list(read(text))


def test_a_quote_left_open_at_the_end_of_the_file_is_refused():
    text = HEADER + f"s1,{SS},fine\n" + f's2,{TH},"The thaw was\nsignificant because'
    with pytest.raises(CsvFormatError, match="line 3: .*never closed: the file ends inside it"):
        list(read(text))


def test_multiline_answers_that_are_closed_are_read_and_counted():
    text = (HEADER + f's1,{SS},"First line,\nsecond, line\n\nthird"\n' + "\n"
            + f"s2,{TH},one line\n")
    rows = read(text)
    answers = [(row.line, row.answer) for row in rows]
    assert answers == [(2, "First line,\nsecond, line\n\nthird"), (7, "one line")]
    assert (rows.data_lines, rows.multiline_rows, rows.blank_rows) == (6, 1, 1)


def test_a_last_row_without_a_line_break_is_not_taken_for_an_open_quote():
    rows = list(read(HEADER + f's1,{SS},"quoted, closed"\ns2,{TH},"two\nlines"'))
    assert [row.answer for row in rows] == ["quoted, closed", "two\nlines"]


@pytest.mark.parametrize("encoding, suggestion", [("utf-16-le", "utf-16-le"),
                                                  ("utf-16-be", "utf-16-be")])
def test_utf16_without_a_byte_order_mark_gets_the_right_encoding(encoding, suggestion):
    # NUL bytes are valid UTF-8, so the file decodes: the columns would be full of \x00
    text = (HEADER + f"s1,{SS},an answer\n").encode(encoding).decode("utf-8")
    with pytest.raises(CsvEncodingError) as caught:
        read(text)
    assert caught.value.suggestion == suggestion
    assert "without a byte-order mark" in str(caught.value)
    assert "\x00" not in str(caught.value)


def test_text_with_a_stray_nul_is_not_taken_for_utf16():
    assert utf16_without_bom("student_id,question_id,answer\n s1,q,a\x00b\n") == ""


@pytest.mark.parametrize("cell", ["＝1+1", "﹦HYPERLINK()", "＋1", "－1", "＠SUM(A1)", " =1",
                                  "\u00a0+1", "\u200b=1", "\ufeff=1", "\n=1", "\r\n=1",
                                  "\t@x", "  \u200b\u00a0-1"])
def test_formula_cells_hidden_behind_spaces_or_full_width_forms_are_neutralised(cell):
    assert neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["", "plain", "a=b", "−5 (a minus sign)", "'already"])
def test_ordinary_cells_are_left_alone(cell):
    assert neutralise(cell) == cell


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=12))
def test_neutralise_leaves_nothing_a_spreadsheet_could_run(cell):
    out = neutralise(cell)
    assert out in (cell, "'" + cell)
    trimmed = "".join(c for c in cell if not (c.isspace() or unicodedata.category(c) == "Cf"))
    first = unicodedata.normalize("NFKC", trimmed[:1])[:1]
    if first and first in "=+-@" and cell[:1] != "'":
        leading = cell[: len(cell) - len(cell.lstrip())]
        if all(c.isspace() or unicodedata.category(c) == "Cf" for c in leading):
            assert out.startswith("'")


# --- every data row accounted for ---------------------------------------------------------

answer_text = st.lists(st.sampled_from(list("ab ,;\t\"'\n\r=+") + [
    "Stalin ", "purges ", "censorship ", "Khrushchev "]), max_size=12).map("".join)
row_strategy = st.tuples(st.sampled_from(IDS + ("no-such-question",)), answer_text)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(row_strategy, min_size=1, max_size=8),
       delimiter=st.sampled_from([",", ";", "\t"]), bom=st.booleans(),
       break_quote=st.integers(min_value=-1, max_value=7))
def test_every_row_of_a_csv_file_is_accounted_for(rows, delimiter, bom, break_quote):
    buffer = io.StringIO(newline="")
    # "\r\n" as spreadsheets write it (with "\n" the writer leaves a lone "\r" unquoted)
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n",
                        quoting=csv.QUOTE_NONNUMERIC if break_quote >= 0 else csv.QUOTE_MINIMAL)
    writer.writerow(["student_id", "question_id", "answer"])
    for i, (question_id, answer) in enumerate(rows):
        writer.writerow([f"s{i}", question_id, answer])
    text = buffer.getvalue()
    broken = False
    if 0 <= break_quote < len(rows):
        # a careless edit: one quote at the end of a line is deleted
        lines = text.split("\r\n")
        ends = [j for j, line in enumerate(lines) if line.endswith('"')]
        if ends:
            j = ends[break_quote % len(ends)]
            lines[j] = lines[j][:-1]
            text = "\r\n".join(lines)
            broken = True
    if bom:
        text = "\ufeff" + text
    try:
        source = read(text, ids=IDS + ("no-such-question",))
        got = [row.student_id for row in source]
    except CsvFormatError as exc:
        assert exc.line is not None and f"line {exc.line}" in str(exc)
        return
    expected = [f"s{i}" for i in range(len(rows))]
    if broken:
        # a broken file may yield a stray row (scored as an error), never lose one silently
        assert [s for s in got if s in expected] == expected, "rows went missing silently"
    else:
        assert got == expected


def test_scored_output_has_one_result_per_row_each_naming_its_line(checker):
    text = (HEADER + f"s1,{SS},He wanted to weaken his rivals.\n" + f"s2,{TH},\n"
            + 'nobody,no-such-question,"x\ny"\n' + f"s4,{SS},a,b\n")
    source = read(text)
    results = list(score_rows(checker, source, source.layout))
    assert [r.row.line for r in results] == [2, 3, 4, 6]
    assert [r.status for r in results] == ["ok", "error", "error", "error"]
    assert all(f"line {r.row.line}" in r.message for r in results if r.status == "error")
