"""Rubric dataclasses, and parsing plus validation of rubric YAML text.

A rubric is a question, its model answer and the points of the mark scheme. Parsing never
opens files: it takes text (or a stream) and the name of its source for messages.
"""

from __future__ import annotations

import difflib
import functools
import math
import re
import reprlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from typing import IO, Any

import yaml

from .analysis import MAX_ANSWER_CHARS, NEGATION_CUES
from .errors import RubricError, RubricProblem

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
#: Documented limits on a rubric file: its size, the length of its ``context`` and of every
#: other text field (an id, the question, the model answer, a point's text, hint, keyword or
#: other wording: no longer than an answer may be), the depth of its nesting and the length of
#: a number. spaCy refuses texts longer than ``nlp.max_length`` (200,000 characters), so a
#: rubric that passes ``rubric check`` also loads.
MAX_RUBRIC_BYTES = 1_000_000
MAX_CONTEXT_CHARS = 100_000
MAX_FIELD_CHARS = MAX_ANSWER_CHARS
MAX_ID_CHARS = 100
MAX_DEPTH = 16
MAX_NUMBER_CHARS = 32
#: All the points' texts, accepted wordings and keyword alternatives together. Fitting a
#: rubric builds matrices that grow with the square of their words (40,000 characters took
#: 3.4 s and 1.7 GB; the per-field limits alone let a 1 MB file ask for 542 GiB, and a page
#: that reloads its rubrics would stall on it); the shipped rubrics hold about 3,000, the
#: public sets' drafted ones at most 3,500.
MAX_WORDING_CHARS = 20_000
#: The most points a rubric may hold for the workshop (``workshop.size_problems``) and the most
#: ``rubric extract`` drafts (``extract.draft_rubric``'s ``max_points``): far above a real mark
#: scheme's points, and a rubric file with more is still valid everywhere else.
MAX_POINTS = 40
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
RUBRIC_KEYS = (
    "id", "question", "max_score", "model_answer", "points", "bands", "context", "subject",
    "notes", "thresholds", "mark_shift",
)
POINT_KEYS = ("id", "text", "keywords", "weight", "hint", "accept")
THRESHOLD_KEYS = ("covered", "partial")


@dataclass(frozen=True)
class Point:
    """One point of a mark scheme: a claim the answer should make."""

    id: str
    text: str
    keywords: tuple[tuple[str, ...], ...] = ()
    weight: float = 1.0
    hint: str | None = None
    #: other wordings that make the same point equally well (a mark scheme's "accept: ...")
    accept: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rubric:
    """A question with its model answer and the points a good answer makes."""

    id: str
    question: str
    max_score: float
    model_answer: str
    points: tuple[Point, ...]
    bands: tuple[tuple[float, float], ...] = ()
    context: str = ""
    subject: str = ""
    notes: str = ""
    thresholds: dict[str, float] = field(default_factory=dict)
    #: share of ``max_score`` added to every mark (taken off if negative), the mark then kept
    #: within 0..max_score: how leniently this question is marked, learned by
    #: ``essaycheck calibrate`` from a teacher's marks
    mark_shift: float = 0.0

    def point(self, point_id: str) -> Point:
        """The point with this id (KeyError if there is none)."""
        for point in self.points:
            if point.id == point_id:
                return point
        raise KeyError(point_id)

    def to_dict(self) -> dict[str, Any]:
        """The rubric as plain data in the file format, ready for ``yaml.safe_dump``."""
        data: dict[str, Any] = {"id": self.id}
        if self.subject:
            data["subject"] = self.subject
        data.update(question=self.question, max_score=_plain_number(self.max_score))
        if self.notes:
            data["notes"] = self.notes
        data["model_answer"] = self.model_answer
        if self.bands:
            data["bands"] = {_plain_number(k): _plain_number(v) for k, v in self.bands}
        if self.thresholds:
            data["thresholds"] = dict(self.thresholds)
        if self.mark_shift:
            data["mark_shift"] = _plain_number(self.mark_shift)
        points = []
        for point in self.points:
            entry: dict[str, Any] = {"id": point.id, "text": point.text}
            if point.keywords:
                entry["keywords"] = [list(group) for group in point.keywords]
            if point.weight != 1.0:
                entry["weight"] = _plain_number(point.weight)
            if point.hint:
                entry["hint"] = point.hint
            if point.accept:
                entry["accept"] = list(point.accept)
            points.append(entry)
        data["points"] = points
        if self.context:
            data["context"] = self.context
        return data


def _plain_number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def dump_rubric(rubric: Rubric) -> str:
    """The rubric as YAML text in the file format, readable by ``parse_rubric``."""
    return yaml.safe_dump(rubric.to_dict(), sort_keys=False, allow_unicode=True, width=96)


class _Refused(yaml.YAMLError):
    """YAML the rubric loader refuses, at a place in the file, with the fix."""

    def __init__(self, mark, message: str, fix: str) -> None:
        super().__init__(message)
        self.mark, self.message, self.fix = mark, message, fix


class _RubricLoader(yaml.SafeLoader):
    """PyYAML's safe loader, stricter where a rubric never needs all of YAML.

    Aliases are refused outright rather than counted: the rubric format is plain data that
    neither ``dump_rubric`` nor the shipped rubrics ever write with an anchor, and an alias
    can make a small file expand into billions of values. Nesting deeper than ``MAX_DEPTH``
    (a rubric needs six levels), numbers longer than ``MAX_NUMBER_CHARS`` and a key given twice
    in one mapping (YAML would silently keep the last) are refused too.
    """

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        """Compose one node, refusing aliases and deep nesting where they start."""
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(event.start_mark, f"uses the YAML alias *{event.anchor}: anchors "
                           "and aliases are not allowed in a rubric",
                           "write the value out in full where the alias is")
        if self._depth >= MAX_DEPTH:
            raise _Refused(event.start_mark, f"is nested more than {MAX_DEPTH} levels deep",
                           "a rubric needs a few levels only; check for unclosed or stray "
                           "'[' and '{'")
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        """Build a mapping, refusing a key given twice and naming the lines of both."""
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.setdefault(key, key_node)
            except TypeError:  # an unhashable key: PyYAML's own message names it
                continue
            if first is not key_node:
                raise _Refused(key_node.start_mark, f"{_shown(key)} is given twice, on line "
                               f"{first.start_mark.line + 1} and on line "
                               f"{key_node.start_mark.line + 1}",
                               "keep one of them: YAML would silently use the last")
        return super().construct_mapping(node, deep)

    def construct_short_number(self, node):
        """An int or float scalar, refused if it is longer than any number a rubric needs."""
        if len(node.value) > MAX_NUMBER_CHARS:
            raise _Refused(node.start_mark, f"a number {len(node.value)} characters long",
                           "write a plain number such as 6")
        if node.tag.endswith(":int"):
            return self.construct_yaml_int(node)
        return self.construct_yaml_float(node)


_RubricLoader.add_constructor("tag:yaml.org,2002:int", _RubricLoader.construct_short_number)
_RubricLoader.add_constructor("tag:yaml.org,2002:float", _RubricLoader.construct_short_number)


class _ShortRepr(reprlib.Repr):
    """``repr`` cut short, for values quoted in messages: a value can be huge."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel, self.maxlist, self.maxdict, self.maxtuple, self.maxset = 2, 4, 4, 4, 4
        self.maxstring = self.maxother = 40

    def repr_int(self, x, level):
        if x.bit_length() > 128:  # repr itself refuses ints of more than 4,300 digits
            return f"<a number of about {int(x.bit_length() * math.log10(2)) + 1} digits>"
        return super().repr_int(x, level)


_shown = _ShortRepr().repr


def compose_rubric(text: str) -> yaml.Node | None:
    """The YAML node tree of rubric text (with each node's place in the text), read as
    ``parse_rubric`` reads it: aliases and deep nesting refused (``yaml.YAMLError``)."""
    return yaml.compose(text, Loader=_RubricLoader)  # noqa: S506 - a safe loader, stricter


def parse_rubric(text: str | bytes | IO[str], source: str = "<rubric>") -> Rubric:
    """Parse and validate rubric YAML of at most ``MAX_RUBRIC_BYTES``; raise ``RubricError``
    listing every problem found."""
    if hasattr(text, "read"):
        text = text.read(MAX_RUBRIC_BYTES + 1)
    size = len(text) if isinstance(text, bytes) else len(
        str(text).encode("utf-8", "surrogatepass"))
    if size > MAX_RUBRIC_BYTES:
        raise RubricError([RubricProblem(
            source, "", f"is larger than a rubric file may be ({MAX_RUBRIC_BYTES:,} bytes)",
            f"shorten it: the context may hold up to {MAX_CONTEXT_CHARS:,} characters, "
            f"every other text {MAX_FIELD_CHARS:,}")])
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise RubricError([RubricProblem(
                source, "", f"not UTF-8 text (bad byte at position {exc.start})",
                "save the file as UTF-8")]) from None
    try:
        data = yaml.load(text, Loader=_RubricLoader)  # noqa: S506 - a safe loader, stricter
    except _Refused as exc:
        raise RubricError([RubricProblem(
            source, f"line {exc.mark.line + 1}, column {exc.mark.column + 1}", exc.message,
            exc.fix)]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise RubricError([RubricProblem(
            source, where, f"not valid YAML: {problem}",
            "check indentation and quote text that contains ': ' or starts with a symbol")]
        ) from None
    return validate_rubric(data, source)


def validate_rubric(data: Any, source: str = "<rubric>") -> Rubric:
    """Check plain data in the rubric format and build a ``Rubric``, or raise ``RubricError``."""
    problems: list[RubricProblem] = []

    def problem(field_name: str, message: str, fix: str = "") -> None:
        problems.append(RubricProblem(source, field_name, message, fix))

    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise RubricError([RubricProblem(
            source, "", f"the file is {kind}, not a mapping of fields",
            "start from an example in rubric/ or run 'essaycheck rubric extract'")])

    _unknown_keys(data, RUBRIC_KEYS, "", problem)
    rubric_id = _text(data, "id", "", problem, required=True, limit=MAX_ID_CHARS)
    if rubric_id and not ID_PATTERN.match(rubric_id):
        problem("id", f"{rubric_id!r} is not a valid id",
                "use lower-case letters, digits, '-', '_' or '.', e.g. secret-speech-1956")
    question = _text(data, "question", "", problem, required=True)
    model_answer = _text(data, "model_answer", "", problem, required=True)
    context = _text(data, "context", "", problem, limit=MAX_CONTEXT_CHARS)
    subject = _text(data, "subject", "", problem)
    notes = _text(data, "notes", "", problem)
    max_score = _number(data, "max_score", "", problem, required=True, positive=True)
    thresholds = _thresholds(data.get("thresholds"), problem)
    mark_shift = _number(data, "mark_shift", "", problem)
    if not -1.0 <= mark_shift <= 1.0:
        problem("mark_shift", f"must be between -1 and 1 (a share of max_score), not "
                f"{mark_shift:g}", "remove it, or run 'essaycheck calibrate' to learn it")
        mark_shift = 0.0

    points: list[Point] = []
    raw_points = data.get("points")
    if raw_points is None:
        problem("points", "missing required field",
                "add a list of points, each with an id and text")
    elif not isinstance(raw_points, list) or not raw_points:
        problem("points", "must be a non-empty list", "add at least one point with an id and text")
    else:
        seen: dict[str, int] = {}
        for index, raw in enumerate(raw_points):
            point = _point(raw, f"points[{index}]", problem)
            if point is None:
                continue
            if point.id in seen:
                problem(f"points[{index}].id", f"duplicate point id {point.id!r} "
                        f"(also points[{seen[point.id]}])", "give every point its own id")
            else:
                seen[point.id] = index
            points.append(point)

    total_chars = sum(wording_chars(point) for point in points)
    if total_chars > MAX_WORDING_CHARS:
        problem("points", f"too long in all: the points' texts, accepted wordings and keywords "
                f"hold {total_chars:,} characters, the limit is {MAX_WORDING_CHARS:,}",
                "shorten the longest accepted wordings and point texts, or split the question "
                "into two rubrics")
    bands = _bands(data.get("bands"), len(points), max_score, problem)
    if problems:
        raise RubricError(problems)
    return Rubric(
        id=rubric_id, question=question, max_score=float(max_score), model_answer=model_answer,
        points=tuple(points), bands=bands, context=context, subject=subject, notes=notes,
        thresholds=thresholds, mark_shift=mark_shift,
    )


def wording_chars(point: Point) -> int:
    """The characters of a point that fitting turns into features: its text, its accepted
    wordings and its keyword alternatives."""
    return (len(point.text) + sum(map(len, point.accept))
            + sum(len(word) for group in point.keywords for word in group))


def _unknown_keys(data: dict, allowed: tuple[str, ...], prefix: str, problem) -> None:
    for key in data:
        if key in allowed:
            continue
        close = difflib.get_close_matches(str(key), allowed, n=1)
        fix = f"did you mean {close[0]!r}?" if close else f"allowed fields: {', '.join(allowed)}"
        problem(f"{prefix}{key}", "unknown field", fix)


def _field(data: dict, key: str, prefix: str, problem, required: bool, what: str) -> Any:
    """The field's value, or None where it is absent (or null): then, if it is required, a
    problem that says to add it with ``what`` ("some text", "a number")."""
    value = data.get(key)
    if value is None and required:
        problem(prefix + key, "missing required field", f"add '{key}:' with {what}")
    return value


def _text(data: dict, key: str, prefix: str, problem, required: bool = False,
          limit: int = MAX_FIELD_CHARS) -> str:
    value = _field(data, key, prefix, problem, required, "some text")
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        problem(prefix + key, f"must be text, not a {type(value).__name__}",
                "write it as plain text")
        return ""
    if not _short_enough(value, prefix + key, limit, problem):
        return ""
    # control characters are never meant in a rubric; as spaces they cannot hide an empty field
    text = _CONTROL.sub(" ", str(value)).strip()
    if required and not text:
        problem(prefix + key, "is empty", f"write the {key.replace('_', ' ')}")
    return text


def _short_enough(value: str | int | float, where: str, limit: int, problem) -> bool:
    """False (and a problem) for text longer than ``limit`` characters."""
    if isinstance(value, int) and value.bit_length() > 128:
        problem(where, "is a number far too long to be text", "write it as plain text")
        return False
    length = len(str(value))
    if length > limit:
        problem(where, f"is {length:,} characters long; it may be at most {limit:,}",
                "shorten it" + (": keep the passage the answers draw on"
                                if where == "context" else ""))
        return False
    return True


def _finite(value: Any) -> float | None:
    """The value as a float if it is a finite number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int beyond any float
        return None
    return number if math.isfinite(number) else None


def _number(data: dict, key: str, prefix: str, problem, required: bool = False,
            positive: bool = False) -> float:
    value = _field(data, key, prefix, problem, required, "a number")
    if value is None:
        return 0.0
    number = _finite(value)
    if number is None:
        problem(prefix + key, f"must be a number, not {_shown(value)}",
                "write a plain number such as 6")
        return 0.0
    if positive and number <= 0:
        problem(prefix + key, f"must be greater than 0, not {number:g}", "use a positive number")
        return 0.0
    return number


def _point(raw: Any, where: str, problem) -> Point | None:
    if not isinstance(raw, dict):
        problem(where, "must be a mapping with at least 'id' and 'text'",
                "write the point as '- id: ...' with 'text: ...' indented below it")
        return None
    prefix = where + "."
    _unknown_keys(raw, POINT_KEYS, prefix, problem)
    point_id = _text(raw, "id", prefix, problem, required=True, limit=MAX_ID_CHARS)
    if point_id and not ID_PATTERN.match(point_id):
        problem(prefix + "id", f"{point_id!r} is not a valid id",
                "use lower-case letters, digits, '-', '_' or '.', e.g. weaken-rivals")
    text = _text(raw, "text", prefix, problem, required=True)
    hint = _text(raw, "hint", prefix, problem) or None
    weight = 1.0
    if raw.get("weight") is not None:
        weight = _number(raw, "weight", prefix, problem, positive=True) or 1.0
    keywords = _keywords(raw.get("keywords"), prefix + "keywords", problem)
    accept = _accept(raw.get("accept"), prefix + "accept", problem)
    return Point(id=point_id, text=text, keywords=keywords, weight=weight, hint=hint,
                 accept=accept)


def _accept(raw: Any, where: str, problem) -> tuple[str, ...]:
    """Other wordings of a point: a list of sentences (or one), each a complete statement."""
    if raw is None:
        return ()
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list):
        problem(where, "must be a list of other wordings of the point",
                "write e.g. accept: [\"the terminals are not connected\"]")
        return ()
    return tuple(" ".join(text.split()) for _, text in _wordings(
        items, where, problem, "must be a non-empty sentence",
        "remove it or write the other wording"))


def _wordings(items: list, where: str, problem, what: str, fix: str,
              refused: tuple[str, ...] = ()) -> Iterator[tuple[int, str]]:
    """Each item of a list of wordings (keyword alternatives, ``accept:`` sentences) that is
    non-empty text (or a number) within the length limit and not one of ``refused``, as its
    index and its text stripped; a problem (``what``, ``fix``) for every other item."""
    for index, item in enumerate(items):
        at = f"{where}[{index}]"
        if isinstance(item, bool) or not isinstance(item, (str, int, float)) \
                or not str(item).strip() or str(item).strip() in refused:
            problem(at, what, fix)
            continue
        if _short_enough(item, at, MAX_FIELD_CHARS, problem):
            yield index, str(item).strip()


def _keywords(raw: Any, where: str, problem) -> tuple[tuple[str, ...], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problem(where, "must be a list of groups of alternatives",
                "write e.g. keywords: [[rival, rivals, opponent], [purge, purges]]")
        return ()
    groups = []
    for index, group in enumerate(raw):
        items = [group] if isinstance(group, (str, int, float)) and not isinstance(group, bool) \
            else group
        if not isinstance(items, list) or not items:
            problem(f"{where}[{index}]", "must be a word or a non-empty list of alternatives",
                    "write e.g. [rival, opponent, enemy]")
            continue
        alternatives, common = [], []
        for alt_index, alternative in _wordings(
                items, f"{where}[{index}]", problem, "must be a non-empty word or phrase",
                "remove it or write the word", refused=("*",)):
            alternatives.append(alternative)
            if not _has_content_word(alternative):
                common.append((alt_index, alternative))
        # A group met by words almost any answer holds makes its point nearly free. One
        # common alternative in a group of content words is the author's choice ("but",
        # "however" among the words of a balanced judgement), so only whole groups are refused.
        if alternatives and len(common) == len(alternatives):
            problem(f"{where}[{index}]", "holds only common words (" + ", ".join(
                _shown(alt) for _, alt in common[:6]) + "), which almost any answer contains, "
                "so it would make the point easy to earn", "replace them with words that carry "
                "the point, e.g. [rival, opponent, enemy], or add such words to the group")
        if alternatives:
            groups.append(tuple(alternatives))
    return tuple(groups)


def _has_content_word(alternative: str) -> bool:
    """False for a keyword alternative whose every word is an English stop word or a negation
    cue ("the", "of the", "not"), which almost any answer holds; True for anything else, so
    that nothing the analysis may read as a content word ("a.", "q.", "1956") is refused. The
    stem of a wildcard ("show*") counts as content from four letters: it meets longer words."""
    words = alternative.lower().split()
    if alternative.endswith("*") and words:
        words[-1] = words[-1][:-1]
        if len(words[-1]) >= 4:
            return True
    return any(word not in _stop_words() and word not in NEGATION_CUES for word in words)


@functools.cache
def _stop_words() -> frozenset[str]:
    """spaCy's English stop words, the list the analysis marks stop words by."""
    from spacy.lang.en.stop_words import STOP_WORDS  # spaCy loads on first use

    return frozenset(STOP_WORDS)


def _thresholds(raw: Any, problem) -> dict[str, float]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problem("thresholds", "must be a mapping such as {covered: 0.5, partial: 0.3}",
                "remove it to use the defaults, or run 'essaycheck calibrate'")
        return {}
    _unknown_keys(raw, THRESHOLD_KEYS, "thresholds.", problem)
    result = {}
    for key in THRESHOLD_KEYS:
        if key in raw:
            value = _number(raw, key, "thresholds.", problem)
            if not 0.0 <= value <= 1.0:
                problem(f"thresholds.{key}", f"must be between 0 and 1, not {value}",
                        "use a value such as 0.5")
            else:
                result[key] = value
    if {"covered", "partial"} <= result.keys() and result["partial"] > result["covered"]:
        problem("thresholds.partial", "must not be greater than thresholds.covered",
                "lower 'partial' or raise 'covered'")
    return result


def _bands(raw: Any, n_points: int, max_score: float, problem) -> tuple[tuple[float, float], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict) or not raw:
        problem("bands", "must be a mapping of points covered to mark, e.g. {4: 3, 3: 2, 1: 1}",
                "remove 'bands' to score by the weighted share of points")
        return ()
    bands = []
    for key, mark in raw.items():
        where = f"bands.{_shown(key)}"
        if _finite(key) is None:
            problem(where, "the number of points covered must be a number",
                    "write e.g. '4: 3' for 'four points covered earn 3 marks'")
            continue
        if not 0 <= key <= n_points:
            problem(where, f"{key} points covered is out of range: the rubric has "
                    f"{n_points} points",
                    f"use a number from 0 to {n_points}")
            continue
        if _finite(mark) is None:
            problem(where, f"the mark must be a number, not {_shown(mark)}",
                    "write a plain number")
            continue
        if max_score and not 0 <= mark <= max_score:
            problem(where, f"mark {mark} is out of range 0 to max_score ({max_score:g})",
                    "lower the mark or raise max_score")
            continue
        bands.append((float(key), float(mark)))
    bands.sort()
    for (low_key, low_mark), (high_key, high_mark) in pairwise(bands):
        if high_mark < low_mark:
            problem(f"bands.{_plain_number(high_key)}",
                    f"covering more points ({_plain_number(high_key)}) earns less than covering "
                    f"{_plain_number(low_key)} ({high_mark:g} < {low_mark:g})",
                    "make marks rise with the number of points covered")
    return tuple(bands)
