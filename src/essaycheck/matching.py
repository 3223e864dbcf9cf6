"""Matching one answer against the points of one rubric: keyword evidence plus TF-IDF similarity.

``PointMatcher`` follows scikit-learn's conventions: ``__init__`` stores settings, ``fit`` learns
from the rubric (its points, model answer, question and context, never from answers), and
learned state ends in ``_``. ``match`` then scores an analysed answer without changing the
matcher, so an answer gets the same result alone or in any batch.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from rapidfuzz.distance import OSA
from sklearn.feature_extraction.text import TfidfVectorizer

from .analysis import Analysis, Analyzer
from .results import COVERED, MISSED, PARTIAL
from .rubric import Rubric

NEGATED = "not:"
_LIST_SEPARATORS = re.compile(r"[,;\n/•·|]+")


@dataclass(frozen=True)
class MatchSettings:
    """Tunable settings of the matcher; the defaults are meant to serve any rubric."""

    #: strength at or above which a point counts as covered
    covered: float = 0.5
    #: strength at or above which a point counts as partly made
    partial: float = 0.28
    #: share of the strength that comes from keyword evidence; the rest is TF-IDF similarity
    keyword_weight: float = 0.6
    #: cosine similarity that counts as a full match on its own
    similarity_full: float = 0.6
    #: sentences per window when a point is made across neighbouring sentences
    window: int = 2
    #: shortest word that misspelling tolerance applies to
    fuzzy_min_length: int = 5

    def with_thresholds(self, thresholds: dict[str, float]) -> "MatchSettings":
        """These settings with a rubric's own calibrated thresholds applied."""
        if not thresholds:
            return self
        values = dict(self.__dict__)
        values.update({k: float(v) for k, v in thresholds.items() if k in ("covered", "partial")})
        return MatchSettings(**values)


@dataclass(frozen=True)
class PointMatch:
    """The raw outcome of matching one point: status, strength and where the evidence is."""

    point_id: str
    status: str
    strength: float
    matched_terms: tuple[str, ...]
    sentence_spans: tuple[tuple[int, int], ...]
    listed: bool = False
    negated: bool = False


@dataclass
class _PointModel:
    id: str
    groups: list[list[tuple[tuple[str, bool], ...]]]  # group -> alternatives -> patterns
    group_weights: list[float]
    group_labels: list[str]
    vector: dict[str, float]


def keyword_features(analysis: Analysis, start: int, end: int, demoted: frozenset[str],
                     normalise=None) -> set[str]:
    """Every word lemma in tokens start..end (``not:``-marked under negation), for keywords."""
    features = set()
    for i in range(start, end):
        lemma = analysis.lemmas[i]
        if not any(c.isalnum() for c in lemma):
            continue
        if normalise is not None and analysis.content[i]:
            lemma = normalise(lemma)
        if lemma in demoted:
            continue
        features.add(NEGATED + lemma if analysis.negated[i] else lemma)
    return features


def token_features(analysis: Analysis, start: int, end: int, demoted: frozenset[str],
                   normalise=None) -> list[str]:
    """Content lemmas (``not:``-marked under negation) and their bigrams for tokens start..end."""
    unigrams = []
    for i in range(start, end):
        if not analysis.content[i]:
            continue
        lemma = analysis.lemmas[i]
        if normalise is not None:
            lemma = normalise(lemma)
        if lemma in demoted:
            continue
        unigrams.append(NEGATED + lemma if analysis.negated[i] else lemma)
    bigrams = [f"{a} {b}" for a, b in zip(unigrams, unigrams[1:])]
    return unigrams + bigrams


class PointMatcher:
    """Scores answers against the points of one rubric."""

    def __init__(self, settings: MatchSettings | None = None) -> None:
        self.settings = settings

    # -- fitting -------------------------------------------------------------------------
    def fit(self, rubric: Rubric, analyzer: Analyzer) -> "PointMatcher":
        """Learn vocabulary, IDF weights and point vectors from the rubric alone."""
        settings = (self.settings or MatchSettings()).with_thresholds(rubric.thresholds)
        self.settings_ = settings
        self.rubric_id_ = rubric.id
        question = analyzer.analyse(rubric.question)
        self.demoted_ = frozenset(
            question.lemmas[i] for i in range(len(question)) if question.content[i])

        point_docs = [analyzer.analyse(point.text) for point in rubric.points]
        alt_docs = [[[analyzer.analyse(_strip_wildcard(alt)) for alt in group]
                     for group in point.keywords] for point in rubric.points]
        background = [analyzer.analyse(text) for text in (rubric.model_answer, rubric.context)
                      if text]
        corpus = [token_features(doc, 0, len(doc), frozenset()) for doc in point_docs]
        for doc in background:
            corpus.extend(token_features(doc, a, b, frozenset()) for a, b in doc.sentences)
        corpus.append(token_features(question, 0, len(question), frozenset()))
        corpus = [features for features in corpus if features]

        vectorizer = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, lowercase=False)
        vectorizer.fit(corpus or [["empty"]])
        self.vectorizer_ = vectorizer
        self.idf_ = dict(zip(vectorizer.get_feature_names_out(), vectorizer.idf_))
        self.unseen_idf_ = float(max(vectorizer.idf_)) if len(vectorizer.idf_) else 1.0

        vocabulary = set()
        for doc in point_docs + background + [question]:
            vocabulary.update(doc.lemmas[i] for i in range(len(doc)) if doc.content[i])
        for groups in alt_docs:
            for group in groups:
                for doc in group:
                    vocabulary.update(doc.lemmas)
        self.vocabulary_ = frozenset(vocabulary)
        # Misspellings are mapped onto the words that decide points, not onto all the context.
        targets = set()
        for doc in point_docs:
            targets.update(doc.lemmas[i] for i in range(len(doc)) if doc.content[i])
        for groups in alt_docs:
            for group in groups:
                for doc in group:
                    targets.update(doc.lemmas[i] for i in range(len(doc)) if doc.content[i])
        self.fuzzy_targets_ = {}
        for target in targets:
            if len(target) >= settings.fuzzy_min_length and target.isalpha():
                self.fuzzy_targets_.setdefault(target[0], []).append(target)
        self._spelling_cache: dict[str, str] = {}

        self.points_ = []
        for point, doc, groups in zip(rubric.points, point_docs, alt_docs):
            self.points_.append(self._point_model(point, doc, groups, rubric))
        return self

    def _point_model(self, point, doc: Analysis, alt_groups, rubric: Rubric) -> _PointModel:
        features = token_features(doc, 0, len(doc), self.demoted_)
        for group in alt_groups:
            for alt in group:
                features.extend(token_features(alt, 0, len(alt), frozenset()))
        vector = self._vector(features)
        groups, weights, labels = [], [], []
        if alt_groups:
            for raw_group, group in zip(point.keywords, alt_groups):
                alternatives = []
                for raw, alt in zip(raw_group, group):
                    patterns = _alternative_patterns(alt, raw.endswith("*"))
                    if patterns:
                        alternatives.append(patterns)
                if alternatives:
                    groups.append(alternatives)
                    weights.append(1.0)
                    labels.append(raw_group[0])
        else:
            # No keywords given: each distinct content word of the point is a group of its own,
            # weighted by how rare it is in the rubric, so distinctive words count most.
            seen = set()
            for i in range(len(doc)):
                lemma = doc.lemmas[i]
                if not doc.content[i] or lemma in self.demoted_ or lemma in seen:
                    continue
                seen.add(lemma)
                feature = NEGATED + lemma if doc.negated[i] else lemma
                groups.append([((feature, False),)])
                weights.append(self.idf_.get(lemma, self.unseen_idf_))
                labels.append(doc.text[doc.starts[i]:doc.ends[i]])
        return _PointModel(point.id, groups, weights, labels, vector)

    def _vector(self, features: list[str]) -> dict[str, float]:
        counts: dict[str, int] = {}
        for feature in features:
            counts[feature] = counts.get(feature, 0) + 1
        vector = {f: (1.0 + math.log(c)) * self.idf_.get(f, self.unseen_idf_)
                  for f, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        return {f: v / norm for f, v in vector.items()}

    # -- matching ------------------------------------------------------------------------
    def _spell(self, lemma: str) -> str:
        """Map a misspelt word onto the rubric word it was meant to be, if one is close."""
        cached = self._spelling_cache.get(lemma)
        if cached is not None:
            return cached
        result = lemma
        if (len(lemma) >= self.settings_.fuzzy_min_length and lemma not in self.vocabulary_
                and lemma.isalpha()):
            best, best_distance = None, 3
            # an unknown plural ("rivels") is compared without its "s" too
            forms = (lemma, lemma[:-1]) if lemma.endswith("s") else (lemma,)
            for target in self.fuzzy_targets_.get(lemma[0], ()):
                allowed = 1 if min(len(target), len(lemma)) < 8 else 2
                distance = min(OSA.distance(form, target, score_cutoff=allowed) for form in forms)
                if distance <= allowed and distance < best_distance:
                    best, best_distance = target, distance
            if best is not None:
                result = best
        if len(self._spelling_cache) < 200_000:
            self._spelling_cache[lemma] = result
        return result

    def match(self, analysis: Analysis) -> list[PointMatch]:
        """Match every point of the rubric against one analysed answer."""
        settings = self.settings_
        segments = _segments(analysis, settings.window)
        seg_data = []
        for first, last in segments:
            start, end = analysis.sentences[first][0], analysis.sentences[last - 1][1]
            features = token_features(analysis, start, end, self.demoted_, self._spell)
            listed = _looks_like_list(analysis, start, end)
            keywords = keyword_features(analysis, start, end, self.demoted_, self._spell)
            keywords.update(f for f in features if " " in f)
            seg_data.append((first, last, features, keywords, self._vector(features), listed))

        matches = []
        for point in self.points_:
            best = None
            for first, last, features, feature_set, vector, listed in seg_data:
                coverage, terms, negated = _coverage(point, feature_set)
                cosine = sum(w * vector.get(f, 0.0) for f, w in point.vector.items())
                strength = (settings.keyword_weight * coverage + (1 - settings.keyword_weight)
                            * min(1.0, cosine / settings.similarity_full))
                if listed:
                    strength = min(strength, settings.covered - 1e-6)
                key = (strength, -(last - first))
                if best is None or key > best[0]:
                    best = (key, first, last, terms, listed, negated)
            if best is None:
                matches.append(PointMatch(point.id, MISSED, 0.0, (), ()))
                continue
            (strength, _), first, last, terms, listed, negated = best
            status = (COVERED if strength >= settings.covered
                      else PARTIAL if strength >= settings.partial else MISSED)
            spans: tuple[tuple[int, int], ...] = ()
            if status != MISSED:
                spans = _evidence_spans(analysis, first, last, terms, self._spell)
            matches.append(PointMatch(point.id, status, round(min(1.0, strength), 3),
                                      tuple(terms) if status != MISSED else (), spans,
                                      listed, negated and status == MISSED))
        return matches


def _identity(features):
    return features


def _strip_wildcard(text: str) -> str:
    return text[:-1] if text.endswith("*") else text


def _alternative_patterns(alt: Analysis, prefix: bool) -> tuple[tuple[str, bool], ...]:
    """The lemmas an alternative needs, as (feature, is_prefix) pairs."""
    indices = [i for i in range(len(alt)) if alt.content[i]]
    if not indices:
        indices = [i for i in range(len(alt)) if any(c.isalnum() for c in alt.lemmas[i])]
    patterns = []
    for n, i in enumerate(indices):
        lemma = alt.lemmas[i]
        is_prefix = prefix and n == len(indices) - 1
        if is_prefix:
            # a wildcard matches the word as written, before lemmatising
            lemma = alt.text[alt.starts[i]:alt.ends[i]].lower()
        patterns.append((NEGATED + lemma if alt.negated[i] else lemma, is_prefix))
    return tuple(patterns)


def _coverage(point: _PointModel, features: set[str]) -> tuple[float, list[str], bool]:
    """Weighted share of the point's keyword groups found, the terms found, and whether a
    group was found only under negation."""
    if not point.groups:
        return 0.0, [], False
    hit = 0.0
    terms: list[str] = []
    negated_only = False
    for alternatives, weight in zip(point.groups, point.group_weights):
        found = None
        for patterns in alternatives:
            if all(_has(features, p) for p in patterns):
                found = patterns
                break
        if found is not None:
            hit += weight
            terms.extend(p[0] for p in found if p[0] not in terms)
        elif any(all(_has(features, (NEGATED + f, pre)) for f, pre in patterns)
                 for patterns in alternatives):
            negated_only = True
    return hit / sum(point.group_weights), terms, negated_only


def _has(features: set[str], pattern: tuple[str, bool]) -> bool:
    feature, is_prefix = pattern
    if not is_prefix:
        return feature in features
    return any(f.startswith(feature) and " " not in f for f in features)


def _segments(analysis: Analysis, window: int) -> list[tuple[int, int]]:
    """Sentence ranges to compare with each point: single sentences and short windows."""
    n = len(analysis.sentences)
    segments = [(i, i + 1) for i in range(n)]
    for size in range(2, max(2, window) + 1):
        segments.extend((i, i + size) for i in range(n - size + 1))
    return segments


def _looks_like_list(analysis: Analysis, start: int, end: int) -> bool:
    """True for a bare list of key words rather than prose: few function words, or many short
    comma-separated items."""
    words = [i for i in range(start, end) if any(c.isalnum() for c in analysis.lemmas[i])]
    content = sum(1 for i in words if analysis.content[i])
    if content < 5:
        return False
    stops = sum(1 for i in words if analysis.stop[i])
    if stops / len(words) < 0.15:
        return True
    text = analysis.text[analysis.starts[start]:analysis.ends[end - 1]]
    items = [item for item in _LIST_SEPARATORS.split(text) if item.strip()]
    return len(items) >= 4 and sum(len(item.split()) for item in items) / len(items) <= 3


def _evidence_spans(analysis: Analysis, first: int, last: int, terms: list[str],
                    spell) -> tuple[tuple[int, int], ...]:
    """Character spans of the sentences that hold the evidence (all of them if no term)."""
    wanted = {t[len(NEGATED):] if t.startswith(NEGATED) else t for t in terms}
    spans = []
    for index in range(first, last):
        start, end = analysis.sentences[index]
        holds = not wanted or any(
            spell(analysis.lemmas[i]) in wanted or
            any(analysis.lemmas[i].startswith(w) for w in wanted)
            for i in range(start, end) if analysis.content[i])
        if holds:
            spans.append((analysis.starts[start], analysis.ends[end - 1]))
    if not spans:
        start, end = analysis.sentences[first][0], analysis.sentences[last - 1][1]
        spans.append((analysis.starts[start], analysis.ends[end - 1]))
    return tuple(spans)
