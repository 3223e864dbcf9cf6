"""Errors are one hierarchy and survive pickling, as they must to cross the --jobs pool."""

from __future__ import annotations

import pickle

import pytest

from essaycheck.csvio import CsvEncodingError, CsvFormatError
from essaycheck.errors import (
    AnswerTooLongError,
    EmptyAnswerError,
    EssaycheckError,
    MarkedFileError,
    NotFittedError,
    PipelineError,
    RubricError,
    RubricProblem,
    UnknownQuestionError,
)
from essaycheck.loader import RubricWriteError

ERRORS = [
    EssaycheckError("plain message"),
    RubricError([RubricProblem("a.yaml", "points[0].text", "is empty", "write the point"),
                 RubricProblem("b.yaml", "", "not YAML")]),
    UnknownQuestionError("nope", ["q1", "q2"]),
    EmptyAnswerError(),
    AnswerTooLongError(60_000, 50_000, "characters"),
    PipelineError("spaCy pipeline 'xx' is not installed"),
    NotFittedError("Checker"),
    MarkedFileError("marks.csv, line 3, column 'mark': 'x' is not a number"),
    RubricWriteError("rubric/a.yaml exists"),
    CsvFormatError("a.csv, line 1: no column 'answer'", source="a.csv", line=1,
                   column="answer", role="answer", found=["question_id", "text"]),
    CsvEncodingError("a.csv, line 2: not utf-8 text", source="a.csv", line=2,
                     encoding="utf-8", suggestion="cp1252"),
]


def _state(error: Exception) -> dict:
    return {key: str(value) if isinstance(value, list) else value
            for key, value in vars(error).items()}


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
def test_every_error_pickles_to_the_same_class_message_and_fields(error):
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error) and copy.args == error.args
    assert copy.code == error.code
    assert _state(copy) == _state(error)


def test_a_pickled_rubric_error_keeps_its_problems():
    error = ERRORS[1]
    copy = pickle.loads(pickle.dumps(error))
    assert [str(p) for p in copy.problems] == [str(p) for p in error.problems]
    assert copy.problems[0].fix == "write the point"


def test_a_pickled_error_can_still_be_raised_and_caught_as_its_class():
    copy = pickle.loads(pickle.dumps(UnknownQuestionError("nope", [])))
    with pytest.raises(UnknownQuestionError, match="known question ids: none loaded"):
        raise copy


def test_marked_file_error_is_an_essaycheck_error_and_still_a_value_error():
    error = MarkedFileError("marks.csv holds no answers below its header")
    assert isinstance(error, EssaycheckError) and isinstance(error, ValueError)
    assert error.code == "marked_file"
    assert str(error) == "marks.csv holds no answers below its header"
