"""Matching one answer against the points of one rubric: keyword groups, word recall and
character n-grams.

A point's *strength* in a segment of the answer (a sentence, or two neighbouring ones) is a
weighted sum of three pieces of evidence, each from 0 to 1 (see ``STRENGTH_WEIGHTS``):

- **coverage**: the weighted share of the point's keyword groups that the segment meets;
- **recall**: the share of the point's content words (lemmas, or a shared light stem) that the
  segment uses, the question's own words counting ``question_weight``;
- **char_recall**: the IDF-weighted share of the character 3- to 5-grams of the point's words
  (scikit-learn's ``char_wb`` n-grams, IDF from the rubric) that the segment's words contain,
  which meets morphology and misspellings half-way ("rehabilitated" / "rehabilitation").

The weights were chosen by grouped cross-validation on human-marked data
(``scripts/fit_strength.py``; figures in ACCURACY.md), not set by hand, and are plain constants:
nothing is fitted at run time. Two rules then cap the strength: a segment that is a bare list of
key words stays below "covered", and one that uses nothing but the question's own words stays
below half of "partial" (copying the question earns nothing).

``PointMatcher`` follows scikit-learn's conventions: ``__init__`` stores settings, ``fit`` learns
from the rubric (its points, model answer, question and context, never from answers), and
learned state ends in ``_``. ``match`` then scores an analysed answer without changing the
matcher, so an answer gets the same result alone or in any batch.
"""

from __future__ import annotations

import functools
import math
import operator
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import NamedTuple

from rapidfuzz.distance import OSA
from sklearn.feature_extraction.text import TfidfVectorizer

from .analysis import Analysis, Analyzer, normalise_lemma
from .results import COVERED, MISSED, PARTIAL
from .rubric import Rubric

NEGATED = "not:"
STEM = "~"
_LIST_SEPARATORS = re.compile(r"[,;\n/•·|]+")

#: Evidence -> strength: (feature, weight) pairs, summing to 1. Chosen by 5-fold cross-validation
#: grouped by question over SciEntsBank, Beetle and SAF, among weightings that give coverage at
#: least the "covered" threshold (so a point whose keyword groups are all met is covered), by
#: ``scripts/fit_strength.py``, which reproduces them from ../shared/eval. Not fitted at run time.
STRENGTH_WEIGHTS = (("coverage", 0.5), ("recall", 0.25), ("char_recall", 0.25))
_WEIGHTS = dict(STRENGTH_WEIGHTS)
#: Character n-gram lengths (scikit-learn's ``char_wb`` analyser: within words, space-padded).
CHAR_NGRAMS = (3, 5)
_CACHE_LIMIT = 50_000
#: marks the n-grams of a negated word, so they meet only negated words
NEGATED_GRAM = "!"


def combine(coverage: float, recall: float, char: float, own: bool, grouped: bool,
            weights: tuple[float, float, float], partial: float) -> float:
    """A point's strength in a segment from its evidence: the weighted sum (coverage, recall,
    char_recall; a wording without keyword groups shares coverage's weight out between the
    other two), capped below half of ``partial`` when only the question's words are there."""
    coverage_weight, recall_weight, char_weight = weights
    if grouped:
        strength = coverage_weight * coverage + recall_weight * recall + char_weight * char
    else:
        rest = recall_weight + char_weight
        strength = (recall_weight * recall + char_weight * char) / rest if rest else recall
    if not own:
        # nothing but the question's own words: never enough to make a point
        strength = min(strength, partial / 2)
    return strength


@lru_cache(maxsize=4_096)
def word_grams(word: str, negated: bool = False) -> frozenset[str]:
    """A word's character n-grams as written (normalised), marked when the word is negated so
    that they meet only negated words. Cached for the process, shared by every rubric."""
    grams = _char_ngrams([normalise_lemma(word)])
    return frozenset(NEGATED_GRAM + g for g in grams) if negated else frozenset(grams)


def _char_ngrams(words) -> list[str]:
    """Character n-grams of each word, space-padded, as scikit-learn's ``char_wb`` makes
    them (a word shorter than an n-gram counts once, whole)."""
    low, high = CHAR_NGRAMS
    grams = []
    for word in words:
        padded = f" {word} "
        length = len(padded)
        for n in range(low, high + 1):
            if length <= n:
                grams.append(padded)
                break
            grams.extend(padded[i:i + n] for i in range(length - n + 1))
    return grams


@dataclass(frozen=True)
class MatchSettings:
    """Tunable settings of the matcher; the defaults are meant to serve any rubric."""

    #: strength at or above which a point counts as covered
    covered: float = 0.5
    #: strength at or above which a point counts as partly made
    partial: float = 0.28
    #: weight of keyword-group coverage in the strength (``STRENGTH_WEIGHTS``)
    coverage_weight: float = _WEIGHTS["coverage"]
    #: weight of the recall of the point's content words
    recall_weight: float = _WEIGHTS["recall"]
    #: weight of the recall of the point's character n-grams
    char_weight: float = _WEIGHTS["char_recall"]
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
        return replace(self, **{k: float(v) for k, v in thresholds.items()
                                if k in ("covered", "partial")})


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
    words: list[tuple[str, str, float]]  # recall: (feature, stem feature, weight)
    words_total: float
    own_words: float  # total weight of the words that are not in the question
    grams: dict[str, float] = field(default_factory=dict)  # char n-gram -> IDF
    grams_total: float = 0.0
    gram_masks: tuple[tuple[float, int], ...] = ()  # (IDF, bit mask of the n-grams with it)
    weights_total: float = 0.0
    word_weights: dict[str, float] = field(default_factory=dict)  # recall, by feature
    word_set: frozenset[str] = frozenset()
    stem_set: frozenset[str] = frozenset()
    stem_words: dict[str, tuple[str, ...]] = field(default_factory=dict)  # stem -> features
    curated: bool = False  # keyword groups written by a teacher: matched as written
    index: list | None = None  # per group: look-up keys of one-word alternatives


class _Segment(NamedTuple):
    """What a segment of the answer offers as evidence."""

    features: set[str]  # keyword features: lemmas, stems, bigrams, wildcard prefixes
    asked: set[str]  # the question's words it uses
    grams: int  # bit mask of its content words' character n-grams (the points' only)


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
        """Learn vocabulary, IDF weights and the points' evidence from the rubric alone."""
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
        self.idf_ = dict(zip(vectorizer.get_feature_names_out(), map(float, vectorizer.idf_)))
        self.unseen_idf_ = float(max(vectorizer.idf_)) if len(vectorizer.idf_) else 1.0

        # Character n-grams: IDF from the rubric's own texts, word by word (as ``char_wb``).
        char_docs = []
        for doc in point_docs + [d for docs in accept_docs for d in docs] + background \
                + [question]:
            for a, b in doc.sentences:
                words = [normalise_lemma(doc.text[doc.starts[i]:doc.ends[i]])
                         for i in range(a, b) if doc.content[i]]
                if words:
                    char_docs.append(words)
        chars = TfidfVectorizer(analyzer=_char_ngrams, lowercase=False)
        chars.fit(char_docs or [["empty"]])
        self.char_idf_ = dict(zip(chars.get_feature_names_out(), map(float, chars.idf_)))

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
        # A word the lemmatiser knows is an English word, not a misspelling ("things" is not
        # a misspelt "think").
        self.known_words_ = analyzer.known_words
        # Misspellings are mapped onto the words that decide points, not onto all the context.
        targets = set()
        for doc in decisive:
            targets.update(doc.lemmas[i] for i in range(len(doc)) if doc.content[i])
        self.fuzzy_targets_ = {}
        for target in sorted(targets):  # sorted: ties resolve the same in every process
            if len(target) >= settings.fuzzy_min_length and target.isalpha():
                self.fuzzy_targets_.setdefault(target[0], []).append(target)
        self._spelling_cache: dict[str, str] = {}
        self._stem_cache: dict[str, str] = {}
        self._token_cache: dict[tuple, tuple] = {}

        self.points_ = []
        for point, doc, accepted, groups in zip(rubric.points, point_docs, accept_docs,
                                                alt_docs):
            forms = [self._form(doc, groups, point.keywords)]
            forms.extend(self._form(other, [], ()) for other in accepted)
            self.points_.append(_PointModel(point.id, forms))
        # Only the points' own n-grams can count, so an answer's words keep just those.
        self.char_vocabulary_ = frozenset(
            gram for point_model in self.points_ for form in point_model.forms
            for gram in form.grams)
        # Each n-gram is a bit: a segment's n-grams are one integer, and a wording's
        # IDF-weighted share is a popcount per distinct IDF value (exact, and fast).
        self.gram_bits_ = {gram: 1 << n for n, gram in enumerate(sorted(self.char_vocabulary_))}
        for point_model in self.points_:
            for form in point_model.forms:
                by_weight: dict[float, int] = {}
                for gram, weight in form.grams.items():
                    by_weight[weight] = by_weight.get(weight, 0) | self.gram_bits_[gram]
                form.gram_masks = tuple(by_weight.items())
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
        grams: dict[str, float] = {}
        for i in range(len(doc)):
            lemma = doc.lemmas[i]
            if not doc.content[i]:
                continue
            feature = NEGATED + lemma if doc.negated[i] else lemma
            if lemma not in self.demoted_:
                for gram in word_grams(doc.text[doc.starts[i]:doc.ends[i]], doc.negated[i]):
                    grams[gram] = self.char_idf_.get(gram.lstrip(NEGATED_GRAM), 1.0)
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
        stem_words: dict[str, tuple[str, ...]] = {}
        for feature, stem_feature, _ in words:
            stem_words[stem_feature] = stem_words.get(stem_feature, ()) + (feature,)
        return _Form(groups, weights, labels, words, own + asked if own else own, own,
                     grams=grams, grams_total=sum(grams.values()),
                     weights_total=sum(weights),
                     word_weights={f: w for f, _, w in words},
                     word_set=frozenset(f for f, _, _ in words),
                     stem_set=frozenset(stem_words), stem_words=stem_words,
                     curated=bool(alt_groups),
                     index=[_group_index(alternatives) for alternatives in groups])

    # -- matching ------------------------------------------------------------------------
    def _spell(self, lemma: str) -> str:
        """Map a misspelt word onto the rubric word it was meant to be, if one is close."""
        cached = self._spelling_cache.get(lemma)
        if cached is not None:
            return cached
        result = lemma
        if (len(lemma) >= self.settings_.fuzzy_min_length and lemma not in self.vocabulary_
                and lemma.isalpha() and lemma not in self.known_words_):
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
        if len(self._spelling_cache) < _CACHE_LIMIT:
            self._spelling_cache[lemma] = result
        return result

    def _stem(self, feature: str) -> str:
        cached = self._stem_cache.get(feature)
        if cached is None:
            cached = _stem_feature(feature)
            if len(self._stem_cache) < _CACHE_LIMIT:
                self._stem_cache[feature] = cached
        return cached

    def _grams(self, word: str, negated: bool) -> int:
        """The bit mask of a word's character n-grams that some point of the rubric has."""
        bits = self.gram_bits_
        mask = 0
        for gram in word_grams(word, negated):
            mask |= bits.get(gram, 0)
        return mask

    def _token_evidence(self, lemma: str, negated: bool, content: bool, written: str
                        ) -> tuple[tuple[str, ...], str | None, str | None, frozenset[str]]:
        """What one word adds to a segment (cached, bounded): its keyword features (the
        lemma, ``not:``-marked under negation, with its wildcard prefixes and stem), the
        question word it is (if it is one), the unigram it adds, and its n-grams."""
        key = (lemma, negated, content, written)
        cached = self._token_cache.get(key)
        if cached is not None:
            return cached
        feature = NEGATED + lemma if negated else lemma
        if lemma in self.demoted_:
            cached = ((), feature if content else None, None, 0)
        else:
            features = [feature]
            for length in self.prefix_lengths_:
                if length > len(feature):
                    break
                features.append(PREFIX + feature[:length])
            grams = 0
            if content:
                if self.settings_.stems:
                    features.append(self._stem(feature))
                grams = self._grams(written, negated)
            cached = (tuple(features), None, feature if content else None, grams)
        if len(self._token_cache) < _CACHE_LIMIT:
            self._token_cache[key] = cached
        return cached

    def _sentence(self, analysis: Analysis, start: int, end: int, spelled: list[str],
                  words: list[bool]) -> _Segment:
        """The evidence tokens start..end offer: keyword features (lemmas, ``not:``-marked
        under negation, stems, bigrams, wildcard prefixes), question words, n-grams."""
        features: set[str] = set()
        asked: set[str] = set()
        grams = 0
        unigrams = []
        content, negated, text = analysis.content, analysis.negated, analysis.text
        starts, ends = analysis.starts, analysis.ends
        describe = self._token_evidence
        for i in range(start, end):
            if not words[i]:
                continue
            token_features, question_word, unigram, token_grams = describe(
                spelled[i], negated[i], content[i],
                text[starts[i]:ends[i]] if content[i] else "")
            if question_word is not None:
                asked.add(question_word)
            features.update(token_features)
            if unigram is not None:
                unigrams.append(unigram)
            grams |= token_grams
        features.update(f"{a} {b}" for a, b in zip(unigrams, unigrams[1:]))
        return _Segment(features, asked, grams)

    def _evidence(self, form: _Form, segment: _Segment) -> tuple[float, float, float, bool]:
        """One segment's evidence for one wording of a point: coverage, recall, char_recall
        (each 0 to 1), and whether any of the point's own words or keywords is there."""
        stems = self.settings_.stems
        features = segment.features
        coverage = _coverage_value(form, features, stems) if form.groups else 0.0
        weight = form.word_weights
        found = features & form.word_set
        if stems:
            for stem_feature in form.stem_set.intersection(features):
                found.update(form.stem_words[stem_feature])
        own_hit = sum(map(weight.__getitem__, found))
        hit = own_hit + sum(map(weight.__getitem__, (form.word_set & segment.asked) - found))
        recall = hit / form.words_total if form.words_total else 0.0
        char = 0.0
        if form.grams_total:
            present = segment.grams
            char = sum(weight * (mask & present).bit_count()
                       for weight, mask in form.gram_masks) / form.grams_total
        return coverage, recall, char, bool(coverage or own_hit)

    def evidence(self, analysis: Analysis) -> list[list[tuple]]:
        """Per point, the raw evidence of every (wording, segment) pair: ``(coverage,
        recall, char_recall, own, listed, grouped, sentences)``, where ``own`` tells whether
        any of the point's own words or keywords is there, ``listed`` whether the segment is a
        list of key words and ``grouped`` whether the wording has keyword groups. What
        ``match`` weighs with ``combine``; scripts/fit_strength.py fits the weights on it."""
        segments = self._segments(analysis)
        return [[self._evidence(form, segment) + (listed, bool(form.groups), last - first)
                 for form in point.forms for first, last, segment, listed in segments]
                for point in self.points_]

    def _tokens(self, analysis: Analysis) -> tuple[list[str], list[bool]]:
        """Per token: the lemma after spelling (content words only), and whether it is a word
        at all (not punctuation)."""
        spelled, words = [], []
        for lemma, content in zip(analysis.lemmas, analysis.content):
            if content:
                spelled.append(self._spell(lemma))
                words.append(True)
            else:
                spelled.append(lemma)
                words.append(any(c.isalnum() for c in lemma))
        return spelled, words

    def _segments(self, analysis: Analysis, tokens=None
                  ) -> list[tuple[int, int, _Segment, bool]]:
        """Single sentences and windows of neighbouring ones, with their evidence."""
        spelled, words = tokens or self._tokens(analysis)
        sentences = [self._sentence(analysis, a, b, spelled, words)
                     for a, b in analysis.sentences]
        segments = []
        for first, last in _segments(analysis, self.settings_.window):
            if last - first == 1:
                segment = sentences[first]
            else:
                parts = sentences[first:last]
                segment = _Segment(set().union(*(p.features for p in parts)),
                                   set().union(*(p.asked for p in parts)),
                                   functools.reduce(operator.or_, (p.grams for p in parts), 0))
            start, end = analysis.sentences[first][0], analysis.sentences[last - 1][1]
            segments.append((first, last, segment,
                             _looks_like_list(analysis, start, end, words)))
        return segments

    def match(self, analysis: Analysis) -> list[PointMatch]:
        """Match every point of the rubric against one analysed answer."""
        settings = self.settings_
        weights = (settings.coverage_weight, settings.recall_weight, settings.char_weight)
        tokens = self._tokens(analysis)
        segments = self._segments(analysis, tokens)
        matches = []
        for point in self.points_:
            best = self._best(point, segments, weights)
            if best is None:
                matches.append(PointMatch(point.id, MISSED, 0.0, (), ()))
                continue
            strength, first, last, segment, form, listed = best
            # rounded so that float noise in a sum never tips a point across a threshold
            decided = round(strength, 9)
            status = (COVERED if decided >= settings.covered
                      else PARTIAL if decided >= settings.partial else MISSED)
            _, found, negated = _coverage(form, segment.features, settings.stems)
            terms: tuple[str, ...] = ()
            spans: tuple[tuple[int, int], ...] = ()
            if status != MISSED:
                found.extend(feature for feature, stem_feature, weight in form.words
                             if (feature in segment.features
                                 or settings.stems and stem_feature in segment.features)
                             and feature not in found)
                evidence = self._term_tokens(analysis, first, last, found, tokens)
                terms = self._surface_terms(analysis, evidence, tokens)
                spans = _evidence_spans(analysis, first, last, evidence)
            matches.append(PointMatch(point.id, status, round(min(1.0, max(0.0, strength)), 3),
                                      terms, spans, listed, negated and status == MISSED))
        return matches

    def _best(self, point: _PointModel, segments, weights):
        """The segment and wording that make the point most strongly: ``(strength, first,
        last, segment, wording, listed)``, or None for an answer with no words.

        The first of the strongest in segment order wins, so a single sentence beats a window
        of two that is no stronger. Evidence only grows with the segment, so a sentence can be
        as strong as the strongest window only if every window holding it is: the others are
        not scored (the result is the same as scoring every segment, only faster)."""
        settings = self.settings_
        cap = settings.covered - 1e-6

        def score(index):
            segment, listed = segments[index][2], segments[index][3]
            top = raw = None
            for form in point.forms:
                strength = combine(*self._evidence(form, segment), bool(form.groups), weights,
                                   settings.partial)
                raw = strength if raw is None else max(raw, strength)
                if listed:
                    strength = min(strength, cap)
                if top is None or strength > top[0]:
                    top = (strength, form)
            return top[0], raw, top[1]

        singles = [i for i, (first, last, _, _) in enumerate(segments) if last - first == 1]
        windows = [i for i, (first, last, _, _) in enumerate(segments) if last - first > 1]
        scored = {i: score(i) for i in windows}
        strongest = max((scored[i][0] for i in windows), default=None)
        if strongest is not None and strongest <= 0:
            scored[singles[0]] = (0.0, 0.0, point.forms[0])  # nothing anywhere: the first
        else:
            bound = {i: math.inf for i in singles}
            for i in windows:
                first, last = segments[i][0], segments[i][1]
                for single in range(first, last):
                    bound[single] = min(bound[single], scored[i][1])
            for i in singles:
                if strongest is None or bound[i] >= strongest:
                    scored[i] = score(i)
        best = None
        for i in sorted(scored):
            first, last, segment, listed = segments[i]
            key = (scored[i][0], -(last - first))
            if best is None or key > best[0]:
                best = (key, first, last, segment, scored[i][2], listed)
        if best is None:
            return None
        (strength, _), first, last, segment, form, listed = best
        return strength, first, last, segment, form, listed

    def _term_tokens(self, analysis: Analysis, first: int, last: int, found: list[str],
                     tokens: tuple[list[str], list[bool]]) -> list[int]:
        """Indices of the tokens in sentences first..last that are the matched terms: the
        same lemma (after spelling), the same light stem, or a wildcard's prefix."""
        spelled, words = tokens
        wanted, prefixes = _wanted(found)
        stems = {self._stem(w) for w in wanted} if self.settings_.stems else set()
        start, end = analysis.sentences[first][0], analysis.sentences[last - 1][1]
        text, starts, ends, content = analysis.text, analysis.starts, analysis.ends, \
            analysis.content
        return [i for i in range(start, end) if words[i] and (
            spelled[i] in wanted or (stems and content[i] and self._stem(spelled[i]) in stems)
            or (prefixes and normalise_lemma(text[starts[i]:ends[i]]).startswith(prefixes)))]

    def _surface_terms(self, analysis: Analysis, indices: list[int],
                       tokens: tuple[list[str], list[bool]]) -> tuple[str, ...]:
        """The student's own words that earned the point, as written (a misspelt word as the
        rubric word it was taken for), in the order they appear, each once."""
        spelled = tokens[0]
        terms: list[str] = []
        seen: set[str] = set()
        for i in indices:
            written, lemma = analysis.lemmas[i], spelled[i]
            misspelt = lemma != written and written[:-1] != lemma  # not just a plural
            shown = lemma if misspelt else analysis.text[analysis.starts[i]:analysis.ends[i]]
            if shown.lower() not in seen:
                seen.add(shown.lower())
                terms.append(shown)
        return tuple(terms)


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


def _group_index(alternatives) -> tuple[frozenset, frozenset, tuple]:
    """Look-up keys of a group's one-word alternatives, as said and as negated, and its
    alternatives of several words."""
    return (frozenset(_key(p[0]) for p in alternatives if len(p) == 1),
            frozenset(_key(_negated(p)[0]) for p in alternatives if len(p) == 1),
            tuple(p for p in alternatives if len(p) > 1))


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
            terms.extend(_key(p) for p in found if _key(p) not in terms)
        elif not negated.isdisjoint(features) or multi and any(
                len(patterns) > 1 and all(_has(features, p) for p in _negated(patterns))
                for patterns in alternatives):
            negated_only = True
    return hit / sum(point.group_weights), terms, negated_only


def _coverage_value(point: _Form, features: set[str], stems: bool = False) -> float:
    """Weighted share of the point's keyword groups found (``_coverage`` without the terms)."""
    hit = 0.0
    for alternatives, weight, (singles, _, multi) in zip(point.groups, point.group_weights,
                                                         point.index):
        if not singles.isdisjoint(features) or (multi and any(
                all(_has(features, p) for p in patterns)
                for patterns in multi)) or (stems and not point.curated and any(
                all(_has_stem(features, p) for p in patterns) for patterns in alternatives)):
            hit += weight
    return hit / point.weights_total if point.weights_total else 0.0


def _wanted(terms) -> tuple[set[str], tuple[str, ...]]:
    """Matched terms as plain words and as wildcard prefixes (negation marks dropped)."""
    words, prefixes = set(), []
    for term in terms:
        prefix = term.startswith(PREFIX)
        term = term[len(PREFIX):] if prefix else term
        term = term[len(NEGATED):] if term.startswith(NEGATED) else term
        if prefix:
            prefixes.append(term)
        else:
            words.update(term.split(" "))
    return words, tuple(prefixes)


PREFIX = "^"


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


def _looks_like_list(analysis: Analysis, start: int, end: int,
                     words: list[bool] | None = None) -> bool:
    """True for a bare list of key words rather than prose: few function words, many short
    comma-separated items, or (however short) three or more items of one or two words with no
    function word at all ("Socialism, party, humane.")."""
    words = [i for i in range(start, end) if words[i]] if words is not None else \
        [i for i in range(start, end) if any(c.isalnum() for c in analysis.lemmas[i])]
    if not words:
        return False
    content = sum(1 for i in words if analysis.content[i])
    stops = sum(1 for i in words if analysis.stop[i])
    text = analysis.text[analysis.starts[start]:analysis.ends[end - 1]]
    items = [item for item in _LIST_SEPARATORS.split(text) if item.strip()]
    if content < 5:
        return stops == 0 and len(items) >= 3 and all(len(item.split()) <= 2 for item in items)
    if stops / len(words) < 0.15:
        return True
    return len(items) >= 4 and sum(len(item.split()) for item in items) / len(items) <= 3


def _evidence_spans(analysis: Analysis, first: int, last: int,
                    tokens: list[int]) -> tuple[tuple[int, int], ...]:
    """Character spans of the sentences that hold the evidence tokens (all of them if none)."""
    spans = []
    for index in range(first, last):
        start, end = analysis.sentences[index]
        if not tokens or any(start <= i < end for i in tokens):
            spans.append((analysis.starts[start], analysis.ends[end - 1]))
    if not spans:
        start, end = analysis.sentences[first][0], analysis.sentences[last - 1][1]
        spans.append((analysis.starts[start], analysis.ends[end - 1]))
    return tuple(spans)
