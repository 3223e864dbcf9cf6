"""Scoring a class: rows of answers in, one ``RowResult`` per row out, plus class totals.

* ``score_rows`` / ``score_rows_parallel`` turn ``InputRow`` objects (from
  ``essaycheck.csvio.CsvInput``) into ``RowResult`` objects, in input order; a row that cannot be
  scored carries a ``RowError`` instead of stopping the run. The parallel one hands chunks of
  rows to a pool of worker processes, each with its own fitted Checker.
* ``ClassSummary`` keeps the class totals (and a capped number of detailed rows) for the
  end-of-run summary and the HTML report.
"""

from __future__ import annotations

import os
import signal
import statistics
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from .csvio import CsvLayout, InputRow, RowError, RowResult
from .errors import EmptyAnswerError, EssaycheckError, UnknownQuestionError
from .formatting import format_number
from .results import COVERED, MISSED, PARTIAL, CheckResult
from .rubric import Rubric

#: Rows scored per task; also the unit ``--jobs`` hands to a worker process.
CHUNK_ROWS = 64
#: Answers per question kept in full for the report; beyond it the report is summary-only.
DETAIL_LIMIT = 1000
#: Failed rows kept in full for the report and the end-of-run summary.
ERROR_LIMIT = 200


# --------------------------------------------------------------------------------------------
# Scoring


def score_payload(checker, payload: Sequence[tuple[str, str] | None]) -> list:
    """Score one chunk of (question id, answer) pairs with ``checker.check_many``.

    Each entry becomes a ``CheckResult`` or the ``EssaycheckError`` that stopped it (both
    pickle, so a worker process can send them back); ``None`` entries stay ``None``.
    """
    outcomes: list = [None] * len(payload)
    items = ((item[0], item[1], i) for i, item in enumerate(payload) if item is not None)
    for i, outcome in checker.check_many(items):
        outcomes[i] = outcome
    return outcomes


def _row_error(error: EssaycheckError, row: InputRow, layout: CsvLayout) -> RowError:
    column = layout.answer_column
    detail = str(error)
    if isinstance(error, UnknownQuestionError):
        column = layout.question_column
        if not row.question_id:
            detail = "no question id"
    elif isinstance(error, EmptyAnswerError):
        detail = "empty answer"
    return RowError(error.code, f"line {row.line}, column {column!r}: {detail}", column)


def _row_result(row: InputRow, outcome: CheckResult | EssaycheckError | None,
                layout: CsvLayout) -> RowResult:
    if row.problem is not None:
        return RowResult(row, error=RowError("bad_row", row.problem))
    if isinstance(outcome, CheckResult):
        return RowResult(row, result=outcome)
    assert isinstance(outcome, EssaycheckError)   # a row without a problem was sent to score
    return RowResult(row, error=_row_error(outcome, row, layout))


def _payload(row: InputRow) -> tuple[str, str] | None:
    return None if row.problem is not None else (row.question_id, row.answer)


def chunked(items: Iterable, size: int) -> Iterator[list]:
    """Consecutive lists of up to ``size`` items, read lazily."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def score_rows(checker, rows: Iterable[InputRow], layout: CsvLayout,
               chunk_rows: int | None = None) -> Iterator[RowResult]:
    """Score rows in this process, yielding one ``RowResult`` per row in input order."""
    for chunk in chunked(rows, chunk_rows or CHUNK_ROWS):
        outcomes = score_payload(checker, [_payload(row) for row in chunk])
        for row, outcome in zip(chunk, outcomes, strict=True):
            yield _row_result(row, outcome, layout)


def ordered_window(submit: Callable[[Any], Any], tasks: Iterable[tuple[Any, Any]],
                   window: int) -> Iterator[tuple[Any, Any]]:
    """Run ``submit(payload)`` (which returns a future) for each ``(context, payload)`` with at
    most ``window`` tasks in flight; yield ``(context, result)`` in task order.

    Unlike ``Pool.imap``, which reads its whole input ahead, this reads a task only when one
    finishes, so memory stays bounded however long the input is.
    """
    pending: deque = deque()
    for context, payload in tasks:
        pending.append((context, submit(payload)))
        if len(pending) >= window:
            context, future = pending.popleft()
            yield context, future.result()
    while pending:
        context, future = pending.popleft()
        yield context, future.result()


_worker_checker = None
_worker_error: EssaycheckError | None = None


def _init_worker(rubrics: list[Rubric], pipeline: str | None, settings: Any,
                 parent_pid: int | None = None) -> None:
    """Pool initializer: stop with the parent, then build this worker's Checker once."""
    global _worker_checker, _worker_error
    from .checker import Checker
    from .lifecycle import stop_with_parent
    from .matching import limit_blas_threads

    # a killed ``score --jobs N`` must not leave N workers (and the resource tracker, which
    # lives while they hold its pipe) running
    stop_with_parent(parent_pid)
    # Ctrl+C reaches the whole process group: the parent alone handles it, stopping the pool
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    limit_blas_threads()

    try:
        _worker_checker = Checker(rubrics, pipeline=pipeline, settings=settings).fit()
    except EssaycheckError as exc:
        _worker_error = exc


def _score_in_worker(payload: list) -> tuple[EssaycheckError | None, list]:
    if _worker_checker is None:
        return _worker_error or EssaycheckError("the worker could not build its checker"), []
    return None, score_payload(_worker_checker, payload)


def score_rows_parallel(rubrics: Sequence[Rubric], rows: Iterable[InputRow], layout: CsvLayout,
                        jobs: int, pipeline: str | None = None, settings: Any = None,
                        chunk_rows: int | None = None) -> Iterator[RowResult]:
    """Score rows in ``jobs`` worker processes; same results, same order as ``score_rows``.

    Each worker builds its own Checker once (pool initializer) from the given rubrics; chunks
    of rows go out with at most two per worker in flight and come back in input order.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker,
                               initargs=(list(rubrics), pipeline, settings, os.getpid()))
    try:
        tasks = ((chunk, [_payload(row) for row in chunk])
                 for chunk in chunked(rows, chunk_rows or CHUNK_ROWS))
        for chunk, (fatal, outcomes) in ordered_window(
                lambda payload: pool.submit(_score_in_worker, payload), tasks, 2 * jobs):
            if fatal is not None:
                raise fatal
            for row, outcome in zip(chunk, outcomes, strict=True):
                yield _row_result(row, outcome, layout)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# --------------------------------------------------------------------------------------------
# Class totals


@dataclass
class QuestionStats:
    """Running totals for one question, plus the first answers in full for the report."""

    rubric: Rubric
    answers: int = 0
    errors: int = 0
    total: float = 0.0
    scores: Counter = field(default_factory=Counter)
    points: dict[str, Counter] = field(default_factory=dict)
    details: list[RowResult] = field(default_factory=list)

    @property
    def mean(self) -> float | None:
        return self.total / self.answers if self.answers else None

    @property
    def median(self) -> float | None:
        if not self.answers:
            return None
        return statistics.median(self.scores.elements())

    def share(self, point_id: str, status: str) -> float:
        return self.points[point_id][status] / self.answers if self.answers else 0.0


@dataclass(frozen=True)
class MissedPoint:
    """A rubric point with how many of a question's answers missed it or made it partly."""

    question_id: str
    point_id: str
    number: int
    text: str
    hint: str | None
    missed: int
    partial: int
    answers: int

    @property
    def missed_share(self) -> float:
        return self.missed / self.answers if self.answers else 0.0


class ClassSummary:
    """Class-level totals built one ``RowResult`` at a time, in memory that does not grow with
    the number of rows: counts per question and point, a score histogram, and the first
    ``detail_limit`` answers per question (and ``error_limit`` failed rows) kept in full."""

    def __init__(self, rubrics: Mapping[str, Rubric], detail_limit: int = DETAIL_LIMIT,
                 error_limit: int = ERROR_LIMIT) -> None:
        self.rubrics = dict(rubrics)
        self.detail_limit = detail_limit
        self.error_limit = error_limit
        self.questions = {
            qid: QuestionStats(rubric, points={p.id: Counter() for p in rubric.points})
            for qid, rubric in self.rubrics.items()}
        self.rows = 0
        self.scored = 0
        self.failed = 0
        self.blank_rows = 0
        #: physical lines after the header, when the caller read a file (0: not counted)
        self.data_lines = 0
        self.error_codes: Counter = Counter()
        self.error_rows: list[RowResult] = []

    def add(self, item: RowResult) -> None:
        self.rows += 1
        stats = self.questions.get(item.row.question_id)
        if item.error is not None:
            self.failed += 1
            self.error_codes[item.error.code] += 1
            if stats is not None:
                stats.errors += 1
            if len(self.error_rows) < self.error_limit:
                self.error_rows.append(item)
            return
        result = item.result
        assert result is not None   # a row without an error has its result
        stats = self.questions[result.question_id]
        self.scored += 1
        stats.answers += 1
        stats.total += result.score
        stats.scores[result.score] += 1
        for point in result.points:
            stats.points[point.point_id][point.status] += 1
        if len(stats.details) < self.detail_limit:
            stats.details.append(item)

    @property
    def asked(self) -> list[QuestionStats]:
        """Questions that at least one row answered (scored or not), in rubric order."""
        return [s for s in self.questions.values() if s.answers or s.errors]

    @property
    def truncated(self) -> bool:
        """Whether some answers were left out of the report's per-student detail."""
        return any(s.answers > len(s.details) for s in self.questions.values())

    def most_missed(self, limit: int = 5, question_id: str | None = None) -> list[MissedPoint]:
        """The points missed by the largest share of their question's answers."""
        found = []
        for qid, stats in self.questions.items():
            if (question_id is not None and qid != question_id) or not stats.answers:
                continue
            for number, point in enumerate(stats.rubric.points, 1):
                counts = stats.points[point.id]
                if counts[MISSED]:
                    found.append(MissedPoint(qid, point.id, number, point.text, point.hint,
                                             counts[MISSED], counts[PARTIAL], stats.answers))
        found.sort(key=lambda m: (-m.missed_share, -m.missed))
        return found[:limit]

    def summary_lines(self, most_missed: int = 5) -> list[str]:
        """The end-of-run summary as plain lines of text."""
        lines = [f"Rows scored: {self.scored} of {self.rows}; rows with errors: {self.failed}"]
        if self.blank_rows:
            lines[0] += f"; blank lines skipped: {self.blank_rows}"
        if self.data_lines:
            # every physical line is accounted for: a row, a blank line, or a line of an answer
            # that spans several (so rows swallowed by a stray quote could not hide)
            inside = self.data_lines - self.rows - self.blank_rows
            parts = [f"{self.rows} rows"] + ([f"{self.blank_rows} blank"] if self.blank_rows
                                             else [])
            if inside:
                parts.append(f"{inside} inside multi-line answers")
            lines.append(f"Lines read after the header: {self.data_lines} ({', '.join(parts)})")
        asked = [s for s in self.asked if s.answers]
        if asked:
            width = max(len(s.rubric.id) for s in asked)
            lines.append("")
            lines.append(f"{'Question':<{width}}  Answers  Mean score")
            for stats in asked:
                lines.append(f"{stats.rubric.id:<{width}}  {stats.answers:>7}  "
                             f"{stats.mean:.1f} / {format_number(stats.rubric.max_score)}")
        missed = self.most_missed(most_missed)
        if missed:
            names = [f"{m.question_id}:{m.point_id}" for m in missed]
            width = max(len(n) for n in names)
            lines.append("")
            lines.append("Points most often missed:")
            for name, m in zip(names, missed, strict=True):
                lines.append(f"  {name:<{width}}  missed by {m.missed} of {m.answers} "
                             f"({m.missed_share:.0%})")
        return lines

    def coverage(self, stats: QuestionStats) -> list[tuple[str, float, float, float]]:
        """(point id, covered share, partial share, missed share) per point of a question."""
        return [(p.id, stats.share(p.id, COVERED), stats.share(p.id, PARTIAL),
                 stats.share(p.id, MISSED)) for p in stats.rubric.points]
