"""Turning point matches into a mark and feedback a student can act on."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

from .analysis import Analysis
from .matching import DEFAULT_THRESHOLDS, PointMatch
from .results import COVERED, MISSED, PARTIAL, CheckResult, PointResult, Span
from .rubric import Point, Rubric

#: a status's credit, as a mark scheme's bands count points (partial counts half)
CREDIT = {COVERED: 1.0, PARTIAL: 0.5, MISSED: 0.0}
#: decimals a mark keeps: a tenth of a one-mark question would throw evidence away again
MARK_DECIMALS = 2
#: An answer "mostly repeats the question" when at least this share of its content words are
#: the question's own (spelled as the matcher reads them, so a misspelt copy is one too) ...
REPEAT_SHARE = 0.8
#: ... and it reproduces at least this share of the question's distinct content words: a
#: copy, not a short answer in the question's terms (science questions name the answer's
#: words: "They all threw the ball at the line"). Both chosen out of fold by
#: scripts/mark_ablation.py (ACCURACY.md, "The mark and the question's words").
REPEAT_REPRODUCES = 0.8


def derive_hint(point: Point) -> str:
    """A hint for a point whose rubric gives none: the point itself, as something to add."""
    text = point.text.rstrip(". ")
    return f"Add this point in your own words: {text[0].lower() + text[1:] if text else text}."


def scaled_confidence(value: float, covered: float, partial: float) -> float:
    """Piecewise-linear map of a point's confidence through (0, 0), (partial, 1/3),
    (covered, 2/3) and (1, 1): the continuous score's (``evaluation.credit``) credit."""
    value = min(1.0, max(0.0, float(value)))
    partial = min(max(partial, 1e-6), covered)
    if value < partial:
        return value / partial / 3
    if value < covered:
        return 1 / 3 + (value - partial) / max(covered - partial, 1e-6) / 3
    return 2 / 3 + (value - covered) / max(1 - covered, 1e-6) / 3


def point_credit(confidence: float, covered: float, partial: float,
                 listed: bool = False) -> float:
    """A point's share of its weight in the mark: 1 when covered; below that its
    :func:`scaled_confidence`, so each status keeps its band (missed under 1/3, partial under
    2/3) and the evidence within it still counts; a point named only in a list of key words
    earns at most a partial point's ``CREDIT``."""
    if confidence >= covered and not listed:
        return 1.0
    value = scaled_confidence(min(confidence, covered - 1e-9), covered, partial)
    return min(value, CREDIT[PARTIAL]) if listed else value


def question_reproduced(words: Iterable[str], question_words: Collection[str]) -> float:
    """The share of the question's distinct content words that an answer's content words
    (``words``) use (0 for a question without any)."""
    return len(set(question_words).intersection(words)) / len(question_words) \
        if question_words else 0.0


def repeats_question(overlap: float, reproduced: float) -> bool:
    """Whether an answer mostly repeats the question: at least ``REPEAT_SHARE`` of its content
    words are the question's (``overlap``) and it uses at least ``REPEAT_REPRODUCES`` of the
    question's distinct content words (``reproduced``, :func:`question_reproduced`)."""
    return overlap >= REPEAT_SHARE and reproduced >= REPEAT_REPRODUCES


def mark(rubric: Rubric, statuses: list[str], credits: Sequence[float] | None = None
         ) -> float:
    """The mark for these points: by the rubric's bands if it has them (counting statuses),
    else the weighted mean of the points' ``credits`` (:func:`point_credit`; without them,
    their statuses' ``CREDIT``) times ``max_score``; then moved by the rubric's calibrated
    ``mark_shift``, kept within 0..max_score and rounded to ``MARK_DECIMALS``."""
    if rubric.bands:
        count = sum(CREDIT[s] for s in statuses)
        earned = 0.0
        for needed, band_mark in rubric.bands:
            if count >= needed:
                earned = band_mark
    else:
        if credits is None:
            credits = [CREDIT[s] for s in statuses]
        total = sum(p.weight for p in rubric.points)
        share = sum(p.weight * c for p, c in zip(rubric.points, credits, strict=True)) / total
        earned = share * rubric.max_score
    if rubric.mark_shift:
        earned = min(rubric.max_score, max(0.0, earned + rubric.mark_shift * rubric.max_score))
    return round(earned, MARK_DECIMALS)


def build_result(rubric: Rubric, matches: list[PointMatch], analysis: Analysis,
                 question_overlap: float, word_count: int,
                 thresholds: tuple[float, float] = DEFAULT_THRESHOLDS,
                 question_reproduced: float = 1.0) -> CheckResult:
    """Assemble the ``CheckResult`` for one answer from its point matches, marked from their
    confidences under the matcher's ``thresholds`` (covered, partial). ``question_overlap``
    and ``question_reproduced`` say how far the answer repeats the question
    (:func:`repeats_question`): if it does and covers no point, it earns nothing."""
    points = []
    for point, match in zip(rubric.points, matches, strict=True):
        cuts = match.cuts or ((False, False),) * len(match.sentence_spans)
        evidence = tuple(Span(a, b, analysis.text[a:b], before, after)
                         for (a, b), (before, after) in zip(match.sentence_spans, cuts,
                                                            strict=True))
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
    repeats = (repeats_question(question_overlap, question_reproduced)
               and statuses.count(COVERED) == 0)
    # copying the question earns nothing, however much of the points' wording it shares
    credits = [0.0 if repeats else point_credit(m.strength, *thresholds, m.listed)
               for m in matches]
    score = mark(rubric, statuses, credits)
    warnings = []
    if repeats:
        warnings.append("Your answer mostly repeats the question: answer it in your own words.")
    if any(m.listed for m in matches if m.status != MISSED):
        warnings.append("Parts of your answer are lists of key words: full credit needs "
                        "sentences that explain each point.")
    covered, partial = statuses.count(COVERED), statuses.count(PARTIAL)
    summary = f"{covered} of {len(statuses)} points covered"
    if partial:
        summary += f", {partial} partly"
    summary += f": {score:g} out of {rubric.max_score:g}"
    if repeats and partial:
        # the points partly made earn nothing here: say why, so the sentence fits the mark
        summary += ", as your answer mostly repeats the question"
    if rubric.mark_shift:
        summary += (f", with {rubric.mark_shift * rubric.max_score:+.1f} from your teacher's "
                    "calibration of how this question is marked")
    summary += "."
    return CheckResult(
        question_id=rubric.id, score=score, max_score=rubric.max_score, points=tuple(points),
        word_count=word_count, summary=summary, warnings=tuple(warnings))
