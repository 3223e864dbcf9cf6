"""Points without keywords (a mark scheme's bare "key elements") meet the lexicon's alternatives
of their words at match time: visible in matched_terms, fitted from the rubric alone."""

from __future__ import annotations

from dataclasses import replace

from essaycheck import Checker, MatchSettings

OFF = MatchSettings(alternative_family=0, alternative_synonyms=0, alternative_context=0)
POINTS = [
    {"id": "enzymes", "text": "Enzymes help digestion in the stomach."},
    {"id": "earth", "text": "The Earth is much bigger than the Moon."},
]
ANSWERS = ["Enzymes aid digestion in the stomach.", "The Earth is far larger than the Moon.",
           "Enzymes aid digestion. The Earth is larger.", "The Moon is small.", "Enzymes."]


def test_a_point_without_keywords_is_credited_through_an_alternative_as_written(
        nlp, make_rubric):
    rubric = make_rubric(question="Describe the stomach and the Moon.", points=POINTS)
    checker = Checker([rubric], nlp=nlp).fit()
    assert "aid" in checker.matcher(rubric.id).alternatives_["help"]
    result = checker.check(rubric.id, "Enzymes aid digestion in the stomach.")
    point = result.points[0]
    assert point.status == "covered" and "aid" in point.matched_terms
    # the student's own form of the alternative, not the lexicon's lemma
    earth = checker.check(rubric.id, "The Earth is far larger than the Moon.").points[1]
    assert "larger" in earth.matched_terms
    # without the alternatives the same answers earn less
    plain = Checker([rubric], nlp=nlp, settings=OFF).fit()
    without = plain.check(rubric.id, "Enzymes aid digestion in the stomach.").points[0]
    assert "aid" not in without.matched_terms and without.confidence < point.confidence


def test_alternatives_give_the_same_result_alone_or_in_a_batch(nlp, make_rubric):
    rubric = make_rubric(question="Describe the stomach and the Moon.", points=POINTS)
    checker = Checker([rubric], nlp=nlp).fit()
    alone = [checker.check(rubric.id, answer) for answer in ANSWERS]
    batch = dict(checker.check_many((rubric.id, a, i) for i, a in enumerate(ANSWERS)))
    assert [batch[i] for i in range(len(ANSWERS))] == alone
    # and in reverse order, after other answers: the fit is the rubric's, never the batch's
    again = dict(checker.check_many((rubric.id, a, i) for i, a in reversed(
        list(enumerate(ANSWERS)))))
    assert [again[i] for i in range(len(ANSWERS))] == alone


def test_points_with_keywords_and_question_words_get_no_alternatives(nlp, make_rubric):
    rubric = make_rubric(question="How does the Earth compare with the Moon in size?",
                         points=[*POINTS[:1], dict(POINTS[1], keywords=[["bigger", "big"]])])
    checker = Checker([rubric], nlp=nlp).fit()
    alternatives = checker.matcher(rubric.id).alternatives_
    assert "big" not in alternatives  # a teacher's keyword groups are matched as written
    # the question's words count little, and their alternatives nothing
    assert not set(alternatives) & {"earth", "moon", "size"}
    earth = checker.check(rubric.id, "The Earth is far larger than the Moon.").points[1]
    assert "larger" not in earth.matched_terms
    plain = Checker([replace(rubric, points=rubric.points[1:])], nlp=nlp, settings=OFF).fit()
    same = Checker([replace(rubric, points=rubric.points[1:])], nlp=nlp).fit()
    for answer in ANSWERS:
        assert plain.check(rubric.id, answer) == same.check(rubric.id, answer)


def test_shipped_rubrics_are_matched_as_before(checker, nlp):
    plain = Checker(checker.rubrics, nlp=nlp, settings=OFF).fit()
    for question_id in checker.question_ids:
        answer = checker.rubric(question_id).model_answer
        assert plain.check(question_id, answer) == checker.check(question_id, answer)


def test_matching_and_drafting_choose_alternatives_by_one_rule(nlp, make_rubric, monkeypatch):
    """A keyword-less point's alternatives and a drafted keyword group's come from the one
    rule, ``lexicon.anticipated``: change it and both follow."""
    from essaycheck import lexicon
    from essaycheck.extract import Anticipation, _anticipated

    monkeypatch.setattr(lexicon, "anticipated", lambda lemma, *a, **k: [lemma + "-ish"])
    rubric = make_rubric(question="Describe the stomach and the Moon.", points=POINTS)
    matcher = Checker([rubric], nlp=nlp).fit().matcher(rubric.id)
    assert matcher.alternatives_["help"] == ("help-ish",)
    assert _anticipated("help", frozenset(), Anticipation()) == ["help-ish"]
