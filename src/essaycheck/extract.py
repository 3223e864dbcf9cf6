"""Drafting a rubric from a model answer: one point per claim, distinctive keywords, hints.

The draft is a starting point for a teacher to edit, not a finished mark scheme.
"""

from __future__ import annotations

import re

from sklearn.feature_extraction.text import TfidfVectorizer

from .analysis import Analysis, Analyzer
from .errors import RubricError, RubricProblem
from .rubric import ID_PATTERN, Point, Rubric, validate_rubric

# Where one sentence often holds two claims: split there when both sides can stand alone.
_CLAIM_BREAKS = re.compile(
    r";\s+|,\s+(?:and|but|while|whereas|so|yet)\s+|\s+(?:and also|as well as|whereas)\s+")
MIN_CLAIM_CONTENT_WORDS = 3
KEYWORDS_PER_POINT = 4


def split_claims(analysis: Analysis) -> list[str]:
    """The model answer as a list of claims: its sentences, split where one holds two claims."""
    claims = []
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
                 keywords_per_point: int = KEYWORDS_PER_POINT) -> Rubric:
    """Draft a rubric: split the model answer into claims, and give each the words that
    distinguish it from the other claims and from the context (TF-IDF), plus a draft hint."""
    problems = []
    if not ID_PATTERN.match(rubric_id or ""):
        problems.append(RubricProblem("extract", "id", f"{rubric_id!r} is not a valid id",
                                      "use lower-case letters, digits, '-', '_' or '.'"))
    if not question.strip():
        problems.append(RubricProblem("extract", "question", "is empty", "give the question"))
    if not model_answer.strip():
        problems.append(RubricProblem("extract", "model_answer", "is empty",
                                      "give a model answer with at least one sentence"))
    if problems:
        raise RubricError(problems)

    question_doc = analyzer.analyse(question)
    question_words = {question_doc.lemmas[i] for i in range(len(question_doc))
                      if question_doc.content[i]}
    claims = split_claims(analyzer.analyse(" ".join(model_answer.split())))
    claim_docs = [analyzer.analyse(claim) for claim in claims]
    context_docs = [analyzer.analyse(text) for text in context if text.strip()]
    context_sentences = [
        _lemmas(doc, a, b) for doc in context_docs for a, b in doc.sentences]

    documents = [_lemmas(doc, 0, len(doc)) for doc in claim_docs]
    vectorizer = TfidfVectorizer(analyzer=lambda words: words, sublinear_tf=True)
    vectorizer.fit([d for d in documents + context_sentences if d] or [["empty"]])
    idf = dict(zip(vectorizer.get_feature_names_out(), vectorizer.idf_))

    points = []
    used_ids: set[str] = set()
    for claim, doc, words in zip(claims, claim_docs, documents):
        ranked = sorted(
            {w for w in words if w not in question_words},
            key=lambda w: (-words.count(w) * idf.get(w, 0.0), words.index(w)))
        chosen = ranked[:keywords_per_point]
        groups = [_alternatives(word, [doc] + context_docs) for word in chosen]
        point_id = _unique_id("-".join(chosen[:3]) or "point", used_ids)
        points.append(Point(
            id=point_id, text=claim, keywords=tuple(groups),
            hint=f"Make this point in your own words. Model: {claim}"))

    data = Rubric(
        id=rubric_id, question=question.strip(), model_answer=" ".join(model_answer.split()),
        max_score=float(max_score if max_score else max(1, len(points))),
        points=tuple(points),
        notes="Drafted by 'essaycheck rubric extract': check every point, merge or split "
              "claims, add keyword alternatives students use, and set max_score.",
    ).to_dict()
    return validate_rubric(data, f"draft of {rubric_id}")


def _lemmas(doc: Analysis, start: int, end: int) -> list[str]:
    return [doc.lemmas[i] for i in range(start, end) if doc.content[i]]


def _alternatives(lemma: str, docs: list[Analysis]) -> tuple[str, ...]:
    """The lemma and the other forms of it that the model answer and the context use."""
    forms = [lemma]
    for doc in docs:
        for i in range(len(doc)):
            if doc.lemmas[i] == lemma:
                form = doc.text[doc.starts[i]:doc.ends[i]].lower().replace("\u2019", "'")
                if form not in forms and form.isascii() and "'" not in form:
                    forms.append(form)
    return tuple(forms[:4])


def _unique_id(base: str, used: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", base.lower()).strip("-")[:40] or "point"
    candidate, n = base, 2
    while candidate in used or not ID_PATTERN.match(candidate):
        candidate = f"{base}-{n}"
        n += 1
    used.add(candidate)
    return candidate
