"""Class CSV files: reading answers in, writing one result row per answer out.

Everything here works on text streams the caller has opened (this module never opens a file),
row by row, so memory stays flat however long the input is:

* ``CsvInput`` reads a CSV of answers: it detects the delimiter, validates the header (raising
  ``CsvFormatError`` with the columns it found) and yields ``InputRow`` objects with their line
  numbers in the file. ``find_undecodable`` and ``suggest_encoding`` check the encoding first.
* ``RowResult`` is the outcome for one row (a ``CheckResult`` or a ``RowError``); scoring rows
  into them is ``essaycheck.scoring``'s job.
* ``CsvResultWriter`` / ``JsonLinesWriter`` write results; CSV cells a spreadsheet would run as a
  formula are neutralised.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import unicodedata
from collections import Counter
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

from .errors import EssaycheckError
from .formatting import format_number, truncate
from .results import CheckResult
from .rubric import Rubric

#: Delimiters a class export may use: comma, semicolon (Excel in many European locales), tab.
DELIMITERS = ",;\t"
#: Characters read up front to detect the delimiter and the header.
SAMPLE_CHARS = 64 * 1024
#: Characters of the sample given to ``csv.Sniffer`` (it is slow on long samples).
SNIFF_CHARS = 16 * 1024
#: Longest single CSV field read; longer ones stop the run (most likely an unclosed quote).
FIELD_LIMIT = 16 * 1024 * 1024

STATUS_OK = "ok"
STATUS_ERROR = "error"
ADDED_COLUMNS = ("score", "max_score", "status", "message")
#: First characters that make a spreadsheet read a cell as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class CsvFormatError(EssaycheckError):
    """The CSV file as a whole cannot be read: no header, a missing column, a broken field."""

    code = "csv_format"

    def __init__(self, message: str, *, source: str = "", line: int | None = None,
                 column: str | None = None, role: str | None = None,
                 found: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.source = source
        self.line = line
        #: the column that is missing or doubled, and its role ("question", "answer", ...)
        self.column = column
        self.role = role
        #: the column names the header does have
        self.found = tuple(found)


class CsvEncodingError(CsvFormatError):
    """The file is not text in the expected encoding."""

    code = "csv_encoding"

    def __init__(self, message: str, *, source: str = "", line: int | None = None,
                 encoding: str = "", suggestion: str = "") -> None:
        super().__init__(message, source=source, line=line)
        self.encoding = encoding
        #: an encoding the file may be in instead, e.g. "cp1252"
        self.suggestion = suggestion


# --------------------------------------------------------------------------------------------
# Reading


@dataclass(frozen=True)
class CsvLayout:
    """What the header of an answers file says: its columns and where the needed ones are."""

    source: str
    columns: tuple[str, ...]
    delimiter: str
    bom: bool
    question_index: int
    answer_index: int
    student_index: int | None = None

    @property
    def question_column(self) -> str:
        return self.columns[self.question_index]

    @property
    def answer_column(self) -> str:
        return self.columns[self.answer_index]

    @property
    def student_column(self) -> str | None:
        return None if self.student_index is None else self.columns[self.student_index]


@dataclass(frozen=True)
class InputRow:
    """One data row of the answers file, with where it starts in the file."""

    #: 1-based position among the data rows (blank lines not counted)
    number: int
    #: line in the file where the row starts; the header is line 1
    line: int
    #: the row's fields, padded with "" or cut to the header's width
    cells: tuple[str, ...]
    question_id: str
    answer: str
    student_id: str = ""
    #: fields beyond the header's width (kept so that nothing is lost)
    extra: tuple[str, ...] = ()
    #: why the row cannot be scored as read (wrong number of fields), or None
    problem: str | None = None

    @property
    def label(self) -> str:
        """How to name the row to a teacher: the student id, else its line."""
        return self.student_id or f"line {self.line}"


def _short(name: str, limit: int = 40) -> str:
    return truncate(name.replace("\r", " ").replace("\n", " "), limit)


def _listing(columns: Sequence[str]) -> str:
    return ", ".join(repr(_short(c)) for c in columns) if columns else "none"


def _first_record(sample: str, delimiter: str) -> list[str]:
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter, quotechar='"',
                        doublequote=True, strict=False)
    try:
        for record in reader:
            if any(cell.strip() for cell in record):
                return record
    except csv.Error:
        pass
    return []


def _norm(name: str) -> str:
    return name.strip().lstrip("\ufeff").strip().casefold()


def detect_delimiter(sample: str, required: Sequence[str] = ()) -> str:
    """The delimiter of a CSV sample: comma, semicolon or tab.

    ``csv.Sniffer`` (restricted to those three) makes the first guess. A guess is kept only if
    it splits the header into the ``required`` column names; otherwise the other delimiters are
    tried, and if none finds them, the one that splits the header into the most fields wins
    (comma on a tie), so that a missing column is reported with the columns found.
    """
    candidates = []
    try:
        candidates.append(csv.Sniffer().sniff(sample[:SNIFF_CHARS], delimiters=DELIMITERS)
                          .delimiter)
    except csv.Error:
        pass
    candidates += [d for d in DELIMITERS if d not in candidates]
    headers = {d: _first_record(sample, d) for d in candidates}
    wanted = [_norm(name) for name in required]
    if wanted:
        for delimiter in candidates:
            names = {_norm(c) for c in headers[delimiter]}
            if all(w in names for w in wanted):
                return delimiter
    best = max(len(h) for h in headers.values())
    if best <= 1:
        return ","
    return next(d for d in candidates if len(headers[d]) == best)


def _find_column(columns: Sequence[str], wanted: str, role: str, source: str,
                 required: bool) -> int | None:
    exact = [i for i, c in enumerate(columns) if c == wanted]
    matches = exact or [i for i, c in enumerate(columns) if _norm(c) == _norm(wanted)]
    if len(matches) > 1:
        where = " and ".join(str(i + 1) for i in matches)
        raise CsvFormatError(
            f"{source}, line 1: column {wanted!r} appears more than once (columns {where}); "
            "rename all but one", source=source, line=1, column=wanted, role=role, found=columns)
    if matches:
        return matches[0]
    if not required:
        return None
    raise CsvFormatError(
        f"{source}, line 1: no column {wanted!r} (the {role}) in the header; columns found: "
        f"{_listing(columns)}. The first line must name the columns, e.g. "
        "student_id,question_id,answer", source=source, line=1, column=wanted, role=role,
        found=columns)


class CsvInput:
    """A CSV file of answers, read as a stream.

    The header is read and checked when the object is made (``CsvFormatError`` if it lacks a
    required column); iterating yields one ``InputRow`` per data row, reading as it goes. Open
    files with ``newline=""`` so answers keep their own line breaks. A UTF-8 byte-order mark is
    dropped (and remembered in ``layout.bom``); lines with no text at all are skipped and
    counted in ``blank_rows``.
    """

    def __init__(self, stream: IO[str], source: str = "<input>", *,
                 question_column: str = "question_id", answer_column: str = "answer",
                 student_column: str | None = "student_id", encoding: str = "utf-8",
                 question_ids: Collection[str] = ()) -> None:
        self.source = source
        self.encoding = encoding
        self.blank_rows = 0
        #: data rows whose quoted answer spans several lines, and the lines after the header
        self.multiline_rows = 0
        self.data_lines = 0
        self._question_ids = frozenset(question_ids)
        self._stream = stream
        self._record_lines: list[str] = []
        self._exhausted = False
        if csv.field_size_limit() < FIELD_LIMIT:
            csv.field_size_limit(FIELD_LIMIT)
        try:
            sample = stream.read(SAMPLE_CHARS)
            if len(sample) >= SAMPLE_CHARS:
                sample += stream.readline()   # end the sample at a line break
        except UnicodeDecodeError as exc:
            raise self._encoding_error(exc, None) from None
        bom = sample.startswith("\ufeff")
        if bom:
            sample = sample[1:]
        utf16 = utf16_without_bom(sample)
        if utf16:
            raise CsvEncodingError(
                f"{source}: looks like {utf16.upper()} text without a byte-order mark (every "
                f"other byte is zero), not {encoding}", source=source, line=1,
                encoding=encoding, suggestion=utf16)
        if not sample.strip():
            raise CsvFormatError(
                f"{source} is empty: it needs a header line naming the columns, e.g. "
                "student_id,question_id,answer", source=source, line=1)
        delimiter = detect_delimiter(sample, (question_column, answer_column))
        self._reader = csv.reader(self._lines(sample), delimiter=delimiter, quotechar='"',
                                  doublequote=True, skipinitialspace=False, strict=False)
        header = None
        while header is None:
            record = self._next_record()
            if record is None:
                break
            if any(cell.strip() for cell in record):
                header = record
        if header is None:   # pragma: no cover - the sample held text, so a record exists
            raise CsvFormatError(f"{source}: no header line", source=source, line=1)
        columns = tuple(c.strip() for c in header)
        self._header_line = self._reader.line_num
        question = _find_column(columns, question_column, "question id", source, True)
        answer = _find_column(columns, answer_column, "answer", source, True)
        student = (_find_column(columns, student_column, "student id", source, False)
                   if student_column else None)
        assert question is not None and answer is not None   # required: found, or it raised
        self.layout = CsvLayout(source=source, columns=columns, delimiter=delimiter, bom=bom,
                                question_index=question, answer_index=answer,
                                student_index=student)

    def _lines(self, sample: str) -> Iterator[str]:
        # every physical line the csv reader takes passes here, so each record's raw lines
        # are known: how an unclosed quote is caught
        for line in itertools.chain(io.StringIO(sample, newline=""), self._stream):
            self._record_lines.append(line)
            yield line
        self._exhausted = True

    def _encoding_error(self, exc: UnicodeDecodeError, line: int | None) -> CsvEncodingError:
        where = f"{self.source}, line {line}" if line else self.source
        return CsvEncodingError(
            f"{where}: not {self.encoding} text (byte 0x{exc.object[exc.start]:02x} cannot be "
            "decoded)", source=self.source, line=line, encoding=self.encoding,
            suggestion=suggest_encoding(exc.object[:4], self.encoding))

    def _next_record(self) -> list[str] | None:
        start = self._reader.line_num + 1
        self._record_lines = []
        try:
            return next(self._reader)
        except StopIteration:
            return None
        except UnicodeDecodeError as exc:
            raise self._encoding_error(exc, start) from None
        except csv.Error as exc:
            detail = str(exc)
            if "field larger" in detail:
                detail = (f"a field is longer than {FIELD_LIMIT:,} characters; look for a "
                          "quote (\") that is opened and never closed")
            raise CsvFormatError(f"{self.source}, line {start}: {detail}",
                                 source=self.source, line=start) from None

    def _check_quotes(self, raw: list[str], line: int, width: int, layout: CsvLayout) -> None:
        """Refuse a record that an unclosed quote made out of several rows, or that the end of
        the file left inside an open quote: reading on would lose rows without a word."""
        swallowed = []
        for offset, text in enumerate(raw[1:], 1):
            try:
                fields = next(csv.reader([text], delimiter=layout.delimiter, strict=False))
            except (csv.Error, StopIteration):
                continue
            if (len(fields) == width
                    and fields[layout.question_index].strip() in self._question_ids):
                swallowed.append(line + offset)
        last = line + len(raw) - 1
        at_end = self._open_at_end(raw)
        if not swallowed and not at_end:
            return
        lines = f"line {last}" if last == line + 1 else f"lines {line + 1}-{last}"
        closed = ("is never closed: the file ends inside it" if at_end
                  else f"is not closed until line {last}")
        message = (f"{self.source}, line {line}: a quote (\") opened on this line {closed}, so "
                   f"{lines} were read as part of one answer")
        if swallowed:
            shown = ", ".join(map(str, swallowed[:5])) + (", ..." if len(swallowed) > 5 else "")
            message += (f", and {len(swallowed)} of them look like rows of their own "
                        f"(line{'s' if len(swallowed) > 1 else ''} {shown})")
        raise CsvFormatError(
            f"{message}. Close the quote (\") where that answer ends, or write a quote inside "
            "an answer as two quotes (\"\"), then run again", source=self.source, line=line)

    def _open_at_end(self, raw: list[str]) -> bool:
        """Whether these lines ran into the end of the file inside an open quote (the lenient
        reader returns such a record as if the quote had been closed)."""
        if not self._exhausted:
            return False
        try:
            for _ in csv.reader(raw, delimiter=self.layout.delimiter, strict=True):
                pass
        except csv.Error as exc:
            return "unexpected end of data" in str(exc)
        return False

    def __iter__(self) -> Iterator[InputRow]:
        layout = self.layout
        width = len(layout.columns)
        number = 0
        while True:
            line = self._reader.line_num + 1
            record = self._next_record()
            if record is None:
                return
            raw = self._record_lines
            self.data_lines += len(raw)
            if len(raw) > 1:
                self._check_quotes(raw, line, width, layout)
                self.multiline_rows += 1
            if not any(cell.strip() for cell in record):
                self.blank_rows += 1
                continue
            number += 1
            problem = None
            extra: tuple[str, ...] = ()
            if len(record) != width:
                problem = (f"line {line}: the row has {len(record)} field(s) but the header has "
                           f"{width} column(s)")
                if len(record) > width:
                    extra = tuple(record[width:])
                    problem += ("; an answer with a comma or semicolon in it probably needs "
                                "quotes around it")
            cells = tuple(record[:width]) + ("",) * (width - len(record))
            student = cells[layout.student_index].strip() \
                if layout.student_index is not None else ""
            yield InputRow(number=number, line=line, cells=cells,
                           question_id=cells[layout.question_index].strip(),
                           answer=cells[layout.answer_index], student_id=student, extra=extra,
                           problem=problem)


def utf16_without_bom(text: str) -> str:
    """``"utf-16-le"`` or ``"utf-16-be"`` when decoded text shows UTF-16 without a byte-order
    mark (every other character a NUL, which decodes as valid UTF-8), else ``""``."""
    head = text[:1024]
    if head.count("\x00") < max(2, len(head) // 4):
        return ""
    odd = sum(1 for c in head[1::2] if c == "\x00")
    even = sum(1 for c in head[0::2] if c == "\x00")
    return "utf-16-le" if odd > even else "utf-16-be"


def suggest_encoding(head: bytes, encoding: str) -> str:
    """An encoding to suggest for a file that did not decode: UTF-16 when its first bytes are a
    UTF-16 byte-order mark, UTF-8 when they are a UTF-8 one, else cp1252 (Windows and older
    Excel exports; it also reads Latin-1)."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if head.startswith(codecs.BOM_UTF8) and codecs.lookup(encoding).name != "utf-8":
        return "utf-8"
    return "cp1252" if codecs.lookup(encoding).name != "cp1252" else "latin-1"


def find_undecodable(stream: IO[bytes], encoding: str) -> tuple[int, int] | None:
    """The first line and byte that ``encoding`` cannot decode in a binary stream, or None.

    Cheap next to scoring, so a file in the wrong encoding is refused before any work is done,
    with the line to look at.
    """
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    line = 0
    for line, chunk in enumerate(stream, 1):
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            position = max(0, min(exc.start, len(chunk) - 1)) if chunk else 0
            return line, chunk[position] if chunk else 0
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return max(line, 1), 0
    return None


# --------------------------------------------------------------------------------------------
# Row outcomes


@dataclass(frozen=True)
class RowError:
    """Why one row was not scored, for a teacher: what, on which line, in which column."""

    code: str
    message: str
    column: str | None = None


@dataclass(frozen=True)
class RowResult:
    """The outcome for one input row: a ``CheckResult``, or the ``RowError`` that stopped it."""

    row: InputRow
    result: CheckResult | None = None
    error: RowError | None = None

    @property
    def status(self) -> str:
        return STATUS_OK if self.error is None else STATUS_ERROR

    @property
    def message(self) -> str:
        if self.error is not None:
            return self.error.message
        return " ".join(self.result.warnings) if self.result is not None else ""


# --------------------------------------------------------------------------------------------
# Writing


#: Characters a spreadsheet may skip before it reads a formula: white space of every kind
#: (no-break space and line breaks too) and the invisible format characters.
_IGNORABLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"


def neutralise(cell: str) -> str:
    """A cell a spreadsheet may run as a formula gets a leading single quote, so it is shown as
    text (OWASP's CSV-injection advice): one that starts, once leading white space and invisible
    characters are trimmed and full-width forms folded (＝, ﹦, ＋ ...), with =, +, -, @, or that
    starts with a tab or carriage return."""
    if cell.startswith(FORMULA_STARTS):
        return "'" + cell
    trimmed = cell.lstrip()
    while trimmed and (trimmed[0] in _IGNORABLE or trimmed[0].isspace()):
        trimmed = trimmed[1:]
    if trimmed and unicodedata.normalize("NFKC", trimmed[0])[:1] in "=+-@":
        return "'" + cell
    return cell


def point_columns(rubrics: Mapping[str, Rubric]) -> list[tuple[str, str]]:
    """(question id, point id) for every rubric point, in load order: one column each."""
    return [(rubric.id, point.id) for rubric in rubrics.values() for point in rubric.points]


def result_columns(layout: CsvLayout, rubrics: Mapping[str, Rubric]) -> list[str]:
    """The output header: the input's columns, then score, max_score, status, message and one
    ``question_id:point_id`` column per point. An added name that an input column already uses
    gets an ``essaycheck_`` prefix, so no input column is hidden."""
    taken = set(layout.columns)
    added = [*ADDED_COLUMNS, *(f"{q}:{p}" for q, p in point_columns(rubrics))]
    return [*layout.columns, *(f"essaycheck_{name}" if name in taken else name
                               for name in added)]



class CsvResultWriter:
    """Writes one CSV row per ``RowResult``: the row's own cells, then the added columns.

    Every cell (header included) is neutralised against formula injection. The delimiter
    defaults to the input's, so a semicolon export goes back to the same spreadsheet.
    """

    def __init__(self, stream: IO[str], layout: CsvLayout, rubrics: Mapping[str, Rubric],
                 delimiter: str | None = None) -> None:
        self._writer = csv.writer(stream, delimiter=delimiter or layout.delimiter,
                                  quotechar='"', doublequote=True, lineterminator="\r\n",
                                  quoting=csv.QUOTE_MINIMAL)
        self._points = point_columns(rubrics)
        self._layout = layout
        self.columns = result_columns(layout, rubrics)
        self._writer.writerow([neutralise(c) for c in self.columns])

    def write(self, item: RowResult) -> None:
        result = item.result
        if result is not None:
            statuses = {p.point_id: p.status for p in result.points}
            points = [statuses.get(p, "") if q == result.question_id else ""
                      for q, p in self._points]
            added = [format_number(result.score), format_number(result.max_score), STATUS_OK,
                     item.message]
        else:
            points = [""] * len(self._points)
            added = ["", "", STATUS_ERROR, item.message]
        self._writer.writerow([neutralise(c) for c in (*item.row.cells, *added, *points)])


def _unique_names(columns: Sequence[str]) -> list[str]:
    seen: Counter = Counter()
    names = []
    for column in columns:
        seen[column] += 1
        names.append(column if seen[column] == 1 else f"{column} ({seen[column]})")
    return names


class JsonLinesWriter:
    """Writes JSON Lines: one object per input row, in input order, flushed as it goes.

    Each object holds ``line``, ``row``, ``student_id``, ``question_id``, ``status``,
    ``message``, ``score``, ``max_score``, ``fields`` (the row's own columns by name),
    ``extra_fields`` (only when the row had more fields than the header), ``result`` (the full
    ``CheckResult.to_dict()``: every point with its status, evidence spans and hint) and
    ``error`` (``code``, ``message``, ``column``), one of the last two being null.
    """

    def __init__(self, stream: IO[str], layout: CsvLayout) -> None:
        self._stream = stream
        self._names = _unique_names(layout.columns)

    def write(self, item: RowResult) -> None:
        row, result, error = item.row, item.result, item.error
        record: dict[str, Any] = {
            "line": row.line, "row": row.number, "student_id": row.student_id,
            "question_id": row.question_id, "status": item.status, "message": item.message,
            "score": result.score if result else None,
            "max_score": result.max_score if result else None,
            "fields": dict(zip(self._names, row.cells, strict=True)),
        }
        if row.extra:
            record["extra_fields"] = list(row.extra)
        record["result"] = result.to_dict() if result else None
        record["error"] = ({"code": error.code, "message": error.message, "column": error.column}
                           if error else None)
        self._stream.write(json.dumps(record, ensure_ascii=False) + "\n")
