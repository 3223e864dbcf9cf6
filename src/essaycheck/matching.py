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
STEM = "~"
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
    #: weight of a question word, against 1 for any other word of a point, in word recall;
    #: question words alone never earn a point (copying the question earns nothing)
    question_weight: float = 0.2
    #: match derivational variants of a word ("vibrate" / "vibration") by a shared stem
    stems: bool = True

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
class _Form:
    """One wording of a point (its text, or one of its ``accept`` wordings)."""

    groups: list[list[tuple[tuple[str, bool], ...]]]  # group -> alternatives -> patterns
    group_weights: list[float]
    group_labels: list[str]
    vector: dict[str, float]
    words: list[tuple[str, str, float]]  # recall: (feature, stem feature, weight)
    words_total: float
    own_words: float  # total weight of the words that are not in the question
    curated: bool = False  # keyword groups written by a teacher: matched as written
    index: list | None = None  # per group: look-up keys of one-word alternatives


@dataclass
class _PointModel:
    id: str
    forms: list[_Form]


_SUFFIXES = ("ations", "ation", "itions", "ition", "ions", "ion", "ments", "ment", "nesses",
             "ness", "ities", "ity", "ically", "ical", "ally", "ly", "ives", "ive", "ances",
             "ance", "ences", "ence", "ates", "ate", "als", "al", "ers", "er", "es", "s", "e")


def stem(word: str) -> str:
    """A light stem that lets derivations meet ("vibrate", "vibration" -> "vibr"): the lemma
    less its longest common suffix, keeping at least four letters."""
    if len(word) <= 4 or not word.isalpha():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[:-len(suffix)]
    return word


def _stem_feature(feature: str) -> str:
    if feature.startswith(NEGATED):
        return NEGATED + STEM + stem(feature[len(NEGATED):])
    return STEM + stem(feature)


def keyword_features(analysis: Analysis, start: int, end: int, demoted: frozenset[str],
                     normalise=None, stems: bool = False) -> set[str]:
    """Every word lemma in tokens start..end (``not:``-marked under negation), for keywords;
    with ``stems``, also each content word's stem marked ``~``."""
    features = set()
    for i in range(start, end):
        lemma = analysis.lemmas[i]
        if not any(c.isalnum() for c in lemma):
            continue
        if normalise is not None and analysis.content[i]:
            lemma = normalise(lemma)
        if lemma in demoted:
            continue
        feature = NEGATED + lemma if analysis.negated[i] else lemma
        features.add(feature)
        if stems and analysis.content[i]:
            features.add(_stem_feature(feature))
    return features


def question_features(analysis: Analysis, start: int, end: int, question: frozenset[str],
                      normalise=None) -> set[str]:
    """The question's words that tokens start..end use (``not:``-marked under negation)."""
    features = set()
    for i in range(start, end):
        if not analysis.content[i]:
            continue
        lemma = analysis.lemmas[i]
        if normalise is not None:
            lemma = normalise(lemma)
        if lemma in question:
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
        accept_docs = [[analyzer.analyse(text) for text in point.accept]
                       for point in rubric.points]
        alt_docs = [[[analyzer.analyse(_strip_wildcard(alt)) for alt in group]
                     for group in point.keywords] for point in rubric.points]
        background = [analyzer.analyse(text) for text in (rubric.model_answer, rubric.context)
                      if text]
        corpus = [token_features(doc, 0, len(doc), frozenset()) for doc in point_docs]
        for docs in accept_docs:
            corpus.extend(token_features(doc, 0, len(doc), frozenset()) for doc in docs)
        for doc in background:
            corpus.extend(token_features(doc, a, b, frozenset()) for a, b in doc.sentences)
        corpus.append(token_features(question, 0, len(question), frozenset()))
        corpus = [features for features in corpus if features]

        vectorizer = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, lowercase=False)
        vectorizer.fit(corpus or [["empty"]])
        self.vectorizer_ = vectorizer
        self.idf_ = dict(zip(vectorizer.get_feature_names_out(), vectorizer.idf_))
        self.unseen_idf_ = float(max(vectorizer.idf_)) if len(vectorizer.idf_) else 1.0

        decisive = list(point_docs)
        for docs in accept_docs:
            decisive.extend(docs)
        for groups in alt_docs:
            for group in groups:
                decisive.extend(group)
        vocabulary = set()
        for doc in decisive + background + [question]:
            vocabulary.update(doc.lemmas[i] for i in range(len(doc)) if doc.content[i])
        for doc in decisive:
            vocabulary.update(doc.lemmas)
        self.vocabulary_ = frozenset(vocabulary)
        # Misspellings are mapped onto the words that decide points, not onto all the context.
        targets = set()
        for doc in decisive:
            targets.update(doc.lemmas[i] for i in range(len(doc)) if doc.content[i])
        self.fuzzy_targets_ = {}
        for target in targets:
            if len(target) >= settings.fuzzy_min_length and target.isalpha():
                self.fuzzy_targets_.setdefault(target[0], []).append(target)
        self._spelling_cache: dict[str, str] = {}

        self.points_ = []
        for point, doc, accepted, groups in zip(rubric.points, point_docs, accept_docs,
                                                alt_docs):
            forms = [self._form(doc, groups, point.keywords)]
            forms.extend(self._form(other, [], ()) for other in accepted)
            self.points_.append(_PointModel(point.id, forms))
        # Lengths of the wildcard prefixes: a segment lists its words' prefixes of just these
        # lengths, so a wildcard is one set look-up rather than a scan of the segment.
        lengths = set()
        for point_model in self.points_:
            for form in point_model.forms:
                for alternatives in form.groups:
                    for patterns in alternatives:
                        for feature, is_prefix in patterns:
                            if is_prefix:
                                plain = feature[len(NEGATED):] if feature.startswith(NEGATED) \
                                    else feature
                                lengths.update((len(plain), len(NEGATED) + len(plain)))
        self.prefix_lengths_ = tuple(sorted(lengths))
        return self

    def _form(self, doc: Analysis, alt_groups, raw_groups) -> _Form:
        features = token_features(doc, 0, len(doc), self.demoted_)
        for group in alt_groups:
            for alt in group:
                features.extend(token_features(alt, 0, len(alt), frozenset()))
        vector = self._vector(features)
        groups, weights, labels = [], [], []
        if alt_groups:
            for raw_group, group in zip(raw_groups, alt_groups):
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
        # Word recall: every content word of the wording; the question's words count less.
        words, seen_words = [], set()
        own = asked = 0.0
        for i in range(len(doc)):
            lemma = doc.lemmas[i]
            if not doc.content[i]:
                continue
            feature = NEGATED + lemma if doc.negated[i] else lemma
            if feature in seen_words:
                continue
            seen_words.add(feature)
            if lemma in self.demoted_:
                weight = self.settings_.question_weight
                asked += weight
            else:
                weight = 1.0
                own += weight
            words.append((feature, _stem_feature(feature), weight))
        if own == 0 and asked:
            # a point in the question's own words: they are all it can be recognised by
            words = [(f, sf, 1.0) for f, sf, _ in words]
            own = float(len(words))
        return _Form(groups, weights, labels, vector, words, own + asked if own else own, own,
                     curated=bool(alt_groups),
                     index=[_group_index(alternatives) for alternatives in groups])

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

    def _strength(self, form: _Form, features: set[str], asked: set[str],
                  vector: dict[str, float]) -> tuple[float, list[str], bool]:
        """How strongly one segment makes one wording of a point, from 0 to 1."""
        settings = self.settings_
        coverage, terms, negated = _coverage(form, features, settings.stems)
        small, large = ((form.vector, vector) if len(form.vector) <= len(vector)
                        else (vector, form.vector))
        cosine = sum(w * large.get(f, 0.0) for f, w in small.items())
        hit = own_hit = 0.0
        for feature, stem_feature, weight in form.words:
            if feature in features or feature in asked or (
                    settings.stems and stem_feature in features):
                hit += weight
                if feature not in asked:
                    own_hit += weight
        recall = hit / form.words_total if form.words_total else 0.0
        similarity = max(min(1.0, cosine / settings.similarity_full), recall)
        if form.groups:
            strength = (settings.keyword_weight * coverage
                        + (1 - settings.keyword_weight) * similarity)
        else:
            strength = similarity
        if not (coverage or cosine > 1e-9 or own_hit):
            # nothing but the question's own words: never enough to make a point
            strength = min(strength, settings.partial / 2)
        return strength, terms, negated

    def match(self, analysis: Analysis) -> list[PointMatch]:
        """Match every point of the rubric against one analysed answer."""
        settings = self.settings_
        segments = _segments(analysis, settings.window)
        seg_data = []
        for first, last in segments:
            start, end = analysis.sentences[first][0], analysis.sentences[last - 1][1]
            features = token_features(analysis, start, end, self.demoted_, self._spell)
            listed = _looks_like_list(analysis, start, end)
            keywords = keyword_features(analysis, start, end, self.demoted_, self._spell,
                                        settings.stems)
            keywords.update(f for f in features if " " in f)
            if self.prefix_lengths_:
                keywords.update(_prefixes(keywords, self.prefix_lengths_))
            asked = question_features(analysis, start, end, self.demoted_, self._spell)
            seg_data.append((first, last, keywords, asked, self._vector(features), listed))

        matches = []
        for point in self.points_:
            best = None
            for first, last, feature_set, asked, vector, listed in seg_data:
                for form in point.forms:
                    strength, terms, negated = self._strength(form, feature_set, asked, vector)
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
            matches.append(PointMatch(point.id, status, round(min(1.0, max(0.0, strength)), 3),
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


def _key(pattern: tuple[str, bool]) -> str:
    """The feature a one-word pattern looks up: the lemma, or its ``^``-marked prefix."""
    return PREFIX + pattern[0] if pattern[1] else pattern[0]


def _negated(patterns):
    return tuple((NEGATED + f, pre) for f, pre in patterns)


def _group_index(alternatives) -> tuple[frozenset, frozenset, bool]:
    """Look-up keys of a group's one-word alternatives, as said and as negated, and whether
    it has alternatives of several words."""
    return (frozenset(_key(p[0]) for p in alternatives if len(p) == 1),
            frozenset(_key(_negated(p)[0]) for p in alternatives if len(p) == 1),
            any(len(p) > 1 for p in alternatives))


def _coverage(point: _Form, features: set[str], stems: bool = False
              ) -> tuple[float, list[str], bool]:
    """Weighted share of the point's keyword groups found, the terms found, and whether a
    group was found only under negation."""
    if not point.groups:
        return 0.0, [], False
    hit = 0.0
    terms: list[str] = []
    negated_only = False
    for alternatives, weight, (singles, negated, multi) in zip(
            point.groups, point.group_weights, point.index):
        found = None
        if multi or not singles.isdisjoint(features):
            for patterns in alternatives:
                if all(_has(features, p) for p in patterns):
                    found = patterns
                    break
        if found is None and stems and not point.curated:
            for patterns in alternatives:
                if all(_has_stem(features, p) for p in patterns):
                    found = patterns
                    break
        if found is not None:
            hit += weight
            terms.extend(p[0] for p in found if p[0] not in terms)
        elif not negated.isdisjoint(features) or multi and any(
                len(patterns) > 1 and all(_has(features, p) for p in _negated(patterns))
                for patterns in alternatives):
            negated_only = True
    return hit / sum(point.group_weights), terms, negated_only


PREFIX = "^"


def _prefixes(features: set[str], lengths: tuple[int, ...]) -> list[str]:
    """``^``-marked prefixes of the given lengths of every single word in ``features``."""
    found = []
    for f in features:
        if " " in f or f.startswith((STEM, NEGATED + STEM, PREFIX)):
            continue
        for length in lengths:
            if length > len(f):
                break
            found.append(PREFIX + f[:length])
    return found


def _has(features: set[str], pattern: tuple[str, bool]) -> bool:
    feature, is_prefix = pattern
    if not is_prefix:
        return feature in features
    return PREFIX + feature in features


def _has_stem(features: set[str], pattern: tuple[str, bool]) -> bool:
    feature, is_prefix = pattern
    if is_prefix or " " in feature:
        return _has(features, pattern)
    return _stem_feature(feature) in features or feature in features


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
