"""feedback: from point confidences to a mark and a student's hints, without spaCy."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from essaycheck.feedback import (
    CREDIT,
    REPEAT_REPRODUCES,
    REPEAT_SHARE,
    build_result,
    derive_hint,
    mark,
    point_credit,
    question_reproduced,
    repeats_question,
    scaled_confidence,
)
from essaycheck.results import COVERED, MISSED, PARTIAL

COVERED_AT, PARTIAL_AT = 0.5, 0.28


def test_a_point_without_a_hint_gets_itself_as_something_to_add(make_rubric):
    point = make_rubric().points[0]
    assert derive_hint(point) == ("Add this point in your own words: plants make glucose by "
                                  "photosynthesis.")


@pytest.mark.parametrize("value, expected", [(0.0, 0.0), (PARTIAL_AT, 1 / 3),
                                             (COVERED_AT, 2 / 3), (1.0, 1.0), (-3, 0.0),
                                             (7, 1.0)])
def test_scaled_confidence_puts_the_thresholds_at_thirds(value, expected):
    assert scaled_confidence(value, COVERED_AT, PARTIAL_AT) == pytest.approx(expected)


@given(st.floats(0, 1), st.floats(0, 1))
def test_scaled_confidence_is_monotone(a, b):
    low, high = sorted((a, b))
    assert (scaled_confidence(low, COVERED_AT, PARTIAL_AT)
            <= scaled_confidence(high, COVERED_AT, PARTIAL_AT))


@given(st.floats(0, 1), st.booleans())
def test_a_points_credit_stays_in_its_statuss_band(confidence, listed):
    credit = point_credit(confidence, COVERED_AT, PARTIAL_AT, listed=listed)
    if confidence >= COVERED_AT and not listed:
        assert credit == 1.0
    elif confidence >= PARTIAL_AT:
        assert 1 / 3 - 1e-9 <= credit <= 2 / 3
    else:
        assert 0 <= credit < 1 / 3
    if listed:
        assert credit <= CREDIT[PARTIAL]


def test_the_mark_is_the_weighted_share_of_credit_times_max_score(make_rubric):
    rubric = make_rubric(points=[dict(p, weight=w) for p, w in
                                 zip(make_rubric().to_dict()["points"], (1, 3), strict=True)])
    assert mark(rubric, [COVERED, MISSED]) == 0.5          # 1 of 4 weights, of 2 marks
    assert mark(rubric, [MISSED, COVERED]) == 1.5
    assert mark(rubric, [COVERED, PARTIAL], credits=[1.0, 0.4]) == pytest.approx(1.1)


def test_bands_count_statuses_with_partial_as_half(make_rubric):
    rubric = make_rubric(max_score=3, bands={2: 3, 1: 1})
    assert mark(rubric, [MISSED, MISSED]) == 0
    assert mark(rubric, [PARTIAL, PARTIAL]) == 1
    assert mark(rubric, [COVERED, PARTIAL]) == 1
    assert mark(rubric, [COVERED, COVERED]) == 3


def test_a_calibrated_shift_moves_the_mark_within_zero_and_max_score(make_rubric):
    lenient = make_rubric(mark_shift=0.25)
    harsh = make_rubric(mark_shift=-0.25)
    assert mark(lenient, [MISSED, MISSED]) == 0.5
    assert mark(lenient, [COVERED, COVERED]) == 2        # not 2.5
    assert mark(harsh, [MISSED, MISSED]) == 0            # not -0.5
    assert mark(harsh, [COVERED, COVERED]) == 1.5


def test_an_answer_repeats_the_question_only_when_it_copies_most_of_it():
    question = frozenset({"explain", "khrushchev", "deliver", "secret", "speech"})
    assert question_reproduced(["khrushchev", "deliver", "speech", "speech", "rival"],
                               question) == pytest.approx(0.6)
    assert question_reproduced(["speech"], frozenset()) == 0.0
    assert repeats_question(1.0, 1.0)
    assert repeats_question(REPEAT_SHARE, REPEAT_REPRODUCES)
    # a short answer in the question's own terms: science questions name the answer's words
    assert not repeats_question(1.0, 0.4)
    # the question copied, then an answer of its own
    assert not repeats_question(0.5, 1.0)


def _matches(strengths, covered=COVERED_AT, partial=PARTIAL_AT):
    from essaycheck.matching import PointMatch

    status = [COVERED if s >= covered else PARTIAL if s >= partial else MISSED
              for s in strengths]
    return [PointMatch(f"p{i}", st_, s, (), ()) for i, (st_, s) in
            enumerate(zip(status, strengths, strict=True))]


def test_only_a_copy_of_the_question_loses_its_credit(make_rubric):
    from types import SimpleNamespace

    rubric, text = make_rubric(), SimpleNamespace(text="")
    matches = _matches([0.4, 0.1])
    thresholds = (COVERED_AT, PARTIAL_AT)
    # every content word the question's, but only a few of them: it keeps its evidence
    short = build_result(rubric, matches, text, 1.0, 5, thresholds, question_reproduced=0.4)
    credits = [point_credit(m.strength, *thresholds) for m in matches]
    assert short.score == mark(rubric, [m.status for m in matches], credits) > 0
    assert not any("repeats the question" in w for w in short.warnings)
    assert short.summary == f"0 of 2 points covered, 1 partly: {short.score:g} out of 2."
    copy = build_result(rubric, matches, text, 1.0, 5, thresholds, question_reproduced=1.0)
    assert copy.score == 0
    assert any("repeats the question" in w for w in copy.warnings)
    assert copy.summary == ("0 of 2 points covered, 1 partly: 0 out of 2, as your answer "
                            "mostly repeats the question.")
    assert [p.status for p in copy.points] == [PARTIAL, MISSED]  # still shown as found
    # a covered point is never taken away, copy or not
    made = build_result(rubric, _matches([0.9, 0.1]), text, 1.0, 5, thresholds, 1.0)
    assert made.score > 0 and not any("repeats" in w for w in made.warnings)
