"""Text analysis with spaCy: the pipeline, answer validation, and lemma-level views of a text.

The default pipeline downloads nothing: ``spacy.blank("en")`` with the lookup lemmatiser from
``spacy-lookups-data`` and a rule-based sentencizer. A named installed pipeline (for example
``en_core_web_sm``) can be used instead.
"""

from __future__ import annotations

import contextlib
import itertools
import operator
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import compress, pairwise
from typing import TypeGuard, TypeVar

import numpy

from .errors import AnswerError, AnswerTooLongError, EmptyAnswerError, PipelineError

#: Documented limits on one answer; longer answers are refused before any processing.
MAX_ANSWER_CHARS = 50_000
MAX_ANSWER_WORDS = 5_000
#: Longest run of non-space characters, and of symbols (neither letters, digits nor spaces),
#: that reaches spaCy in one piece: its tokeniser takes time quadratic in the length of such a
#: run (16,000 "!" took 23 s, and the work holds the interpreter lock), no real word is this
#: long, and a run of symbols is made into one-character tokens anyway. Longer runs are cut
#: with a space, so every text is analysed in time linear in its length.
MAX_TOKEN_CHARS = 100
MAX_SYMBOL_RUN = 16

DEFAULT_PIPELINE = "blank:en"

NEGATION_CUES = frozenset({
    "not", "n't", "never", "no", "nor", "neither", "without", "hardly", "nobody", "nothing",
    "cannot", "didnt", "dont", "doesnt", "wasnt", "werent", "isnt", "wont", "cant", "couldnt",
})
# Words that end the scope of a negation cue: a new clause has begun.
SCOPE_BREAKERS = frozenset({
    "but", "however", "although", "though", "instead", "rather", "while", "whereas", "yet",
    "because", "so", "which", "who", "and",
})
NEGATION_SCOPE = 8
# "not only ... but also" and the like affirm rather than negate.
NOT_NEGATING_NEXT = frozenset({"only", "just", "merely", "simply", "least", "doubt"})

# Control characters and lone surrogates reach spaCy as spaces, one for one, so offsets into
# what spaCy sees are offsets into the text as given.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
# Runs that may need cutting before spaCy (the shortest that can be too long), and runs of
# symbols (underscore included: "______" is no word either). ``\s`` is ``str.isspace``, which
# is also where spaCy's tokeniser splits.
_LONG_RUN = re.compile(rf"\S{{{min(MAX_TOKEN_CHARS, MAX_SYMBOL_RUN) + 1},}}")
_SYMBOL_RUN = re.compile(rf"(?:_|[^\w\s]){{{MAX_SYMBOL_RUN + 1},}}")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})


def build_pipeline(name: str | None = None):
    """Build the spaCy pipeline once per process: ``blank:en`` by default, or an installed one."""
    import spacy

    name = name or DEFAULT_PIPELINE
    if name.startswith("blank:"):
        nlp = spacy.blank(name.split(":", 1)[1])
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        nlp.add_pipe("sentencizer")
        nlp.initialize()
    else:
        try:
            nlp = spacy.load(name, exclude=["ner", "textcat"])
        except OSError:
            raise PipelineError(
                f"spaCy pipeline {name!r} is not installed; install it with pip or use "
                f"the default {DEFAULT_PIPELINE!r}") from None
        if not nlp.has_pipe("sentencizer") and not nlp.has_pipe("parser") \
                and not nlp.has_pipe("senter"):
            nlp.add_pipe("sentencizer")
    nlp.max_length = MAX_ANSWER_CHARS * 4
    return nlp


def clean_answer(text: object) -> str:
    """Validate an answer and return it as text for ``Analyzer.analyse``, character for
    character (decoded if it came as UTF-8 bytes), so that every offset into the analysis is an
    offset into the answer as given.

    Raises ``EmptyAnswerError`` (nothing but spaces and control characters),
    ``AnswerTooLongError``, or ``AnswerError`` for bytes that are not UTF-8 or for what is not
    text.
    """
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise AnswerError(f"answer is not UTF-8 text (bad byte at position {exc.start}); "
                              "save or paste it as UTF-8") from None
    if not isinstance(text, str):
        raise AnswerError(f"answer must be text, not {type(text).__name__}")
    if len(text) > MAX_ANSWER_CHARS:
        raise AnswerTooLongError(len(text), MAX_ANSWER_CHARS, "characters")
    seen = _CONTROL.sub(" ", text)
    if not seen.strip():
        raise EmptyAnswerError()
    # a word takes two characters with its space: a short text cannot be too many words
    words = len(seen.split()) if len(seen) >= 2 * MAX_ANSWER_WORDS else 0
    if words > MAX_ANSWER_WORDS:
        raise AnswerTooLongError(words, MAX_ANSWER_WORDS, "words")
    return text


def spacy_text(text: str) -> tuple[str, list[int]]:
    """What spaCy is given for a text, and where it differs in length: control characters and
    lone surrogates become spaces (one for one), and a space is inserted into every run of
    non-space characters longer than ``MAX_TOKEN_CHARS`` and every run of symbols longer than
    ``MAX_SYMBOL_RUN``. Returns the text and the offsets (into ``text``) before which a space was
    inserted, in order; a text without such runs comes back as it is, with none."""
    text = _CONTROL.sub(" ", text)
    cuts: list[int] = []
    for run in _LONG_RUN.finditer(text):
        start, end = run.span()
        bounds = [cut for symbols in _SYMBOL_RUN.finditer(text, start, end)
                  for cut in range(symbols.start() + MAX_SYMBOL_RUN, symbols.end(),
                                   MAX_SYMBOL_RUN)]
        last = start
        for bound in bounds + [end]:
            while bound - last > MAX_TOKEN_CHARS:
                last = _cut(text, last)
                cuts.append(last)
            if bound < end:
                cuts.append(bound)
            last = bound
    if not cuts:
        return text, cuts
    pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    return " ".join(pieces), cuts


def _cut(text: str, start: int) -> int:
    """Where to cut a run of non-space characters that goes on past ``start`` +
    ``MAX_TOKEN_CHARS``: after its last symbol in the second half of that stretch (so that
    "word,word,word..." keeps its words), else at the limit."""
    limit = start + MAX_TOKEN_CHARS
    for cut in range(limit, start + MAX_TOKEN_CHARS // 2, -1):
        if not text[cut - 1].isalnum():
            return cut
    return limit


def count_words(text: str) -> int:
    """Words as a student counts them: runs of non-space characters."""
    return len(text.split())


@dataclass(frozen=True)
class Analysis:
    """A lemma-level view of a text: parallel token lists plus sentence boundaries.

    Lists rather than one object per token keep analysis cheap enough to run at the speed of
    the tokeniser.
    """

    text: str
    lemmas: tuple[str, ...]
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    content: tuple[bool, ...]
    negated: tuple[bool, ...]
    stop: tuple[bool, ...]
    sentences: tuple[tuple[int, int], ...]
    #: per token, an id of its (word, lemma) pair, the same for the same pair throughout the
    #: process: what a matcher keeps its per-word work under
    types: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.lemmas)


def normalise_lemma(lemma: str) -> str:
    """Lower-case, straighten quotes and drop accents so 'Stalin’s' and 'stalins' meet."""
    lemma = lemma.lower()
    if lemma.isascii():
        return lemma
    lemma = lemma.translate(_APOSTROPHES)
    if not lemma.isascii():
        lemma = "".join(c for c in unicodedata.normalize("NFKD", lemma)
                        if not unicodedata.combining(c))
    return lemma


class TokenReader:
    """Turns spaCy ``Doc`` objects into ``Analysis`` objects at the speed of the tokeniser.

    Reads the token attributes as one array (``Doc.to_array``) and keeps what is known about
    each (word, lemma) pair in a bounded cache, so the per-token work is a dictionary look-up;
    the negation pass runs only over answers that hold a negation cue.
    """

    CACHE_LIMIT = 500_000

    def __init__(self, vocab) -> None:
        from spacy.attrs import IDX, LEMMA, LOWER, ORTH, SENT_START  # spaCy loads on first use

        self.vocab = vocab
        self._columns = [ORTH, LEMMA, IDX, SENT_START, LOWER]
        self._not_negating = frozenset(vocab.strings.add(w) for w in NOT_NEGATING_NEXT)
        self._cache: dict[tuple[int, int], _WordInfo] = {}

    def _describe(self, key: tuple[int, int]) -> _WordInfo:
        orth, lemma_hash = key
        lexeme = self.vocab[orth]
        text = lexeme.orth_
        lemma = normalise_lemma(self.vocab.strings[lemma_hash] if lemma_hash else text) \
            or normalise_lemma(text)
        # the possessive is dropped so "Stalin's" matches "Stalin"
        skip = lexeme.is_space or lemma in ("'s", "s'", "'")
        cue = normalise_lemma(text) in NEGATION_CUES or lemma in NEGATION_CUES
        is_word = lexeme.is_alpha or lexeme.like_num or (
            not lexeme.is_punct and any(c.isalpha() for c in text))
        breaks_scope = lexeme.is_punct or lemma in SCOPE_BREAKERS
        content = is_word and not (lexeme.is_stop or cue) and len(lemma) > 1
        # stop and content again for a cue that turns out not to negate ("not only")
        plain_content = is_word and not lexeme.is_stop and len(lemma) > 1
        info = (skip, lemma, len(text), cue, lexeme.is_stop or cue, content, breaks_scope,
                lexeme.is_stop, plain_content, next(_TYPE_IDS))
        if len(self._cache) < self.CACHE_LIMIT:
            self._cache[key] = info
        return info

    def read(self, doc, text: str | None = None, inserted: list[int] | None = None
             ) -> Analysis:
        """The ``Analysis`` of one processed ``Doc``; ``text`` is the text it was made from,
        if at hand (spaCy rebuilds ``doc.text`` token by token), and ``inserted`` the offsets
        into it before which ``spacy_text`` inserted a space."""
        table = doc.to_array(self._columns)
        keys = list(zip(table[:, 0].tolist(), table[:, 1].tolist(), strict=True))
        cached = list(map(self._cache.get, keys))
        if _all_present(cached):
            infos = cached
        else:
            infos = [info or self._describe(key) for info, key in zip(cached, keys, strict=True)]
        if inserted:
            # back to offsets into ``text``: less the inserted spaces before each token (the
            # k-th of which sits at its offset + k in what spaCy read)
            spaced = numpy.asarray(inserted, dtype=numpy.int64) + numpy.arange(len(inserted))
            spacy_offsets = table[:, 2].astype(numpy.int64)
            offsets = (spacy_offsets - numpy.searchsorted(spaced, spacy_offsets)).tolist()
        else:
            offsets = table[:, 2].tolist()
        starts_sentence = table[:, 3].astype(numpy.int64) == 1
        keep: Sequence[int]  # indices of the kept tokens in ``infos``
        if any(map(_SKIP, infos)):
            keep = list(compress(range(len(infos)), map(operator.not_, map(_SKIP, infos))))
            kept = list(map(infos.__getitem__, keep))
            offsets = list(map(offsets.__getitem__, keep))
            # a kept token starts a sentence if it, or a skipped token since the last kept
            # one, does: count the starts up to each kept token
            counted = numpy.cumsum(starts_sentence)[keep]
            sentence_starts = [0] + (numpy.flatnonzero(counted[1:] > counted[:-1]) + 1
                                     ).tolist() if keep else []
        else:
            keep, kept = range(len(infos)), infos
            sentence_starts = [0] + [i for i in numpy.flatnonzero(starts_sentence).tolist()
                                     if i > 0]
        stop = list(map(_STOP, kept))
        content = list(map(_CONTENT, kept))
        negated = [False] * len(kept)
        if any(map(_CUE, kept)):
            # A cue negates up to NEGATION_SCOPE words after it, until a sentence starts, a
            # clause breaks the scope or another cue takes over.
            sent_start = starts_sentence.tolist()
            lower = table[:, 4].tolist()
            last = len(infos) - 1
            cues = []
            for j in compress(range(len(kept)), map(_CUE, kept)):
                i = keep[j]
                if i < last and lower[i + 1] in self._not_negating:  # "not only"
                    stop[j], content[j] = kept[j][7], kept[j][8]
                else:
                    cues.append(j)
            is_cue = set(cues)
            for j in cues:
                for t in range(j + 1, min(j + 1 + NEGATION_SCOPE, len(kept))):
                    if t in is_cue or sent_start[keep[t]] or kept[t][6]:
                        break
                    negated[t] = True
        bounds = sentence_starts + [len(kept)]
        return Analysis(
            text=doc.text if text is None else text, lemmas=tuple(map(_LEMMA, kept)),
            starts=tuple(offsets),
            ends=tuple(map(operator.add, offsets, map(_LENGTH, kept))),
            content=tuple(content), negated=tuple(negated), stop=tuple(stop),
            sentences=tuple(pairwise(bounds)),
            types=tuple(map(_TYPE, kept)),
        )


#: TokenReader's description of one (word, lemma) pair: skip, lemma, length, cue, stop,
#: content, breaks_scope, then stop and content for a cue that does not negate, and type id
_WordInfo = tuple[bool, str, int, bool, bool, bool, bool, bool, bool, int]
_T = TypeVar("_T")


def _all_present(items: list[_T | None]) -> TypeGuard[list[_T]]:
    """Whether no item is missing: ``all(items)`` in a form mypy can narrow on."""
    return all(items)


# fields of TokenReader's per-word description
_SKIP, _LEMMA, _LENGTH, _CUE, _STOP, _CONTENT = (operator.itemgetter(n) for n in range(6))
_TYPE = operator.itemgetter(9)
#: ids of (word, lemma) pairs, shared by every reader in the process so that they never clash
_TYPE_IDS = itertools.count()


class KnownWords:
    """Membership in a spaCy lemma lookup table: its forms (kept only as hashes by spaCy, so
    asked through the table) and its lemmas."""

    def __init__(self, table=None) -> None:
        self._table = table
        self._lemmas = frozenset(str(v).lower() for v in table.values()) if table else frozenset()

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and (word in self._lemmas or (
            self._table is not None and word in self._table))


#: Held while spaCy runs: a memory zone frees what any thread added to the shared vocabulary
#: during it, so no two analyses (nor an analysis and a ``remember``) may overlap. spaCy holds
#: the interpreter lock while it works, so this serialises little that ran in parallel.
_SPACY_LOCK = threading.Lock()


class Analyzer:
    """Runs the spaCy pipeline and returns ``Analysis`` objects; one per process.

    spaCy keeps every new string it sees in its vocabulary, and its tokeniser caches every new
    word: fast for the words that come back, but a long-running server seeing misspellings or
    random strings would grow without bound. So once the vocabulary holds ``MAX_STRINGS``
    strings, each text (each batch of ``analyse_many``) is analysed inside a spaCy memory zone
    and read into its ``Analysis`` before the zone ends: the words it adds are dropped again
    (and not cached). Results are the same either way. ``remember`` keeps a text's words.
    """

    #: texts analysed together by ``analyse_many``
    BATCH = 64
    #: strings in spaCy's vocabulary past which analyses no longer add to it (about 370 bytes
    #: each; English answers rarely bring more than a few tens of thousands of words): at
    #: most one text's or batch's more are ever held
    MAX_STRINGS = 200_000

    def __init__(self, nlp) -> None:
        self.nlp = nlp
        with _SPACY_LOCK:
            self.reader = TokenReader(nlp.vocab)
        self._known_words: KnownWords | None = None

    def remember(self, texts: Sequence[str]) -> None:
        """Run texts through the pipeline outside a memory zone, whatever ``MAX_STRINGS``
        says, so that their words stay in the vocabulary and the tokeniser's cache (a rubric's
        texts: the words answers are most likely to use)."""
        with _SPACY_LOCK:
            for doc in self.nlp.pipe([spacy_text(text)[0] for text in texts]):
                self.reader.read(doc)

    def _zone(self):
        """A spaCy memory zone once the vocabulary is full, else nothing; to be entered with
        ``_SPACY_LOCK`` held."""
        if len(self.nlp.vocab.strings) >= self.MAX_STRINGS:
            return self.nlp.memory_zone()
        return contextlib.nullcontext()

    @property
    def known_words(self) -> KnownWords:
        """English word forms the pipeline's lookup lemmatiser knows (the forms and lemmas of
        its table): a word here is not a misspelling. Knows nothing for a pipeline without a
        lookup table."""
        if self._known_words is None:
            try:
                table = self.nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
            except (KeyError, ValueError, AttributeError):
                table = None
            self._known_words = KnownWords(table)
        return self._known_words

    def analyse(self, text: str) -> Analysis:
        """Analyse one text; its offsets are offsets into ``text`` as given."""
        seen, inserted = spacy_text(text)
        with _SPACY_LOCK, self._zone():
            return self.reader.read(self.nlp(seen), text, inserted)

    def analyse_many(self, texts):
        """Analyse a stream of ``(text, context)`` pairs, yielding ``(Analysis, context)``,
        ``BATCH`` at a time: memory holds one batch, whatever the length of the stream."""
        stream = iter(texts)
        while chunk := list(itertools.islice(stream, self.BATCH)):
            prepared = [(seen, (text, inserted, context)) for text, context in chunk
                        for seen, inserted in [spacy_text(text)]]
            # Read the whole batch before handing any of it on (interleaving spaCy's
            # generators with the caller's work per document measured 17% slower), and
            # inside one memory zone, if any: nothing of a Doc is used after it.
            with _SPACY_LOCK, self._zone():
                read = [(self.reader.read(doc, text, inserted), context)
                        for doc, (text, inserted, context)
                        in self.nlp.pipe(prepared, as_tuples=True, batch_size=self.BATCH)]
            yield from read


class CachingAnalyzer(Analyzer):
    """An ``Analyzer`` that keeps the analyses of the texts it saw last, in this process's
    memory only, so that a text analysed again costs a look-up: for a process that analyses
    the same texts over and over, as the workshop re-scores its sample answers (and re-fits
    a rubric whose texts barely changed) after every edit.

    Keyed by the text; bounded by ``max_texts`` texts and ``max_chars`` characters, least
    recently used dropped first. ``Analysis`` is immutable and depends on its text alone, so
    a kept one is what analysing the text again would give. Shares the pipeline and the
    token reader of ``analyzer``; safe to use from several threads.
    """

    def __init__(self, analyzer: Analyzer, max_texts: int = 4096,
                 max_chars: int = 4_000_000) -> None:
        self.nlp = analyzer.nlp
        self.reader = analyzer.reader
        self._inner = analyzer
        self.max_texts, self.max_chars = max_texts, max_chars
        self._kept: OrderedDict[str, Analysis] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()

    @property
    def known_words(self) -> KnownWords:
        """The wrapped analyzer's ``known_words``."""
        return self._inner.known_words

    @property
    def kept(self) -> int:
        """How many texts' analyses are kept."""
        return len(self._kept)

    def clear(self) -> None:
        """Forget every kept analysis."""
        with self._lock:
            self._kept.clear()
            self._chars = 0

    def _get(self, text: str) -> Analysis | None:
        with self._lock:
            found = self._kept.get(text)
            if found is not None:
                self._kept.move_to_end(text)
            return found

    def _put(self, text: str, analysis: Analysis) -> None:
        size = len(text)
        if size > self.max_chars:
            return
        with self._lock:
            if text in self._kept:
                return
            self._kept[text] = analysis
            self._chars += size
            while len(self._kept) > self.max_texts or self._chars > self.max_chars:
                old, _ = self._kept.popitem(last=False)
                self._chars -= len(old)

    def analyse(self, text: str) -> Analysis:
        """``Analyzer.analyse``, from the cache when this text was analysed before."""
        found = self._get(text)
        if found is None:
            found = super().analyse(text)
            self._put(text, found)
        return found

    def analyse_many(self, texts):
        """``Analyzer.analyse_many``: the texts not in the cache go to spaCy in batches, the
        others come from it, all in input order."""
        stream = iter(texts)
        while chunk := list(itertools.islice(stream, self.BATCH)):
            found = [self._get(text) for text, _ in chunk]
            missing = [(text, k) for k, ((text, _), analysis) in enumerate(
                zip(chunk, found, strict=True)) if analysis is None]
            for analysis, k in super().analyse_many(missing):
                found[k] = analysis
                self._put(chunk[k][0], analysis)
            yield from [(analysis, context) for analysis, (_, context)
                        in zip(found, chunk, strict=True)]
