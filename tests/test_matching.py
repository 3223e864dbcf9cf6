"""Matcher details added for accuracy: other accepted wordings, derivations, question words."""

from __future__ import annotations

import pytest

from essaycheck import COVERED, MISSED, Checker, MatchSettings, RubricError, dump_rubric
from essaycheck.extract import draft_rubric
from essaycheck.matching import stem
from essaycheck.rubric import parse_rubric, validate_rubric

CIRCUIT = {
    "id": "gap", "question": "Explain why the bulb is off.", "max_score": 1,
    "model_answer": "The switch leaves a gap in the circuit.",
    "points": [{"id": "gap", "text": "The switch leaves a gap in the circuit.",
                "accept": ["The circuit is not closed.", "The path is broken"]}],
}


def test_accept_validates_and_round_trips():
    rubric = validate_rubric(CIRCUIT, "gap.yaml")
    assert rubric.points[0].accept == ("The circuit is not closed.", "The path is broken")
    assert parse_rubric(dump_rubric(rubric), "again") == rubric
    one = validate_rubric(dict(CIRCUIT, points=[dict(CIRCUIT["points"][0], accept="Broken.")]))
    assert one.points[0].accept == ("Broken.",)
    for bad in ({"a": 1}, [""], [["nested"]]):
        with pytest.raises(RubricError) as info:
            validate_rubric(dict(CIRCUIT, points=[dict(CIRCUIT["points"][0], accept=bad)]))
        assert "accept" in str(info.value)


def test_an_accepted_wording_earns_the_point(nlp):
    checker = Checker([validate_rubric(CIRCUIT, "gap.yaml")], nlp=nlp).fit()
    assert checker.check("gap", "Because the path is broken.").points[0].status == COVERED
    assert checker.check("gap", "The circuit is not closed.").points[0].status == COVERED
    # the accepted wording keeps its negation: the opposite claim does not earn it
    assert checker.check("gap", "The circuit is closed.").points[0].status != COVERED
    assert checker.check("gap", "The battery is flat.").score == 0


def test_draft_attaches_other_model_answers_as_accepted_wordings(analyzer):
    draft = draft_rubric("gap", "Explain why the bulb is off.",
                         "The switch leaves a gap in the circuit.", analyzer,
                         alternatives=["The circuit is not closed.",
                                       "The switch leaves a gap in the circuit."])
    assert draft.points[0].accept == ("The circuit is not closed.",)
    two = draft_rubric("q", "What do plants need?", "Plants need sunlight to make food. "
                       "Plants need water to grow.", analyzer,
                       alternatives=["Water lets plants grow."])
    assert two.points[0].accept == () and two.points[1].accept == ("Water lets plants grow.",)


def test_stems_let_derivations_meet(nlp):
    assert stem("vibrate") == stem("vibration") == stem("vibrates"[:-1])
    assert stem("connect") == stem("connection")
    assert stem("cat") == "cat" and stem("1956") == "1956"
    rubric = validate_rubric({
        "id": "band", "question": "Why does a rubber band make a sound when plucked?",
        "max_score": 1, "model_answer": "The rubber band vibrates.",
        "points": [{"id": "vibrates", "text": "The rubber band vibrates."}]}, "band.yaml")
    with_stems = Checker([rubric], nlp=nlp).fit()
    without = Checker([rubric], nlp=nlp, settings=MatchSettings(stems=False)).fit()
    answer = "Because of the vibration."
    assert with_stems.check("band", answer).points[0].status == COVERED
    assert without.check("band", answer).points[0].status == MISSED


def test_question_words_rank_answers_but_never_earn_a_point(nlp):
    rubric = validate_rubric({
        "id": "shadow", "question": "Why does the tree have a shadow?", "max_score": 1,
        "model_answer": "The tree blocks the light from the Sun.",
        "points": [{"id": "blocks", "text": "The tree blocks the light from the Sun."}]},
        "shadow.yaml")
    checker = Checker([rubric], nlp=nlp).fit()
    on_topic = checker.check("shadow", "The tree has a shadow.").points[0]
    off_topic = checker.check("shadow", "I like dogs.").points[0]
    assert on_topic.status == off_topic.status == MISSED
    assert on_topic.confidence > off_topic.confidence
    blocks = checker.check("shadow", "It blocks the light.").points[0]
    assert blocks.status == COVERED
