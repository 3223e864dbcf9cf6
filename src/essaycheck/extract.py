"""Drafting a rubric from a model answer: one point per claim, distinctive keywords, hints.

The draft is a starting point for a teacher to edit, not a finished mark scheme.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from sklearn.feature_extraction.text import TfidfVectorizer

from .analysis import Analysis, Analyzer
from .errors import RubricError, RubricProblem
from .rubric import (
    ID_PATTERN,
    MAX_POINTS,
    MAX_WORDING_CHARS,
    Point,
    Rubric,
    validate_rubric,
    wording_chars,
)

# Where one sentence often holds two claims: split there when both sides can stand alone.
_CLAIM_BREAKS = re.compile(
    r";\s+|,\s+(?:and|but|while|whereas|so|yet)\s+|\s+(?:and also|as well as|whereas)\s+")
MIN_CLAIM_CONTENT_WORDS = 3
KEYWORDS_PER_POINT = 4
#: the model answer's own forms of a keyword kept in its group (lemma and inflections)
FORMS_PER_KEYWORD = 4
#: per point, at most this many sentences of the context (``--context``, such as revision notes)
#: that make its claim in other words become its ``accept`` wordings (chosen on
#: tests/data/seed-dev.csv; ACCURACY.md, "Drafting closer to a curated rubric")
CONTEXT_WORDINGS = 2
#: least TF-IDF cosine between a claim and a context sentence for the sentence to word it
CONTEXT_SIMILARITY = 0.3
#: a context line with fewer distinct content words (the question's aside) is a heading, not a
#: wording of a claim
MIN_CONTEXT_WORDS = 4
#: a context sentence this like one of the model answer's (TF-IDF cosine) repeats it
REPEAT_SIMILARITY = 0.8
#: a claim with at least this many candidate keywords (and more than ``keywords_per_point``)
#: is long: it holds several ideas, each said in several words, and a student who makes it
#: names some of them, rarely all of its rarest; with ``long_claim_groups`` > 0 it gets this
#: many keywords, put into that many groups of alternatives (best first), each met by any of
#: its words, as a curated group is. 2 groups, from 6 candidates, did best on
#: tests/data/seed-dev.csv of what keeps the public sets' figures of the mark; 0 turns it off.
#: ACCURACY.md, "Long claims in two broad groups, by default", has the figures
LONG_CLAIM_KEYWORDS = 6
LONG_CLAIM_GROUPS = 2
#: over ``max_points``, a claim this like another (TF-IDF cosine of their content lemmas) is
#: folded into it as an ``accept`` wording; half their weight in shared words says much the
#: same point. Not tuned: no model answer of the eval sets comes near the cap
MERGE_SIMILARITY = 0.5
#: at most this many other claims folded into one point, so that it stays one idea (and within
#: the workshop's ``accept`` limit with the context's wordings)
MERGED_PER_POINT = 2


_EVALUATIVE = re.compile(
    r"^(?:how (?:significant|far|important|successful|effective)|to what extent|assess|"
    r"evaluate)\b", re.IGNORECASE)
#: weight of the judgement point drafted for an evaluative question (0: none); chosen on
#: tests/data/seed-dev.csv, where weights 1 to 2 did as well (ACCURACY.md)
JUDGEMENT_WEIGHT = 1.0
#: the judgement point: its text, hint and keyword groups (a conclusion's words, and the words
#: that weigh one side against the other), the same for every subject
JUDGEMENT_TEXT = ("Judgement: an overall answer to the question, reasoned and weighing the "
                  "evidence on both sides.")
JUDGEMENT_HINT = ("End with a reasoned overall judgement: how far, and why, weighing what "
                  "supports it against what limits it.")
JUDGEMENT_KEYWORDS = (
    ("overall", "conclusion", "conclude", "ultimately", "balance", "extent", "judgement",
     "judgment", "therefore", "thus", "so"),
    ("but", "however", "although", "though", "whereas", "nevertheless", "yet", "limited",
     "partly", "partial", "only"),
)


@dataclass(frozen=True)
class Draft:
    """A drafted rubric, with the claims of the model answer that did not become points."""

    rubric: Rubric
    #: how many claims the model answer makes (before any were merged or left out)
    claims: int
    #: (point id, claim): a claim folded into that point as an accepted wording
    merged: tuple[tuple[str, str], ...] = ()
    #: claims left out, in the model answer's order
    dropped: tuple[str, ...] = ()


@dataclass(frozen=True)
class Anticipation:
    """Which words a student might write instead of a keyword go into its drafted group, from
    the lexicon (``essaycheck.lexicon``): each kind capped, and cut by the lexicon's weight
    (score x commonness) so that precision holds. The defaults are the choice ACCURACY.md
    measures out of fold."""

    #: word-family members (legitimacy: legitimate, legitimise) per keyword
    family: int = 2
    #: least weight of a family member
    family_weight: float = 0.3
    #: synonyms of the keyword's dominant senses per keyword
    synonyms: int = 2
    #: least weight of a synonym
    synonym_weight: float = 0.3
    #: a family member or synonym of any sense that the model answer or context itself uses
    #: (the teacher's texts choose the sense), at any weight
    context: int = 2


#: drafting as it was before the lexicon: the model answer's own forms only
NO_ANTICIPATION = Anticipation(family=0, synonyms=0, context=0)


def split_claims(analysis: Analysis) -> list[str]:
    """The model answer as a list of claims: its sentences, split where one holds two claims."""
    claims: list[str] = []
    for start, end in analysis.sentences:
        sentence = analysis.text[analysis.starts[start]:analysis.ends[end - 1]].strip()
        parts = [p.strip(" ,;") for p in _CLAIM_BREAKS.split(sentence)]
        merged: list[str] = []
        for part in parts:
            if merged and (_content_words(part) < MIN_CLAIM_CONTENT_WORDS
                           or _content_words(merged[-1]) < MIN_CLAIM_CONTENT_WORDS):
                merged[-1] = f"{merged[-1]}, {part}"
            elif part:
                merged.append(part)
        claims.extend(_sentence_case(p) for p in merged if _content_words(p) >= 1)
    return claims


_BULLET = re.compile(r"^\s*(?:[-*•·–]|\d{1,2}[.)]|[a-z][.)])\s+")


def _lines(text: str) -> list[str]:
    """The model answer's lines, as a mark scheme lays out its elements: bullets dropped,
    heading lines (ending in ':') left out, and lines that do not end a sentence joined to the
    next unless the next is a bullet or starts with a capital letter."""
    lines: list[str] = []
    joinable = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            joinable = False
            continue
        bullet = bool(_BULLET.match(line))
        line = _BULLET.sub("", line).strip()
        if not line:
            continue
        if line.endswith(":") and _content_words(line) <= 4:
            joinable = False
            continue
        if lines and joinable and not bullet and not line[0].isupper():
            lines[-1] = f"{lines[-1]} {line}"
        else:
            lines.append(line)
        joinable = not line.endswith((".", "!", "?", ":"))
    return [" ".join(line.split()) for line in lines]


def _content_words(text: str) -> int:
    return sum(1 for word in re.findall(r"[A-Za-z][A-Za-z'-]+", text) if len(word) > 3)


def _sentence_case(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def draft_rubric(rubric_id: str, question: str, model_answer: str, analyzer: Analyzer,
                 context: list[str] | tuple[str, ...] = (), max_score: float | None = None,
                 keywords_per_point: int = KEYWORDS_PER_POINT,
                 alternatives: list[str] | tuple[str, ...] = (),
                 anticipation: Anticipation | None = None,
                 context_wordings: int = CONTEXT_WORDINGS,
                 context_similarity: float = CONTEXT_SIMILARITY,
                 judgement_weight: float = JUDGEMENT_WEIGHT,
                 long_claim_groups: int = LONG_CLAIM_GROUPS,
                 max_points: int = MAX_POINTS) -> Rubric:
    """Draft a rubric of at most ``max_points`` points (see :func:`draft_rubric_report`)."""
    return draft_rubric_report(
        rubric_id, question, model_answer, analyzer, context=context, max_score=max_score,
        keywords_per_point=keywords_per_point, alternatives=alternatives,
        anticipation=anticipation, context_wordings=context_wordings,
        context_similarity=context_similarity, judgement_weight=judgement_weight,
        long_claim_groups=long_claim_groups, max_points=max_points).rubric


def draft_rubric_report(rubric_id: str, question: str, model_answer: str, analyzer: Analyzer,
                        context: list[str] | tuple[str, ...] = (),
                        max_score: float | None = None,
                        keywords_per_point: int = KEYWORDS_PER_POINT,
                        alternatives: list[str] | tuple[str, ...] = (),
                        anticipation: Anticipation | None = None,
                        context_wordings: int = CONTEXT_WORDINGS,
                        context_similarity: float = CONTEXT_SIMILARITY,
                        judgement_weight: float = JUDGEMENT_WEIGHT,
                        long_claim_groups: int = LONG_CLAIM_GROUPS,
                        max_points: int = MAX_POINTS) -> Draft:
    """Draft a rubric: split the model answer into claims, and give each the words that
    distinguish it from the other claims and from the context (TF-IDF), plus a draft hint.

    ``alternatives`` are other acceptable model answers: each becomes an ``accept`` wording
    of the point it shares most words with (of the only point, for a one-point rubric).
    ``anticipation`` says which of the lexicon's alternatives each keyword group also holds
    (default: :class:`Anticipation`'s defaults). Each point also accepts up to
    ``context_wordings`` sentences of the context that make its claim in other words (TF-IDF
    cosine >= ``context_similarity``; see ``_context_wordings``): students write what they
    revised from, so the notes' wording of a point is the wording they use. A question that
    asks for a judgement (:func:`asks_for_judgement`) gets one more point, of
    ``judgement_weight``, for the overall answer to it, in words that serve any subject and
    with the model answer's last claim as a wording (0: no such point). A long claim (at least
    ``LONG_CLAIM_KEYWORDS`` candidate keywords, and more than ``keywords_per_point``) gets that
    many keywords in ``long_claim_groups`` groups (0: one group per keyword, as a short
    claim's).

    The draft holds at most ``max_points`` points (default ``rubric.MAX_POINTS``, the
    workshop's limit), the judgement point included, and its points' wordings at most
    ``rubric.MAX_WORDING_CHARS``; claims beyond that are merged or left out (see
    :func:`_within_cap`), and the returned :class:`Draft` says which."""
    problems = []
    if not ID_PATTERN.match(rubric_id or ""):
        problems.append(RubricProblem("extract", "id", f"{rubric_id!r} is not a valid id",
                                      "use lower-case letters, digits, '-', '_' or '.'"))
    if not question.strip():
        problems.append(RubricProblem("extract", "question", "is empty", "give the question"))
    if not model_answer.strip():
        problems.append(RubricProblem("extract", "model_answer", "is empty",
                                      "give a model answer with at least one sentence"))
    if isinstance(max_points, bool) or not isinstance(max_points, int) or max_points < 1:
        problems.append(RubricProblem("extract", "max_points", f"{max_points!r} is not a "
                                      "number of points", "give a whole number, 1 or more"))
    if problems:
        raise RubricError(problems)

    question_doc = analyzer.analyse(question)
    question_words = {question_doc.lemmas[i] for i in range(len(question_doc))
                      if question_doc.content[i]}
    claims: list[str] = []
    for line in _lines(model_answer):
        claims.extend(c for c in split_claims(analyzer.analyse(line)) if c not in claims)
    if not claims:
        claims = split_claims(analyzer.analyse(" ".join(model_answer.split())))
    claim_docs = [analyzer.analyse(claim) for claim in claims]
    context_docs = [analyzer.analyse(text) for text in context if text.strip()]
    context_sentences = [
        _lemmas(doc, a, b) for doc in context_docs for a, b in doc.sentences]

    documents = [_lemmas(doc, 0, len(doc)) for doc in claim_docs]
    vectorizer = TfidfVectorizer(analyzer=lambda words: words, sublinear_tf=True)
    vectorizer.fit([d for d in documents + context_sentences if d] or [["empty"]])
    idf = dict(zip(vectorizer.get_feature_names_out(), vectorizer.idf_, strict=True))
    anticipation = anticipation or Anticipation()
    # the words the teacher's own texts use: they choose a keyword's sense
    own_words = frozenset(w for words in documents + context_sentences for w in words)
    # the distinctive content a claim carries: what a mark scheme rewards it for
    importance = [sum(idf.get(w, 0.0) for w in set(words) if w not in question_words)
                  for words in documents]
    wants_judgement = bool(judgement_weight and asks_for_judgement(question))
    room = max_points - 1 if wants_judgement and max_points > 1 else max_points
    kept, folded = _within_cap(documents, importance, vectorizer, room)
    all_claims = claims
    claims = [all_claims[i] for i in kept]
    claim_docs = [claim_docs[i] for i in kept]
    documents = [documents[i] for i in kept]

    points = []
    used_ids: set[str] = set()
    for claim, doc, words in zip(claims, claim_docs, documents, strict=True):
        ranked = sorted(
            {w for w in words if w not in question_words},
            key=lambda w: (-words.count(w) * idf.get(w, 0.0), words.index(w)))
        long_claim = (long_claim_groups > 0 and len(ranked) > keywords_per_point
                      and len(ranked) >= LONG_CLAIM_KEYWORDS)
        chosen = ranked[:LONG_CLAIM_KEYWORDS if long_claim else keywords_per_point]
        groups = []
        for word in chosen:
            forms = _alternatives(word, [doc] + context_docs)
            forms += tuple(w for w in _anticipated(word, own_words, anticipation)
                           if w not in forms)
            # a word the claim only says negated is a keyword only when negated
            groups.append(_negated_group(forms) if _said_only_negated(word, doc) else forms)
        if long_claim and len(groups) > long_claim_groups:
            groups = _merged_groups(groups, long_claim_groups)
        point_id = _unique_id("-".join(chosen[:3]) or "point", used_ids)
        points.append(Point(
            id=point_id, text=claim, keywords=tuple(groups),
            hint=f"Make this point in your own words. Model: {claim}"))
    judgement = bool(wants_judgement and points and len(points) < max_points)
    if judgement:
        # an evaluative question ("How significant ...", "To what extent ...") is marked, in
        # any subject, for the overall answer to it as well as for the evidence
        points.append(Point(id=_unique_id("overall-judgement", used_ids), text=JUDGEMENT_TEXT,
                            keywords=JUDGEMENT_KEYWORDS, weight=judgement_weight,
                            hint=JUDGEMENT_HINT))
    accepted: list[list[str]] = [[all_claims[j] for j in folded.get(i, ())] for i in kept]
    if judgement:
        # the model answer's own judgement is its last claim: a wording of the point, so that
        # the model answer earns it
        accepted.append([all_claims[-1]])
    if context_wordings and context:
        for i, texts in enumerate(_context_wordings(
                claims, model_answer, context, analyzer, question_words, context_wordings,
                context_similarity)):
            accepted[i].extend(t for t in texts if t not in accepted[i])
    for other in alternatives:
        other = " ".join(other.split())
        if not other or other == " ".join(model_answer.split()) or not points:
            continue
        other_words = set(_lemmas(analyzer.analyse(other), 0, None))
        overlap = [len(other_words & set(words)) / (len(set(words)) or 1) for words in documents]
        target = max(range(len(documents)), key=lambda i: (overlap[i], -i))
        if other not in accepted[target] and other != points[target].text:
            accepted[target].append(other)
    points = [Point(id=p.id, text=p.text, keywords=p.keywords, weight=p.weight, hint=p.hint,
                    accept=tuple(extra)) for p, extra in zip(points, accepted, strict=True)]
    # a long claim's keywords and wordings can still take the points past what a rubric may
    # hold in all: the least important claims go first, as over max_points
    claim_points = list(range(len(kept)))
    while len(claim_points) > 1 and sum(
            wording_chars(points[i]) for i in claim_points
    ) + sum(wording_chars(p) for p in points[len(kept):]) > MAX_WORDING_CHARS:
        claim_points.remove(min(claim_points, key=lambda i: (importance[kept[i]], -i)))
    merged = tuple((points[i].id, all_claims[j]) for i in claim_points
                   for j in folded.get(kept[i], ()))
    left = {kept[i] for i in claim_points}
    left |= {j for i in claim_points for j in folded.get(kept[i], ())}
    dropped = tuple(claim for j, claim in enumerate(all_claims) if j not in left)
    points = [points[i] for i in claim_points] + points[len(kept):]

    data = Rubric(
        id=rubric_id, question=question.strip(), model_answer=" ".join(model_answer.split()),
        max_score=float(max_score if max_score else max(1, len(points))),
        points=tuple(points),
        notes="Drafted by 'essaycheck rubric extract': check every point, merge or split "
              "claims, add keyword alternatives students use, and set max_score.",
    ).to_dict()
    return Draft(validate_rubric(data, f"draft of {rubric_id}"), len(all_claims), merged,
                 dropped)


def _within_cap(documents: list[list[str]], importance: list[float],
                vectorizer: TfidfVectorizer, room: int) -> tuple[list[int], dict[int, list[int]]]:
    """The claims (indices, in order) that become points when there is room for ``room``,
    and per kept claim the claims folded into it as accepted wordings.

    A claim that says much the same as another (TF-IDF cosine >= ``MERGE_SIMILARITY``, most
    alike first) is folded into the more important of the two: nothing is lost, since a
    student who makes either still earns the point, and the point's text stays one claim, so
    matching it is no harder. If that is not enough, the claims with the least distinctive
    content (sum of their words' IDF) are left out: they are the ones a mark scheme rewards
    least, such as a restated introduction or a linking sentence. Under the cap, every claim
    is kept as it is, so drafting an ordinary model answer never reaches this."""
    active = list(range(len(documents)))
    folded: dict[int, list[int]] = {}
    if len(active) <= room:
        return active, folded
    vectors = vectorizer.transform(documents)
    similarity = (vectors @ vectors.T).toarray()
    for i in active:
        similarity[i, i] = -1.0
    while len(active) > room:
        i, j = divmod(int(similarity.argmax()), len(documents))
        if similarity[i, j] < MERGE_SIMILARITY:
            break
        keep, fold = (i, j) if (importance[i], -i) >= (importance[j], -j) else (j, i)
        if folded.get(fold):  # a point that took others in stays a point
            keep, fold = fold, keep
        if folded.get(fold) or len(folded.get(keep, ())) >= MERGED_PER_POINT:
            similarity[i, j] = similarity[j, i] = -1.0
            continue
        folded.setdefault(keep, []).append(fold)
        active.remove(fold)
        similarity[fold, :] = similarity[:, fold] = -1.0
    while len(active) > room:
        least = min(active, key=lambda k: (importance[k], -k))
        active.remove(least)
        folded.pop(least, None)
    return active, folded


def _context_wordings(claims: list[str], model_answer: str, context: list[str] | tuple[str, ...],
                      analyzer: Analyzer, question_words: set[str], per_claim: int,
                      least: float) -> list[list[str]]:
    """Per claim, the context's sentences that make it in other words (what students who
    revised from the notes will write): each sentence of the context, line by line, goes to the
    claim its words are most like (TF-IDF cosine over content lemmas, the question's left
    out), if at least ``least``; each claim keeps its ``per_claim`` most alike. Left out: lines
    of fewer than ``MIN_CONTEXT_WORDS`` such words (headings) and sentences that repeat the
    model answer's own (cosine >= ``REPEAT_SIMILARITY``)."""
    def words(doc: Analysis, start: int, end: int) -> list[str]:
        return [w for w in _lemmas(doc, start, end) if w not in question_words]

    claim_words = [words(doc, 0, len(doc)) for doc in map(analyzer.analyse, claims)]
    model_words = [words(doc, a, b) for line in _lines(model_answer)
                   for doc in [analyzer.analyse(line)] for a, b in doc.sentences]
    units: list[tuple[str, list[str]]] = []
    for text in context:
        for line in _lines(text):
            doc = analyzer.analyse(line)
            for a, b in doc.sentences:
                found = words(doc, a, b)
                if len(set(found)) >= MIN_CONTEXT_WORDS:
                    units.append((" ".join(doc.text[doc.starts[a]:doc.ends[b - 1]].split()),
                                  found))
    out: list[list[str]] = [[] for _ in claims]
    if not units or not any(claim_words):
        return out
    vectorizer = TfidfVectorizer(analyzer=lambda w: w, sublinear_tf=True)
    vectorizer.fit([w for w in claim_words + [u for _, u in units] if w])
    unit_matrix = vectorizer.transform([u for _, u in units])
    similarity = (vectorizer.transform(claim_words) @ unit_matrix.T).toarray()
    repeats = (vectorizer.transform(model_words) @ unit_matrix.T).toarray().max(axis=0) \
        >= REPEAT_SIMILARITY if model_words else [False] * len(units)
    candidates: list[list[tuple[float, int]]] = [[] for _ in claims]
    for j in range(len(units)):
        i = int(similarity[:, j].argmax())
        if not repeats[j] and similarity[i, j] >= least:
            candidates[i].append((-float(similarity[i, j]), j))
    for i, ranked in enumerate(candidates):
        for _, j in sorted(ranked)[:per_claim]:
            if units[j][0] not in out[i]:
                out[i].append(units[j][0])
    return out


def asks_for_judgement(question: str) -> bool:
    """Whether the question asks for an overall judgement: it opens with "How significant",
    "How far", "How important", "How successful", "How effective", "To what extent", "Assess"
    or "Evaluate"."""
    return bool(_EVALUATIVE.match(question.strip()))


def _lemmas(doc: Analysis, start: int, end: int | None) -> list[str]:
    end = len(doc) if end is None else end
    return [doc.lemmas[i] for i in range(start, end) if doc.content[i]]


def _merged_groups(groups: list[tuple[str, ...]], n: int) -> list[tuple[str, ...]]:
    """The keyword groups (best first) put together into ``n`` groups of consecutive ones, each
    holding all their alternatives once."""
    size = -(-len(groups) // n)
    return [tuple(dict.fromkeys(alt for group in groups[k:k + size] for alt in group))
            for k in range(0, len(groups), size)]


def _said_only_negated(lemma: str, doc: Analysis) -> bool:
    """True when the claim uses ``lemma`` only under negation ("the terminals are not
    connected"): its keyword group must then be met negated, as the point's own words are."""
    flags = [doc.negated[i] for i in range(len(doc))
             if doc.content[i] and doc.lemmas[i] == lemma]
    return bool(flags) and all(flags)


def _negated_group(forms: tuple[str, ...]) -> tuple[str, ...]:
    """A keyword group met only when the answer says it negated: "not connected" is read as
    the negated lemma, so "connected" alone no longer meets it."""
    return tuple(f"not {form}" for form in forms)


def _alternatives(lemma: str, docs: list[Analysis]) -> tuple[str, ...]:
    """The lemma and the other forms of it that the model answer and the context use."""
    forms = [lemma]
    for doc in docs:
        for i in range(len(doc)):
            if doc.lemmas[i] == lemma:
                form = doc.text[doc.starts[i]:doc.ends[i]].lower().replace("\u2019", "'")
                if form not in forms and form.isascii() and "'" not in form:
                    forms.append(form)
    return tuple(forms[:FORMS_PER_KEYWORD])


def _anticipated(lemma: str, own_words: Collection[str], anticipation: Anticipation
                 ) -> list[str]:
    """Words a student may write for ``lemma``, best first, as ``anticipation`` chooses them
    (``lexicon.anticipated``, the rule matching shares for points without keyword groups)."""
    from .lexicon import anticipated

    return anticipated(lemma, own_words, family=anticipation.family,
                       synonyms=anticipation.synonyms, context=anticipation.context,
                       family_weight=anticipation.family_weight,
                       synonym_weight=anticipation.synonym_weight)


def _unique_id(base: str, used: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", base.lower()).strip("-")[:40] or "point"
    candidate, n = base, 2
    while candidate in used or not ID_PATTERN.match(candidate):
        candidate = f"{base}-{n}"
        n += 1
    used.add(candidate)
    return candidate
