"""The web edge: every route, every error status, escaping, CSRF, limits, headers, privacy."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape

from essaycheck import MAX_ANSWER_CHARS, MAX_ANSWER_WORDS
from essaycheck.formatting import evidence_runs
from essaycheck.resources import web_dir
from essaycheck.results import PointResult, Span
from essaycheck.web import MAX_CONTENT_LENGTH, create_app, highlight_segments

from .conftest import RUBRIC_DIR

QID = "secret-speech-1956"
GOOD = ("Khrushchev wanted to weaken his rivals like Molotov and Malenkov, who were linked to "
        "the purges. He also wanted to expose the cult of personality and the terror so victims "
        "could be rehabilitated.\n\nStalin's legacy had damaged the credibility of the Party.")
SCRIPT = "<script>alert('x')</script>"
SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy",
                    "X-Frame-Options")


@pytest.fixture
def app(checker):
    return create_app(checker=checker, config={"WTF_CSRF_ENABLED": False})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def csrf_client(checker):
    """A client of an app with CSRF protection on, as in production."""
    return create_app(checker=checker).test_client()


def page(response) -> str:
    return response.get_data(as_text=True)


def csrf_token(client) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page(client.get("/")))
    assert match, "the form carries a CSRF token"
    return match.group(1)


# ------------------------------------------------------------------ the app factory


def test_checker_is_built_once_per_app_not_per_request(monkeypatch, checker):
    from essaycheck import checker as checker_module

    calls = []

    def from_directory(directory, *args, **kwargs):
        calls.append(directory)
        return checker

    monkeypatch.setattr(checker_module.Checker, "from_directory", staticmethod(from_directory))
    app = create_app(rubrics_dir=RUBRIC_DIR, config={"WTF_CSRF_ENABLED": False})
    assert calls == [RUBRIC_DIR]
    assert app.extensions["essaycheck"] is checker
    client = app.test_client()
    for _ in range(3):
        assert client.post("/check", data={"question_id": QID, "answer": GOOD}).status_code == 200
        api = client.post("/api/v1/check", json={"question_id": QID, "answer": GOOD})
        assert api.status_code == 200
    assert calls == [RUBRIC_DIR]


def test_create_app_builds_a_checker_from_the_rubric_folder():
    app = create_app(rubrics_dir=RUBRIC_DIR)
    assert set(app.extensions["essaycheck"].rubrics_by_id) >= {QID, "thaw-significance"}


def test_secret_key_comes_from_the_environment_or_is_generated(monkeypatch, checker):
    monkeypatch.setenv("ESSAYCHECK_SECRET_KEY", "from-the-env")
    assert create_app(checker=checker).config["SECRET_KEY"] == "from-the-env"
    monkeypatch.delenv("ESSAYCHECK_SECRET_KEY")
    first, second = create_app(checker=checker), create_app(checker=checker)
    assert len(first.config["SECRET_KEY"]) == 64
    assert first.config["SECRET_KEY"] != second.config["SECRET_KEY"]


def test_limits_are_configured(app):
    assert app.config["MAX_CONTENT_LENGTH"] == MAX_CONTENT_LENGTH
    # any answer within the documented limits fits, however it is encoded
    assert MAX_ANSWER_CHARS * 12 < MAX_CONTENT_LENGTH


def test_web_dir_defaults_to_top_level_web_and_can_be_overridden(monkeypatch, tmp_path):
    monkeypatch.delenv("ESSAYCHECK_WEB_DIR", raising=False)
    assert web_dir() == RUBRIC_DIR.parent / "web"
    assert (web_dir() / "templates" / "index.html").is_file()
    monkeypatch.setenv("ESSAYCHECK_WEB_DIR", str(tmp_path))
    assert web_dir() == tmp_path


def test_core_modules_do_not_import_flask():
    code = ("import sys, essaycheck, essaycheck.checker, essaycheck.loader, essaycheck.extract, "
            "essaycheck.reloading, essaycheck.workshop; "
            "assert 'flask' not in sys.modules and 'click' not in sys.modules, "
            "[m for m in sys.modules if m.startswith(('flask', 'click'))]")
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------------------ the page


def test_index_shows_every_question_in_full_and_the_form(client, checker):
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = page(response)
    for rubric in checker.rubrics_by_id.values():
        assert f'value="{rubric.id}"' in html
        assert rubric.question.replace("'", "&#39;") in html
    assert '<label for="answer"' in html and 'id="answer"' in html
    assert 'id="word-count"' in html and "0 words" in html
    assert 'method="post"' in html and 'action="/check"' in html
    assert 'name="csrf_token"' in html
    assert "How it works" in html
    assert "autofocus" not in html  # nothing steals focus on first load
    assert f'value="{QID}" checked' in html  # the first question is preselected


def test_index_preselects_a_question_from_the_query(client):
    html = page(client.get("/?question=thaw-significance"))
    assert 'value="thaw-significance" checked' in html
    assert f'value="{QID}" checked' not in html
    assert page(client.get("/?question=nope")).count("\" checked>") == 1


def test_get_check_redirects_to_the_page(client):
    response = client.get("/check")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/")


def test_check_shows_score_checklist_quotes_highlights_and_hints(client, checker):
    response = client.post("/check", data={"question_id": QID, "answer": GOOD})
    assert response.status_code == 200
    html = page(response)
    result = checker.check(QID, GOOD)
    assert f'<span class="score-value">{result.score:g}</span>' in html
    assert f"out of {result.max_score:g}" in html
    assert html.count('class="point point--') == len(result.points)
    for number, point in enumerate(result.points, 1):
        assert f'class="point point--{point.status}" id="point-{number}"' in html
        if point.status == "missed":
            assert point.hint.replace("'", "&#39;") in html
        else:
            assert f"<blockquote>{point.quote}</blockquote>".replace("'", "&#39;") in html
    assert {p.status for p in result.points} >= {"covered", "missed"}
    # the answer with its evidence marked, with a cue that needs no colour
    assert '<mark class="evidence" data-points=' in html
    assert "[evidence for point" in html and 'class="evidence-ref"' in html
    # the draft stays in the textarea, to revise
    assert GOOD.replace("'", "&#39;") in html.split("<textarea", 1)[1].split("</textarea>", 1)[0]
    assert 'id="result-heading" class="feedback-title" tabindex="-1" autofocus' in html
    assert response.headers["Cache-Control"] == "no-store"


def test_highlighted_answer_reproduces_the_answer_exactly(client):
    answer = ("First line.\r\nKhrushchev wanted to weaken his rivals, who were linked to the "
              "purges.\r\nEnd.")
    html = page(client.post("/check", data={"question_id": QID, "answer": answer}))
    view = html.split('class="answer-view"', 1)[1].split("</div>", 1)[0]
    view = view.split(">", 1)[1]
    hidden = r'<span class="visually-hidden">[^<]*</span>|<sup[^>]*>[^<]*</sup>'
    text = re.sub(hidden + r"|<[^>]+>", "", view)
    assert text == answer.replace("\r\n", "\n")  # browsers send CRLF; offsets use LF


def test_word_count_is_shown_after_checking(client):
    html = page(client.post("/check", data={"question_id": QID, "answer": "one two three"}))
    assert ">3 words<" in html


@pytest.mark.parametrize("data, status, message", [
    ({"question_id": QID, "answer": "   \n "}, 422, "Empty answer"),
    ({"question_id": QID}, 422, "Empty answer"),
    ({"answer": GOOD}, 400, "Choose a question first"),
    ({"question_id": "no-such-question", "answer": GOOD}, 404, "Unknown question id"),
    ({"question_id": QID, "answer": "a" * (MAX_ANSWER_CHARS + 1)}, 413, "Answer too long"),
    ({"question_id": QID, "answer": "a " * (MAX_ANSWER_WORDS + 1)}, 413, "Answer too long"),
])
def test_form_errors_have_the_right_status_and_keep_the_draft(client, data, status, message):
    response = client.post("/check", data=data)
    assert response.status_code == status
    html = page(response)
    assert message in html
    assert 'id="form-error"' in html and "autofocus" in html
    assert "form-error-message" in html.split("<textarea", 1)[1].split(">", 1)[0]
    assert ('aria-invalid="true"' in html) == (status in (413, 422))
    assert 'id="result-heading" class="feedback-title" tabindex="-1">How it works' in html
    if data.get("answer"):
        assert str(escape(data["answer"].strip())) in html  # the draft is still there to fix


def test_answer_over_the_limit_is_refused_before_any_processing(client, checker, monkeypatch):
    def analyse(*args, **kwargs):  # pragma: no cover - must not run
        raise AssertionError("analysed an answer over the limit")

    monkeypatch.setattr(checker.analyzer, "analyse", analyse)
    too_long = "word " * (MAX_ANSWER_CHARS // 5 + 1)
    assert client.post("/check", data={"question_id": QID, "answer": too_long}).status_code == 413
    response = client.post("/api/v1/check", json={"question_id": QID, "answer": too_long})
    assert response.status_code == 413
    assert response.json["error"] == "answer_too_long"


def test_a_body_over_max_content_length_gets_a_friendly_page(client):
    response = client.post("/check", data={"question_id": QID,
                                           "answer": "x" * (MAX_CONTENT_LENGTH + 1)})
    assert response.status_code == 413
    assert response.mimetype == "text/html"
    html = page(response)
    assert "too long to check" in html and f"{MAX_ANSWER_CHARS:,} characters" in html
    assert 'id="check-form"' in html  # the student can carry on from here


def test_a_body_over_max_content_length_is_refused_even_with_csrf_on(csrf_client):
    response = csrf_client.post("/check", data={"question_id": QID,
                                                "answer": "x" * (MAX_CONTENT_LENGTH + 1)})
    assert response.status_code == 413
    assert "too long to check" in page(response)


def test_student_text_is_escaped_everywhere(client):
    answer = f"Khrushchev wanted to weaken his rivals {SCRIPT} who were linked to the purges."
    response = client.post("/check", data={"question_id": QID, "answer": answer})
    html = page(response)
    assert response.status_code == 200
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert html.count("<script") == 1  # only the page's own script tag
    assert html.count("&lt;script&gt;") >= 3  # textarea, quote, highlighted answer
    errors = page(client.post("/check", data={"question_id": SCRIPT, "answer": SCRIPT}))
    assert SCRIPT not in errors and html.count("<script") == 1


def test_textarea_keeps_a_leading_newline(client):
    html = page(client.post("/check", data={"question_id": QID, "answer": "\nHello there."}))
    assert "<textarea" in html and ">\n\nHello there.</textarea>" in html


def test_unknown_page_is_a_404_page(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Not Found" in page(response) and 'href="/"' in page(response)


def test_wrong_method_is_a_405_page(client):
    response = client.delete("/")
    assert response.status_code == 405
    assert response.mimetype == "text/html"


def test_static_files_are_served(client):
    for name in ("style.css", "app.js", "favicon.svg"):
        response = client.get(f"/static/{name}")
        assert response.status_code == 200
        response.close()


def test_templates_and_static_files_have_no_inline_script_or_style():
    # report.html is the class report, a file the teacher opens and never served under the
    # page's CSP: its style is inline so that it stands alone (test_report.py checks it)
    for path in [p for p in (web_dir() / "templates").glob("*.html") if p.name != "report.html"]:
        text = path.read_text(encoding="utf-8")
        assert "style=" not in text and "<style" not in text, path
        assert re.findall(r"<script(?![^>]*\ssrc=)", text) == [], path
        assert not re.search(r"\son[a-z]+=", text), path
        assert "|safe" not in text.replace(" ", ""), path


# ------------------------------------------------------------------ CSRF


def test_csrf_is_enforced_on_the_form(csrf_client):
    response = csrf_client.post("/check", data={"question_id": QID, "answer": GOOD})
    assert response.status_code == 400
    html = page(response)
    assert "was not checked" in html and 'class="point' not in html
    assert GOOD.replace("'", "&#39;") in html  # the draft is not lost
    bad = csrf_client.post("/check", data={"question_id": QID, "answer": GOOD,
                                           "csrf_token": "forged"})
    assert bad.status_code == 400


def test_the_form_works_with_a_valid_csrf_token(csrf_client):
    token = csrf_token(csrf_client)
    response = csrf_client.post("/check", data={"question_id": QID, "answer": GOOD,
                                                "csrf_token": token})
    assert response.status_code == 200
    assert 'class="point point--covered"' in page(response)


def test_the_json_api_is_exempt_from_csrf(csrf_client):
    response = csrf_client.post("/api/v1/check", json={"question_id": QID, "answer": GOOD})
    assert response.status_code == 200


# ------------------------------------------------------------------ headers and privacy


@pytest.mark.parametrize("method, path", [
    ("get", "/"), ("get", "/api/v1/questions"), ("get", "/api/v1/openapi.json"),
    ("get", "/static/style.css"), ("get", "/nope"), ("get", "/api/v1/nope"),
    ("post", "/check"), ("post", "/api/v1/check"),
])
def test_security_headers_on_every_response(client, method, path):
    response = getattr(client, method)(path)
    for header in SECURITY_HEADERS:
        assert header in response.headers, (path, header)
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    response.close()


def test_no_student_text_is_logged(client, caplog):
    secret = "Zanzibarian marmalade theorem"
    caplog.set_level(logging.DEBUG)
    client.post("/check", data={"question_id": QID, "answer": secret})
    client.post("/check", data={"question_id": QID, "answer": secret + "x" * MAX_ANSWER_CHARS})
    client.post("/api/v1/check", json={"question_id": QID, "answer": secret})
    client.post("/api/v1/check", json={"question_id": 7, "answer": secret})
    client.post("/api/v1/check", data=secret, content_type="application/json")
    assert secret not in caplog.text
    assert "Zanzibarian" not in caplog.text


def test_no_student_text_is_logged_on_csrf_failure_or_server_error(checker, caplog):
    secret = "Quixotic lighthouse sonnet"
    caplog.set_level(logging.DEBUG)
    create_app(checker=checker).test_client().post(
        "/check", data={"question_id": QID, "answer": secret})
    broken = create_app(checker=ExplodingChecker(checker), config={"WTF_CSRF_ENABLED": False})
    broken.test_client().post("/check", data={"question_id": QID, "answer": secret})
    assert any(r.levelno >= logging.ERROR for r in caplog.records)  # the crash is logged...
    assert secret not in caplog.text  # ...but not the answer


def test_the_session_holds_only_the_csrf_token(checker):
    app = create_app(checker=checker)
    client = app.test_client()
    token = csrf_token(client)
    client.post("/check", data={"question_id": QID, "answer": GOOD, "csrf_token": token})
    cookie = client.get_cookie("session")
    assert cookie is not None
    session = app.session_interface.get_signing_serializer(app).loads(cookie.value)
    assert set(session) == {"csrf_token"}


# ------------------------------------------------------------------ the JSON API


def test_api_questions(client, checker):
    response = client.get("/api/v1/questions")
    assert response.status_code == 200
    questions = response.json["questions"]
    assert [q["id"] for q in questions] == list(checker.rubrics_by_id)
    first = questions[0]
    rubric = checker.rubrics_by_id[first["id"]]
    assert first == {"id": rubric.id, "question": rubric.question, "subject": rubric.subject,
                     "max_score": rubric.max_score, "point_count": len(rubric.points)}


def test_api_check_returns_the_core_result_with_offsets(client, checker):
    response = client.post("/api/v1/check", json={"question_id": QID, "answer": GOOD})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json
    assert body == json.loads(json.dumps(checker.check(QID, GOOD).to_dict()))
    assert {"score", "max_score", "points", "summary", "warnings"} <= set(body)
    covered = [p for p in body["points"] if p["status"] == "covered"]
    assert covered and all(p["matched_terms"] for p in covered)
    for point in body["points"]:
        assert point["status"] in {"covered", "partial", "missed"}
        for span in point["evidence"]:
            assert GOOD[span["start"]:span["end"]] == span["text"]


def test_api_offsets_count_code_points_not_utf16_units(client):
    answer = "😀😀 Khrushchev wanted to weaken his rivals, who were linked to the purges."
    body = client.post("/api/v1/check", json={"question_id": QID, "answer": answer}).json
    spans = [s for p in body["points"] for s in p["evidence"]]
    assert spans
    for span in spans:
        assert answer[span["start"]:span["end"]] == span["text"]


@pytest.mark.parametrize("kwargs, status, code", [
    ({"data": "{not json", "content_type": "application/json"}, 400, "bad_request"),
    ({"data": b"\xff\xfe\xfa", "content_type": "application/json"}, 400, "bad_request"),
    ({"data": "", "content_type": "application/json"}, 400, "bad_request"),
    ({"data": "[" * 100_000, "content_type": "application/json"}, 400, "bad_request"),
    ({"json": ["question_id", "answer"]}, 400, "bad_request"),
    ({"json": "just a string"}, 400, "bad_request"),
    ({"data": "null", "content_type": "application/json"}, 400, "bad_request"),
    ({"json": {"answer": GOOD}}, 400, "bad_request"),
    ({"json": {"question_id": QID}}, 400, "bad_request"),
    ({"json": {"question_id": 1956, "answer": GOOD}}, 400, "bad_request"),
    ({"json": {"question_id": QID, "answer": ["a", "list"]}}, 400, "bad_request"),
    ({"json": {"question_id": QID, "answer": None}}, 400, "bad_request"),
    ({"json": {"question_id": QID, "answer": True}}, 400, "bad_request"),
    ({"json": {"question_id": "nope", "answer": GOOD}}, 404, "unknown_question"),
    ({"json": {"question_id": QID, "answer": "x" * (MAX_ANSWER_CHARS + 1)}}, 413,
     "answer_too_long"),
    ({"json": {"question_id": QID, "answer": "x " * (MAX_ANSWER_WORDS + 1)}}, 413,
     "answer_too_long"),
    ({"json": {"question_id": QID, "answer": "y" * MAX_CONTENT_LENGTH}}, 413, "request_too_large"),
    ({"json": {"question_id": QID, "answer": ""}}, 422, "empty_answer"),
    ({"json": {"question_id": QID, "answer": " \n\t "}}, 422, "empty_answer"),
    ({"data": {"question_id": QID, "answer": GOOD}}, 415, "unsupported_media_type"),
    ({"data": json.dumps({"question_id": QID, "answer": GOOD}), "content_type": "text/plain"},
     415, "unsupported_media_type"),
])
def test_api_check_errors(client, kwargs, status, code):
    response = client.post("/api/v1/check", **kwargs)
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.json
    assert body["error"] == code and body["status"] == status
    assert isinstance(body["message"], str) and body["message"]


def test_api_ignores_extra_fields(client):
    response = client.post("/api/v1/check", json={"question_id": QID, "answer": GOOD, "x": 1})
    assert response.status_code == 200


def test_api_http_errors_are_json(client):
    for response, status in ((client.get("/api/v1/check"), 405),
                             (client.get("/api/v1/no-such-thing"), 404),
                             (client.post("/api/v1/questions"), 405)):
        assert response.status_code == status
        assert response.mimetype == "application/json"
        assert response.json["status"] == status and response.json["message"]


class ExplodingChecker:
    """A checker whose every check crashes, to test the 500 handlers."""

    def __init__(self, real):
        self.rubrics_by_id = real.rubrics_by_id

    def check(self, question_id, answer):
        raise RuntimeError("boom")


def test_a_crash_is_a_500_without_details(checker):
    app = create_app(checker=ExplodingChecker(checker), config={"WTF_CSRF_ENABLED": False})
    client = app.test_client()
    api = client.post("/api/v1/check", json={"question_id": QID, "answer": GOOD})
    assert api.status_code == 500 and api.json["error"] == "internal_server_error"
    assert "boom" not in api.get_data(as_text=True)
    html = client.post("/check", data={"question_id": QID, "answer": GOOD})
    assert html.status_code == 500 and html.mimetype == "text/html"
    assert "boom" not in page(html) and "Traceback" not in page(html)


# ------------------------------------------------------------------ OpenAPI


@pytest.fixture
def openapi(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json


def test_openapi_document_is_valid_openapi_3_1(openapi):
    from openapi_spec_validator import validate

    assert openapi["openapi"].startswith("3.1")
    validate(openapi)
    assert set(openapi["paths"]) == {"/api/v1/questions", "/api/v1/check", "/api/v1/openapi.json"}
    responses = openapi["paths"]["/api/v1/check"]["post"]["responses"]
    assert set(responses) == {"200", "400", "404", "413", "415", "422"}


def test_openapi_document_states_the_limits_in_force(openapi):
    """The data file's limit fields are filled from the code's constants."""
    answer = openapi["components"]["schemas"]["CheckRequest"]["properties"]["answer"]
    assert answer["maxLength"] == MAX_ANSWER_CHARS
    assert f"{MAX_ANSWER_CHARS:,} characters" in answer["description"]
    assert f"over {MAX_CONTENT_LENGTH:,} bytes" in openapi["info"]["description"]
    assert not re.search(r"\{[A-Z_]+", json.dumps(openapi))   # no field left unfilled


def schema_validator(openapi, name):
    from jsonschema import Draft202012Validator
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    registry = Registry().with_resource("urn:openapi", DRAFT202012.create_resource(openapi))
    return Draft202012Validator({"$ref": f"urn:openapi#/components/schemas/{name}"},
                                registry=registry)


def test_api_responses_match_the_openapi_schemas(client, openapi):
    questions = client.get("/api/v1/questions").json
    schema_validator(openapi, "QuestionList").validate(questions)
    result = client.post("/api/v1/check", json={"question_id": QID, "answer": GOOD}).json
    schema_validator(openapi, "CheckResult").validate(result)
    schema_validator(openapi, "CheckRequest").validate({"question_id": QID, "answer": GOOD})
    error_schema = schema_validator(openapi, "Error")
    for status in ("400", "404", "413", "415", "422"):
        content = openapi["paths"]["/api/v1/check"]["post"]["responses"][status]["content"]
        assert content["application/json"]["schema"]["$ref"].endswith("/Error")
        error_schema.validate(content["application/json"]["example"])
        assert content["application/json"]["example"]["status"] == int(status)
    for body in ({}, {"question_id": "nope", "answer": "x"}, {"question_id": QID, "answer": ""}):
        error_schema.validate(client.post("/api/v1/check", json=body).json)


# ------------------------------------------------------------------ highlighting


def point(status, *spans):
    return PointResult(point_id=f"p{len(spans)}", point_text="t", status=status, confidence=1.0,
                       weight=1.0, evidence=tuple(Span(a, b, "") for a, b in spans))


def test_the_page_highlights_overlapping_evidence_as_one_run():
    """The page's runs are the shared evidence runs with overlaps joined (the cases are in
    test_formatting.py)."""
    answer = "0123456789abcdefghij"
    points = (point("covered", (2, 6)), point("partial", (4, 9), (15, 18)),
              point("missed", (0, 20)), point("covered", (9, 12)))
    segments = highlight_segments(answer, points)
    assert segments == evidence_runs(answer, points, join_overlaps=True)
    assert [(s.text, s.points) for s in segments if s.is_evidence] == [
        ("2345678", (1, 2)), ("9ab", (4,)), ("fgh", (2,))]


@given(st.text(max_size=40), st.lists(st.tuples(st.integers(0, 45), st.integers(0, 45),
                                                st.sampled_from(["covered", "partial", "missed"])),
                                      max_size=6))
def test_segments_always_rebuild_the_answer(answer, spans):
    points = tuple(point(status, (a, b)) for a, b, status in spans)
    segments = highlight_segments(answer, points)
    assert "".join(s.text for s in segments) == answer
    assert all(s.text for s in segments)
    assert all(bool(s.points) == s.is_evidence for s in segments)
    for before, after in pairwise(segments):
        assert not (before.is_evidence is False and after.is_evidence is False)


# ------------------------------------------------------------------ properties of the API

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12)
API_STATUSES = {200, 400, 404, 413, 415, 422}
FAST = settings(max_examples=100, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


def assert_json_outcome(response):
    assert response.status_code in API_STATUSES, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.json
    if response.status_code == 200:
        assert {"score", "max_score", "points"} <= set(body)
    else:
        assert body["status"] == response.status_code and body["message"]


@FAST
@given(body=JSON_VALUES)
def test_api_any_json_body_gives_a_result_or_a_json_error(client, body):
    assert_json_outcome(client.post("/api/v1/check", data=json.dumps(body),
                                    content_type="application/json"))


@FAST
@given(question_id=JSON_VALUES | st.sampled_from([QID, "thaw-significance"]),
       answer=JSON_VALUES | st.text())
def test_api_any_field_types_give_a_result_or_a_json_error(client, question_id, answer):
    response = client.post("/api/v1/check", json={"question_id": question_id, "answer": answer})
    assert_json_outcome(response)
    if not isinstance(question_id, str) or not isinstance(answer, str):
        assert response.status_code == 400


@FAST
@given(answer=st.text())
def test_api_any_answer_string_gives_a_result_or_a_json_error(client, answer):
    response = client.post("/api/v1/check", json={"question_id": QID, "answer": answer})
    assert_json_outcome(response)
    assert response.status_code in {200, 422}
    if response.status_code == 200:
        for point_ in response.json["points"]:
            for span in point_["evidence"]:
                assert answer[span["start"]:span["end"]] == span["text"]


@FAST
@given(raw=st.binary(max_size=200), content_type=st.sampled_from(
    ["application/json", "application/json; charset=utf-8", "text/plain", "",
     "application/x-www-form-urlencoded"]))
def test_api_any_bytes_give_a_json_error_or_a_result(client, raw, content_type):
    assert_json_outcome(client.post("/api/v1/check", data=raw, content_type=content_type))


@FAST
@given(question_id=st.text(alphabet=st.characters(blacklist_categories=("Cs",))) |
       st.sampled_from([QID]),
       answer=st.text(alphabet=st.characters(blacklist_categories=("Cs",))))
def test_form_any_input_gives_a_page_not_a_crash(client, question_id, answer):
    response = client.post("/check", data={"question_id": question_id, "answer": answer})
    assert response.status_code in {200, 400, 404, 413, 422}
    assert response.mimetype == "text/html"
    assert "<script>alert" not in page(response)


# ------------------------------------------------------------------ the serve command


def test_serve_command_runs_waitress_with_the_app(monkeypatch, checker):
    import waitress
    from click.testing import CliRunner

    from essaycheck import cli

    served = {}
    monkeypatch.setattr(cli, "load_checker", lambda rubrics_dir, pipeline: checker)
    monkeypatch.setattr(waitress, "serve", lambda app, **kwargs: served.update(app=app, **kwargs))
    result = CliRunner().invoke(cli.main, ["serve", "--host", "127.0.0.1", "--port", "5123",
                                           "--rubrics", str(RUBRIC_DIR)])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:5123/" in result.output
    assert served["host"] == "127.0.0.1" and served["port"] == 5123 and served["threads"] == 8
    assert served["app"].extensions["essaycheck"] is checker


def test_serve_command_reports_bad_rubrics(tmp_path):
    from click.testing import CliRunner

    from essaycheck import cli

    (tmp_path / "bad.yaml").write_text("id: [not, valid\n", encoding="utf-8")
    result = CliRunner().invoke(cli.main, ["serve", "--rubrics", str(tmp_path)])
    assert result.exit_code != 0
    assert "not valid" in result.output or "Error" in result.output


def _serve_with_two_workers():
    """``essaycheck serve --workers 2`` on a free port, as a subprocess: (process, port)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "essaycheck.cli", "serve", "--port", str(port), "--workers", "2",
         "--rubrics", str(RUBRIC_DIR)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)
    return server, port


def _workers_of(server) -> list[str]:
    return subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True,
                          text=True).stdout.split()


def _both_workers(server) -> list[str]:
    """The pids of the command's two workers, once both have started (within a minute)."""
    import time

    deadline, workers = time.monotonic() + 60, []
    while len(workers) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
        workers = _workers_of(server)
    assert len(workers) == 2
    return workers


@pytest.mark.skipif(not hasattr(os, "fork"), reason="--workers needs fork")
def test_serve_with_workers_answers_and_stops_with_its_workers():
    """Two worker processes answer on one port; stopping the command stops them all."""
    import http.client
    import signal
    import time

    server, port = _serve_with_two_workers()
    try:
        body = json.dumps({"question_id": QID, "answer": GOOD})
        statuses, deadline = [], time.monotonic() + 60
        while len(statuses) < 6 and time.monotonic() < deadline:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                connection.request("POST", "/api/v1/check", body,
                                   {"Content-Type": "application/json"})
                statuses.append(connection.getresponse().status)
                connection.close()
            except OSError:
                time.sleep(0.1)
        assert statuses == [200] * 6
        workers = _workers_of(server)
        assert len(workers) == 2
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=20)[0]
    assert "with 2 worker processes" in output
    for pid in workers:
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid), 0)


def test_serve_with_workers_reports_a_port_in_use(checker, monkeypatch):
    import socket

    from click.testing import CliRunner

    from essaycheck import cli

    monkeypatch.setattr(cli, "load_checker", lambda rubrics_dir, pipeline: checker)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli.main, ["serve", "--port", str(port), "--workers", "2"])
    assert result.exit_code != 0
    assert f"cannot listen on 127.0.0.1:{port}" in result.output


@pytest.mark.skipif(not hasattr(os, "fork"), reason="--workers needs fork")
def test_serve_with_workers_stops_all_when_one_dies():
    """A worker that dies on its own takes the others down and the command fails, so a
    supervisor (systemd, a container) can restart the service."""
    import signal

    server, _ = _serve_with_two_workers()
    try:
        workers = _both_workers(server)
        os.kill(int(workers[0]), signal.SIGKILL)
        output = server.communicate(timeout=20)[0]
    finally:
        if server.poll() is None:
            server.kill()
    assert server.returncode != 0
    assert "a server worker stopped unexpectedly" in output
    with pytest.raises(ProcessLookupError):
        os.kill(int(workers[1]), 0)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal: Linux")
def test_serve_workers_stop_when_the_command_is_killed_outright():
    import signal
    import time

    server, _ = _serve_with_two_workers()
    try:
        workers = _both_workers(server)
        server.send_signal(signal.SIGKILL)
        server.communicate(timeout=20)
        deadline = time.monotonic() + 10
        alive = workers
        while alive and time.monotonic() < deadline:
            time.sleep(0.1)
            alive = [pid for pid in workers if _running(int(pid))]
        assert not alive
    finally:
        if server.poll() is None:
            server.kill()


def _running(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[-1][0] != "Z"
    except OSError:
        return False
