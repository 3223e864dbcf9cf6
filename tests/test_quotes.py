"""A point's quote is the student's own words around what matched, bounded: an answer with
no sentence punctuation (one giant sentence) no longer makes every quote the whole answer."""

from __future__ import annotations

import json
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from essaycheck.workshop import draft, rubric_to_json
from essaycheck.workshop_web import create_workshop_app

from .test_workshop import AUTH, MODEL, QUESTION, TOKEN, base_checker, post  # noqa: F401

WORDS = ("chlorophyll absorbs light energy carbon dioxide and water react to make glucose "
         "oxygen starch stored the plant leaf").split()


def _pieces_are_the_students(quote: str, answer: str) -> None:
    for piece in quote.split("…"):
        assert piece.strip() in answer


def test_a_5000_word_answer_without_punctuation_gives_a_bounded_reply(base_checker):  # noqa: F811
    rubric = draft(base_checker, "photosynthesis", QUESTION, MODEL, max_score=3)
    rng = random.Random(1)
    answer = " ".join(rng.choice(WORDS) for _ in range(5000))
    app = create_workshop_app("/nonexistent", checker=base_checker, token=TOKEN)
    body = {"rubric": rubric_to_json(rubric), "answers": [{"answer": answer}]}
    response = post(app.test_client(), "/api/v1/rubrics/try", body)
    assert response.status_code == 200
    result = response.get_json()["results"][0]
    assert [p["status"] for p in result["points"]].count("covered") >= 1
    # the reply holds the answer once (its highlighted runs) plus at most 1.5 KB a point;
    # each quote was the whole 33 KB answer before
    assert len(response.data) < len(json.dumps(body)) + 1500 * len(result["points"])
    for point in result["points"]:
        assert len(point["quote"]) < 1000
        if point["status"] != "missed":
            assert point["quote"].endswith("…") or point["quote"].startswith("…")
            _pieces_are_the_students(point["quote"], answer)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(WORDS + [".", ",", "!"]), min_size=1, max_size=400))
def test_a_quote_is_the_students_own_text_with_ellipses(base_checker, words):  # noqa: F811
    rubric = draft(base_checker, "photosynthesis", QUESTION, MODEL, max_score=3)
    checker = base_checker.with_rubrics([rubric])
    answer = " ".join(words)
    for point in checker.check(rubric.id, answer).points:
        _pieces_are_the_students(point.quote, answer)
        assert len(point.quote.split()) <= 3 * (3 * 10 + 1) + 2 * 60
        for span in point.evidence:
            assert answer[span.start:span.end] == span.text
