"""The rubric workshop's core: draft a rubric, try it on marked sample answers, and measure
how far it agrees with the teacher's marks, as the rubric is edited.

Plain data in (the rubric as JSON with the YAML file's fields, sample answers as dicts), plain
dataclasses out; no web framework and no files here (``loader.save_rubric`` writes rubrics).
A trial fits the edited rubric with ``Checker.with_rubrics``, which reuses the spaCy pipeline,
so a re-score after each edit costs one small fit and the sample answers' analyses.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .analysis import MAX_ANSWER_CHARS
from .errors import EssaycheckError, RubricError, RubricProblem
from .evaluation import MarkedAnswer, json_ready, score_marked, summarise, whole_marks
from .extract import Draft, draft_rubric_report
from .results import COVERED, PARTIAL, CheckResult
from .rubric import MAX_POINTS, Rubric, validate_rubric

#: Limits on what a rubric sent to the workshop may hold: far above any real mark scheme, low
#: enough that one request cannot make a fit take long. ``MAX_POINTS`` (points per rubric) is
#: ``rubric.MAX_POINTS``, which drafting keeps to as well.
MAX_TEXT_CHARS = 20_000          # question, model answer, notes, context
MAX_POINT_TEXT_CHARS = 2_000     # a point's text, hint, or one accepted wording
MAX_GROUPS = 20                  # keyword groups per point
MAX_ALTERNATIVES = 30            # alternatives per keyword group
MAX_ALTERNATIVE_CHARS = 100
MAX_ACCEPT = 10                  # accepted other wordings per point
MAX_SAMPLES = 200                # sample answers per trial
MAX_BANDS = 50

#: A teacher's per-point mark: made, half made, not made (as ``point:<id>`` columns read).
POINT_MARKS = (1.0, 0.5, 0.0)


class SampleError(EssaycheckError):
    """The sample answers cannot be used as sent; the message names the field to fix."""

    code = "invalid_answers"


@dataclass(frozen=True)
class Trial:
    """A rubric tried on sample answers: each answer's result, and agreement with marks."""

    rubric: Rubric
    samples: tuple[MarkedAnswer, ...]
    #: per sample, in input order: the ``CheckResult``, or the error that stopped that answer
    results: tuple[CheckResult | EssaycheckError, ...]
    #: sample indices, the answers where the rubric and the teacher disagree first
    order: tuple[int, ...]
    #: per sample: the point ids whose verdict differs from the teacher's per-point mark
    point_disagreements: tuple[tuple[str, ...], ...]
    #: agreement figures (``None`` when no sample has a mark or a per-point mark)
    agreement: dict[str, Any] | None

    def disagrees(self, index: int) -> bool:
        """True when answer ``index`` gets a different whole mark or point verdict than the
        teacher gave it."""
        return bool(self.point_disagreements[index]) or self.mark_difference(index) != 0

    def mark_difference(self, index: int) -> float:
        """The rubric's mark minus the teacher's, in whole marks (0 with no mark to compare)."""
        result, mark = self.results[index], self.samples[index].mark
        if mark is None or not isinstance(result, CheckResult):
            return 0.0
        return float(whole_marks([result.score])[0] - whole_marks([mark])[0])

    def to_dict(self) -> dict[str, Any]:
        """The trial as JSON-ready data: ``results`` (each as ``CheckResult.to_dict()``, or an
        error object), ``order``, ``answers`` (per answer: agreement with the teacher) and
        ``agreement`` (only when marks were given; undefined figures are null)."""
        results = []
        for outcome in self.results:
            if isinstance(outcome, CheckResult):
                results.append(outcome.to_dict())
            else:
                results.append({"error": outcome.code, "message": outcome.message})
        answers = [{"index": index, "mark": sample.mark,
                    "disagrees": self.disagrees(index),
                    "mark_difference": self.mark_difference(index),
                    "points_disagree": list(self.point_disagreements[index])}
                   for index, sample in enumerate(self.samples)]
        data: dict[str, Any] = {"results": results, "order": list(self.order),
                                "answers": answers}
        if self.agreement is not None:
            data["agreement"] = json_ready(self.agreement)
        return data


def rubric_from_json(data: Any, source: str = "rubric") -> Rubric:
    """A ``Rubric`` from JSON data with the YAML file's fields (``bands`` keys may be numbers
    written as strings, as JSON object keys are), validated and within the workshop's limits;
    ``RubricError`` listing every problem, each naming its field and the fix."""
    problems = size_problems(data, source)
    if problems:
        raise RubricError(problems)
    if isinstance(data, dict) and isinstance(data.get("bands"), dict):
        data = {**data, "bands": {_band_key(key): mark for key, mark in data["bands"].items()}}
    return validate_rubric(data, source)


def rubric_to_json(rubric: Rubric) -> dict[str, Any]:
    """The rubric as JSON-ready data with the YAML file's fields (``bands`` keyed by strings,
    as JSON objects are); ``rubric_from_json`` reads it back."""
    data = rubric.to_dict()
    if "bands" in data:
        data["bands"] = {str(key): mark for key, mark in data["bands"].items()}
    return data


def _band_key(key: Any) -> Any:
    """A bands key as a number when it is a number written as text ("4" -> 4), else as sent,
    so that validation reports it."""
    if isinstance(key, str):
        try:
            number = float(key)
        except ValueError:
            return key
        if math.isfinite(number):
            return int(number) if number.is_integer() else number
    return key


def size_problems(data: Any, source: str = "rubric") -> list[RubricProblem]:
    """Fields of rubric data over the workshop's limits, as problems naming field and fix."""
    if not isinstance(data, dict):
        return []
    problems = []

    def over(field: str, value: Any, limit: int, unit: str = "characters") -> None:
        size = len(value) if isinstance(value, (str, list, dict)) else 0
        if size > limit:
            problems.append(RubricProblem(source, field, f"too long: {size:,} {unit}, the "
                                          f"limit is {limit:,}", f"shorten it to {limit:,} "
                                          f"{unit} or fewer"))

    for key in ("question", "model_answer", "notes", "context", "subject", "id"):
        over(key, data.get(key), MAX_TEXT_CHARS)
    over("bands", data.get("bands"), MAX_BANDS, "bands")
    points = data.get("points")
    over("points", points, MAX_POINTS, "points")
    if not isinstance(points, list):
        return problems
    for index, point in enumerate(points[:MAX_POINTS]):
        if not isinstance(point, dict):
            continue
        where = f"points[{index}]"
        for key in ("id", "text", "hint"):
            over(f"{where}.{key}", point.get(key), MAX_POINT_TEXT_CHARS)
        accept = point.get("accept")
        over(f"{where}.accept", accept, MAX_ACCEPT, "wordings")
        if isinstance(accept, list):
            for number, wording in enumerate(accept[:MAX_ACCEPT]):
                over(f"{where}.accept[{number}]", wording, MAX_POINT_TEXT_CHARS)
        groups = point.get("keywords")
        over(f"{where}.keywords", groups, MAX_GROUPS, "groups")
        if not isinstance(groups, list):
            continue
        for number, group in enumerate(groups[:MAX_GROUPS]):
            over(f"{where}.keywords[{number}]", group, MAX_ALTERNATIVES, "alternatives")
            for alt, word in enumerate(group[:MAX_ALTERNATIVES] if isinstance(group, list)
                                       else [group]):
                over(f"{where}.keywords[{number}][{alt}]" if isinstance(group, list)
                     else f"{where}.keywords[{number}]", word, MAX_ALTERNATIVE_CHARS)
    return problems


def samples_from_json(items: Any, question_id: str) -> list[MarkedAnswer]:
    """Sample answers from JSON: a list of ``{"answer": str, "mark"?: number|null,
    "points"?: {point_id: 1|0.5|0}}``, as ``MarkedAnswer`` rows for ``question_id``;
    ``SampleError`` naming the first bad field."""
    if not isinstance(items, list):
        raise SampleError("'answers' must be a list of {\"answer\": ..., \"mark\": ...} objects")
    if len(items) > MAX_SAMPLES:
        raise SampleError(f"too many answers: {len(items):,}, the limit is {MAX_SAMPLES:,} "
                          "per trial; try a sample of them")
    rows = []
    for index, item in enumerate(items):
        where = f"answers[{index}]"
        if not isinstance(item, dict):
            raise SampleError(f"{where} must be an object with an 'answer' string")
        answer = item.get("answer")
        if not isinstance(answer, str):
            raise SampleError(f"{where}.answer must be a string (the answer's text)")
        if len(answer) > MAX_ANSWER_CHARS:
            raise SampleError(f"{where}.answer is too long: {len(answer):,} characters, the "
                              f"limit is {MAX_ANSWER_CHARS:,}; shorten it")
        mark = item.get("mark")
        if mark is not None:
            if isinstance(mark, bool) or not isinstance(mark, (int, float)) \
                    or not math.isfinite(mark) or mark < 0:
                raise SampleError(f"{where}.mark must be a number of marks (0 or more) or "
                                  f"null, not {mark!r}")
            mark = float(mark)
        points = item.get("points") or {}
        if not isinstance(points, dict):
            raise SampleError(f"{where}.points must be an object of point id to 1, 0.5 or 0")
        credits: dict[str, float] = {}
        for point_id, value in points.items():
            if value is None:
                continue
            if isinstance(value, bool) or value not in POINT_MARKS:
                raise SampleError(f"{where}.points.{point_id} must be 1 (made), 0.5 (half "
                                  f"made) or 0 (not made), not {value!r}")
            credits[str(point_id)] = float(value)
        # half made counts as made, as evaluate reads a point:<id> column
        labels = {point_id: credit > 0 for point_id, credit in credits.items()}
        rows.append(MarkedAnswer(question_id, answer, mark, labels, index + 1, str(index),
                                 point_marks=credits))
    return rows


def draft(checker, rubric_id: str, question: str, model_answer: str, context: str = "",
          max_score: float | None = None) -> Rubric:
    """Draft a rubric from a model answer with ``rubric extract``'s own code, on the checker's
    pipeline; ``RubricError`` naming the field to fix."""
    return draft_report(checker, rubric_id, question, model_answer, context, max_score).rubric


def draft_report(checker, rubric_id: str, question: str, model_answer: str, context: str = "",
                 max_score: float | None = None) -> Draft:
    """``draft``, with the claims that were merged or left out to keep within
    ``MAX_POINTS``."""
    problems = size_problems({"id": rubric_id, "question": question,
                              "model_answer": model_answer, "context": context}, "draft")
    if problems:
        raise RubricError(problems)
    return draft_rubric_report(rubric_id, question, model_answer, checker.analyzer,
                               context=[context] if context.strip() else [],
                               max_score=max_score, max_points=MAX_POINTS)


def try_rubric(checker, rubric: Rubric, samples: Sequence[MarkedAnswer]) -> Trial:
    """Fit ``rubric`` on the checker's pipeline and score every sample answer with it; with
    marks, the agreement (Pearson r, exact agreement, per point precision and recall) and the
    answers where rubric and teacher disagree first in ``order``."""
    fitted = checker.with_rubrics([rubric])
    samples = tuple(samples)
    scored = score_marked(fitted, samples)
    results = tuple(outcome for _, outcome in scored)
    point_disagreements = tuple(_points_disagreeing(sample, outcome)
                                for sample, outcome in scored)
    marked = any(s.mark is not None or s.points for s in samples)
    agreement = _agreement(summarise(scored, brief=True), rubric.id) if marked else None
    trial = Trial(rubric, samples, results, (), point_disagreements, agreement)
    order = sorted(range(len(samples)), key=lambda i: (
        not trial.disagrees(i), -abs(trial.mark_difference(i)), i))
    return Trial(rubric, samples, results, tuple(order), point_disagreements, agreement)


def _points_disagreeing(sample: MarkedAnswer, outcome: Any) -> tuple[str, ...]:
    if not isinstance(outcome, CheckResult):
        return ()
    made = {p.point_id: p.status in (COVERED, PARTIAL) for p in outcome.points}
    return tuple(point_id for point_id, label in sample.points.items()
                 if point_id in made and bool(label) != made[point_id])


def _agreement(report: Mapping[str, Any], question_id: str) -> dict[str, Any]:
    """The figures the workshop shows, from ``evaluation.summarise``'s report."""
    overall = report["overall"]
    return {
        "n": overall["n"],
        "pearson": overall["pearson"],
        "exact": overall["exact"],
        "adjacent": overall["adjacent"],
        "mean_teacher": overall["mean_human"],
        "mean_rubric": overall["mean_essaycheck"],
        "points": [{key: point[key] for key in ("point_id", "n", "precision", "recall",
                                                "human_made", "predicted_made")}
                   for point in report["points"] if point["question_id"] == question_id],
        "unknown_points": [name.split(":", 1)[1] for name in report["unknown_points"]],
    }


def read_sample_csv(data: bytes, name: str, question_id: str) -> list[dict[str, Any]]:
    """Sample answers for ``question_id`` from CSV bytes in the format ``essaycheck score``
    and ``evaluate`` read (comma, semicolon or tab; question_id and answer columns; optional
    ``mark`` and ``point:<id>`` columns), as ``samples_from_json`` takes them; ``SampleError``
    naming the line and column to fix."""
    import io

    from .csvio import CsvFormatError, CsvInput
    from .evaluation import MarkedFileError, read_marked

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SampleError(f"{name} is not UTF-8 text (bad byte at position {exc.start}): "
                          "save it as 'CSV UTF-8' and load it again") from None
    try:
        columns = CsvInput(io.StringIO(text, newline=""), name).layout.columns
        has_mark = any(column.strip().lower() == "mark" for column in columns)
        rows = read_marked(io.StringIO(text, newline=""), name,
                           mark_column="mark" if has_mark else None, require_mark=False)
    except (CsvFormatError, MarkedFileError) as exc:
        raise SampleError(str(exc)) from None
    found = sorted({row.question_id for row in rows})
    chosen = [row for row in rows if row.question_id == question_id]
    if not chosen:
        raise SampleError(f"{name} holds no answers for {question_id!r}; its question ids are "
                          f"{', '.join(repr(q) for q in found[:10])}: give the rubric that id, "
                          "or change the question_id column")
    if len(chosen) > MAX_SAMPLES:
        raise SampleError(f"{name} holds {len(chosen):,} answers for {question_id!r}; the "
                          f"limit is {MAX_SAMPLES:,}: load a sample of them")
    return [{"answer": row.answer, "mark": row.mark,
             "points": {point: 1.0 if made else 0.0 for point, made in row.points.items()}}
            for row in chosen]


def suggestion_from_json(data: Any):
    """A ``suggestions.Suggestion`` from the JSON its ``to_dict`` gives (as the page sends
    back the one a teacher accepts); ``SuggestionError`` naming the bad field."""
    from .suggestions import Suggestion, SuggestionError

    if not isinstance(data, dict):
        raise SuggestionError("'suggestion' must be an object, as /api/v1/rubrics/suggest "
                              "returns it")
    fields: dict[str, Any] = {}
    for name, kind in (("question_id", str), ("point_id", str), ("action", str),
                       ("term", str), ("fixes", int), ("breaks", int)):
        value = data.get(name)
        if isinstance(value, bool) or not isinstance(value, kind):
            wanted = "text" if kind is str else "a whole number"
            raise SuggestionError(f"suggestion.{name} must be {wanted}")
        fields[name] = value
    group = data.get("group")
    if group is not None and (isinstance(group, bool) or not isinstance(group, int)):
        raise SuggestionError("suggestion.group must be a keyword group's index or null")
    evidence = data.get("evidence") or []
    if not isinstance(evidence, list) or not all(isinstance(e, str) for e in evidence):
        raise SuggestionError("suggestion.evidence must be a list of quotes")
    return Suggestion(group=group, evidence=tuple(evidence),
                      inferred=bool(data.get("inferred", False)), **fields)
