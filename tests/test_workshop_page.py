"""The workshop page: signing in from the printed link, its own session cookie, CSRF on
every change, the YAML download, loading sample answers from a CSV, and the page's markup."""

from __future__ import annotations

import json
import re

import pytest

from essaycheck.rubric import parse_rubric
from essaycheck.workshop import MAX_SAMPLES, rubric_to_json
from essaycheck.workshop_web import SESSION_COOKIE, create_workshop_app

# base_checker and drafted are the API tests' fixtures, shared here
from .test_workshop import (  # noqa: F401
    ANSWERS,
    AUTH,
    TOKEN,
    base_checker,
    drafted,
    post,
)


@pytest.fixture
def client(base_checker, tmp_path):  # noqa: F811 - the fixture, not the import
    return create_workshop_app(tmp_path, checker=base_checker, token=TOKEN).test_client()


def signed_in(client) -> str:
    """Sign the test client in from the printed link; return the page's CSRF token."""
    response = client.get(f"/?token={TOKEN}")
    assert response.status_code == 303 and response.headers["Location"] == "/"
    html = client.get("/").get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def test_the_page_needs_the_token(client):
    response = client.get("/")
    assert response.status_code == 401
    assert "printed" in response.get_data(as_text=True)
    assert client.get("/?token=wrong").status_code == 403
    assert client.get("/static/workshop.js").status_code == 200  # no secret in static files
    assert client.get("/static/workshop.css").status_code == 200


def test_the_link_signs_the_page_in_with_its_own_cookie(client):
    signed_in(client)
    cookie = client.get_cookie(SESSION_COOKIE)
    assert cookie is not None and cookie.http_only and cookie.same_site == "Strict"
    assert TOKEN not in cookie.value
    assert client.get_cookie("session") is None  # the student page's cookie is left alone
    assert client.get("/api/v1/rubrics").status_code == 200


def test_the_page_has_every_part_and_no_token_in_it(client):
    signed_in(client)
    html = client.get("/").get_data(as_text=True)
    assert TOKEN not in html
    for part in ('id="draft-form"', 'id="open-form"', 'id="sample-form"', 'id="sample-csv"',
                 'id="save-button"', 'id="download-form"', 'name="csrf_token"',
                 "workshop.js", "<noscript>"):
        assert part in html, part
    for label in ("Question", "Model answer", "Rubric id", "Marks available",
                  "Notes on the topic (optional)", "A student’s answer", "Your mark (optional)"):
        assert f">{label}</label>" in html, label


def test_the_page_api_calls_need_the_csrf_token(client, drafted):  # noqa: F811
    token = signed_in(client)
    body = {"rubric": rubric_to_json(drafted), "answers": ANSWERS}
    refused = post(client, "/api/v1/rubrics/try", body, headers={})
    assert refused.status_code == 400 and refused.get_json()["error"] == "csrf"
    allowed = post(client, "/api/v1/rubrics/try", body, headers={"X-CSRFToken": token})
    assert allowed.status_code == 200
    saved = client.put("/api/v1/rubrics/photosynthesis", json={"rubric": body["rubric"]},
                       headers={"X-CSRFToken": token})
    assert saved.status_code == 200
    assert client.get("/api/v1/rubrics").get_json()["rubrics"][0]["id"] == "photosynthesis"


def test_download_gives_the_yaml(client, drafted):  # noqa: F811
    token = signed_in(client)
    response = client.post("/download", data={"csrf_token": token,
                                              "rubric": json.dumps(rubric_to_json(drafted))})
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="photosynthesis.yaml"'
    assert parse_rubric(response.get_data(as_text=True)) == drafted
    assert client.post("/download", data={"rubric": "{}"}).status_code == 400  # no CSRF token
    invalid = client.post("/download", data={"csrf_token": token, "rubric": '{"id": "x"}'})
    assert invalid.status_code == 422 and "question" in invalid.get_data(as_text=True)


def test_a_try_response_carries_the_highlighted_segments(client, drafted):  # noqa: F811
    data = post(client, "/api/v1/rubrics/try", {"rubric": rubric_to_json(drafted),
                                                "answers": ANSWERS}).get_json()
    for sample, entry in zip(ANSWERS, data["answers"], strict=True):
        assert "".join(s["text"] for s in entry["segments"]) == sample["answer"]
    assert any(s["points"] for s in data["answers"][0]["segments"])
    assert all(not s["points"] for s in data["answers"][2]["segments"])


def upload(client, text: bytes | str, question_id="photosynthesis", name="answers.csv"):
    import io

    raw = text.encode() if isinstance(text, str) else text
    return client.post("/api/v1/answers/csv", headers=AUTH, content_type="multipart/form-data",
                       data={"question_id": question_id, "file": (io.BytesIO(raw), name)})


def test_csv_upload_reads_the_score_format_with_marks_and_points(client):
    text = ("student_id;question_id;answer;mark;point:chlorophyll\r\n"
            's1;photosynthesis;"Chlorophyll absorbs light.\nIt makes glucose.";2;yes\r\n'
            "s2;other-question;Not this one;1;\r\n"
            "s3;photosynthesis;Plants eat soil;;0\r\n")
    response = upload(client, "\ufeff" + text)
    assert response.status_code == 200
    assert response.get_json()["answers"] == [
        {"answer": "Chlorophyll absorbs light.\nIt makes glucose.", "mark": 2.0,
         "points": {"chlorophyll": 1.0}},
        {"answer": "Plants eat soil", "mark": None, "points": {"chlorophyll": 0.0}}]


def test_csv_upload_without_a_mark_column(client):
    response = upload(client, "question_id,answer\nphotosynthesis,Light is absorbed.\n")
    assert response.get_json()["answers"] == [
        {"answer": "Light is absorbed.", "mark": None, "points": {}}]


@pytest.mark.parametrize("text, message", [
    ("question_id,answer\nother,x\n", "holds no answers for 'photosynthesis'"),
    ("id,text\nphotosynthesis,x\n", "question"),
    ("question_id,answer,mark\nphotosynthesis,x,lots\n", "line 2"),
    (b"question_id,answer\nphotosynthesis,caf\xe9\n", "not UTF-8"),
    ("question_id,answer\n" + "photosynthesis,x\n" * (MAX_SAMPLES + 1), "the limit is"),
])
def test_csv_upload_errors_name_what_to_fix(client, text, message):
    response = upload(client, text)
    assert response.status_code == 400
    assert message in response.get_json()["message"]


def test_csv_upload_needs_a_file(client):
    response = client.post("/api/v1/answers/csv", headers=AUTH, data={"question_id": "x"})
    assert response.status_code == 400 and "'file'" in response.get_json()["message"]
