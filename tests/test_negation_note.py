"""The note "Your answer seems to say the opposite of this point" needs the point's core under
negation, not a stray keyword of it (issue 10, item 5)."""

from __future__ import annotations

import pytest

OPPOSITE = "Your answer seems to say the opposite of this point."
SPEECH = "secret-speech-1956"


def notes(checker, answer: str) -> dict[str, str | None]:
    """Each point's note for one answer to the Secret Speech question."""
    return {p.point_id: p.note for p in checker.check(SPEECH, answer).points}


@pytest.mark.parametrize("answer", [
    "The terror was Stalin's fault not the communist party's.",
    "Khrushchev blamed Stalin. The terror was Stalin's fault not the communist party's.",
])
def test_a_stray_negated_keyword_is_not_a_contradiction(checker, answer):
    # "communist party" is one keyword of the point about foreign communist allies; the answer
    # never mentions allies or relations abroad, so it says nothing against that point
    found = notes(checker, answer)
    assert found["signal-to-allies"] != OPPOSITE
    assert OPPOSITE not in found.values()


@pytest.mark.parametrize("answer, point", [
    ("The speech did not try to mend relations with foreign allies.", "signal-to-allies"),
    ("It was not meant as a signal to the communist allies abroad.", "signal-to-allies"),
    ("Khrushchev did not want to weaken his rivals.", "weaken-rivals"),
])
def test_a_point_denied_at_its_core_gets_the_note(checker, answer, point):
    found = notes(checker, answer)
    assert found[point] == OPPOSITE
    # and only that point: the others it touches are not denied at their core
    assert [p for p, note in found.items() if note == OPPOSITE] == [point]


def test_the_same_point_said_plainly_is_credited_without_the_note(checker):
    result = checker.check(SPEECH, "The speech tried to mend relations with foreign allies.")
    point = {p.point_id: p for p in result.points}["signal-to-allies"]
    assert point.status != "missed" and point.note != OPPOSITE
