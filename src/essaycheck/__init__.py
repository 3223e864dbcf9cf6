"""essaycheck: rubric-based feedback on written answers, offline and explainable."""

from .analysis import MAX_ANSWER_CHARS, MAX_ANSWER_WORDS, build_pipeline
from .checker import Checker
from .errors import (
    AnswerError,
    AnswerTooLongError,
    EmptyAnswerError,
    EssaycheckError,
    RubricError,
    RubricProblem,
    UnknownQuestionError,
)
from .matching import MatchSettings, PointMatcher
from .results import COVERED, MISSED, PARTIAL, CheckResult, PointResult, Span
from .rubric import Point, Rubric, dump_rubric, parse_rubric

__version__ = "0.1.0"

__all__ = [
    "AnswerError", "AnswerTooLongError", "COVERED", "CheckResult", "Checker", "EmptyAnswerError",
    "EssaycheckError", "MAX_ANSWER_CHARS", "MAX_ANSWER_WORDS", "MISSED", "MatchSettings",
    "PARTIAL", "Point", "PointMatcher", "PointResult", "Rubric", "RubricError", "RubricProblem",
    "Span", "UnknownQuestionError", "build_pipeline", "dump_rubric", "parse_rubric",
]
