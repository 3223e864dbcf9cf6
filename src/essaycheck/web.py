"""The student web page and the JSON API: a thin Flask edge over the core ``Checker``.

Each view parses its input, calls the core once, renders, and turns the core's
``EssaycheckError`` into a message with the right status. Nothing here stores or logs a
student's text: answers live only in the request and the response.

``create_app`` builds the ``Checker`` once per process and keeps it in
``app.extensions["essaycheck"]``; ``serve`` also has it follow the rubric folder
(``reloading``), so that a saved rubric is offered without a restart. Templates and static
files are found by ``resources`` (the checkout's top-level ``web/`` folder, or its copy in the
wheel).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.json.provider import DefaultJSONProvider
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from .analysis import MAX_ANSWER_CHARS, MAX_ANSWER_WORDS
from .errors import AnswerError, AnswerTooLongError, EssaycheckError, UnknownQuestionError
from .formatting import EvidenceRun, evidence_runs, format_number
from .matching import limit_blas_threads
from .resources import static_dir, templates_dir
from .results import CheckResult, PointResult

#: Largest request body accepted, in bytes. Generous enough for any answer within the
#: documented limits however it is encoded (50,000 characters, each up to 12 bytes as a JSON
#: surrogate-pair escape or a percent-encoded 4-byte UTF-8 character); anything larger is
#: refused with 413 before the body is read.
MAX_CONTENT_LENGTH = 1024 * 1024

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # same-origin, not no-referrer: Flask-WTF checks the Referer on HTTPS form posts.
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

LIMIT_MESSAGE = (f"An answer may be at most {MAX_ANSWER_CHARS:,} characters and "
                 f"{MAX_ANSWER_WORDS:,} words.")

csrf = CSRFProtect()
pages = Blueprint("pages", __name__)
#: where the JSON API lives, on the student page's app and on the workshop's
API_PREFIX = "/api/v1"
api = Blueprint("api", __name__, url_prefix=API_PREFIX)
csrf.exempt(api)  # JSON-only and stateless: no cookies are read, so nothing to forge


class OrderedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, with the keys in the order the code builds them (the documented field
    order) rather than sorted."""

    sort_keys = False


def base_app(import_name: str, max_content_length: int, config: dict[str, Any],
             csrf: CSRFProtect, blueprints: Sequence[Blueprint], http_error: Any,
             csrf_error: Any) -> Flask:
    """A Flask app as the student page and the workshop both are: essaycheck's templates and
    static files, requests over ``max_content_length`` bytes refused before they are read, an
    HttpOnly session cookie, JSON in the documented field order, the security headers on every
    response; then ``config``, the CSRF protection, the blueprints and the two error handlers
    (HTTP errors, CSRF failures)."""
    limit_blas_threads()
    app = Flask(import_name, template_folder=str(templates_dir()),
                static_folder=str(static_dir()), static_url_path="/static")
    app.config.update(MAX_CONTENT_LENGTH=max_content_length,
                      MAX_FORM_MEMORY_SIZE=max_content_length, SESSION_COOKIE_HTTPONLY=True)
    app.config.update(config)
    app.json = OrderedJSONProvider(app)
    csrf.init_app(app)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(CSRFError, csrf_error)
    app.after_request(add_security_headers)
    return app


def create_app(checker: Any = None, rubrics_dir: str | Path = "rubric",
               config: dict | None = None, reload_interval: float | None = None) -> Flask:
    """The WSGI app. Pass a fitted ``Checker``, or it is built here from ``rubrics_dir``.
    With ``reload_interval`` (seconds), the app follows ``rubrics_dir``: a request looks at
    the folder at most that often and serves new, changed or deleted rubrics from then on
    (``reloading.FollowedRubrics``; a broken file leaves its last good rubric served)."""
    app = base_app(__name__, MAX_CONTENT_LENGTH, {
        "SECRET_KEY": os.environ.get("ESSAYCHECK_SECRET_KEY") or secrets.token_hex(32),
        "SESSION_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": 12 * 3600,  # a draft can take a long evening
        **(config or {}),
    }, csrf, [pages, api], http_error, csrf_error)
    app.add_template_filter(format_number, "num")
    if checker is None:
        from .checker import Checker

        checker = Checker.from_directory(rubrics_dir)
    app.extensions["essaycheck"] = checker
    if reload_interval is not None:
        from .reloading import FollowedRubrics

        app.extensions["essaycheck_rubrics"] = FollowedRubrics(checker, rubrics_dir,
                                                               reload_interval)
    app.after_request(add_headers)
    return app


def get_checker():
    """This request's checker: the app's, or the followed folder's current one, the same one
    for the whole request even if the rubrics are reloaded meanwhile."""
    followed = current_app.extensions.get("essaycheck_rubrics")
    if followed is None:
        return current_app.extensions["essaycheck"]
    if "essaycheck_checker" not in g:
        g.essaycheck_checker = followed.checker()
    return g.essaycheck_checker


def status_for(error: EssaycheckError) -> int:
    """The HTTP status for a core error: 404 unknown question, 413 too long, 422 an answer
    that cannot be checked (empty), 400 anything else."""
    if isinstance(error, UnknownQuestionError):
        return 404
    if isinstance(error, AnswerTooLongError):
        return 413
    if isinstance(error, AnswerError):
        return 422
    return 400


def sentence(message: str) -> str:
    """A core message as a sentence for the page: capital first letter, final full stop."""
    message = message[:1].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."


# ---------------------------------------------------------------- highlighting


def highlight_segments(answer: str, points: Sequence[PointResult]) -> list[EvidenceRun]:
    """The answer in plain and evidence runs as the page marks them: overlapping evidence is
    one run naming every point it supports."""
    return evidence_runs(answer, points, join_overlaps=True)


# ---------------------------------------------------------------- the page


def render_page(question_id: str | None = None, answer: str = "",
                result: CheckResult | None = None, error: str | None = None,
                status: int = 200, answer_invalid: bool = False):
    """The whole student page: picker, form, and the result or an error (``answer_invalid``
    when the error is about the answer itself)."""
    rubrics = get_checker().rubrics_by_id
    if question_id not in rubrics:
        question_id = next(iter(rubrics), None)
    html = render_template(
        "index.html", rubrics=list(rubrics.values()), question_id=question_id, answer=answer,
        result=result, rubric=rubrics.get(question_id), error=error,
        answer_invalid=answer_invalid,
        segments=highlight_segments(answer, result.points) if result else [],
        max_chars=MAX_ANSWER_CHARS, max_words=MAX_ANSWER_WORDS, limit_message=LIMIT_MESSAGE)
    return html, status


@pages.get("/")
def index():
    return render_page(request.args.get("question"))


@pages.get("/check")
def check_get():
    return redirect(url_for("pages.index"))


@pages.post("/check")
def check():
    question_id = request.form.get("question_id", "")
    answer = request.form.get("answer", "").replace("\r\n", "\n")  # browsers send CRLF
    if not question_id:
        return render_page(None, answer, error="Choose a question first.", status=400)
    try:
        result = get_checker().check(question_id, answer)
    except EssaycheckError as exc:
        return render_page(question_id, answer, error=sentence(exc.message),
                           status=status_for(exc), answer_invalid=isinstance(exc, AnswerError))
    return render_page(question_id, answer, result=result)


# ---------------------------------------------------------------- the JSON API


class BadBody(Exception):
    """A request body the API cannot use: bad JSON, wrong type, missing field."""

    def __init__(self, message: str, status: int = 400, code: str = "bad_request") -> None:
        super().__init__(message)
        self.message, self.status, self.code = message, status, code


def api_error(status: int, code: str, message: str):
    return jsonify(error=code, message=message, status=status), status


@api.errorhandler(BadBody)
def bad_body(exc: BadBody):
    return api_error(exc.status, exc.code, exc.message)


def check_request() -> tuple[str, str]:
    """``(question_id, answer)`` from a JSON body, or ``BadBody``."""
    if not request.is_json:
        raise BadBody("send the body as JSON with 'Content-Type: application/json'", 415,
                      "unsupported_media_type")
    try:
        body = json.loads(request.get_data(cache=False))
    except (ValueError, RecursionError):  # includes bad UTF-8 and JSONDecodeError
        raise BadBody("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise BadBody('the body must be a JSON object: {"question_id": ..., "answer": ...}')
    for field in ("question_id", "answer"):
        if field not in body:
            raise BadBody(f"missing field: {field!r}")
        if not isinstance(body[field], str):
            raise BadBody(f"{field!r} must be a string, not {json_type(body[field])}")
    return body["question_id"], body["answer"]


def json_type(value: object) -> str:
    names = {dict: "an object", list: "an array", bool: "a boolean", int: "a number",
             float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


@api.get("/questions")
def api_questions():
    questions = [{"id": r.id, "question": r.question, "subject": r.subject,
                  "max_score": float(r.max_score), "point_count": len(r.points)}
                 for r in get_checker().rubrics_by_id.values()]
    return jsonify(questions=questions)


@api.post("/check")
def api_check():
    question_id, answer = check_request()
    try:
        result = get_checker().check(question_id, answer)
    except EssaycheckError as exc:
        return api_error(status_for(exc), exc.code, exc.message)
    return jsonify(result.to_dict())


@api.get("/openapi.json")
def api_openapi():
    return jsonify(openapi_document())


# ---------------------------------------------------------------- errors and headers


def wants_json() -> bool:
    """True for a request to the JSON API (``API_PREFIX`` and below), whose errors are JSON."""
    return request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/")


def http_error(exc: HTTPException):
    """HTTP errors as JSON on the API and as a page elsewhere; a too-large form gets the
    student page back with the limit explained."""
    status = exc.code or 500
    if isinstance(exc, RequestEntityTooLarge):
        message = (f"Your answer is too long to check. {LIMIT_MESSAGE} Shorten it and try "
                   "again; your browser's Back button brings your draft back.")
        if wants_json():
            return api_error(413, "request_too_large",
                             f"request body over {MAX_CONTENT_LENGTH:,} bytes. {LIMIT_MESSAGE}")
        return render_page(error=message, status=413, answer_invalid=True)
    if wants_json():
        return api_error(status, exc.name.lower().replace(" ", "_"), exc.description or exc.name)
    return render_template("error.html", status=status, title=exc.name,
                           description=exc.description), status


def csrf_error(exc: CSRFError):
    """A stale or missing form token: show the page again with the draft kept."""
    message = ("Your page had expired, so your answer was not checked. It is still below: "
               "press “Check my answer” again.")
    return render_page(request.form.get("question_id"),
                       request.form.get("answer", "").replace("\r\n", "\n"),
                       error=message, status=400)


def add_security_headers(response):
    """``SECURITY_HEADERS`` on a response of either app."""
    response.headers.update(SECURITY_HEADERS)
    return response


def add_headers(response):
    """No caching of a POST's response: it holds a student's answer."""
    if request.method == "POST":
        response.headers["Cache-Control"] = "no-store"  # pages holding a student's answer
    return response


# ---------------------------------------------------------------- OpenAPI


#: The OpenAPI document's data file, beside the page's templates.
OPENAPI_FILE = "openapi.json"


@lru_cache(maxsize=4)
def _openapi_source(templates: Path) -> str:
    """The text of the OpenAPI data file, read once per process (per templates folder)."""
    return (templates / OPENAPI_FILE).read_text(encoding="utf-8")


def _fill_limits(value: Any, limits: dict[str, Any]) -> Any:
    """``value`` with the limits put into its strings: ``"{NAME:,}"`` style fields are
    formatted, and a string that is one bare field, such as ``"{MAX_ANSWER_CHARS}"``, becomes
    the value itself (a number in the document)."""
    if isinstance(value, dict):
        return {key: _fill_limits(item, limits) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill_limits(item, limits) for item in value]
    if isinstance(value, str) and "{" in value:
        bare = value[1:-1]
        if value.startswith("{") and value.endswith("}") and bare in limits:
            return limits[bare]
        return value.format_map(limits)
    return value


def openapi_document() -> dict:
    """The OpenAPI 3.1 description of the JSON API, from ``openapi.json`` beside the templates
    with the answer and request limits filled in (so the document cannot drift from them)."""
    limits = {"MAX_ANSWER_CHARS": MAX_ANSWER_CHARS, "MAX_ANSWER_WORDS": MAX_ANSWER_WORDS,
              "MAX_CONTENT_LENGTH": MAX_CONTENT_LENGTH, "LIMIT_MESSAGE": LIMIT_MESSAGE}
    return _fill_limits(json.loads(_openapi_source(templates_dir())), limits)
