"""The matcher: a point's strength in each segment of an answer, from its evidence, and the
status (covered, partial, missed) that strength earns.

A point's *strength* in a segment of the answer (a sentence, or two neighbouring ones) is a
weighted sum of three pieces of evidence, each from 0 to 1 (see ``STRENGTH_WEIGHTS``):

- **coverage**: the weighted share of the point's keyword groups that the segment meets;
- **recall**: the share of the point's content words (lemmas, or a shared light stem) that the
  segment uses, the question's own words counting ``question_word_weight``;
- **char_recall**: the IDF-weighted share of the character 3- to 5-grams of the point's words
  (scikit-learn's ``char_wb`` n-grams, IDF from the rubric) that the segment's words contain,
  which meets morphology and misspellings half-way ("rehabilitated" / "rehabilitation").

The weights were chosen by grouped cross-validation on human-marked data
(``scripts/fit_strength.py``; figures in ACCURACY.md), not set by hand, and are plain constants:
nothing is fitted at run time. Two rules then cap the strength: a segment that is a bare list of
key words stays below "covered", and one that uses nothing but the question's own words stays
below half of "partial" (copying the question earns nothing).

``PointMatcher`` follows scikit-learn's conventions: ``__init__`` stores settings, ``fit`` learns
from the rubric (its points, model answer, question and context, never from answers) in named
steps, and learned state ends in ``_``. ``match`` then scores an analysed answer without
changing the matcher, so an answer gets the same result alone or in any batch.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from itertools import compress
from typing import Any, NamedTuple

from rapidfuzz.distance import OSA

from ..analysis import Analysis, Analyzer, normalise_lemma
from ..errors import check_is_fitted
from ..results import COVERED, MISSED, PARTIAL
from ..rubric import Rubric
from .features import (
    NEGATED,
    NEGATED_GRAM,
    alternative_patterns,
    char_ngrams,
    idf,
    lemma_feature,
    matched_words,
    prefix_feature,
    question_word_feature,
    stem_feature,
    strip_wildcard,
    token_features,
    unnegated,
    word_grams,
)
from .index import EvidenceIndex, EvidenceTable

_LIST_SEPARATORS = re.compile(r"[,;\n/•·|]+")

#: Evidence -> strength: (feature, weight) pairs, summing to 1. Chosen by 5-fold cross-validation
#: grouped by question over SciEntsBank, Beetle and SAF, among weightings that give coverage at
#: least the "covered" threshold (so a point whose keyword groups are all met is covered), by
#: ``scripts/fit_strength.py``, which reproduces them from ../shared/eval. Not fitted at run time.
STRENGTH_WEIGHTS = (("coverage", 0.5), ("recall", 0.25), ("char_recall", 0.25))
_WEIGHTS = dict(STRENGTH_WEIGHTS)
_CACHE_LIMIT = 50_000
#: Evidence quotes: a sentence of at most QUOTE_WHOLE tokens is quoted whole; a longer one
#: (an answer without sentence punctuation is one sentence) as windows of QUOTE_CONTEXT tokens
#: either side of the first occurrence of each matched word, at most QUOTE_WINDOWS windows per
#: point, overlapping windows merged up to QUOTE_SPAN tokens, so a quote stays proportional
#: to the point and not to the answer.
QUOTE_WHOLE = 60
QUOTE_CONTEXT = 10
QUOTE_SPAN = 3 * QUOTE_CONTEXT + 1
QUOTE_WINDOWS = 3
#: ``PointMatcher._type_info``: spelled lemma, is a word, feature and n-gram bits, stem, the
#: word as written normalised
_TypeInfo = tuple[str, bool, int, "str | None", str]
#: per token of an answer: spelled lemmas, is a word, ``_TypeInfo``, stems
_Tokens = tuple[list[str], list[bool], list[_TypeInfo], "list[str | None]"]
#: what ``_TypeInfo`` is kept under: a token's word type, negation and content flag
_TypeKey = tuple[int, bool, bool]


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
    question_word_weight: float = 0.2
    #: match derivational variants of a word ("vibrate" / "vibration") by a shared stem
    stems: bool = True
    #: a point without keyword groups (a mark scheme's bare "key element") has a group per
    #: content word; each also accepts, from the lexicon (``essaycheck.lexicon``), the word's
    #: other spellings and at most this many synonyms of its dominant senses of weight (score
    #: x commonness) >= ``alternative_weight`` ...
    alternative_synonyms: int = 2
    #: ... word-family members at that weight (off: chosen out of fold, ACCURACY.md) ...
    alternative_family: int = 0
    #: ... and family members or synonyms of any sense that the rubric's own texts use (off)
    alternative_context: int = 0
    #: least weight of a synonym or family member (see ``alternative_synonyms``)
    alternative_weight: float = 0.3

    def with_thresholds(self, thresholds: dict[str, float]) -> MatchSettings:
        """These settings with a rubric's own calibrated thresholds applied."""
        changes: dict[str, Any] = {k: float(v) for k, v in thresholds.items()
                                   if k in ("covered", "partial")}
        return replace(self, **changes)


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
    #: (a missed point) its core is there under negation: more than half of its keyword weight
    #: in one segment, at least half of that only negated (``index.NEGATION_CORE``)
    negated: bool = False
    #: per span of ``sentence_spans``: (cut before, cut after) when the span is a window of a
    #: long sentence rather than the whole of it (``QUOTE_WHOLE``)
    cuts: tuple[tuple[bool, bool], ...] = ()


@dataclass
class Wording:
    """One wording of a point (its text, or one of its ``accept`` wordings), as the matcher
    reads it; read-only outside the matcher."""

    groups: list[list[tuple[tuple[str, bool], ...]]]  # group -> alternatives -> patterns
    group_weights: list[float]
    words: list[tuple[str, str, float]]  # recall: (feature, stem feature, weight)
    words_total: float  # what recall divides by (see ``PointMatcher._recall_words``)
    grams: dict[str, float] = field(default_factory=dict)  # char n-gram -> IDF
    curated: bool = False  # keyword groups written by a teacher: matched as written


@dataclass
class _PointModel:
    """A point as the matcher reads it: its id and its wordings."""

    id: str
    wordings: list[Wording]


class _RubricTexts(NamedTuple):
    """A rubric's texts, analysed once for every step of ``PointMatcher.fit``."""

    question: Analysis
    points: list[Analysis]  # per point, its text
    accepted: list[list[Analysis]]  # per point, its accepted wordings
    alternatives: list[list[list[Analysis]]]  # per point, per keyword group, its alternatives
    background: list[Analysis]  # the model answer and the context, when given

    @classmethod
    def analyse(cls, rubric: Rubric, analyzer: Analyzer) -> _RubricTexts:
        """Analyse the rubric's texts (the question first, as the order of ``fit`` was),
        after ``Analyzer.remember`` keeps their words."""
        analyzer.remember([rubric.question, *(point.text for point in rubric.points),
                           *(text for point in rubric.points for text in point.accept),
                           *(strip_wildcard(alt) for point in rubric.points
                             for group in point.keywords for alt in group),
                           *(text for text in (rubric.model_answer, rubric.context) if text)])
        question = analyzer.analyse(rubric.question)
        points = [analyzer.analyse(point.text) for point in rubric.points]
        accepted = [[analyzer.analyse(text) for text in point.accept]
                    for point in rubric.points]
        alternatives = [[[analyzer.analyse(strip_wildcard(alt)) for alt in group]
                         for group in point.keywords] for point in rubric.points]
        background = [analyzer.analyse(text) for text in (rubric.model_answer, rubric.context)
                      if text]
        return cls(question, points, accepted, alternatives, background)

    def decisive(self) -> list[Analysis]:
        """The texts that decide points: the points', their accepted wordings' and their
        keyword alternatives'."""
        decisive = list(self.points)
        for docs in self.accepted:
            decisive.extend(docs)
        for groups in self.alternatives:
            for group in groups:
                decisive.extend(group)
        return decisive


def _content_lemmas(doc: Analysis) -> Iterator[str]:
    """The lemmas of a text's content words, in order."""
    return (doc.lemmas[i] for i in range(len(doc)) if doc.content[i])


class PointMatcher:
    """Scores answers against the points of one rubric."""

    def __init__(self, settings: MatchSettings | None = None) -> None:
        self.settings = settings

    # -- fitting -------------------------------------------------------------------------
    def fit(self, rubric: Rubric, analyzer: Analyzer) -> PointMatcher:
        """Learn from the rubric alone (never from answers), in named steps: the question's
        words, the IDF of words and of character n-grams, the spelling targets, each point's
        wordings, and the evidence index built from them."""
        self.settings_ = (self.settings or MatchSettings()).with_thresholds(rubric.thresholds)
        self.rubric_id_ = rubric.id
        texts = _RubricTexts.analyse(rubric, analyzer)
        self.question_words_ = frozenset(_content_lemmas(texts.question))
        self._fit_idf(texts)
        self._fit_char_idf(texts)
        self._fit_spelling(texts, analyzer)
        self._clear_caches()
        self._fit_points(rubric, texts)
        self._fit_index()
        return self

    def _fit_idf(self, texts: _RubricTexts) -> None:
        """IDF of the features (lemmas and their bigrams) over the rubric's texts: each point,
        each accepted wording, each sentence of the model answer and context, the question."""
        corpus = [token_features(doc, 0, len(doc), frozenset()) for doc in texts.points]
        for docs in texts.accepted:
            corpus.extend(token_features(doc, 0, len(doc), frozenset()) for doc in docs)
        for doc in texts.background:
            corpus.extend(token_features(doc, a, b, frozenset()) for a, b in doc.sentences)
        corpus.append(token_features(texts.question, 0, len(texts.question), frozenset()))
        corpus = [features for features in corpus if features]
        self.idf_ = idf(corpus or [["empty"]])
        self.unseen_idf_ = max(self.idf_.values())

    def _fit_char_idf(self, texts: _RubricTexts) -> None:
        """IDF of character n-grams from the rubric's own texts, word by word (as
        ``char_wb``), one document per sentence."""
        char_docs = []
        for doc in texts.points + [d for docs in texts.accepted for d in docs] \
                + texts.background + [texts.question]:
            for a, b in doc.sentences:
                words = [normalise_lemma(doc.text[doc.starts[i]:doc.ends[i]])
                         for i in range(a, b) if doc.content[i]]
                if words:
                    char_docs.append(words)
        self.char_idf_ = idf(map(char_ngrams, char_docs or [["empty"]]))

    def _fit_spelling(self, texts: _RubricTexts, analyzer: Analyzer) -> None:
        """What ``_spell`` needs: the rubric's vocabulary (never taken for a misspelling), the
        words the lemmatiser knows, and the words a misspelling may be mapped onto."""
        decisive = texts.decisive()
        vocabulary: set[str] = set()
        for doc in decisive + texts.background + [texts.question]:
            vocabulary.update(_content_lemmas(doc))
        for doc in decisive:
            vocabulary.update(doc.lemmas)
        self.vocabulary_ = frozenset(vocabulary)
        # A word the lemmatiser knows is an English word, not a misspelling ("things" is not
        # a misspelt "think").
        self.known_words_ = analyzer.known_words
        # Misspellings are mapped onto the words that decide points, not onto all the context.
        targets: set[str] = set()
        for doc in decisive:
            targets.update(_content_lemmas(doc))
        self.fuzzy_targets_: dict[str, list[str]] = {}
        for target in sorted(targets):  # sorted: ties resolve the same in every process
            if len(target) >= self.settings_.fuzzy_min_length and target.isalpha():
                self.fuzzy_targets_.setdefault(target[0], []).append(target)

    def _clear_caches(self) -> None:
        """Empty the per-word caches ``match`` fills (bounded by ``_CACHE_LIMIT``)."""
        self._spelling_cache: dict[str, str] = {}
        self._stem_cache: dict[str, str] = {}
        self._targets_cache: dict[tuple[str, ...], tuple] = {}
        self._type_cache: dict[_TypeKey, _TypeInfo] = {}

    def _fit_points(self, rubric: Rubric, texts: _RubricTexts) -> None:
        """Each point's wordings: its text (with its keyword groups), then its accepted
        wordings (with none). A point without keyword groups gets, per content word of its
        wordings, the lexicon's alternatives (``_fit_alternatives``)."""
        self.points_ = []
        self.alternatives_: dict[str, tuple[str, ...]] = {}
        if any(not point.keywords for point in rubric.points):
            self._fit_alternatives(rubric, texts)
        for point, doc, accepted, groups in zip(rubric.points, texts.points, texts.accepted,
                                                texts.alternatives, strict=True):
            extra = self.alternatives_ if not point.keywords else {}
            wordings = [self._wording(doc, groups, point.keywords, extra)]
            wordings.extend(self._wording(other, [], (), extra) for other in accepted)
            self.points_.append(_PointModel(point.id, wordings))

    def _fit_alternatives(self, rubric: Rubric, texts: _RubricTexts) -> None:
        """The words a student may write for each content word of the rubric's points without
        keyword groups, from the lexicon, by the rule drafting fills a keyword group with
        (``lexicon.anticipated``, shared): its other spellings, then word-family members and
        synonyms of its dominant senses above ``alternative_weight``, and family members or
        synonyms of any sense that the rubric's own texts (points, accepted wordings, model
        answer, context) use, each kind capped. Single words only; never a question word.
        From the rubric alone, so an answer gets the same result alone or in a batch."""
        settings = self.settings_
        if not (settings.alternative_family or settings.alternative_synonyms
                or settings.alternative_context):
            return
        from spacy.lang.en.stop_words import STOP_WORDS

        from ..lexicon import anticipated

        own_words = frozenset(
            lemma for doc in texts.decisive() + texts.background
            for lemma in _content_lemmas(doc))
        wanted: set[str] = set()
        for point, doc, accepted in zip(rubric.points, texts.points, texts.accepted,
                                        strict=True):
            if not point.keywords:
                for text in [doc, *accepted]:
                    wanted.update(_content_lemmas(text))
        question_words = self.question_words_
        for lemma in sorted(wanted - question_words):
            chosen = anticipated(
                lemma, own_words, family=settings.alternative_family,
                synonyms=settings.alternative_synonyms, context=settings.alternative_context,
                family_weight=settings.alternative_weight,
                synonym_weight=settings.alternative_weight,
                skip=lambda word: word in question_words or word in STOP_WORDS)
            if chosen:
                self.alternatives_[lemma] = tuple(chosen)

    def _fit_index(self) -> None:
        """The evidence index of the points' wordings, and what an answer's words are read
        for: the points' own n-grams (no other can count) and the wildcards' prefix lengths."""
        wordings = [point.wordings for point in self.points_]
        self.char_vocabulary_ = frozenset(
            gram for of_point in wordings for wording in of_point for gram in wording.grams)
        # A segment lists its words' prefixes of just these lengths, so a wildcard is one set
        # look-up rather than a scan of the segment.
        lengths: set[int] = set()
        for of_point in wordings:
            for wording in of_point:
                for alternatives in wording.groups:
                    for patterns in alternatives:
                        for feature, is_prefix in patterns:
                            if is_prefix:
                                plain = unnegated(feature)
                                lengths.update((len(plain), len(NEGATED) + len(plain)))
        self.prefix_lengths_ = tuple(sorted(lengths))
        self.index_ = EvidenceIndex(wordings, self.settings_.stems, self.question_words_,
                                    self.char_vocabulary_)

    def _wording(self, doc: Analysis, alt_groups, raw_groups,
                 extra: dict[str, tuple[str, ...]] | None = None) -> Wording:
        """One wording of a point from its analysed text and, for the point's own text, its
        keyword groups (``raw_groups`` as written, ``alt_groups`` analysed); ``extra`` gives
        the alternatives of the groups made from its words when it has none."""
        groups, weights = self._keyword_groups(doc, alt_groups, raw_groups, extra or {})
        words, total, grams = self._recall_words(doc)
        return Wording(groups, weights, words, total, grams=grams, curated=bool(alt_groups))

    def _keyword_groups(self, doc: Analysis, alt_groups, raw_groups,
                        extra: dict[str, tuple[str, ...]] | None = None
                        ) -> tuple[list[list[tuple[tuple[str, bool], ...]]], list[float]]:
        """A wording's keyword groups (alternatives of patterns) and their weights: the
        teacher's, each weighing 1, or else one per distinct content word, weighted by IDF,
        met by the word or by any of its ``extra`` alternatives (said as the word is)."""
        groups, weights = [], []
        if alt_groups:
            for raw_group, group in zip(raw_groups, alt_groups, strict=True):
                alternatives = []
                for raw, alt in zip(raw_group, group, strict=True):
                    patterns = alternative_patterns(alt, raw.endswith("*"))
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
                if not doc.content[i] or lemma in self.question_words_ or lemma in seen:
                    continue
                seen.add(lemma)
                groups.append([((lemma_feature(word, doc.negated[i]), False),)
                               for word in (lemma, *(extra or {}).get(lemma, ()))])
                weights.append(self.idf_.get(lemma, self.unseen_idf_))
        return groups, weights

    def _recall_words(self, doc: Analysis
                      ) -> tuple[list[tuple[str, str, float]], float, dict[str, float]]:
        """A wording's recall words as (feature, stem feature, weight), what recall divides
        by, and its character n-grams with their IDF (the question's words have none)."""
        words, seen_words = [], set()
        grams: dict[str, float] = {}
        for i in range(len(doc)):
            lemma = doc.lemmas[i]
            if not doc.content[i]:
                continue
            feature = lemma_feature(lemma, doc.negated[i])
            if lemma not in self.question_words_:
                for gram in word_grams(doc.text[doc.starts[i]:doc.ends[i]], doc.negated[i]):
                    grams[gram] = self.char_idf_.get(gram.lstrip(NEGATED_GRAM), 1.0)
            if feature in seen_words:
                continue
            seen_words.add(feature)
            # the question's words count less
            weight = self.settings_.question_word_weight if lemma in self.question_words_ \
                else 1.0
            words.append((feature, stem_feature(feature), weight))
        total = sum(weight for _, _, weight in words)
        if words and all(unnegated(f) in self.question_words_ for f, _, _ in words):
            # A point in the question's own words: they are all it can be recognised by, so
            # they count fully, but the total keeps their question weight on top, so that
            # recall alone stays below 1. (As the weights were chosen; ACCURACY.md.)
            words = [(f, sf, 1.0) for f, sf, _ in words]
            total += len(words)
        return words, total, grams

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
        return self.question_words_

    @property
    def vocabulary(self) -> frozenset[str]:
        """The lemmas of the rubric's texts (a word here is never taken for a misspelling)."""
        check_is_fitted(self, "index_")
        return self.vocabulary_

    @property
    def wordings(self) -> tuple[tuple[Wording, ...], ...]:
        """Per point, in rubric order, its wordings: its text, then its ``accept`` wordings."""
        check_is_fitted(self, "index_")
        return tuple(tuple(point.wordings) for point in self.points_)

    def question_overlap(self, content_lemmas: Iterable[str]) -> float:
        """The share of an answer's content lemmas that are the question's own words (0 for
        an answer without any)."""
        check_is_fitted(self, "index_")
        lemmas = list(content_lemmas)
        return sum(map(self.question_words_.__contains__, lemmas)) / max(1, len(lemmas))

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
            candidates = (lemma, lemma[:-1]) if lemma.endswith("s") else (lemma,)
            for target in self.fuzzy_targets_.get(lemma[0], ()):
                allowed = 1 if min(len(target), len(lemma)) < 8 else 2
                distance = min(OSA.distance(candidate, target, score_cutoff=allowed)
                               for candidate in candidates)
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
            cached = stem_feature(feature)
            if len(self._stem_cache) < _CACHE_LIMIT:
                self._stem_cache[feature] = cached
        return cached

    def _word_evidence(self, lemma: str, negated: bool, content: bool, written: str
                       ) -> tuple[int, int]:
        """What one word adds to a segment, as bit masks over the evidence index's rows: its
        features (the lemma, ``NEGATED``-marked under negation, with its wildcard prefixes and
        stem), or the question word it is; and its character n-grams."""
        index = self.index_
        feature = lemma_feature(lemma, negated)
        if lemma in self.question_words_:
            asked = index.feature_ids.get(question_word_feature(feature)) if content else None
            return (0 if asked is None else 1 << asked), 0
        features = [feature]
        for length in self.prefix_lengths_:
            if length > len(feature):
                break
            features.append(prefix_feature(feature, length))
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
                        ) -> tuple[EvidenceTable, _Tokens]:
        """The evidence of every segment (a range of sentences) for every wording at once:
        each sentence becomes a row of the index's features it holds, a segment the union of
        its sentences' rows, and the evidence a few products with the index's matrices.
        Also, per token, its lemma after spelling and whether it is a word at all (not
        punctuation), read in the same pass, and each token's ``_type_info``."""
        keys = list(zip(analysis.types, analysis.negated, analysis.content, strict=True))
        infos: list[Any] = list(map(self._type_cache.get, keys))  # all filled in below
        if not all(infos):
            infos = [info or self._type_info(analysis, i, key)
                     for i, (info, key) in enumerate(zip(infos, keys, strict=True))]
        masks = list(map(_BITS, infos))
        sentences = [functools.reduce(operator.or_, masks[a:b], 0)
                     for a, b in analysis.sentences]
        tokens = (list(map(_SPELLED, infos)), list(map(_IS_WORD, infos)), infos,
                  list(map(_STEMMED, infos)))
        return self.index_.table(sentences, ranges), tokens

    def _type_info(self, analysis: Analysis, i: int, key: _TypeKey) -> _TypeInfo:
        """What token i adds, kept (bounded) under its word type, negation and content flag:
        its lemma after spelling (content words only), whether it is a word at all (not
        punctuation), the bit mask of its features and n-grams in the evidence index, and
        what ``_term_tokens`` compares: its light stem (content words, stems on; else None)
        and the word as written, normalised (words only; else "")."""
        lemma, content = analysis.lemmas[i], analysis.content[i]
        bits = grams = 0
        stemmed: str | None = None
        normed = ""
        if content:
            lemma, is_word = self._spell(lemma), True
            if self.settings_.stems:
                stemmed = self._stem(lemma)
        else:
            is_word = any(c.isalnum() for c in lemma)
        if is_word:
            surface = analysis.text[analysis.starts[i]:analysis.ends[i]]
            normed = normalise_lemma(surface)
            bits, grams = self._word_evidence(lemma, analysis.negated[i], content,
                                              surface if content else "")
        info = (lemma, is_word, bits | grams, stemmed, normed)
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
            ranges = segments(analysis, self.settings_.window)
        if not ranges:
            return [[] for _ in self.points_]
        table, tokens = self._evidence_table(analysis, ranges)
        listed = [_looks_like_list(analysis, analysis.sentences[first][0],
                                   analysis.sentences[last - 1][1], tokens[1])
                  for first, last in ranges]
        out = []
        for first_wording, last_wording in self.index_.point_wordings:
            rows: list[tuple] = []
            for k in range(first_wording, last_wording):
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
        return self.match_spelled(analysis)[0]

    def match_spelled(self, analysis: Analysis) -> tuple[list[PointMatch], list[str]]:
        """``match``, and the answer's content lemmas after spelling (as ``spell`` gives
        them), which the matching reads anyway."""
        check_is_fitted(self, "index_")
        settings = self.settings_
        ranges = segments(analysis, settings.window)
        if not ranges:
            return ([PointMatch(point.id, MISSED, 0.0, (), ()) for point in self.points_],
                    list(map(self._spell, compress(analysis.lemmas, analysis.content))))
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
        best = self.index_.best(strengths, settings.covered - 1e-6, is_listed)
        for point, (s, k) in zip(self.points_, best, strict=True):
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
            spans, cuts = _evidence_spans(analysis, first, last, evidence)
            matches.append(PointMatch(
                point.id, status, round(min(1.0, decided), 3),
                self._surface_terms(analysis, evidence, tokens), spans, is_listed(s),
                cuts=cuts))
        return matches, list(compress(tokens[0], analysis.content))

    def _term_tokens(self, analysis: Analysis, first: int, last: int, found: list[str],
                     tokens: _Tokens) -> list[int]:
        """Indices of the tokens in sentences first..last that are the matched terms: the
        same lemma (after spelling), the same light stem, or a wildcard's prefix."""
        key = tuple(found)
        targets = self._targets_cache.get(key)
        if targets is None:
            wanted, prefixes = matched_words(found)
            stems = {self._stem(w) for w in wanted} if self.settings_.stems else set()
            targets = (wanted, prefixes, stems)
            if len(self._targets_cache) < _CACHE_LIMIT:
                self._targets_cache[key] = targets
        wanted, prefixes, stems = targets
        start, end = analysis.sentences[first][0], analysis.sentences[last - 1][1]
        if prefixes:
            # a stem of None (not a content word, or stems off) is in no set of stems
            return [i for i, (spelled, is_word, _, stemmed, normed)
                    in enumerate(tokens[2][start:end], start) if is_word and (
                        spelled in wanted or stemmed in stems or normed.startswith(prefixes))]
        spelled, words, stemmed = tokens[0], tokens[1], tokens[3]
        return [i for i in range(start, end)
                if words[i] and (spelled[i] in wanted or stemmed[i] in stems)]

    def _surface_terms(self, analysis: Analysis, indices: list[int],
                       tokens: _Tokens) -> tuple[str, ...]:
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


_SPELLED, _IS_WORD, _BITS, _STEMMED = (operator.itemgetter(n) for n in range(4))


def segments(analysis: Analysis, window: int) -> list[tuple[int, int]]:
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
    if words is None:
        words = [any(c.isalnum() for c in lemma) for lemma in analysis.lemmas[start:end]]
    else:
        words = words[start:end]
    n_words = sum(words)
    if not n_words:
        return False
    content = sum(map(operator.and_, words, analysis.content[start:end]))
    stops = sum(map(operator.and_, words, analysis.stop[start:end]))
    if content < 5 and stops:
        return False
    if content >= 5 and stops / n_words < 0.15:
        return True
    # only now the items between separators (the costly part)
    text = analysis.text[analysis.starts[start]:analysis.ends[end - 1]]
    items = [item for item in _LIST_SEPARATORS.split(text) if item.strip()]
    if content < 5:
        return len(items) >= 3 and all(len(item.split()) <= 2 for item in items)
    return len(items) >= 4 and sum(len(item.split()) for item in items) / len(items) <= 3


def _evidence_spans(analysis: Analysis, first: int, last: int, tokens: list[int]
                    ) -> tuple[tuple[tuple[int, int], ...], tuple[tuple[bool, bool], ...]]:
    """Character spans of the sentences that hold the evidence tokens (all of them if none),
    and per span whether it was cut before and after: a sentence longer than
    ``QUOTE_WHOLE`` tokens gives only windows of ``QUOTE_CONTEXT`` tokens around the first
    occurrence of each matched word (its first tokens if none), at most ``QUOTE_WINDOWS``
    windows in all."""
    ranges: list[tuple[int, int, bool, bool]] = []
    for index in range(first, last):
        start, end = analysis.sentences[index]
        inside = [i for i in tokens if start <= i < end]
        if not tokens or inside:
            ranges.extend(_windows(analysis, start, end, inside))
    if not ranges:
        start, end = analysis.sentences[first][0], analysis.sentences[last - 1][1]
        ranges.extend(_windows(analysis, start, end, []))
    if any(before or after for _, _, before, after in ranges):
        del ranges[QUOTE_WINDOWS:]
    return (tuple((analysis.starts[a], analysis.ends[b - 1]) for a, b, _, _ in ranges),
            tuple((before, after) for _, _, before, after in ranges))


def _windows(analysis: Analysis, start: int, end: int, inside: list[int]
             ) -> list[tuple[int, int, bool, bool]]:
    """Token ranges (first, last, cut before, cut after) to quote of the sentence of tokens
    start..end, whose matched tokens are ``inside``: the whole sentence when it is short."""
    if end - start <= QUOTE_WHOLE:
        return [(start, end, False, False)]
    firsts: list[int] = []
    seen: set[str] = set()
    for i in inside:
        if analysis.lemmas[i] not in seen:
            seen.add(analysis.lemmas[i])
            firsts.append(i)
    if not firsts:
        return [(start, start + 2 * QUOTE_CONTEXT + 1, False, True)]
    merged: list[list[int]] = []
    for i in firsts:
        a, b = max(start, i - QUOTE_CONTEXT), min(end, i + QUOTE_CONTEXT + 1)
        if merged and a <= merged[-1][1]:
            if b - merged[-1][0] <= QUOTE_SPAN:
                merged[-1][1] = max(merged[-1][1], b)
                continue
            a = merged[-1][1]
        if len(merged) == QUOTE_WINDOWS:
            break
        merged.append([a, b])
    return [(a, b, a > start, b < end) for a, b in merged]
