"""The teacher's rubric workshop: a local page and JSON API to draft a rubric, try it on marked
answers as it is edited, and save it into the rubric folder.

A separate app from the student page, so students can never change a rubric. Every route but
the static files needs the workshop's token: the page gets it once from the link that
``essaycheck workshop`` prints (``/?token=...``) and keeps it in a session cookie of its own,
with CSRF protection on every request that changes something; scripts send
``Authorization: Bearer <token>`` instead (no cookie, so nothing to forge). Nothing here
stores or logs an answer: sample answers live only in the request and the response.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from .analysis import CachingAnalyzer
from .errors import RubricError
from .rubric import ID_PATTERN, dump_rubric
from .web import API_PREFIX, base_app, highlight_segments, json_type, wants_json
from .workshop import (
    MAX_POINTS,
    MAX_SAMPLES,
    MAX_TEXT_CHARS,
    SampleError,
    draft_report,
    read_sample_csv,
    rubric_from_json,
    rubric_to_json,
    samples_from_json,
    suggestion_from_json,
    try_rubric,
)

#: Largest request body, in bytes: a rubric and a class set of sample answers fit many times
#: over; anything larger is refused with 413 before it is read.
MAX_CONTENT_LENGTH = 2 * 1024 * 1024
SESSION_COOKIE = "essaycheck_workshop"  # not "session": the student page on another port
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
SUGGESTIONS_PER_POINT = 3  # beside each point card: a few, best first
#: Seconds a suggest may work (app.config["WORKSHOP_SUGGEST_SECONDS"] to change): each
#: candidate is a refit and a re-score, and 200 long marked answers gave thousands of them
#: (over 10 minutes of CPU, holding a worker thread)
SUGGEST_SECONDS = 15.0

csrf = CSRFProtect()
pages = Blueprint("workshop_pages", __name__)
api = Blueprint("workshop_api", __name__, url_prefix=API_PREFIX)


@dataclass
class Workshop:
    """What the app serves: a fitted checker (for its pipeline, with a ``CachingAnalyzer``
    that keeps the sample answers' analyses between edits), the rubric folder, the token."""

    checker: Any
    rubrics_dir: Path
    token: str
    #: a number for the latest trial asked for, so that suggestions computed for the rubric
    #: before it can stop (``until_next_try``)
    latest_try: int = 0

    def __post_init__(self) -> None:
        self._tries = itertools.count(1)

    def new_try(self) -> int:
        """Count a trial in (``latest_try``) and return its number."""
        self.latest_try = number = next(self._tries)  # next() on a count is atomic
        return number

    @property
    def fingerprint(self) -> str:
        """What the session cookie holds for a signed-in page: never the token itself."""
        return hashlib.sha256(self.token.encode()).hexdigest()[:32]


def create_workshop_app(rubrics_dir: str | Path = "rubric", checker: Any = None,
                        token: str | None = None, config: dict | None = None) -> Flask:
    """The workshop's WSGI app for the rubric folder ``rubrics_dir``. Pass a fitted
    ``Checker`` to reuse its spaCy pipeline, and ``token`` to fix the access token (default:
    a random one, in ``app.extensions["workshop"].token``)."""
    app = base_app(__name__, MAX_CONTENT_LENGTH, {
        "SECRET_KEY": secrets.token_hex(32),
        "SESSION_COOKIE_NAME": SESSION_COOKIE,
        "SESSION_COOKIE_SAMESITE": "Strict",
        "WTF_CSRF_CHECK_DEFAULT": False,  # checked in ``authenticate``: bearer calls need none
        "WTF_CSRF_TIME_LIMIT": 12 * 3600,
        **(config or {}),
    }, csrf, [pages, api], http_error, csrf_error)
    if checker is None:
        from .checker import Checker

        checker = Checker([]).fit()
    # The sample answers' analyses (and the rubric's own texts') do not depend on the edit, so
    # each re-score after an edit reuses them: kept in this process's memory only.
    checker = checker.with_rubrics([], analyzer=CachingAnalyzer(checker.analyzer))
    app.extensions["workshop"] = Workshop(checker, Path(rubrics_dir),
                                          token or secrets.token_urlsafe(24))
    app.before_request(authenticate)
    app.after_request(add_headers)
    return app


def get_workshop() -> Workshop:
    return current_app.extensions["workshop"]


# ---------------------------------------------------------------- access


class Refused(Exception):
    """A request without the token (401) or with a wrong one (403)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def same_secret(given: str, expected: str) -> bool:
    """Compare in constant time, so the token cannot be guessed from response times."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode())


def authenticate():
    """Let a request through with the token (bearer header, or the page's session cookie
    plus its CSRF token on changes), sign the page in from the printed link, or refuse."""
    if request.endpoint == "static":
        return None
    try:
        return _authenticate(get_workshop())
    except Refused as exc:
        if wants_json():
            return api_error(exc.status, "unauthorized" if exc.status == 401 else "forbidden",
                             exc.message)
        return render_template("workshop_error.html", status=exc.status,
                               title="Open the workshop link",
                               description=exc.message), exc.status


def _authenticate(workshop: Workshop):
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Refused(401, "send the token as 'Authorization: Bearer <token>'")
        if not same_secret(value.strip(), workshop.token):
            raise Refused(403, "wrong token: use the one 'essaycheck workshop' printed")
        g.bearer = True
        return None
    if session.get("workshop") == workshop.fingerprint:
        if request.method not in SAFE_METHODS:
            csrf.protect()
        return None
    given = request.args.get("token")
    if given is not None and request.endpoint == "workshop_pages.index":
        if not same_secret(given, workshop.token):
            raise Refused(403, "This link's token is wrong. Open the link that "
                               "'essaycheck workshop' printed when it started.")
        session.clear()
        session["workshop"] = workshop.fingerprint
        return redirect(url_for("workshop_pages.index"), 303)  # the token leaves the URL
    raise Refused(401, "The workshop needs its token. Open the link that 'essaycheck "
                       "workshop' printed when it started (http://127.0.0.1:5001/?token=...).")


# ---------------------------------------------------------------- the page


@pages.get("/")
def index():
    workshop = get_workshop()
    return render_template(
        "workshop.html", rubrics_dir=workshop.rubrics_dir, max_points=MAX_POINTS,
        max_samples=MAX_SAMPLES, max_text_chars=MAX_TEXT_CHARS)


@pages.post("/download")
def download():
    """The rubric sent in the form (as JSON) back as a YAML file to save."""
    try:
        data = json.loads(request.form.get("rubric", ""))
        rubric = rubric_from_json(data, "rubric")
    except ValueError:
        return render_template("workshop_error.html", status=400, title="Nothing to download",
                               description="The form held no rubric."), 400
    except RubricError as exc:
        return render_template("workshop_error.html", status=422,
                               title="The rubric is not valid yet",
                               description=f"Fix it in the workshop first: {exc}"), 422
    return Response(dump_rubric(rubric), mimetype="application/yaml", headers={
        "Content-Disposition": f'attachment; filename="{rubric.id}.yaml"'})


# ---------------------------------------------------------------- the JSON API


class BadBody(Exception):
    """A request body the API cannot use: bad JSON, wrong type, missing field."""

    def __init__(self, message: str, status: int = 400, code: str = "bad_request") -> None:
        super().__init__(message)
        self.message, self.status, self.code = message, status, code


def api_error(status: int, code: str, message: str, **extra: Any):
    return jsonify(error=code, message=message, status=status, **extra), status


def rubric_error(exc: RubricError):
    """422 with each problem's field, message and fix, for the page to show at the field."""
    problems = [{"field": p.field, "message": p.message, "fix": p.fix} for p in exc.problems]
    return api_error(422, exc.code, f"the rubric is not valid: {len(problems)} problem(s)",
                     problems=problems)


@api.errorhandler(BadBody)
def bad_body(exc: BadBody):
    return api_error(exc.status, exc.code, exc.message)


@api.errorhandler(RubricError)
def invalid_rubric(exc: RubricError):
    return rubric_error(exc)


@api.errorhandler(SampleError)
def invalid_samples(exc: SampleError):
    return api_error(400, exc.code, exc.message)


def json_body(*required: str) -> dict[str, Any]:
    """The JSON object body, with the ``required`` fields present, or ``BadBody``."""
    if not request.is_json:
        raise BadBody("send the body as JSON with 'Content-Type: application/json'", 415,
                      "unsupported_media_type")
    try:
        body = json.loads(request.get_data(cache=False))
    except (ValueError, RecursionError):
        raise BadBody("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise BadBody(f"the body must be a JSON object, not {json_type(body)}")
    for field in required:
        if field not in body:
            raise BadBody(f"missing field: {field!r}")
    return body


def text_field(body: dict, field: str, required: bool = True) -> str:
    value = body.get(field, None if required else "")
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise BadBody(f"{field!r} must be a string, not {json_type(value)}")
    return value


@api.post("/rubrics/draft")
def api_draft():
    body = json_body("id", "question", "model_answer")
    max_score = body.get("max_score")
    if max_score is not None and (isinstance(max_score, bool)
                                  or not isinstance(max_score, (int, float))
                                  or not 0 < max_score < 1e6):
        raise BadBody(f"'max_score' must be a positive number or null, not {max_score!r}")
    drafted = draft_report(get_workshop().checker, text_field(body, "id"),
                           text_field(body, "question"), text_field(body, "model_answer"),
                           text_field(body, "context", False), max_score)
    return jsonify(rubric=rubric_to_json(drafted.rubric), claims=drafted.claims,
                   merged=[{"point_id": point_id, "claim": claim}
                           for point_id, claim in drafted.merged],
                   left_out=list(drafted.dropped))


@api.post("/rubrics/try")
def api_try():
    """Score the sample answers with the rubric as it stands (``workshop.try_rubric``): each
    answer's result and disagreements, and the agreement figures."""
    body = json_body("rubric", "answers")
    workshop = get_workshop()
    workshop.new_try()  # before any work: suggestions for an older rubric may stop now
    rubric = rubric_from_json(body["rubric"])
    samples = samples_from_json(body["answers"], rubric.id)
    trial = try_rubric(workshop.checker, rubric, samples)
    data = trial.to_dict()
    for entry, sample, outcome in zip(data["answers"], trial.samples, trial.results,
                                      strict=True):
        # the answer cut into plain and evidence runs, as the student page highlights it
        entry["segments"] = [
            {"text": s.text, "points": list(s.points)}
            for s in highlight_segments(sample.answer, getattr(outcome, "points", ()))]
    return jsonify(data)


@api.post("/rubrics/suggest")
def api_suggest():
    """Keyword changes the teacher's marks point to, per point, each with what it would fix
    and break (``suggestions.suggest``). With ``"until_next_try": true`` (what the page
    sends), a trial asked for meanwhile stops the work and the answer is ``{"suggestions": [],
    "superseded": true}``: the page asks again after that trial, and a re-score is never slowed
    by suggestions for a rubric already edited. Work past ``SUGGEST_SECONDS`` is stopped
    with 503 ``suggest_too_long``, which says what to send less of."""
    from .suggestions import Superseded, suggest

    body = json_body("rubric", "answers")
    workshop = get_workshop()
    until_next_try = body.get("until_next_try", False)
    if not isinstance(until_next_try, bool):
        raise BadBody(f"'until_next_try' must be true or false, not {json_type(until_next_try)}")
    started = workshop.latest_try
    rubric = rubric_from_json(body["rubric"])
    samples = samples_from_json(body["answers"], rubric.id)
    seconds = float(current_app.config.get("WORKSHOP_SUGGEST_SECONDS", SUGGEST_SECONDS))
    deadline = time.monotonic() + seconds
    timed_out = False

    def stop() -> bool:
        nonlocal timed_out
        if until_next_try and workshop.latest_try != started:
            return True
        timed_out = time.monotonic() > deadline
        return timed_out

    try:
        found = suggest(workshop.checker, rubric, samples, limit=SUGGESTIONS_PER_POINT,
                        stop=stop)
    except Superseded:
        if timed_out:
            return api_error(503, "suggest_too_long", (
                f"the suggestions for {len(samples)} answers took over {seconds:g} s and were "
                "stopped: send fewer or shorter answers (those the rubric disagrees with "
                "teach the most), or fewer keyword alternatives"))
        return jsonify(suggestions=[], superseded=True)
    return jsonify(suggestions=[suggestion.to_dict() for suggestion in found], superseded=False)


@api.post("/rubrics/apply")
def api_apply():
    """The rubric with one suggestion accepted, validated again."""
    from .suggestions import SuggestionError, apply_suggestion

    body = json_body("rubric", "suggestion")
    rubric = rubric_from_json(body["rubric"])
    try:
        changed = apply_suggestion(rubric, suggestion_from_json(body["suggestion"]))
    except SuggestionError as exc:
        return api_error(422, exc.code, exc.message)
    return jsonify(rubric=rubric_to_json(changed))


@api.post("/answers/csv")
def api_answers_csv():
    """Sample answers from an uploaded CSV (``file``) for the question ``question_id``."""
    upload = request.files.get("file")
    question_id = request.form.get("question_id", "")
    if upload is None:
        raise BadBody("send the CSV as the multipart form field 'file'")
    try:
        rows = read_sample_csv(upload.read(), upload.filename or "answers.csv", question_id)
    except SampleError as exc:
        return api_error(400, exc.code, exc.message)
    return jsonify(answers=rows)


@api.get("/rubrics")
def api_rubrics():
    from .loader import check_directory

    folder = get_workshop().rubrics_dir
    rubrics, problems = check_directory(folder)
    listed = [{"id": r.id, "question": r.question, "subject": r.subject,
               "max_score": r.max_score, "point_count": len(r.points)} for r in rubrics]
    empty = not rubrics and problems and problems[0].message.startswith("holds no rubric")
    return jsonify(rubrics=listed, problems=[] if empty else [
        {"file": Path(p.source).name, "field": p.field, "message": p.message, "fix": p.fix}
        for p in problems])


def _rubric_id(rubric_id: str) -> str:
    if not ID_PATTERN.match(rubric_id):
        raise BadBody(f"{rubric_id!r} is not a valid rubric id: use lower-case letters, "
                      "digits, '-', '_' or '.', e.g. cell-respiration", 422, "invalid_id")
    return rubric_id


@api.get("/rubrics/<path:rubric_id>")
def api_rubric(rubric_id: str):
    from .loader import check_directory

    rubric_id = _rubric_id(rubric_id)
    rubrics, _ = check_directory(get_workshop().rubrics_dir)
    for rubric in rubrics:
        if rubric.id == rubric_id:
            return jsonify(rubric=rubric_to_json(rubric))
    return api_error(404, "unknown_rubric", f"no valid rubric {rubric_id!r} in "
                     f"{get_workshop().rubrics_dir}")


@api.put("/rubrics/<path:rubric_id>")
def api_save(rubric_id: str):
    from .loader import RubricWriteError, save_rubric

    rubric_id = _rubric_id(rubric_id)
    body = json_body("rubric")
    rubric = rubric_from_json(body["rubric"])
    if rubric.id != rubric_id:
        raise BadBody(f"the rubric's id {rubric.id!r} is not the id in the URL "
                      f"{rubric_id!r}: PUT it to /api/v1/rubrics/{rubric.id}", 422, "id_mismatch")
    folder = get_workshop().rubrics_dir
    try:
        path = save_rubric(folder, rubric)
    except RubricWriteError as exc:
        return api_error(409, exc.code, exc.message)
    except OSError as exc:
        return api_error(500, "rubric_write", f"cannot write into {folder}: "
                         f"{exc.strerror or exc}")
    backup = path.with_name(path.name + ".bak")
    return jsonify(rubric=rubric_to_json(rubric), file=path.name,
                   backup=backup.name if backup.exists() else None)


@api.get("/openapi.json")
def api_openapi():
    from .workshop_openapi import openapi_document

    return jsonify(openapi_document())


# ---------------------------------------------------------------- errors and headers


def http_error(exc: HTTPException):
    """HTTP errors as JSON on the API, as a page elsewhere."""
    status = exc.code or 500
    if isinstance(exc, RequestEntityTooLarge):
        message = (f"request body over {MAX_CONTENT_LENGTH:,} bytes: try fewer or shorter "
                   f"sample answers (at most {MAX_SAMPLES} per trial)")
        if wants_json():
            return api_error(413, "request_too_large", message)
        return render_template("workshop_error.html", status=413, title="Too large",
                               description=message[0].upper() + message[1:] + "."), 413
    if wants_json():
        return api_error(status, exc.name.lower().replace(" ", "_"), exc.description or exc.name)
    return render_template("workshop_error.html", status=status, title=exc.name,
                           description=exc.description), status


def csrf_error(exc: CSRFError):
    """A stale or missing CSRF token: the page reloads to get a fresh one."""
    message = f"{exc.description} Reload the page to continue."
    if wants_json():
        return api_error(400, "csrf", message)
    return render_template("workshop_error.html", status=400, title="The page had expired",
                           description=message), 400


def add_headers(response):
    """No caching of any response (the security headers are ``base_app``'s)."""
    response.headers["Cache-Control"] = "no-store"  # rubrics in progress, sample answers
    return response
