"""The shared helpers for showing results: numbers, shortened text, evidence runs."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from essaycheck.formatting import EvidenceRun, evidence_runs, format_number, truncate
from essaycheck.results import COVERED, MISSED, PARTIAL, PointResult, Span


def point(status, *spans):
    return PointResult(point_id=f"p{len(spans)}", point_text="t", status=status, confidence=1.0,
                       weight=1.0, evidence=tuple(Span(a, b, "") for a, b in spans))


def test_format_number():
    assert [format_number(v) for v in (2.0, 1.5, 0, 6, 0.25, None)] == [
        "2", "1.5", "0", "6", "0.25", ""]


def test_truncate():
    assert truncate("short", 10) == "short"
    assert truncate("exactly10!", 10) == "exactly10!"
    assert truncate("a long point id", 8) == "a long …"
    assert len(truncate("x" * 100, 26)) == 26


# Overlapping evidence: point 1 covers 2-6, point 2 (partial) 4-9 and 15-18, point 3 is missed
# (its evidence is never marked), point 4 covers 9-12, right after point 2's first span.
ANSWER = "0123456789abcdefghij"
POINTS = (point(COVERED, (2, 6)), point(PARTIAL, (4, 9), (15, 18)), point(MISSED, (0, 20)),
          point(COVERED, (9, 12)))


def test_the_page_joins_overlapping_evidence_into_one_run():
    assert evidence_runs(ANSWER, POINTS, join_overlaps=True) == [
        EvidenceRun("01"), EvidenceRun("2345678", (1, 2), COVERED),
        EvidenceRun("9ab", (4,), COVERED), EvidenceRun("cde"),
        EvidenceRun("fgh", (2,), PARTIAL), EvidenceRun("ij"),
    ]


def test_the_report_cuts_evidence_where_a_point_starts_or_ends():
    assert evidence_runs(ANSWER, POINTS) == [
        EvidenceRun("01"), EvidenceRun("23", (1,), COVERED),
        EvidenceRun("45", (1, 2), COVERED), EvidenceRun("678", (2,), PARTIAL),
        EvidenceRun("9ab", (4,), COVERED), EvidenceRun("cde"),
        EvidenceRun("fgh", (2,), PARTIAL), EvidenceRun("ij"),
    ]


def test_touching_spans_of_one_point_are_one_run_in_the_report_two_on_the_page():
    points = (point(COVERED, (0, 2), (2, 4)),)
    assert evidence_runs("abcdef", points) == [EvidenceRun("abcd", (1,), COVERED),
                                               EvidenceRun("ef")]
    assert evidence_runs("abcdef", points, join_overlaps=True) == [
        EvidenceRun("ab", (1,), COVERED), EvidenceRun("cd", (1,), COVERED), EvidenceRun("ef")]


def test_runs_without_evidence_and_with_bad_offsets():
    for join in (False, True):
        assert evidence_runs("abc", (), join_overlaps=join) == [EvidenceRun("abc")]
        assert evidence_runs("abc", (point(COVERED, (2, 9), (1, 1), (-1, 2)),),
                             join_overlaps=join) == [EvidenceRun("abc")]
        assert evidence_runs("", (), join_overlaps=join) == []
    assert not EvidenceRun("abc").is_evidence and EvidenceRun("b", (1,), PARTIAL).is_evidence


SPANS = st.lists(st.tuples(st.integers(-2, 45), st.integers(-2, 45),
                           st.sampled_from([COVERED, PARTIAL, MISSED])), max_size=6)


@given(st.text(max_size=40), SPANS, st.booleans())
def test_runs_always_rebuild_the_answer(answer, spans, join):
    points = tuple(point(status, (a, b)) for a, b, status in spans)
    runs = evidence_runs(answer, points, join_overlaps=join)
    assert "".join(r.text for r in runs) == answer
    assert all(r.text for r in runs)
    assert all(bool(r.points) == r.is_evidence for r in runs)
    for before, after in pairwise(runs):
        assert before.is_evidence or after.is_evidence      # no two plain runs in a row
        if not join:
            assert (before.points, before.status) != (after.points, after.status)
    marked = {i for a, b, status in spans if status != MISSED and 0 <= a < b <= len(answer)
              for i in range(a, b)}
    position = 0
    for run in runs:
        inside = set(range(position, position + len(run.text)))
        assert inside <= marked if run.is_evidence else not inside & marked
        position += len(run.text)
