"""How results are shown to people, the same way on the student page, in the class report and
in the CLI's files: numbers, shortened text, and an answer split into evidence runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from .results import COVERED, PARTIAL, PointResult

#: What ``truncate`` puts in place of the text it cuts.
ELLIPSIS = "…"


def format_number(value: float | None) -> str:
    """A score or weight as a person writes it: ``2`` not ``2.0``, ``1.5``; ``""`` for None."""
    return "" if value is None else f"{value:g}"


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


@dataclass(frozen=True)
class EvidenceRun:
    """A run of an answer: plain text, or evidence for the listed points (1-based numbers)
    with the best status among them (covered, else partial)."""

    text: str
    points: tuple[int, ...] = ()
    status: str | None = None

    @property
    def is_evidence(self) -> bool:
        """Whether the run is evidence for some point (else plain text)."""
        return self.status is not None


def evidence_runs(text: str, points: Sequence[PointResult], *, join_overlaps: bool = False
                  ) -> list[EvidenceRun]:
    """Split an answer into plain runs and evidence runs, in order, covering the whole text.

    The text is cut wherever a covered or partial point's evidence starts or ends; neighbouring
    pieces are then joined into one run when they are evidence for the same points with the
    same status, or, with ``join_overlaps`` (the student page), whenever evidence spans across
    the cut, so that overlapping evidence is one run naming every point it supports.
    """
    spans = [(span.start, span.end, number, point.status)
             for number, point in enumerate(points, 1) if point.status in (COVERED, PARTIAL)
             for span in point.evidence if 0 <= span.start < span.end <= len(text)]
    bounds = sorted({0, len(text), *(s[0] for s in spans), *(s[1] for s in spans)})
    runs: list[EvidenceRun] = []
    for start, end in pairwise(bounds):
        active = [s for s in spans if s[0] <= start and end <= s[1]]
        numbers = {s[2] for s in active}
        status = (COVERED if any(s[3] == COVERED for s in active) else PARTIAL) \
            if active else None
        if runs:
            last = runs[-1]
            if join_overlaps:
                joined = any(s[0] < start < s[1] for s in spans)
            else:
                joined = last.points == tuple(sorted(numbers)) and last.status == status
            if joined:
                status = COVERED if COVERED in (last.status, status) else status
                runs[-1] = EvidenceRun(last.text + text[start:end],
                                       tuple(sorted(numbers.union(last.points))), status)
                continue
        runs.append(EvidenceRun(text[start:end], tuple(sorted(numbers)), status))
    return runs
