"""Agreement between essaycheck and human markers: metrics, and scoring a marked sample.

The metrics take plain sequences and return floats; where a figure is undefined (fewer than
two answers, a constant input, a single class) they return ``nan`` rather than warn or raise,
and ``format_figure`` prints that as ``n/a``.

``evaluate`` scores every answer of a marked sample with a fitted ``Checker`` and reports
agreement overall and per question. Marks are compared on the rubric's scale: Pearson and
Spearman on the marks as given; kappa, exact and adjacent agreement and the confusion matrix on
marks rounded to whole marks (half up), so "adjacent" means within one mark.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

import numpy as np
from numpy.typing import ArrayLike

from .errors import MarkedFileError
from .feedback import scaled_confidence
from .matching import DEFAULT_THRESHOLDS
from .results import COVERED, PARTIAL, CheckResult

NAN = float("nan")


# -- metrics ------------------------------------------------------------------------------
def _arrays(a: ArrayLike, b: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"the two sequences differ in length ({len(x)} and {len(y)})")
    keep = np.isfinite(x) & np.isfinite(y)
    return x[keep], y[keep]


def _constant(values: np.ndarray) -> bool:
    return len(values) == 0 or bool(np.all(values == values[0]))


def _correlation(statistic, a: ArrayLike, b: ArrayLike) -> float:
    """A scipy correlation's coefficient, or nan when either side is constant or short."""
    x, y = _arrays(a, b)
    if len(x) < 2 or _constant(x) or _constant(y):
        return NAN
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(statistic(x, y)[0])


def pearson(a: ArrayLike, b: ArrayLike) -> float:
    """Pearson's r, or nan when either side is constant or has fewer than two values."""
    from scipy.stats import pearsonr

    return _correlation(pearsonr, a, b)


def spearman(a: ArrayLike, b: ArrayLike) -> float:
    """Spearman's rank correlation, or nan when either side is constant."""
    from scipy.stats import spearmanr

    return _correlation(spearmanr, a, b)


def whole_marks(values: ArrayLike) -> np.ndarray:
    """Marks rounded to whole marks, halves up (2.5 -> 3), as integers."""
    return np.floor(np.asarray(values, dtype=float) + 0.5).astype(int)


def quadratic_kappa(a: ArrayLike, b: ArrayLike,
                    labels: Sequence[int] | None = None) -> float:
    """Cohen's kappa with quadratic weights on integer categories; nan when undefined (no
    answers, or both markers always give the one same category)."""
    from sklearn.metrics import cohen_kappa_score

    x, y = _arrays(a, b)
    if len(x) == 0:
        return NAN
    x, y = x.astype(int), y.astype(int)
    if labels is None:
        labels = sorted(set(x.tolist()) | set(y.tolist()))
    if len(labels) < 2:
        return NAN
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = cohen_kappa_score(x, y, labels=list(labels), weights="quadratic")
    return float(value) if math.isfinite(value) else NAN


def exact_agreement(a: ArrayLike, b: ArrayLike) -> float:
    """Share of answers given the same mark."""
    x, y = _arrays(a, b)
    return float(np.mean(x == y)) if len(x) else NAN


def adjacent_agreement(a: ArrayLike, b: ArrayLike, within: float = 1) -> float:
    """Share of answers whose marks differ by at most ``within``."""
    x, y = _arrays(a, b)
    return float(np.mean(np.abs(x - y) <= within + 1e-9)) if len(x) else NAN


def confusion(human: ArrayLike, predicted: ArrayLike,
              labels: Sequence[int] | None = None) -> tuple[list[int], list[list[int]]]:
    """Labels and the confusion matrix: rows are the human mark, columns essaycheck's."""
    from sklearn.metrics import confusion_matrix

    x, y = _arrays(human, predicted)
    x, y = x.astype(int), y.astype(int)
    if labels is None:
        labels = sorted(set(x.tolist()) | set(y.tolist()))
    labels = [int(v) for v in labels]
    if not labels:
        return [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return labels, confusion_matrix(x, y, labels=labels).tolist()


def roc_auc(labels: ArrayLike, scores: ArrayLike) -> float:
    """ROC AUC of a continuous score against 0/1 labels, or nan with only one class."""
    from sklearn.metrics import roc_auc_score

    y, s = _arrays(labels, scores)
    if len(y) == 0 or _constant(y):
        return NAN
    return float(roc_auc_score(y.astype(int), s))


def accuracy(labels: ArrayLike, predicted: ArrayLike) -> float:
    """Share of exact matches."""
    return exact_agreement(labels, predicted)


def precision_recall(human: ArrayLike, predicted: ArrayLike) -> dict[str, float]:
    """Precision, recall and F1 of ``predicted`` against ``human`` (booleans); nan where the
    denominator is zero (nothing predicted, or nothing to find)."""
    h = np.asarray(human, dtype=bool)
    p = np.asarray(predicted, dtype=bool)
    tp = int(np.sum(h & p))
    precision = tp / int(p.sum()) if p.sum() else NAN
    recall = tp / int(h.sum()) if h.sum() else NAN
    f1 = (2 * precision * recall / (precision + recall)
          if math.isfinite(precision) and math.isfinite(recall) and precision + recall
          else NAN)
    return {"precision": precision, "recall": recall, "f1": f1, "n": int(len(h)),
            "human_made": int(h.sum()), "predicted_made": int(p.sum())}


def agreement(human: ArrayLike, predicted: ArrayLike, brief: bool = False) -> dict[str, Any]:
    """Every agreement figure for marks on one scale: correlations on the marks as given,
    kappa, exact/adjacent agreement and the confusion matrix on whole marks. ``brief``: only
    n, Pearson, exact and adjacent agreement and the means (what the workshop shows after
    each edit; Spearman, kappa and the confusion matrix cost more than the rest together)."""
    h, p = _arrays(human, predicted)
    hw, pw = whole_marks(h), whole_marks(p)
    figures: dict[str, Any] = {"n": int(len(h)), "pearson": pearson(h, p)}
    if not brief:
        labels, matrix = confusion(hw, pw)
        figures.update(spearman=spearman(h, p), qwk=quadratic_kappa(hw, pw, labels))
    figures.update(
        exact=exact_agreement(hw, pw),
        adjacent=adjacent_agreement(hw, pw),
        mean_human=float(h.mean()) if len(h) else NAN,
        mean_essaycheck=float(p.mean()) if len(p) else NAN,
    )
    if not brief:
        figures["confusion"] = {"labels": labels, "matrix": matrix}
    return figures


def format_figure(value: float, digits: int = 2) -> str:
    """A figure for a table: fixed decimals, or 'n/a' when undefined."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{value:.{digits}f}"


def credit(result: CheckResult, covered: float = DEFAULT_THRESHOLDS[0],
           partial: float = DEFAULT_THRESHOLDS[1],
           shift: float = 0.0) -> float:
    """A continuous score from 0 to 1 for one answer: the weighted mean over points of each
    point's confidence, mapped so that the partial and covered thresholds fall at 1/3 and 2/3
    (so a rubric's own calibrated thresholds shift the score the way they shift the mark),
    plus the rubric's calibrated ``mark_shift``, kept within 0..1."""
    total = sum(p.weight for p in result.points) or 1.0
    value = sum(p.weight * scaled_confidence(p.confidence, covered, partial)
                for p in result.points) / total
    return min(1.0, max(0.0, value + shift)) if shift else value


# -- a marked sample ----------------------------------------------------------------------
POINT_PREFIX = "point:"
_MADE = {"1", "1.0", "yes", "y", "true", "x", "covered", "made", "partial", "0.5", "half"}
_HALF = {"partial", "0.5", "half"}
_NOT_MADE = {"0", "0.0", "no", "n", "false", "missed", "-"}


@dataclass
class MarkedAnswer:
    """One row of a marked sample: an answer with its human mark and any per-point labels."""

    question_id: str
    answer: str
    mark: float | None
    points: dict[str, bool] = field(default_factory=dict)
    line: int = 0
    key: str = ""
    #: the same labels as credits, 1 (made), 0.5 (partly made) or 0, where the label says
    #: which (``points`` counts partial as made); what ``suggestions`` weighs verdicts by
    point_marks: dict[str, float] = field(default_factory=dict)


def point_label(value: str) -> bool | None:
    """A human per-point label as made (True), not made (False) or blank (None). Partial
    counts as made."""
    text = (value or "").strip().lower()
    if not text:
        return None
    if text in _MADE:
        return True
    if text in _NOT_MADE:
        return False
    raise ValueError(f"{value!r} is not a point label (use 1/0, yes/no, covered/partial/missed)")


def point_credit(value: str) -> float | None:
    """A human per-point label as a credit: 1 (made), 0.5 (partial, half) or 0, or None when
    blank; ValueError as ``point_label``."""
    made = point_label(value)
    if made is None:
        return None
    return (0.5 if value.strip().lower() in _HALF else 1.0) if made else 0.0


def read_marked(handle: IO[str], name: str = "<input>",
                question_column: str = "question_id", answer_column: str = "answer",
                mark_column: str | None = "mark", require_mark: bool = True,
                encoding: str = "utf-8") -> list[MarkedAnswer]:
    """Read a marked CSV stream (named ``name`` in messages) with ``csvio.CsvInput`` (comma,
    semicolon or tab; a UTF-8 BOM is fine): the answers file format plus a mark column and
    optional ``point:<id>`` columns.

    Raises ``MarkedFileError`` naming the missing column (and the columns found), or the line
    and column of a bad value. Rows with a blank mark are kept with ``mark=None`` unless
    ``require_mark``.
    """
    from .csvio import CsvFormatError, CsvInput

    try:
        reader = CsvInput(handle, name, question_column=question_column,
                          answer_column=answer_column, student_column=None,
                          encoding=encoding)
    except CsvFormatError as exc:
        option = {"question id": " (or pass --question-column NAME)",
                  "answer": " (or pass --answer-column NAME)"}
        raise MarkedFileError(f"{exc}{option.get(exc.role or '', '')}") from None
    columns = reader.layout.columns
    mark_index = None
    if mark_column:
        found = [i for i, c in enumerate(columns) if c.strip().lower() == mark_column.lower()]
        if not found:
            raise MarkedFileError(
                f"{name}, line 1: no column {mark_column!r} (the human mark) in the header; "
                f"columns found: {', '.join(repr(c) for c in columns)} (or pass "
                "--mark-column NAME)")
        mark_index = found[0]
    point_columns = [(i, c) for i, c in enumerate(columns)
                     if c.lower().startswith(POINT_PREFIX)]
    rows = []
    try:
        for raw in reader:
            if raw.problem:
                raise MarkedFileError(f"{name}, {raw.problem}")
            mark = None
            if mark_index is not None:
                value = raw.cells[mark_index].strip()
                if value:
                    try:
                        mark = float(value.replace(",", ".") if value.count(",") == 1
                                     and "." not in value else value)
                    except ValueError:
                        raise MarkedFileError(
                            f"{name}, line {raw.line}, column {mark_column!r}: {value!r} "
                            "is not a number") from None
                    if not math.isfinite(mark):
                        raise MarkedFileError(f"{name}, line {raw.line}, column "
                                              f"{mark_column!r}: {value!r} is not a "
                                              "finite number")
                elif require_mark:
                    raise MarkedFileError(
                        f"{name}, line {raw.line}: no mark in column {mark_column!r}; mark "
                        "every answer or remove the row")
            points, credits = {}, {}
            for index, column in point_columns:
                try:
                    given = point_credit(raw.cells[index])
                except ValueError as exc:
                    raise MarkedFileError(
                        f"{name}, line {raw.line}, column {column!r}: {exc}") from None
                if given is not None:
                    point_id = column[len(POINT_PREFIX):].strip()
                    points[point_id] = given > 0
                    credits[point_id] = given
            rows.append(MarkedAnswer(raw.question_id, raw.answer, mark, points, raw.line,
                                     str(raw.line), credits))
    except CsvFormatError as exc:
        raise MarkedFileError(str(exc)) from None
    if not rows:
        raise MarkedFileError(f"{name} holds no answers below its header")
    return rows


# -- evaluating a checker on a marked sample ----------------------------------------------
def score_marked(checker, rows: Iterable[MarkedAnswer]) -> list[tuple[MarkedAnswer, Any]]:
    """Each row with its ``CheckResult``, or the ``EssaycheckError`` that stopped it."""
    rows = list(rows)
    outcomes = dict(checker.check_many((r.question_id, r.answer, i) for i, r in enumerate(rows)))
    return [(row, outcomes[i]) for i, row in enumerate(rows)]


def evaluate(checker, rows: Iterable[MarkedAnswer]) -> dict[str, Any]:
    """Agreement of the checker's marks with the human marks, overall and per question, and
    per-point precision and recall where the rows carry ``point:<id>`` labels."""
    return summarise(score_marked(checker, rows))


def summarise(scored: list[tuple[MarkedAnswer, Any]], brief: bool = False) -> dict[str, Any]:
    """``evaluate``'s report from rows already scored (as ``score_marked`` returns them), for
    a caller that also shows the results; ``brief``, its figures as ``agreement(brief=True)``
    gives them."""
    errors = []
    # per question: each marked row, its mark and its result
    by_question: dict[str, list[tuple[MarkedAnswer, float, CheckResult]]] = {}
    for row, outcome in scored:
        if isinstance(outcome, CheckResult):
            if row.mark is not None:
                by_question.setdefault(row.question_id, []).append((row, row.mark, outcome))
        else:
            errors.append({"line": row.line, "question_id": row.question_id,
                           "error": getattr(outcome, "code", "error"), "message": str(outcome)})
    human_all, predicted_all = [], []
    questions = {}
    point_pairs: dict[tuple[str, str], list[tuple[bool, bool]]] = {}
    for question_id, pairs in by_question.items():
        human = [mark for _, mark, _ in pairs]
        predicted = [result.score for _, _, result in pairs]
        human_all.extend(human)
        predicted_all.extend(predicted)
        figures = agreement(human, predicted, brief)
        figures["max_score"] = pairs[0][2].max_score
        questions[question_id] = figures
        for row, _, result in pairs:
            made = {p.point_id: p.status in (COVERED, PARTIAL) for p in result.points}
            for point_id, label in row.points.items():
                if point_id in made:
                    point_pairs.setdefault((question_id, point_id), []).append(
                        (label, made[point_id]))
    unknown_points = sorted({f"{row.question_id}:{p}" for row, outcome in scored
                             if isinstance(outcome, CheckResult)
                             for p in row.points
                             if p not in {q.point_id for q in outcome.points}})
    points = []
    for (question_id, point_id), labels in sorted(point_pairs.items()):
        figures = precision_recall([h for h, _ in labels], [p for _, p in labels])
        points.append({"question_id": question_id, "point_id": point_id, **figures})
    return {
        "overall": agreement(human_all, predicted_all, brief),
        "questions": questions,
        "points": points,
        "unknown_points": unknown_points,
        "errors": errors,
        "scored": len(human_all),
        "rows": len(scored),
    }


def format_report(report: dict[str, Any]) -> str:
    """The evaluation as text tables for a terminal."""
    lines = []
    head = f"{'question':<28} {'n':>5} {'pearson':>8} {'spearman':>8} {'qwk':>6} " \
           f"{'exact':>6} {'adjacent':>8} {'human':>6} {'essaycheck':>10}"
    not_checked = f", {len(report['errors'])} not checked" if report["errors"] else ""
    lines.append(f"Agreement with the human marks ({report['scored']} answers scored"
                 f"{not_checked})")
    lines.append("")
    lines.append(head)
    lines.append("-" * len(head))

    def row(name: str, f: dict[str, Any]) -> str:
        return (f"{name[:28]:<28} {f['n']:>5} {format_figure(f['pearson']):>8} "
                f"{format_figure(f['spearman']):>8} {format_figure(f['qwk']):>6} "
                f"{format_figure(f['exact']):>6} {format_figure(f['adjacent']):>8} "
                f"{format_figure(f['mean_human'], 1):>6} "
                f"{format_figure(f['mean_essaycheck'], 1):>10}")

    for question_id, figures in sorted(report["questions"].items()):
        lines.append(row(question_id, figures))
    lines.append("-" * len(head))
    lines.append(row("overall", report["overall"]))
    matrix = report["overall"]["confusion"]
    if matrix["labels"]:
        lines.append("")
        lines.append("Confusion matrix, whole marks (rows: human, columns: essaycheck)")
        width = max(5, *(len(str(v)) + 1 for r in matrix["matrix"] for v in r))
        lines.append(f"{'':>8}" + "".join(f"{label:>{width}}" for label in matrix["labels"]))
        for label, counts in zip(matrix["labels"], matrix["matrix"], strict=True):
            lines.append(f"{label:>8}" + "".join(f"{c:>{width}}" for c in counts))
    if report["points"]:
        lines.append("")
        lines.append("Per point, against the point:<id> labels (partial counts as made)")
        phead = f"{'question':<24} {'point':<24} {'n':>5} {'precision':>9} {'recall':>7} {'f1':>6}"
        lines.append(phead)
        lines.append("-" * len(phead))
        for p in report["points"]:
            lines.append(f"{p['question_id'][:24]:<24} {p['point_id'][:24]:<24} {p['n']:>5} "
                         f"{format_figure(p['precision']):>9} {format_figure(p['recall']):>7} "
                         f"{format_figure(p['f1']):>6}")
    if report["unknown_points"]:
        lines.append("")
        lines.append("Point columns naming no point of the rubric (ignored): "
                     + ", ".join(report["unknown_points"]))
    if report["errors"]:
        lines.append("")
        lines.append("Answers not checked:")
        for error in report["errors"][:20]:
            lines.append(f"  line {error['line']}: {error['message']}")
        if len(report["errors"]) > 20:
            lines.append(f"  ... and {len(report['errors']) - 20} more")
    return "\n".join(lines)


def json_ready(value: Any) -> Any:
    """The report with nan turned into null, ready for ``json.dumps``."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, np.generic):
        return json_ready(value.item())
    return value
