"""Exceptions the core raises; each edge turns them into a message for its own user.

Every ``EssaycheckError`` pickles with all its attributes, whatever its ``__init__`` takes, so
an error met in a ``--jobs`` worker process reaches the parent as the same class with the same
message and fields.
"""

from __future__ import annotations

from typing import Any


def _restore_error(cls: type[EssaycheckError], args: tuple, state: dict[str, Any]
                   ) -> EssaycheckError:
    """Rebuild a pickled error without calling its ``__init__`` (whose parameters differ from
    class to class and are not kept), then put back its attributes."""
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


class EssaycheckError(Exception):
    """Base class for every error essaycheck reports to a user."""

    #: Short machine-readable kind, used in CSV ``message`` columns and JSON errors.
    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # Exception's own __reduce__ calls cls(*args), which breaks for subclasses whose
        # __init__ takes other parameters than the message (RubricError, EmptyAnswerError...).
        return _restore_error, (type(self), self.args, dict(self.__dict__))


class RubricProblem:
    """One problem found in a rubric file: where it is, what is wrong, how to fix it."""

    __slots__ = ("source", "field", "message", "fix")

    def __init__(self, source: str, field: str, message: str, fix: str = "") -> None:
        self.source = source
        self.field = field
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        where = f"{self.source}: {self.field}" if self.field else self.source
        text = f"{where}: {self.message}"
        return f"{text} (fix: {self.fix})" if self.fix else text

    def __repr__(self) -> str:
        return f"RubricProblem({str(self)!r})"


class RubricError(EssaycheckError):
    """A rubric file could not be read or is not valid; ``problems`` lists every fault found."""

    code = "invalid_rubric"

    def __init__(self, problems: list[RubricProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class UnknownQuestionError(EssaycheckError):
    """The question id names no loaded rubric."""

    code = "unknown_question"

    def __init__(self, question_id: str, known: list[str]) -> None:
        self.question_id = question_id
        self.known = list(known)
        listed = ", ".join(self.known) if self.known else "none loaded"
        super().__init__(f"unknown question id {question_id!r}; known question ids: {listed}")


class AnswerError(EssaycheckError):
    """A student's answer cannot be checked as it stands."""

    code = "invalid_answer"


class EmptyAnswerError(AnswerError):
    """The answer is empty or only whitespace."""

    code = "empty_answer"

    def __init__(self) -> None:
        super().__init__("empty answer: write your answer before checking it")


class AnswerTooLongError(AnswerError):
    """The answer is over the documented length limit."""

    code = "answer_too_long"

    def __init__(self, size: int, limit: int, unit: str) -> None:
        self.size = size
        self.limit = limit
        super().__init__(
            f"answer too long: {size:,} {unit}, the limit is {limit:,} {unit}; "
            "shorten the answer or split it"
        )


class PipelineError(EssaycheckError):
    """The configured spaCy pipeline cannot be loaded."""

    code = "pipeline"


class MarkedFileError(EssaycheckError, ValueError):
    """A marked CSV (human marks, for ``evaluate`` and ``calibrate``) cannot be used as it
    stands; the message says what to fix."""

    # still a ValueError, as it was before it joined this hierarchy, so callers that caught
    # ValueError keep working
    code = "marked_file"


class NotFittedError(EssaycheckError):
    """A ``Checker`` or ``PointMatcher`` was used before ``fit()``."""

    code = "not_fitted"

    def __init__(self, what: str) -> None:
        super().__init__(f"this {what} is not fitted yet: call fit() before using it")


def check_is_fitted(estimator: object, attribute: str) -> None:
    """Raise ``NotFittedError`` unless ``estimator`` has its learned ``attribute`` (set by
    ``fit``), as scikit-learn's ``check_is_fitted`` does."""
    if not hasattr(estimator, attribute):
        raise NotFittedError(type(estimator).__name__)
