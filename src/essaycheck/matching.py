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

How it is computed: ``fit`` turns the rubric into an ``_EvidenceIndex``, matrices whose rows are
the features a word can offer (lemmas, stems, wildcard prefixes, question words) and the points'
character n-grams. ``match`` reads each sentence of the answer as two bit masks over those rows
(per word, cached by word type), unpacks them for every segment at once, and gets every
wording's coverage, recall and char_recall in every segment from a few numpy products; Python
loops remain only for the chosen segment of each point (its matched words and quote).
"""

from __future__ import annotations

import functools
import math
import operator
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import NamedTuple

import numpy
from rapidfuzz.distance import OSA

from .analysis import Analysis, Analyzer, normalise_lemma
from .errors import check_is_fitted
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


def limit_blas_threads() -> None:
    """Use one BLAS thread in this process. The matcher's matrix products are small, and BLAS
    threads only contend with a server's or a worker pool's own threads and processes (a
    request took 7 ms instead of 1.9 ms with the other core busy). Called where essaycheck
    owns the process: the CLI, the web app factory and batch workers."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")


def idf(documents) -> dict[str, float]:
    """Each term's inverse document frequency over documents given as lists of terms, as
    scikit-learn's ``TfidfVectorizer`` (smooth_idf=True) computes ``idf_``:
    ln((1 + n) / (1 + df)) + 1. Written out because importing scikit-learn costs about 0.6 s
    of every process start, and this is all the matcher needs of it; test_matching checks
    the figures against ``TfidfVectorizer`` itself."""
    frequency: dict[str, int] = {}
    n = 0
    for terms in documents:
        n += 1
        for term in set(terms):
            frequency[term] = frequency.get(term, 0) + 1
    return {term: math.log((1 + n) / (1 + df)) + 1 for term, df in frequency.items()}


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


#: The default (covered, partial) strength thresholds: a point counts as covered from the
#: first, as partly made from the second, unless a rubric's calibrated thresholds say otherwise.
DEFAULT_THRESHOLDS = (0.5, 0.28)


@dataclass(frozen=True)
class MatchSettings:
    """Tunable settings of the matcher; the defaults are meant to serve any rubric."""

    #: strength at or above which a point counts as covered
    covered: float = DEFAULT_THRESHOLDS[0]
    #: strength at or above which a point counts as partly made
    partial: float = DEFAULT_THRESHOLDS[1]
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
    #: (a point made at least in part) its evidence is a list of key words
    listed: bool = False
    #: (a missed point) a keyword group of it is there only under negation
    negated: bool = False


@dataclass
class Wording:
    """One wording of a point (its text, or one of its ``accept`` wordings), as the matcher
    reads it; read-only outside the matcher."""

    groups: list[list[tuple[tuple[str, bool], ...]]]  # group -> alternatives -> patterns
    group_weights: list[float]
    words: list[tuple[str, str, float]]  # recall: (feature, stem feature, weight)
    words_total: float  # what recall divides by (see ``PointMatcher._form``)
    grams: dict[str, float] = field(default_factory=dict)  # char n-gram -> IDF
    curated: bool = False  # keyword groups written by a teacher: matched as written


@dataclass
class _PointModel:
    id: str
    forms: list[Wording]


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

        self.idf_ = idf(corpus or [["empty"]])
        self.unseen_idf_ = max(self.idf_.values())

        # Character n-grams: IDF from the rubric's own texts, word by word (as ``char_wb``).
        char_docs = []
        for doc in point_docs + [d for docs in accept_docs for d in docs] + background \
                + [question]:
            for a, b in doc.sentences:
                words = [normalise_lemma(doc.text[doc.starts[i]:doc.ends[i]])
                         for i in range(a, b) if doc.content[i]]
                if words:
                    char_docs.append(words)
        self.char_idf_ = idf(map(_char_ngrams, char_docs or [["empty"]]))

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
        self._targets_cache: dict[tuple[str, ...], tuple] = {}
        self._type_cache: dict[int, tuple[str, bool, int, int]] = {}

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
        self.index_ = _EvidenceIndex(self.points_, settings.stems, self.demoted_,
                                     self.char_vocabulary_)
        return self

    def _form(self, doc: Analysis, alt_groups, raw_groups) -> Wording:
        groups, weights = [], []
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
        # Word recall: every content word of the wording; the question's words count less.
        words, seen_words = [], set()
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
            weight = self.settings_.question_weight if lemma in self.demoted_ else 1.0
            words.append((feature, _stem_feature(feature), weight))
        total = sum(weight for _, _, weight in words)
        if words and all(f.removeprefix(NEGATED) in self.demoted_ for f, _, _ in words):
            # A point in the question's own words: they are all it can be recognised by, so
            # they count fully, but the total keeps their question weight on top, so that
            # recall alone stays below 1. (As the weights were chosen; ACCURACY.md.)
            words = [(f, sf, 1.0) for f, sf, _ in words]
            total += len(words)
        return Wording(groups, weights, words, total, grams=grams, curated=bool(alt_groups))

    # -- what was learned, read-only -------------------------------------------------------
    @property
    def fitted_settings(self) -> MatchSettings:
        """The settings in force: those given, with the rubric's own thresholds applied."""
        check_is_fitted(self, "index_")
        return self.settings_

    @property
    def thresholds(self) -> tuple[float, float]:
        """The (covered, partial) strength thresholds in force for this rubric."""
        settings = self.fitted_settings
        return settings.covered, settings.partial

    @property
    def question_words(self) -> frozenset[str]:
        """The content lemmas of the rubric's question (they count little, and alone nothing)."""
        check_is_fitted(self, "index_")
        return self.demoted_

    @property
    def vocabulary(self) -> frozenset[str]:
        """The lemmas of the rubric's texts (a word here is never taken for a misspelling)."""
        check_is_fitted(self, "index_")
        return self.vocabulary_

    @property
    def wordings(self) -> tuple[tuple[Wording, ...], ...]:
        """Per point, in rubric order, its wordings: its text, then its ``accept`` wordings."""
        check_is_fitted(self, "index_")
        return tuple(tuple(point.forms) for point in self.points_)

    def question_overlap(self, content_lemmas: Iterable[str]) -> float:
        """The share of an answer's content lemmas that are the question's own words (0 for
        an answer without any)."""
        check_is_fitted(self, "index_")
        lemmas = list(content_lemmas)
        return sum(map(self.demoted_.__contains__, lemmas)) / max(1, len(lemmas))

    def term_idf(self, term: str) -> float:
        """A term's IDF over the rubric's texts; a term they never use gets the highest."""
        check_is_fitted(self, "index_")
        return self.idf_.get(term, self.unseen_idf_)

    def spell(self, lemma: str) -> str:
        """The rubric word a misspelt lemma was meant to be, if one is close; else the lemma."""
        check_is_fitted(self, "index_")
        return self._spell(lemma)

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

    def _word_evidence(self, lemma: str, negated: bool, content: bool, written: str
                       ) -> tuple[int, int]:
        """What one word adds to a segment, as bit masks over the evidence index's rows: its
        features (the lemma, ``not:``-marked under negation, with its wildcard prefixes and
        stem), or the question word it is; and its character n-grams."""
        index = self.index_
        feature = NEGATED + lemma if negated else lemma
        if lemma in self.demoted_:
            asked = index.feature_ids.get(ASKED + feature) if content else None
            return (0 if asked is None else 1 << asked), 0
        features = [feature]
        for length in self.prefix_lengths_:
            if length > len(feature):
                break
            features.append(PREFIX + feature[:length])
        grams = 0
        if content:
            if self.settings_.stems:
                features.append(self._stem(feature))
            for gram in word_grams(written, negated):
                grams |= index.gram_bits.get(gram, 0)
        bits = 0
        for f in features:
            bits |= index.feature_bits.get(f, 0)
        return bits, grams

    def _evidence_table(self, analysis: Analysis, ranges: list[tuple[int, int]]
                        ) -> tuple["_EvidenceTable", tuple[list[str], list[bool]]]:
        """The evidence of every segment (a range of sentences) for every wording at once:
        each sentence becomes a row of the index's features it holds, a segment the union of
        its sentences' rows, and the evidence a few products with the index's matrices.
        Also, per token, its lemma after spelling and whether it is a word at all (not
        punctuation), read in the same pass."""
        keys = [(kind << 2) | (negated << 1) | content for kind, negated, content
                in zip(analysis.types, analysis.negated, analysis.content)]
        infos = list(map(self._type_cache.get, keys))
        if not all(infos):
            infos = [info or self._type_info(analysis, i, key)
                     for i, (info, key) in enumerate(zip(infos, keys))]
        features = [functools.reduce(operator.or_, map(_FEATURE_BITS, infos[a:b]), 0)
                    for a, b in analysis.sentences]
        grams = [functools.reduce(operator.or_, map(_GRAM_BITS, infos[a:b]), 0)
                 for a, b in analysis.sentences]
        tokens = (list(map(_SPELLED, infos)), list(map(_IS_WORD, infos)))
        return self.index_.table(features, grams, ranges), tokens

    def _type_info(self, analysis: Analysis, i: int, key: int) -> tuple[str, bool, int, int]:
        """What token i adds, kept (bounded) under its word type, negation and content flag:
        its lemma after spelling (content words only), whether it is a word at all (not
        punctuation), and the bit masks of its features and n-grams in the evidence index."""
        lemma, content = analysis.lemmas[i], analysis.content[i]
        bits = grams = 0
        if content:
            lemma, is_word = self._spell(lemma), True
        else:
            is_word = any(c.isalnum() for c in lemma)
        if is_word:
            written = analysis.text[analysis.starts[i]:analysis.ends[i]] if content else ""
            bits, grams = self._word_evidence(lemma, analysis.negated[i], content, written)
        info = (lemma, is_word, bits, grams)
        if len(self._type_cache) < _CACHE_LIMIT:
            self._type_cache[key] = info
        return info

    def evidence(self, analysis: Analysis, ranges: list[tuple[int, int]] | None = None
                 ) -> list[list[tuple]]:
        """Per point, the raw evidence of every (wording, segment) pair: ``(coverage,
        recall, char_recall, own, listed, grouped, sentences)``, where ``own`` tells whether
        any of the point's own words or keywords is there, ``listed`` whether the segment is a
        list of key words and ``grouped`` whether the wording has keyword groups. What
        ``match`` weighs with ``combine``; scripts/fit_strength.py fits the weights on it.
        The segments are single sentences and windows of neighbouring ones, or ``ranges``
        (first, last) of sentences."""
        check_is_fitted(self, "index_")
        if ranges is None:
            ranges = _segments(analysis, self.settings_.window)
        if not ranges:
            return [[] for _ in self.points_]
        table, tokens = self._evidence_table(analysis, ranges)
        listed = [_looks_like_list(analysis, analysis.sentences[first][0],
                                   analysis.sentences[last - 1][1], tokens[1])
                  for first, last in ranges]
        out = []
        for first_form, last_form in self.index_.point_forms:
            rows = []
            for k in range(first_form, last_form):
                grouped = bool(self.index_.grouped[k])
                rows.extend(
                    (float(table.coverage[s, k]), float(table.recall[s, k]),
                     float(table.char[s, k]), bool(table.own[s, k]), listed[s], grouped,
                     last - first)
                    for s, (first, last) in enumerate(ranges))
            out.append(rows)
        return out

    def match(self, analysis: Analysis) -> list[PointMatch]:
        """Match every point of the rubric against one analysed answer."""
        check_is_fitted(self, "index_")
        settings = self.settings_
        ranges = _segments(analysis, settings.window)
        if not ranges:
            return [PointMatch(point.id, MISSED, 0.0, (), ()) for point in self.points_]
        table, tokens = self._evidence_table(analysis, ranges)
        strengths = table.strengths(
            (settings.coverage_weight, settings.recall_weight, settings.char_weight),
            settings.partial)
        listed: dict[int, bool] = {}

        def is_listed(s: int) -> bool:
            if s not in listed:
                first, last = ranges[s]
                listed[s] = _looks_like_list(analysis, analysis.sentences[first][0],
                                             analysis.sentences[last - 1][1], tokens[1])
            return listed[s]

        matches = []
        for point, (s, k) in zip(self.points_, self.index_.best(
                strengths, settings.covered - 1e-6, is_listed)):
            first, last = ranges[s]
            strength = float(strengths[s, k])
            # rounded so that float noise in a sum never tips a point across a threshold
            decided = round(strength, 9)
            status = (COVERED if decided >= settings.covered
                      else PARTIAL if decided >= settings.partial else MISSED)
            if status == MISSED:
                matches.append(PointMatch(point.id, status, round(max(0.0, decided), 3), (),
                                          (), negated=bool(table.negated[s, k])))
                continue
            found = self.index_.found_terms(k, table.features(first, last))
            evidence = self._term_tokens(analysis, first, last, found, tokens)
            matches.append(PointMatch(
                point.id, status, round(min(1.0, decided), 3),
                self._surface_terms(analysis, evidence, tokens),
                _evidence_spans(analysis, first, last, evidence), is_listed(s)))
        return matches

    def _term_tokens(self, analysis: Analysis, first: int, last: int, found: list[str],
                     tokens: tuple[list[str], list[bool]]) -> list[int]:
        """Indices of the tokens in sentences first..last that are the matched terms: the
        same lemma (after spelling), the same light stem, or a wildcard's prefix."""
        spelled, words = tokens
        key = tuple(found)
        targets = self._targets_cache.get(key)
        if targets is None:
            wanted, prefixes = _wanted(found)
            stems = {self._stem(w) for w in wanted} if self.settings_.stems else set()
            targets = (wanted, prefixes, stems)
            if len(self._targets_cache) < _CACHE_LIMIT:
                self._targets_cache[key] = targets
        wanted, prefixes, stems = targets
        start, end = analysis.sentences[first][0], analysis.sentences[last - 1][1]
        text, starts, ends, content = analysis.text, analysis.starts, analysis.ends, \
            analysis.content
        stem_of, stem = self._stem_cache.get, self._stem
        return [i for i in range(start, end) if words[i] and (
            spelled[i] in wanted
            or (stems and content[i] and (stem_of(spelled[i]) or stem(spelled[i])) in stems)
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


ASKED = "?"  # marks a question word in the evidence index: it counts in recall only
_SPELLED, _IS_WORD, _FEATURE_BITS, _GRAM_BITS = (operator.itemgetter(n) for n in range(4))


class _EvidenceTable(NamedTuple):
    """The evidence of each segment (rows) for each wording (columns)."""

    coverage: numpy.ndarray
    recall: numpy.ndarray
    char: numpy.ndarray
    own: numpy.ndarray  # any of the wording's own words or keywords is there
    negated: numpy.ndarray  # a keyword group is there only under negation
    grouped: numpy.ndarray  # per wording: it has keyword groups
    sentences: list[int]  # per sentence, the bit mask of the index's features it holds

    def features(self, first: int, last: int) -> int:
        """The bit mask of the features sentences first..last hold."""
        if last - first == 1:
            return self.sentences[first]
        return functools.reduce(operator.or_, self.sentences[first:last])

    def strengths(self, weights: tuple[float, float, float], partial: float) -> numpy.ndarray:
        """``combine`` over the whole table."""
        coverage_weight, recall_weight, char_weight = weights
        rest = recall_weight + char_weight
        grouped = coverage_weight * self.coverage + recall_weight * self.recall \
            + char_weight * self.char
        plain = (recall_weight * self.recall + char_weight * self.char) / rest if rest \
            else self.recall
        strength = numpy.where(self.grouped, grouped, plain)
        return numpy.where(self.own, strength, numpy.minimum(strength, partial / 2))


class _EvidenceIndex:
    """A rubric's points as matrices, so that an answer's evidence for every wording of every
    point is a few matrix products rather than a loop over points, wordings and segments.

    Rows of ``features_`` are the features a word can offer (``feature_ids``: lemmas, stems,
    wildcard prefixes, question words); its columns are, in turn: the wordings' recall words (a
    word is found by its lemma, its stem or, for a question word, as asked), per keyword group
    its one-word alternatives (as said, then negated), the words of its alternatives of
    several words (as said, then negated), and per wording whether a feature is one of its own
    words. Rows of ``grams_`` are the points' character n-grams (``gram_ids``), its columns
    the wordings, holding each n-gram's share of the wording's IDF weight.
    """

    def __init__(self, points, stems: bool, demoted: frozenset[str], grams) -> None:
        self.forms = [form for point in points for form in point.forms]
        self.point_forms, start = [], 0
        for point in points:
            self.point_forms.append((start, start + len(point.forms)))
            start += len(point.forms)
        self.form_starts_ = numpy.array([first for first, _ in self.point_forms], dtype=int)
        self.feature_ids: dict[str, int] = {}
        n_forms = len(self.forms)

        def routes(pattern, form) -> list[int]:
            found = [_key(pattern)]
            if stems and not form.curated and not pattern[1] and " " not in pattern[0]:
                found.append(_stem_feature(pattern[0]))
            return [self._id(route) for route in found]

        word_cells, own_cells, word_weights = [], [], []
        single_cells: list[list[int]] = []  # per group, said then negated: feature rows
        multi_cells: list[list[int]] = []  # per word of a multi-word alternative: feature rows
        multi_alternatives: list[tuple[int, list[int]]] = []  # (group column, word columns)
        group_forms = []
        for k, form in enumerate(self.forms):
            for feature, stem_feature, weight in form.words:
                column = len(word_weights)
                word_weights.append((k, weight))
                for route in ([feature, stem_feature] if stems else [feature]):
                    word_cells.append((self._id(route), column))
                    if weight > 0:
                        own_cells.append((self._id(route), k))
                plain = feature[len(NEGATED):] if feature.startswith(NEGATED) else feature
                if plain in demoted:
                    word_cells.append((self._id(ASKED + feature), column))
            for group, weight in zip(form.groups, form.group_weights):
                said, unsaid = len(single_cells), len(single_cells) + 1
                group_forms.append((k, weight))
                single_cells.extend(([], []))
                for patterns in group:
                    if len(patterns) == 1:
                        single_cells[said].extend(routes(patterns[0], form))
                        single_cells[unsaid].extend(routes(_negated(patterns)[0], form)[:1])
                        continue
                    for column, variant in ((said, patterns), (unsaid, _negated(patterns))):
                        words = []
                        for pattern in variant:
                            words.append(len(multi_cells))
                            multi_cells.append(routes(pattern, form)[:1] if column == unsaid
                                               else routes(pattern, form))
                        multi_alternatives.append((column, words))
        n_words, n_singles, n_multi = len(word_weights), len(single_cells), len(multi_cells)
        self.bounds_ = tuple(numpy.cumsum([n_words, n_singles, n_multi, n_forms]).tolist())
        # 0/1 and small counts: float32 is exact, and twice as fast to multiply
        self.features_ = numpy.zeros((len(self.feature_ids), self.bounds_[-1]),
                                     dtype=numpy.float32)
        for row, column in word_cells:
            self.features_[row, column] = 1.0
        for column, rows in enumerate(single_cells):
            self.features_[rows, n_words + column] = 1.0
        for column, rows in enumerate(multi_cells):
            self.features_[rows, n_words + n_singles + column] = 1.0
        for row, k in own_cells:
            self.features_[row, n_words + n_singles + n_multi + k] = 1.0
        # recall: the found words' weights over the wording's total
        self.word_weights_ = numpy.zeros((n_words, n_forms))
        for column, (k, weight) in enumerate(word_weights):
            self.word_weights_[column, k] = weight
        self.word_totals_ = numpy.array([form.words_total or math.inf for form in self.forms])
        # alternatives of several words: met when all their words are; each meets its group
        self.multi_words_ = numpy.zeros((n_multi, len(multi_alternatives)))
        self.multi_needed_ = numpy.array([len(words) for _, words in multi_alternatives],
                                         dtype=float)
        self.multi_groups_ = numpy.zeros((len(multi_alternatives), n_singles))
        for a, (column, words) in enumerate(multi_alternatives):
            self.multi_words_[words, a] = 1.0
            self.multi_groups_[a, column] = 1.0
        # coverage: the met groups' weights over the wording's total
        self.group_weights_ = numpy.zeros((len(group_forms), n_forms))
        self.group_forms_ = numpy.zeros((len(group_forms), n_forms))
        for g, (k, weight) in enumerate(group_forms):
            self.group_weights_[g, k] = weight
            self.group_forms_[g, k] = 1.0
        self.weight_totals_ = numpy.array([sum(form.group_weights) or math.inf
                                           for form in self.forms])
        # character n-grams: each n-gram's share of the wording's IDF weight
        gram_ids = {gram: n for n, gram in enumerate(sorted(grams))}
        self.grams_ = numpy.zeros((len(gram_ids), n_forms))
        for k, form in enumerate(self.forms):
            total = sum(form.grams.values())
            for gram, weight in form.grams.items():
                self.grams_[gram_ids[gram], k] = weight / total
        self.grouped = numpy.array([bool(form.groups) for form in self.forms])
        # a word's features and n-grams are bits of an integer: a sentence's are their OR
        self.feature_bits = {f: 1 << n for f, n in self.feature_ids.items()}
        self.gram_bits = {gram: 1 << n for gram, n in gram_ids.items()}
        # per wording, what tells which of its terms a segment holds (see ``found_terms``)
        bits = self.feature_bits
        self.terms_ = []
        for form in self.forms:
            groups = []
            for group in form.groups:
                alternatives = []
                for patterns in group:
                    keys = tuple(_key(pattern) for pattern in patterns)
                    either = None
                    if stems and not form.curated:
                        either = tuple(functools.reduce(operator.or_, map(
                            (1).__lshift__, routes(pattern, form))) for pattern in patterns)
                    alternatives.append((functools.reduce(operator.or_, map(bits.get, keys)),
                                         keys, either))
                groups.append(alternatives)
            words = [(feature, bits[feature] | (bits[stem_feature] if stems else 0))
                     for feature, stem_feature, _ in form.words]
            self.terms_.append((groups, words))

    def _id(self, feature: str) -> int:
        return self.feature_ids.setdefault(feature, len(self.feature_ids))

    def found_terms(self, k: int, features: int) -> list[str]:
        """The terms of wording k that a segment holding these features (a bit mask) uses:
        per keyword group met, the patterns of its first alternative met (as written, else
        by stem); then the wording's words found by lemma or stem."""
        groups, words = self.terms_[k]
        terms: list[str] = []
        for alternatives in groups:
            found = next((keys for mask, keys, _ in alternatives if features & mask == mask),
                         None)
            if found is None:
                found = next((keys for _, keys, either in alternatives
                              if either and all(features & mask for mask in either)), None)
            if found is not None:
                terms.extend(key for key in found if key not in terms)
        terms.extend(feature for feature, mask in words
                     if features & mask and feature not in terms)
        return terms

    def table(self, features: list[int], grams: list[int], ranges: list[tuple[int, int]]
              ) -> _EvidenceTable:
        """The evidence table of one answer from its sentences' feature and n-gram masks."""
        words_end, singles_end, multi_end, own_end = self.bounds_
        gather = _gather(tuple(ranges))
        hits = _segment_rows(features, gather, self.features_, sparse=True) > 0
        groups = hits[:, words_end:singles_end]
        if multi_end > singles_end:
            met = (hits[:, singles_end:multi_end] @ self.multi_words_) >= self.multi_needed_
            groups = groups | ((met @ self.multi_groups_) > 0)
        said, unsaid = groups[:, 0::2], groups[:, 1::2]
        coverage = (said @ self.group_weights_) / self.weight_totals_
        negated = ((unsaid & ~said) @ self.group_forms_) > 0
        recall = (hits[:, :words_end] @ self.word_weights_) / self.word_totals_
        own = hits[:, multi_end:own_end] | (coverage > 0)
        chars = _segment_rows(grams, gather, self.grams_)
        return _EvidenceTable(coverage, recall, chars, own, negated, self.grouped, features)

    def best(self, strengths: numpy.ndarray, cap: float, is_listed) -> list[tuple[int, int]]:
        """Per point, the (segment, wording) that makes it most strongly: the strongest, then
        the first segment (``_segments`` lists the shorter first, so a single sentence beats
        a window that is no stronger) and the first wording. A segment that ``is_listed`` (a
        list of key words) has its strengths capped at ``cap`` in place; it is tested only
        when it would otherwise win above the cap. Ties are judged on strengths rounded to
        1e-9, so that float noise cannot decide them."""
        rounded = numpy.round(strengths, 9)
        tops = numpy.maximum.reduceat(rounded, self.form_starts_, axis=1)
        capped: set[int] = set()
        out = []
        for p, (first_form, last_form) in enumerate(self.point_forms):
            while True:
                s = int(tops[:, p].argmax())
                if s in capped or strengths[s, first_form:last_form].max() <= cap \
                        or not is_listed(s):
                    break
                # a list of key words: capped for every point, then look again
                capped.add(s)
                numpy.minimum(strengths[s], cap, out=strengths[s])
                rounded[s] = numpy.round(strengths[s], 9)
                tops[s] = numpy.maximum.reduceat(rounded[s], self.form_starts_)
            k = first_form if last_form - first_form == 1 else \
                first_form + int(rounded[s, first_form:last_form].argmax())
            out.append((s, k))
        return out


def _segment_rows(sentences: list[int], gather: tuple, matrix: numpy.ndarray,
                  sparse: bool = False) -> numpy.ndarray:
    """``segments x matrix``, where a segment's row is the union of its sentences' rows: each
    sentence's bit mask over the matrix's rows, unpacked to 0/1. ``gather`` is
    ``_gather(ranges)``. ``sparse``: multiply just the rows some sentence holds (faster for a
    wide matrix of which an answer meets a small part)."""
    width = matrix.shape[0]
    size = (width + 7) // 8
    packed = numpy.frombuffer(b"".join(mask.to_bytes(size, "little") for mask in sentences),
                              dtype=numpy.uint8).reshape(len(sentences), size)
    rows = numpy.unpackbits(packed, axis=1, count=width, bitorder="little")
    if sparse:
        present = numpy.flatnonzero(rows.any(axis=0))
        rows, matrix = rows[:, present], matrix[present]
    firsts, more = gather
    segments = rows[firsts]
    for which, sentence in more:
        segments[which] |= rows[sentence]
    return segments.astype(matrix.dtype) @ matrix


@lru_cache(maxsize=1_024)
def _gather(ranges: tuple[tuple[int, int], ...]) -> tuple:
    """How to build segment rows from sentence rows: each range's first sentence, then for
    each further position j, the ranges that long and their sentence at j. Cached: answers
    with as many sentences share it."""
    firsts = numpy.array([first for first, _ in ranges], dtype=numpy.intp)
    more = []
    for j in range(1, max(last - first for first, last in ranges)):
        which = [n for n, (first, last) in enumerate(ranges) if last - first > j]
        more.append((numpy.array(which, dtype=numpy.intp),
                     numpy.array([ranges[n][0] + j for n in which], dtype=numpy.intp)))
    return firsts, tuple(more)


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
