"""Plain dataclasses the core returns: one result per answer, one per rubric point."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

COVERED = "covered"
PARTIAL = "partial"
MISSED = "missed"
STATUSES = (COVERED, PARTIAL, MISSED)


@dataclass(frozen=True)
class Span:
    """A stretch of the student's own text, by character offsets into the answer as given."""

    start: int
    end: int
    text: str
    #: the span is a window of a longer sentence, cut before / after it (the quote says so
    #: with an ellipsis)
    cut_before: bool = False
    cut_after: bool = False


@dataclass(frozen=True)
class PointResult:
    """How one rubric point fared in one answer, with the evidence that decided it."""

    point_id: str
    point_text: str
    status: str
    confidence: float
    weight: float
    matched_terms: tuple[str, ...] = ()
    evidence: tuple[Span, ...] = ()
    hint: str | None = None
    note: str | None = None

    @property
    def quote(self) -> str:
        """The student's words that earned this point, or an empty string: the evidence
        spans joined by an ellipsis, with one where a long sentence was cut (bounded by
        ``matching.matcher.QUOTE_WHOLE`` and its neighbours, not by the answer's length)."""
        if not self.evidence:
            return ""
        quote = " … ".join(span.text for span in self.evidence)
        if self.evidence[0].cut_before:
            quote = "… " + quote
        if self.evidence[-1].cut_after:
            quote += " …"
        return quote


@dataclass(frozen=True)
class CheckResult:
    """The feedback for one answer to one question."""

    question_id: str
    score: float
    max_score: float
    points: tuple[PointResult, ...]
    word_count: int
    summary: str
    warnings: tuple[str, ...] = field(default=())

    @property
    def covered(self) -> tuple[PointResult, ...]:
        """Points the answer makes."""
        return tuple(p for p in self.points if p.status == COVERED)

    @property
    def partial(self) -> tuple[PointResult, ...]:
        """Points the answer touches on without making them fully."""
        return tuple(p for p in self.points if p.status == PARTIAL)

    @property
    def missed(self) -> tuple[PointResult, ...]:
        """Points the answer does not make."""
        return tuple(p for p in self.points if p.status == MISSED)

    def to_dict(self) -> dict:
        """A JSON-ready dictionary of the whole result: its fields in order, each point's
        too, plus each point's ``quote`` (as ``dataclasses.asdict`` would give it, about ten
        times faster; a span's ``cut_before``/``cut_after`` are left out, the quote's
        ellipses say them)."""
        data = {name: getattr(self, name) for name in _RESULT_FIELDS}
        data["points"] = tuple(_point_dict(point) for point in self.points)
        return data


def _point_dict(point: PointResult) -> dict:
    data = {name: getattr(point, name) for name in _POINT_FIELDS}
    data["evidence"] = tuple({"start": span.start, "end": span.end, "text": span.text}
                             for span in point.evidence)
    data["quote"] = point.quote
    return data


_RESULT_FIELDS = tuple(f.name for f in fields(CheckResult))
_POINT_FIELDS = tuple(f.name for f in fields(PointResult))
