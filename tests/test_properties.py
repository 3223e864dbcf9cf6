"""Property tests: nothing a user sends as an answer or a rubric ends in a traceback."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from essaycheck import CheckResult, EssaycheckError, Rubric, RubricError, parse_rubric
from essaycheck.rubric import validate_rubric

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

words = st.sampled_from([
    "Stalin", "purges", "rivals", "not", "never", "Molotov", "weaken", "cult", "censorship",
    "thaw", "Kruschev", "speach", "the", "and", ",", ".", "!", "?", "\n", "'s", "n't", "*",
    "de-Stalinisation", "Hungary", "1956", "🙂", "é", "\u200b", "\x00", "<script>",
])
answers = st.one_of(st.text(max_size=400), st.lists(words, max_size=80).map(" ".join),
                    st.binary(max_size=200))


@SETTINGS
@given(answer=answers, question=st.sampled_from(["secret-speech-1956", "thaw-significance"]))
def test_any_answer_gives_a_result_or_a_clear_error(checker, answer, question):
    try:
        result = checker.check(question, answer)
    except EssaycheckError as error:
        assert str(error)
        return
    assert isinstance(result, CheckResult)
    assert 0 <= result.score <= result.max_score
    text = answer.decode("utf-8") if isinstance(answer, bytes) else answer
    for point in result.points:
        assert 0.0 <= point.confidence <= 1.0
        assert point.status in ("covered", "partial", "missed")
        for span in point.evidence:
            assert 0 <= span.start < span.end <= len(text)


controls = st.sampled_from(["\x00", "\x1b", "\x7f", "\x85", "\u2028", "\u2029", "\ud800", "\x0c"])
controlled_answers = st.lists(st.one_of(words, controls, st.tuples(words, controls, words).map(
    "".join)), min_size=1, max_size=80).map(" ".join)


@SETTINGS
@given(answer=controlled_answers, question=st.sampled_from(["secret-speech-1956",
                                                            "thaw-significance"]))
def test_evidence_text_is_the_answer_as_sent(checker, answer, question):
    try:
        result = checker.check(question, answer)
    except EssaycheckError:
        return
    for point in result.points:
        for span in point.evidence:
            assert span.text == answer[span.start:span.end]


scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20))
plain_data = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=20)
point = st.fixed_dictionaries(
    {"id": st.one_of(st.text(max_size=8), st.integers()), "text": scalars},
    optional={"keywords": plain_data, "weight": scalars, "hint": scalars, "extra": scalars})
rubric_data = st.fixed_dictionaries(
    {"id": st.one_of(st.just("q1"), scalars), "question": scalars,
     "max_score": st.one_of(scalars, st.just(4)), "model_answer": scalars,
     "points": st.one_of(plain_data, st.lists(point, max_size=4))},
    optional={"bands": st.one_of(plain_data, st.dictionaries(scalars, scalars, max_size=4)),
              "thresholds": plain_data, "mark_shift": scalars, "context": scalars,
              "unknown": scalars})


@SETTINGS
@given(data=st.one_of(rubric_data, plain_data))
def test_any_rubric_data_validates_or_names_its_problems(data):
    try:
        rubric = validate_rubric(data, "prop.yaml")
    except RubricError as error:
        assert error.problems
        assert all(str(p).startswith("prop.yaml") for p in error.problems)
        return
    assert isinstance(rubric, Rubric) and rubric.points


@SETTINGS
@given(text=st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_any_rubric_text_parses_or_names_its_problems(text):
    try:
        parse_rubric(text, "prop.yaml")
    except RubricError as error:
        assert error.problems


@SETTINGS
@given(data=rubric_data)
def test_valid_rubrics_survive_a_yaml_round_trip(data):
    try:
        rubric = validate_rubric(data, "prop.yaml")
    except RubricError:
        return
    from essaycheck import dump_rubric

    assert parse_rubric(dump_rubric(rubric), "again") == rubric
    assert yaml.safe_load(dump_rubric(rubric))["id"] == rubric.id


slug = st.from_regex(r"[a-z0-9][a-z0-9-]{0,8}", fullmatch=True)
phrase = st.lists(words, min_size=1, max_size=12).map(" ".join).filter(lambda t: t.strip())
valid_point = st.fixed_dictionaries(
    {"id": slug, "text": phrase},
    optional={"keywords": st.lists(st.lists(phrase, min_size=1, max_size=3), max_size=3),
              "weight": st.floats(0.1, 5)})
valid_rubric = st.fixed_dictionaries({
    "id": slug, "question": phrase, "max_score": st.integers(1, 20), "model_answer": phrase,
    "points": st.lists(valid_point, min_size=1, max_size=4, unique_by=lambda p: p["id"])})


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=valid_rubric, answer=answers)
def test_any_valid_rubric_can_be_fitted_and_used(nlp, data, answer):
    from essaycheck import Checker

    try:
        rubric = validate_rubric(data, "prop.yaml")
    except RubricError:
        return
    checker = Checker([rubric], nlp=nlp).fit()
    model = checker.check(rubric.id, rubric.model_answer)
    assert 0 <= model.score <= rubric.max_score
    try:
        result = checker.check(rubric.id, answer)
    except EssaycheckError:
        return
    assert 0 <= result.score <= rubric.max_score
