"""The ``Checker`` facade: rubrics in, feedback out, one answer or a stream of them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from itertools import compress
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from .analysis import Analysis, Analyzer, build_pipeline, clean_answer, count_words
from .errors import EssaycheckError, UnknownQuestionError, check_is_fitted
from .feedback import build_result, question_reproduced
from .matching import MatchSettings, PointMatcher
from .results import CheckResult
from .rubric import Rubric

Key = TypeVar("Key")


class Checker:
    """Checks answers against a set of rubrics.

    Build it once per process (the spaCy pipeline and the fitted matchers are heavy) and
    reuse it for every answer::

        checker = Checker.from_directory("rubric")
        result = checker.check("secret-speech-1956", text)
    """

    def __init__(self, rubrics: Iterable[Rubric], pipeline: str | None = None,
                 settings: MatchSettings | None = None, nlp: Any = None) -> None:
        self.rubrics = list(rubrics)
        self.pipeline = pipeline
        self.settings = settings
        self.nlp = nlp

    @classmethod
    def from_directory(cls, directory: str | Path = "rubric", pipeline: str | None = None,
                       settings: MatchSettings | None = None) -> Checker:
        """Load every rubric in a directory and return a fitted checker."""
        from .loader import load_directory

        return cls(load_directory(directory), pipeline=pipeline, settings=settings).fit()

    def fit(self) -> Checker:
        """Build the pipeline (unless one was given) and fit one matcher per rubric."""
        nlp = self.nlp if self.nlp is not None else build_pipeline(self.pipeline)
        return self._fit_matchers(Analyzer(nlp))

    def _fit_matchers(self, analyzer: Analyzer, fitted: Checker | None = None) -> Checker:
        """Fit a matcher per rubric on ``analyzer``; a rubric that ``fitted`` (a checker on the
        same analyzer and settings) already holds unchanged keeps its matcher."""
        self.analyzer_ = analyzer
        self.rubrics_ = {rubric.id: rubric for rubric in self.rubrics}
        before: dict[str, Rubric] = fitted.rubrics_ if fitted is not None else {}
        kept: dict[str, PointMatcher] = fitted.matchers_ if fitted is not None else {}
        self.matchers_: dict[str, PointMatcher] = {
            rubric.id: kept[rubric.id] if before.get(rubric.id) == rubric
            else PointMatcher(self.settings).fit(rubric, self.analyzer_)
            for rubric in self.rubrics}
        return self

    def with_rubrics(self, rubrics: Iterable[Rubric], analyzer: Analyzer | None = None
                     ) -> Checker:
        """A new fitted checker for other rubrics, sharing this one's analyzer and pipeline (so
        refitting an edited rubric costs its matcher only, never a spaCy load, and a rubric
        this checker holds unchanged keeps its fitted matcher). ``analyzer`` replaces the
        shared one with another over the same pipeline, such as a ``CachingAnalyzer`` wrapping
        it (every matcher is then fitted on it)."""
        check_is_fitted(self, "analyzer_")
        same = analyzer is None or analyzer is self.analyzer_
        analyzer = self.analyzer_ if analyzer is None else analyzer
        other = Checker(rubrics, pipeline=self.pipeline, settings=self.settings,
                        nlp=analyzer.nlp)
        return other._fit_matchers(analyzer, self if same else None)

    @property
    def analyzer(self) -> Analyzer:
        """The fitted analyzer (the spaCy pipeline is its ``nlp``)."""
        check_is_fitted(self, "analyzer_")
        return self.analyzer_

    @property
    def question_ids(self) -> list[str]:
        """Ids of the loaded questions, in load order."""
        check_is_fitted(self, "rubrics_")
        return list(self.rubrics_)

    @property
    def rubrics_by_id(self) -> Mapping[str, Rubric]:
        """The loaded rubrics by question id, in load order (a read-only view)."""
        check_is_fitted(self, "rubrics_")
        return MappingProxyType(self.rubrics_)

    def rubric(self, question_id: str) -> Rubric:
        """The rubric for a question id, or ``UnknownQuestionError``."""
        check_is_fitted(self, "rubrics_")
        try:
            return self.rubrics_[question_id]
        except (KeyError, TypeError):
            raise UnknownQuestionError(str(question_id), list(self.rubrics_)) from None

    def matcher(self, question_id: str) -> PointMatcher:
        """The fitted matcher for a question id, or ``UnknownQuestionError``."""
        rubric = self.rubric(question_id)  # first: it raises for an unknown or unfitted
        return self.matchers_[rubric.id]

    def check(self, question_id: str, answer: str) -> CheckResult:
        """Check one answer; raises an ``EssaycheckError`` for an unknown question or a bad
        answer (empty, too long, not text)."""
        rubric = self.rubric(question_id)
        text = clean_answer(answer)
        return self._result(rubric, self.analyzer_.analyse(text), answer)

    def check_many(self, items: Iterable[tuple[str, str, Key]]
                   ) -> Iterator[tuple[Key, CheckResult | EssaycheckError]]:
        """Check a stream of ``(question_id, answer, key)`` triples.

        Yields ``(key, result)`` in input order, where result is a ``CheckResult`` or the
        ``EssaycheckError`` that stopped that one answer; the stream carries on past errors.
        Answers are analysed in batches with ``nlp.pipe``, so memory does not grow with input.
        """
        check_is_fitted(self, "matchers_")

        def prepared():
            for question_id, answer, key in items:
                try:
                    rubric = self.rubric(question_id)
                    text = clean_answer(answer)
                except EssaycheckError as error:
                    yield "", (key, None, answer, error)
                else:
                    yield text, (key, rubric, answer, None)

        for analysis, (key, rubric, answer, error) in self.analyzer_.analyse_many(prepared()):
            if error is not None:
                yield key, error
            else:
                yield key, self._result(rubric, analysis, answer)

    def _result(self, rubric: Rubric, analysis: Analysis, answer: str) -> CheckResult:
        matcher = self.matchers_[rubric.id]
        matches, words = matcher.match_spelled(analysis)
        overlap, reproduced = question_repeat(matcher, analysis, words)
        return build_result(rubric, matches, analysis, overlap, count_words(answer),
                            matcher.thresholds, reproduced)


def question_repeat(matcher: PointMatcher, analysis: Analysis,
                    words: list[str] | None = None) -> tuple[float, float]:
    """How far an answer repeats its question, as the mark reads it
    (``feedback.repeats_question``): the share of its content words that are the question's,
    and the share of the question's distinct content words it uses; its words spelled as the
    matcher reads them, so that a misspelt copy of the question is one too (``words``: those
    spelled words when at hand, as ``PointMatcher.match_spelled`` gives them)."""
    if words is None:
        words = list(map(matcher.spell, compress(analysis.lemmas, analysis.content)))
    return matcher.question_overlap(words), question_reproduced(words, matcher.question_words)
