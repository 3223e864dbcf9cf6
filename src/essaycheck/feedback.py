"""Turning point matches into a mark and feedback a student can act on."""

from __future__ import annotations

from .analysis import Analysis
from .matching import PointMatch
from .results import COVERED, MISSED, PARTIAL, CheckResult, PointResult, Span
from .rubric import Point, Rubric

CREDIT = {COVERED: 1.0, PARTIAL: 0.5, MISSED: 0.0}


def derive_hint(point: Point) -> str:
    """A hint for a point whose rubric gives none: the point itself, as something to add."""
    text = point.text.rstrip(". ")
    return f"Add this point in your own words: {text[0].lower() + text[1:] if text else text}."


def mark(rubric: Rubric, statuses: list[str]) -> float:
    """The mark for these point statuses: by the rubric's bands if it has them, else the
    weighted share of points covered (partial counts half) times ``max_score``; then moved by
    the rubric's calibrated ``mark_shift`` and kept within 0..max_score."""
    if rubric.bands:
        count = sum(CREDIT[s] for s in statuses)
        earned = 0.0
        for needed, band_mark in rubric.bands:
            if count >= needed:
                earned = band_mark
    else:
        total = sum(p.weight for p in rubric.points)
        share = sum(p.weight * CREDIT[s]
                    for p, s in zip(rubric.points, statuses, strict=True)) / total
        earned = share * rubric.max_score
    if rubric.mark_shift:
        earned = min(rubric.max_score, max(0.0, earned + rubric.mark_shift * rubric.max_score))
    return round(earned, 1)


def build_result(rubric: Rubric, matches: list[PointMatch], analysis: Analysis,
                 question_overlap: float, word_count: int) -> CheckResult:
    """Assemble the ``CheckResult`` for one answer from its point matches."""
    points = []
    for point, match in zip(rubric.points, matches, strict=True):
        evidence = tuple(Span(a, b, analysis.text[a:b]) for a, b in match.sentence_spans)
        hint = None
        note = None
        if match.status != COVERED:
            hint = point.hint or derive_hint(point)
        if match.negated:
            note = "Your answer seems to say the opposite of this point."
        elif match.listed and match.status != MISSED:
            note = "Named in a list of key words: explain it in a sentence to earn it fully."
        elif match.status == PARTIAL:
            note = "Touched on, but not fully made."
        points.append(PointResult(
            point_id=point.id, point_text=point.text, status=match.status,
            confidence=match.strength, weight=point.weight, matched_terms=match.matched_terms,
            evidence=evidence, hint=hint, note=note))
    statuses = [m.status for m in matches]
    score = mark(rubric, statuses)
    warnings = []
    if question_overlap >= 0.7 and statuses.count(COVERED) == 0:
        warnings.append("Your answer mostly repeats the question: answer it in your own words.")
    if any(m.listed for m in matches if m.status != MISSED):
        warnings.append("Parts of your answer are lists of key words: full credit needs "
                        "sentences that explain each point.")
    covered, partial = statuses.count(COVERED), statuses.count(PARTIAL)
    summary = f"{covered} of {len(statuses)} points covered"
    if partial:
        summary += f", {partial} partly"
    summary += f": {score:g} out of {rubric.max_score:g}"
    if rubric.mark_shift:
        summary += (f", with {rubric.mark_shift * rubric.max_score:+.1f} from your teacher's "
                    "calibration of how this question is marked")
    summary += "."
    return CheckResult(
        question_id=rubric.id, score=score, max_score=rubric.max_score, points=tuple(points),
        word_count=word_count, summary=summary, warnings=tuple(warnings))
