"""The core behaviours on the shipped rubrics: what earns a point and what must not."""

from __future__ import annotations

import pytest

from essaycheck import (
    COVERED,
    MAX_ANSWER_CHARS,
    MAX_ANSWER_WORDS,
    MISSED,
    AnswerError,
    AnswerTooLongError,
    CheckResult,
    EmptyAnswerError,
    UnknownQuestionError,
)

SPEECH = "secret-speech-1956"
THAW = "thaw-significance"

SPEECH_PARAPHRASE = (
    "Khrushchev gave the speech because Stalin's crimes had ruined the reputation of the "
    "Communist Party, so he wanted to break with the past and win back people's trust. He "
    "revealed the truth about the purges and the personality cult so that innocent victims "
    "could be rehabilitated and people would no longer live in fear. Another reason was to "
    "undermine his opponents like Molotov and Malenkov, who were involved in Stalin's terror, "
    "which helped him secure his own position as leader. He also wanted to show that "
    "communism could be kinder and less repressive than under Stalin. Abroad, he hoped to "
    "repair relations with other communist countries such as Yugoslavia. Finally, the speech "
    "paved the way for reforms and de-Stalinisation."
)

THAW_PARAPHRASE = (
    "The thaw changed Soviet society quite a lot. Censorship was loosened, so authors and "
    "poets like Yevtushenko could write about subjects that had been banned before. "
    "Solzhenitsyn was allowed to publish One Day in the Life of Ivan Denisovich, which showed "
    "people the truth about the gulag camps. Ordinary people also began to complain openly "
    "about bureaucrats and corruption in letters to the newspapers. Young people and students "
    "started questioning official ideas. However, there were clear limits, because censorship "
    "still existed and dissidents could still be arrested. The thaw was also inconsistent, as "
    "Khrushchev sent tanks to crush the Hungarian Uprising in 1956. Overall, the thaw was a "
    "real break from Stalin's terror, but the change was limited."
)


def statuses(result: CheckResult) -> dict[str, str]:
    return {p.point_id: p.status for p in result.points}


@pytest.mark.parametrize("question_id", [SPEECH, THAW])
def test_model_answer_gets_full_marks(checker, question_id):
    rubric = checker.rubric(question_id)
    result = checker.check(question_id, rubric.model_answer)
    assert result.score == rubric.max_score, statuses(result)
    assert all(p.status == COVERED for p in result.points)


@pytest.mark.parametrize("question_id, answer", [(SPEECH, SPEECH_PARAPHRASE),
                                                 (THAW, THAW_PARAPHRASE)])
def test_paraphrase_in_other_words_scores_high(checker, question_id, answer):
    result = checker.check(question_id, answer)
    assert result.score >= 0.75 * result.max_score, statuses(result)


@pytest.mark.parametrize("question_id, other", [(SPEECH, THAW), (THAW, SPEECH)])
def test_answer_to_the_other_question_scores_low(checker, question_id, other):
    wrong = checker.rubric(other).model_answer
    result = checker.check(question_id, wrong)
    assert result.score <= 0.35 * result.max_score, statuses(result)
    right = checker.check(question_id, checker.rubric(question_id).model_answer)
    assert result.score < right.score / 2


def test_negated_point_is_not_covered(checker):
    result = checker.check(SPEECH, "Khrushchev did not want to weaken his rivals.")
    point = {p.point_id: p for p in result.points}["weaken-rivals"]
    assert point.status == MISSED
    assert point.note and "opposite" in point.note
    affirmed = checker.check(SPEECH, "Khrushchev wanted to weaken his rivals such as Molotov, "
                                     "who were linked to the purges, and to strengthen his power.")
    assert statuses(affirmed)["weaken-rivals"] == COVERED


def test_not_only_is_not_a_negation(checker):
    result = checker.check(SPEECH, "He not only weakened his rivals like Molotov, who were "
                                   "linked to the purges, but also strengthened his power.")
    assert statuses(result)["weaken-rivals"] == COVERED


def test_keyword_list_does_not_earn_full_marks(checker):
    stuffed = ("cult of personality, terror, rehabilitate victims, fear, rivals, Molotov, "
               "weaken, power, credibility, legacy, party, socialism, humane, allies, abroad, "
               "signal, reform, de-Stalinisation, groundwork")
    result = checker.check(SPEECH, stuffed)
    assert result.score <= 0.5 * result.max_score
    assert not result.covered
    assert any("key words" in w for w in result.warnings)


def test_copying_the_question_earns_nothing(checker):
    for question_id in (SPEECH, THAW):
        question = checker.rubric(question_id).question
        result = checker.check(question_id, question)
        assert result.score == 0, statuses(result)
        assert any("repeats the question" in w for w in result.warnings)
    misspelt = checker.check(SPEECH, "Explain why Kruschev delivered the secrit speach in 1956.")
    assert misspelt.score == 0


def test_a_short_answer_in_the_questions_words_is_not_a_copy(checker):
    # every content word is the question's, but it reproduces only part of the question: it
    # is marked on its evidence, with no warning (science answers name the question's words)
    result = checker.check(SPEECH, "Khrushchev delivered the speech.")
    assert not any("repeats the question" in w for w in result.warnings)
    copied = checker.check(SPEECH, "Khrushchev delivered the Secret Speech in 1956, explain why.")
    assert any("repeats the question" in w for w in copied.warnings)


def test_misspellings_are_tolerated(checker):
    result = checker.check(SPEECH, "Kruschev gave the secrit speach to weakin his rivels like "
                                   "Molotov, who were linked to the purjes, and to strengthen "
                                   "his own power.")
    point = {p.point_id: p for p in result.points}["weaken-rivals"]
    assert point.status == COVERED
    assert {"weaken", "rival"} <= set(point.matched_terms)
    thaw = checker.check(THAW, "The relaxation of censorhip let writers and artists explore "
                               "new themes that had been forbidden.")
    assert statuses(thaw)["censorship-relaxed"] == COVERED


def test_evidence_spans_point_into_the_students_text(checker):
    result = checker.check(SPEECH, SPEECH_PARAPHRASE)
    for point in result.points:
        if point.status == MISSED:
            assert point.evidence == () and point.hint
            continue
        assert point.evidence, point.point_id
        for span in point.evidence:
            assert SPEECH_PARAPHRASE[span.start:span.end] == span.text
        assert point.quote
    rivals = {p.point_id: p for p in result.points}["weaken-rivals"]
    assert "Molotov" in rivals.quote


def test_missed_points_get_the_rubrics_hint(checker):
    result = checker.check(SPEECH, "Khrushchev wanted to weaken his rivals such as Molotov, "
                                   "who were linked to the purges, and to strengthen his power.")
    missed = {p.point_id: p for p in result.points if p.status == MISSED}
    assert "signal-to-allies" in missed
    assert missed["signal-to-allies"].hint == checker.rubric(SPEECH).point("signal-to-allies").hint


def test_empty_and_whitespace_answers(checker):
    for empty in ("", "   \n\t  "):
        with pytest.raises(EmptyAnswerError) as info:
            checker.check(SPEECH, empty)
        assert "empty answer" in str(info.value)


def test_unknown_question(checker):
    with pytest.raises(UnknownQuestionError) as info:
        checker.check("nope", "text")
    assert "unknown question id 'nope'" in str(info.value) and SPEECH in str(info.value)


def test_too_long_answers_are_refused_with_the_limit(checker):
    with pytest.raises(AnswerTooLongError) as info:
        checker.check(SPEECH, "word " * 100_000)
    assert f"{MAX_ANSWER_CHARS:,}" in str(info.value)
    with pytest.raises(AnswerTooLongError) as info:
        checker.check(SPEECH, "a " * (MAX_ANSWER_WORDS + 1))
    assert "words" in str(info.value)


def test_bytes_that_are_not_utf8(checker):
    with pytest.raises(AnswerError) as info:
        checker.check(SPEECH, b"Stalin \xff\xfe purges")
    assert "not UTF-8" in str(info.value)
    assert checker.check(SPEECH, "Stalin’s purges".encode()).question_id == SPEECH


def test_control_characters_keep_offsets(checker):
    answer = ("\x00\x07Khrushchev wanted to weaken his rivals\x1b like Molotov, linked to the "
              "purges.")
    result = checker.check(SPEECH, answer)
    rivals = {p.point_id: p for p in result.points}["weaken-rivals"]
    for span in rivals.evidence:
        assert answer[span.start:span.end] == span.text


def test_same_result_alone_or_in_a_batch(checker):
    answers = [(SPEECH, SPEECH_PARAPHRASE, "a"), (THAW, THAW_PARAPHRASE, "b"),
               (SPEECH, "", "c"), ("nope", "x", "d"),
               (SPEECH, "Khrushchev did not want to weaken his rivals.", "e"),
               (THAW, checker.rubric(THAW).model_answer, "f")]
    batch = list(checker.check_many(answers))
    assert [key for key, _ in batch] == ["a", "b", "c", "d", "e", "f"]
    for (question_id, answer, _), (_, outcome) in zip(answers, batch, strict=True):
        try:
            alone = checker.check(question_id, answer)
        except Exception as error:  # the batch returns the same error in place
            assert type(outcome) is type(error) and str(outcome) == str(error)
        else:
            assert outcome == alone
    # and the order or company of a batch changes nothing
    reversed_batch = dict(checker.check_many(reversed(answers)))
    for key, outcome in batch:
        assert str(reversed_batch[key]) == str(outcome)


def test_check_many_streams_lazily(checker):
    def endless():
        n = 0
        while True:
            n += 1
            yield SPEECH, f"Answer {n}: Khrushchev wanted to weaken his rivals.", n

    stream = checker.check_many(endless())
    first = [next(stream) for _ in range(3)]
    assert [key for key, _ in first] == [1, 2, 3]


def test_result_to_dict_is_json_ready(checker):
    import json

    data = checker.check(SPEECH, SPEECH_PARAPHRASE).to_dict()
    text = json.dumps(data)
    assert '"question_id": "secret-speech-1956"' in text
    assert {"point_id", "status", "confidence", "matched_terms", "evidence", "hint", "quote"} \
        <= set(data["points"][0])


def test_result_to_dict_is_asdict_plus_quotes(checker):
    """Every field, in the dataclasses' order, nested as ``dataclasses.asdict`` nests them."""
    from dataclasses import asdict

    result = checker.check(SPEECH, SPEECH_PARAPHRASE)
    expected = asdict(result)
    for point, original in zip(expected["points"], result.points, strict=True):
        point["quote"] = original.quote
        for span in point["evidence"]:  # where a span was cut, the quote's ellipsis says
            del span["cut_before"], span["cut_after"]
    data = result.to_dict()
    assert data == expected
    assert list(data) == list(expected)
    assert [list(p) for p in data["points"]] == [list(p) for p in expected["points"]]


def test_results_do_not_depend_on_the_process(tmp_path):
    """The web server and the CLI are different processes with different string hashing:
    the same answer must get the same result in both."""
    import json
    import os
    import subprocess
    import sys

    from .conftest import RUBRIC_DIR

    script = (
        "import json, sys\n"
        "from essaycheck import Checker\n"
        f"c = Checker.from_directory({str(RUBRIC_DIR)!r})\n"
        "answers = json.load(sys.stdin)\n"
        "print(json.dumps([c.check(q, a).to_dict() for q, a in answers]))\n")
    answers = [[SPEECH, SPEECH_PARAPHRASE], [THAW, THAW_PARAPHRASE],
               [SPEECH, "Kruschev wanted to weakin his rivels and be less brutal."]]
    outputs = []
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        done = subprocess.run([sys.executable, "-c", script], input=json.dumps(answers),
                              capture_output=True, text=True, env=env, check=True)
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]


# -- the fitted guard and the public accessors ---------------------------------------------
def test_an_unfitted_checker_says_to_call_fit(checker):
    from essaycheck import Checker
    from essaycheck.errors import NotFittedError

    unfitted = Checker(checker.rubrics)
    for use in (lambda: unfitted.check(SPEECH, SPEECH_PARAPHRASE),
                lambda: list(unfitted.check_many([(SPEECH, SPEECH_PARAPHRASE, 0)])),
                lambda: unfitted.analyzer, lambda: unfitted.matcher(SPEECH),
                lambda: unfitted.rubric(SPEECH), lambda: unfitted.question_ids,
                lambda: unfitted.rubrics_by_id, lambda: unfitted.with_rubrics([])):
        with pytest.raises(NotFittedError, match=r"Checker is not fitted yet: call fit\(\)"):
            use()


def test_an_unfitted_matcher_says_to_call_fit(analyzer):
    from essaycheck.errors import EssaycheckError, NotFittedError
    from essaycheck.matching import PointMatcher

    unfitted = PointMatcher()
    analysis = analyzer.analyse(SPEECH_PARAPHRASE)
    for use in (lambda: unfitted.match(analysis), lambda: unfitted.evidence(analysis),
                lambda: unfitted.thresholds, lambda: unfitted.fitted_settings,
                lambda: unfitted.question_words, lambda: unfitted.vocabulary,
                lambda: unfitted.wordings, lambda: unfitted.term_idf("party"),
                lambda: unfitted.spell("partie"), lambda: unfitted.question_overlap([])):
        with pytest.raises(NotFittedError) as info:
            use()
        assert str(info.value) == "this PointMatcher is not fitted yet: call fit() before using it"
        assert isinstance(info.value, EssaycheckError) and info.value.code == "not_fitted"


def test_checker_accessors(checker):
    from essaycheck.analysis import Analyzer
    from essaycheck.matching import PointMatcher

    assert isinstance(checker.analyzer, Analyzer) and checker.analyzer is checker.analyzer_
    assert checker.question_ids == [r.id for r in checker.rubrics]
    assert list(checker.rubrics_by_id) == checker.question_ids
    assert all(checker.rubrics_by_id[q] is checker.rubric(q) for q in checker.question_ids)
    with pytest.raises(TypeError):
        checker.rubrics_by_id[SPEECH] = None  # type: ignore[index]  # read-only, as tested
    matcher = checker.matcher(SPEECH)
    assert isinstance(matcher, PointMatcher)
    analysis = checker.analyzer.analyse(SPEECH_PARAPHRASE)
    result = checker.check(SPEECH, SPEECH_PARAPHRASE)
    assert [m.strength for m in matcher.match(analysis)] == [p.confidence for p in result.points]
    for bad in ("no-such-question", None):
        with pytest.raises(UnknownQuestionError, match="known question ids"):
            checker.matcher(bad)  # type: ignore[arg-type]  # bad input, as tested


def test_matcher_accessors(checker):
    rubric = checker.rubric(SPEECH)
    matcher = checker.matcher(SPEECH)
    settings = matcher.fitted_settings
    assert matcher.thresholds == (settings.covered, settings.partial)
    for key, value in rubric.thresholds.items():  # a rubric's own thresholds are in force
        assert getattr(settings, key) == value
    question = checker.analyzer.analyse(rubric.question)
    assert matcher.question_words == {question.lemmas[i] for i in range(len(question))
                                      if question.content[i]}
    assert "speech" in matcher.question_words and "speech" in matcher.vocabulary
    assert len(matcher.wordings) == len(rubric.points)
    for point, wordings in zip(rubric.points, matcher.wordings, strict=True):
        assert len(wordings) == 1 + len(point.accept)
        assert all(wording.words for wording in wordings)
    assert matcher.term_idf("no-such-term") >= max(matcher.term_idf(w) for w in matcher.vocabulary)
    assert matcher.term_idf("rival") < matcher.term_idf("no-such-term")
    assert matcher.spell("rivels") == "rival" and matcher.spell("rival") == "rival"


def test_with_rubrics_shares_the_analyzer_and_matches_a_fresh_checker(checker, nlp):
    from essaycheck import Checker

    thaw = checker.rubric(THAW)
    other = checker.with_rubrics([thaw])
    assert other.analyzer is checker.analyzer and other.analyzer.nlp is nlp
    assert other.question_ids == [THAW] and other is not checker
    assert checker.question_ids == [r.id for r in checker.rubrics]  # the original is unchanged
    fresh = Checker([thaw], nlp=nlp).fit()
    for answer in (THAW_PARAPHRASE, "Censorhip was loosened a bit.", "No idea."):
        assert other.check(THAW, answer).to_dict() == fresh.check(THAW, answer).to_dict()
    with pytest.raises(UnknownQuestionError):
        other.check(SPEECH, SPEECH_PARAPHRASE)


def test_with_rubrics_refits_only_the_rubrics_that_changed(checker):
    """An unchanged rubric keeps its fitted matcher (a reload after one file changed refits
    that one); a changed one, or any on another analyzer, is fitted again."""
    import dataclasses

    from essaycheck.analysis import CachingAnalyzer

    thaw, speech = checker.rubric(THAW), checker.rubric(SPEECH)
    edited = dataclasses.replace(speech, question=speech.question + " Explain.")
    other = checker.with_rubrics([thaw, edited])
    assert other.matcher(THAW) is checker.matcher(THAW)
    assert other.matcher(SPEECH) is not checker.matcher(SPEECH)
    assert other.check(SPEECH, SPEECH_PARAPHRASE).to_dict() == \
        checker.with_rubrics([]).with_rubrics([edited]).check(SPEECH, SPEECH_PARAPHRASE).to_dict()
    cached = checker.with_rubrics([thaw], analyzer=CachingAnalyzer(checker.analyzer))
    assert cached.matcher(THAW) is not checker.matcher(THAW)
