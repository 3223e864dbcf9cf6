"""The rubric workshop: its core (draft, try, agreement), saving rubric files, and the JSON
API with its token, CSRF, limits and OpenAPI document."""

from __future__ import annotations

import json
import math
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from essaycheck.errors import RubricError
from essaycheck.loader import RubricWriteError, load_directory, load_rubric_file, save_rubric
from essaycheck.rubric import MAX_WORDING_CHARS, parse_rubric
from essaycheck.workshop import (
    MAX_POINTS,
    MAX_SAMPLES,
    SampleError,
    draft,
    rubric_from_json,
    rubric_to_json,
    samples_from_json,
    size_problems,
    try_rubric,
)
from essaycheck.workshop_web import MAX_CONTENT_LENGTH, create_workshop_app

from .conftest import RUBRIC_DIR

TOKEN = "test-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
QUESTION = "Explain how a plant makes glucose by photosynthesis."
MODEL = ("Chlorophyll in the chloroplasts absorbs light energy. Carbon dioxide and water react "
         "to make glucose and oxygen. The glucose is used in respiration or stored as starch.")
ANSWERS = [
    {"answer": "Chlorophyll absorbs light energy. Carbon dioxide and water react to make "
               "glucose and oxygen. Glucose is stored as starch.", "mark": 3},
    {"answer": "Chlorophyll soaks up light. Carbon dioxide and water react to make glucose.",
     "mark": 2},
    {"answer": "Plants get their food from the soil.", "mark": 0},
]


@pytest.fixture(scope="module")
def base_checker(nlp):
    from essaycheck import Checker

    return Checker([], nlp=nlp).fit()


@pytest.fixture
def folder(tmp_path):
    return tmp_path


@pytest.fixture
def app(base_checker, folder):
    return create_workshop_app(folder, checker=base_checker, token=TOKEN)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def drafted(base_checker):
    return draft(base_checker, "photosynthesis", QUESTION, MODEL, max_score=3)


def post(client, path, body, headers=AUTH):
    return client.post(path, data=json.dumps(body), content_type="application/json",
                       headers=headers)


# ------------------------------------------------------------------ core


def test_draft_uses_rubric_extract_code(base_checker, drafted):
    from essaycheck.extract import draft_rubric

    same = draft_rubric("photosynthesis", QUESTION, MODEL, base_checker.analyzer, max_score=3)
    assert drafted == same
    assert len(drafted.points) == 3 and drafted.max_score == 3


def test_rubric_json_round_trip_with_bands(drafted):
    data = rubric_to_json(drafted)
    data["bands"] = {"1": 1, "2": 2, "3": 3}
    rubric = rubric_from_json(json.loads(json.dumps(data)))
    assert rubric.bands == ((1.0, 1.0), (2.0, 2.0), (3.0, 3.0))
    assert rubric_to_json(rubric)["bands"] == {"1": 1, "2": 2, "3": 3}
    assert rubric_from_json(rubric_to_json(rubric)) == rubric


def test_invalid_rubric_problems_name_field_and_fix(drafted):
    data = rubric_to_json(drafted)
    group = data["points"][1]["keywords"][0]
    group.append("")
    data["max_score"] = -1
    with pytest.raises(RubricError) as caught:
        rubric_from_json(data)
    fields = {p.field: p for p in caught.value.problems}
    assert set(fields) == {f"points[1].keywords[0][{len(group) - 1}]", "max_score"}
    assert all(p.fix for p in fields.values())


def test_sizes_over_the_limits_are_problems(drafted):
    data = rubric_to_json(drafted)
    data["points"] = data["points"] * (MAX_POINTS // 3 + 1)
    data["question"] = "why? " * 5000
    with pytest.raises(RubricError) as caught:
        rubric_from_json(data)
    assert {p.field for p in caught.value.problems} == {"points", "question"}
    assert "too long" in str(caught.value)


def test_a_rubric_within_each_field_limit_but_too_large_in_all_is_refused(client, drafted):
    """Each field's limit alone let 40 points hold 10 accepted wordings of 2,000 characters:
    its fit asked for a 542 GiB matrix (MemoryError, a 500). Refused before the fit, naming
    the field and the limit."""
    import random

    words = random.Random(0)

    def text(chars):  # distinct words, as the matrices' worst case
        return " ".join("".join(words.choices("abcdefghij", k=7)) for _ in range(chars // 8))

    data = rubric_to_json(drafted)
    data["points"] = [{"id": f"p{i}", "text": text(2000), "accept": [text(2000)] * 10}
                      for i in range(MAX_POINTS)]
    data["max_score"] = MAX_POINTS
    assert not [p for p in size_problems(data) if p.field != "points"]
    response = post(client, "/api/v1/rubrics/try", {"rubric": data, "answers": []})
    assert response.status_code == 422
    (problem,) = response.get_json()["problems"]
    assert problem["field"] == "points" and f"{MAX_WORDING_CHARS:,}" in problem["message"]
    assert problem["fix"]
    # at the limit, a fit takes about a second (1.05 s CPU on the dev machine)
    per_point = MAX_WORDING_CHARS // MAX_POINTS // 2 - 10
    data["points"] = [{"id": f"p{i}", "text": text(per_point), "accept": [text(per_point)]}
                      for i in range(MAX_POINTS)]
    assert size_problems(data) == []
    assert len(rubric_from_json(data).points) == MAX_POINTS


def test_try_without_marks_gives_results_and_no_agreement(base_checker, drafted):
    samples = samples_from_json([{"answer": a["answer"]} for a in ANSWERS], drafted.id)
    trial = try_rubric(base_checker, drafted, samples)
    checker = base_checker.with_rubrics([drafted])
    assert [r.to_dict() for r in trial.results] == [
        checker.check(drafted.id, a["answer"]).to_dict() for a in ANSWERS]
    assert trial.agreement is None and "agreement" not in trial.to_dict()
    assert trial.order == (0, 1, 2)


def test_try_with_marks_reports_agreement_and_lists_disagreements_first(base_checker, drafted):
    from essaycheck.evaluation import evaluate

    marked = [dict(a) for a in ANSWERS]
    marked[2]["mark"] = 3  # the teacher is generous to the weakest answer
    marked[0]["points"] = {drafted.points[2].id: 0}
    trial = try_rubric(base_checker, drafted, samples_from_json(marked, drafted.id))
    report = evaluate(base_checker.with_rubrics([drafted]), trial.samples)
    assert trial.agreement["pearson"] == pytest.approx(report["overall"]["pearson"])
    assert trial.agreement["exact"] == report["overall"]["exact"]
    assert trial.agreement["points"] == [{k: p[k] for k in (
        "point_id", "n", "precision", "recall", "human_made", "predicted_made")}
        for p in report["points"]]
    assert trial.disagrees(2) and trial.order[0] == 2  # the largest disagreement first
    assert trial.point_disagreements[0] == (drafted.points[2].id,)
    assert trial.order == (2, 0, 1)
    answers = trial.to_dict()["answers"]
    assert answers[2]["disagrees"] and answers[2]["mark_difference"] < 0


def test_try_keeps_a_bad_answer_as_an_error_and_scores_the_rest(base_checker, drafted):
    trial = try_rubric(base_checker, drafted, samples_from_json(
        [{"answer": "   "}, ANSWERS[0]], drafted.id))
    data = trial.to_dict()
    assert data["results"][0]["error"] == "empty_answer"
    assert data["results"][1]["score"] > 0


@pytest.mark.parametrize("items, message", [
    ("x", "must be a list"),
    ([1], "answers[0] must be an object"),
    ([{"mark": 1}], "answers[0].answer must be a string"),
    ([{"answer": "a", "mark": "two"}], "answers[0].mark must be a number"),
    ([{"answer": "a", "mark": -1}], "answers[0].mark must be a number"),
    ([{"answer": "a", "points": {"p": 2}}], "answers[0].points.p must be 1"),
    ([{"answer": "a"}] * (MAX_SAMPLES + 1), "too many answers"),
])
def test_bad_samples_name_the_field(items, message):
    with pytest.raises(SampleError, match=re.escape(message)):
        samples_from_json(items, "q")


# ------------------------------------------------------------------ saving


def test_save_rubric_writes_atomically_and_keeps_a_backup(folder, drafted):
    path = save_rubric(folder, drafted)
    assert path == folder / "photosynthesis.yaml"
    assert load_rubric_file(path) == drafted
    assert not (folder / "photosynthesis.yaml.bak").exists()
    changed = rubric_from_json({**rubric_to_json(drafted), "max_score": 4})
    save_rubric(folder, changed)
    assert load_rubric_file(path).max_score == 4
    assert load_rubric_file(folder / "photosynthesis.yaml.bak") == drafted
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []  # no temp file
    assert load_directory(folder) == [changed]  # the .bak is not read as a rubric


def test_save_rubric_writes_the_file_that_holds_the_id(folder, drafted):
    (folder / "biology.yml").write_text("# mine\n" + json.dumps(rubric_to_json(drafted)))
    assert save_rubric(folder, drafted) == folder / "biology.yml"
    assert (folder / "biology.yml.bak").read_text().startswith("# mine")
    assert [r.id for r in load_directory(folder)] == ["photosynthesis"]


def test_save_rubric_refuses_a_file_holding_another_rubric(folder, drafted):
    other = rubric_from_json({**rubric_to_json(drafted), "id": "other"})
    save_rubric(folder, other)
    (folder / "other.yaml").rename(folder / "photosynthesis.yaml")
    with pytest.raises(RubricWriteError, match="holds the rubric 'other'"):
        save_rubric(folder, drafted)


@pytest.mark.parametrize("bad_id", ["../evil", "/tmp/evil", "a/b", ".hidden", "", "UPPER"])
def test_save_rubric_refuses_an_id_that_is_not_a_file_name(folder, drafted, bad_id):
    from dataclasses import replace

    with pytest.raises(RubricWriteError, match="not a valid rubric id"):
        save_rubric(folder, replace(drafted, id=bad_id))
    assert list(folder.iterdir()) == []


def test_save_rubric_needs_a_folder(tmp_path, drafted):
    with pytest.raises(RubricWriteError, match="is not a folder"):
        save_rubric(tmp_path / "missing", drafted)


# ------------------------------------------------------------------ access


def test_no_token_is_refused_everywhere_but_static(client):
    for path in ("/api/v1/rubrics", "/api/v1/rubrics/x", "/api/v1/openapi.json"):
        response = client.get(path)
        assert response.status_code == 401, path
    assert client.get("/api/v1/rubrics").get_json()["error"] == "unauthorized"
    assert post(client, "/api/v1/rubrics/try", {}, headers={}).status_code == 401


def test_every_route_but_static_needs_the_token(app, folder, drafted):
    """Each route of the app, with each of its methods, refuses a call without the token
    (401) or with a wrong one (403), and writes nothing: a route added later cannot forget
    it."""
    client = app.test_client()
    body = json.dumps({"rubric": rubric_to_json(drafted), "answers": ANSWERS,
                       "id": "photosynthesis", "question": QUESTION, "model_answer": MODEL})
    routes = [(rule, method) for rule in app.url_map.iter_rules() if rule.endpoint != "static"
              for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    assert {rule.rule for rule, _ in routes} >= {
        "/", "/download", "/api/v1/rubrics", "/api/v1/rubrics/draft", "/api/v1/rubrics/try",
        "/api/v1/rubrics/suggest", "/api/v1/rubrics/apply", "/api/v1/answers/csv",
        "/api/v1/rubrics/<path:rubric_id>", "/api/v1/openapi.json"}
    for rule, method in routes:
        path = rule.rule.replace("<path:rubric_id>", "photosynthesis")
        for headers, status in (({}, 401), ({"Authorization": "Bearer wrong-token"}, 403)):
            response = client.open(path, method=method, data=body, headers=headers,
                                   content_type="application/json")
            assert response.status_code == status, (method, path, headers)
    assert list(folder.iterdir()) == []


def test_a_wrong_token_is_forbidden(client):
    assert client.get("/api/v1/rubrics",
                      headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.get("/api/v1/rubrics",
                      headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
    assert client.get(f"/api/v1/rubrics?token={TOKEN}").status_code == 401  # link: page only


def test_bearer_calls_need_no_csrf_token(base_checker, folder, drafted):
    app = create_workshop_app(folder, checker=base_checker, token=TOKEN)
    assert app.config["WTF_CSRF_ENABLED"] is not False
    client = app.test_client()
    assert post(client, "/api/v1/rubrics/try",
                {"rubric": rubric_to_json(drafted), "answers": []}).status_code == 200


def test_the_token_is_random_unless_given(base_checker, folder):
    first = create_workshop_app(folder, checker=base_checker).extensions["workshop"].token
    second = create_workshop_app(folder, checker=base_checker).extensions["workshop"].token
    assert first != second and len(first) >= 24


def test_security_headers_on_every_response(client):
    from essaycheck.web import SECURITY_HEADERS

    for response in (client.get("/api/v1/rubrics"), client.get("/api/v1/rubrics", headers=AUTH)):
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value
        assert response.headers["Cache-Control"] == "no-store"


# ------------------------------------------------------------------ the API


def test_api_draft(client, drafted):
    response = post(client, "/api/v1/rubrics/draft", {
        "id": "photosynthesis", "question": QUESTION, "model_answer": MODEL, "max_score": 3})
    assert response.status_code == 200
    assert response.get_json() == {"rubric": rubric_to_json(drafted), "claims": 3,
                                   "merged": [], "left_out": []}


def test_api_draft_with_context_and_errors(client):
    ok = post(client, "/api/v1/rubrics/draft", {
        "id": "photosynthesis", "question": QUESTION, "model_answer": MODEL,
        "context": "Photosynthesis happens in the chloroplasts of leaf cells."})
    assert ok.status_code == 200
    bad = post(client, "/api/v1/rubrics/draft", {"id": "Bad Id", "question": "",
                                                 "model_answer": MODEL})
    assert bad.status_code == 422
    assert {p["field"] for p in bad.get_json()["problems"]} == {"id", "question"}
    missing = post(client, "/api/v1/rubrics/draft", {"id": "x", "question": QUESTION})
    assert missing.status_code == 400 and "model_answer" in missing.get_json()["message"]
    assert post(client, "/api/v1/rubrics/draft", {
        "id": "x", "question": QUESTION, "model_answer": MODEL, "max_score": "3"}
    ).status_code == 400


def test_api_try_without_marks(client, base_checker, drafted):
    response = post(client, "/api/v1/rubrics/try", {
        "rubric": rubric_to_json(drafted), "answers": [{"answer": a["answer"]} for a in ANSWERS]})
    assert response.status_code == 200
    data = response.get_json()
    assert "agreement" not in data
    checker = base_checker.with_rubrics([drafted])
    assert data["results"] == [json.loads(json.dumps(checker.check(
        drafted.id, a["answer"]).to_dict())) for a in ANSWERS]


def test_api_try_with_marks(client, drafted):
    response = post(client, "/api/v1/rubrics/try", {"rubric": rubric_to_json(drafted),
                                                    "answers": ANSWERS})
    data = response.get_json()
    assert response.status_code == 200
    agreement = data["agreement"]
    assert agreement["n"] == 3
    assert -1 <= agreement["pearson"] <= 1 and 0 <= agreement["exact"] <= 1
    assert sorted(data["order"]) == [0, 1, 2]


def test_api_try_an_edit_changes_a_verdict(client, drafted):
    """Adding a keyword alternative the students use changes the verdict for them."""
    answer = {"answer": ANSWERS[1]["answer"]}
    data = rubric_to_json(drafted)
    before = post(client, "/api/v1/rubrics/try", {"rubric": data, "answers": [answer]})
    first = before.get_json()["results"][0]
    group = next(g for g in data["points"][0]["keywords"] if "absorb" in g)
    group.append("soak*")
    after = post(client, "/api/v1/rubrics/try", {"rubric": data, "answers": [answer]})
    second = after.get_json()["results"][0]
    assert first["points"][0]["status"] == "partial"
    assert second["points"][0]["status"] == "covered"
    assert "soaks" in second["points"][0]["matched_terms"]
    assert second["score"] > first["score"]


def test_api_try_invalid_rubric_is_422_with_fields(client, drafted):
    data = rubric_to_json(drafted)
    data["points"][0]["weight"] = "heavy"
    data["points"][1]["id"] = data["points"][0]["id"]
    data["bands"] = {"9": 1}
    response = post(client, "/api/v1/rubrics/try", {"rubric": data, "answers": ANSWERS})
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "invalid_rubric" and body["status"] == 422
    fields = {p["field"] for p in body["problems"]}
    assert fields == {"points[0].weight", "points[1].id", "bands.9"}
    assert all(p["fix"] for p in body["problems"])


def test_api_try_bad_answers_is_400(client, drafted):
    response = post(client, "/api/v1/rubrics/try", {"rubric": rubric_to_json(drafted),
                                                    "answers": [{"answer": 3}]})
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_answers"


def test_api_list_get_and_save(client, folder, drafted):
    for path in sorted(RUBRIC_DIR.glob("*.yaml")):
        (folder / path.name).write_bytes(path.read_bytes())
    listed = client.get("/api/v1/rubrics", headers=AUTH).get_json()
    assert [r["id"] for r in listed["rubrics"]] == ["secret-speech-1956", "thaw-significance"]
    assert listed["problems"] == []
    shipped = client.get("/api/v1/rubrics/thaw-significance", headers=AUTH).get_json()
    assert rubric_from_json(shipped["rubric"]) == load_rubric_file(
        RUBRIC_DIR / "thaw-significance.yaml")

    saved = client.put("/api/v1/rubrics/photosynthesis", json={"rubric": rubric_to_json(drafted)},
                       headers=AUTH)
    assert saved.status_code == 200
    assert saved.get_json()["file"] == "photosynthesis.yaml"
    assert saved.get_json()["backup"] is None
    assert parse_rubric((folder / "photosynthesis.yaml").read_text()) == drafted
    again = client.put("/api/v1/rubrics/photosynthesis",
                       json={"rubric": rubric_to_json(drafted)}, headers=AUTH)
    assert again.get_json()["backup"] == "photosynthesis.yaml.bak"
    assert client.get("/api/v1/rubrics/photosynthesis", headers=AUTH).status_code == 200
    assert len(client.get("/api/v1/rubrics", headers=AUTH).get_json()["rubrics"]) == 3
    assert client.get("/api/v1/rubrics/nope", headers=AUTH).status_code == 404


def test_api_lists_the_problems_of_a_broken_file(client, folder):
    (folder / "broken.yaml").write_text("id: broken\nquestion: [\n")
    listed = client.get("/api/v1/rubrics", headers=AUTH).get_json()
    assert listed["rubrics"] == []
    assert listed["problems"][0]["file"] == "broken.yaml"
    assert "not valid YAML" in listed["problems"][0]["message"]


def test_api_save_refuses_invalid_rubric_and_writes_nothing(client, folder, drafted):
    data = rubric_to_json(drafted)
    data["points"] = []
    response = client.put("/api/v1/rubrics/photosynthesis", json={"rubric": data}, headers=AUTH)
    assert response.status_code == 422
    assert response.get_json()["problems"][0]["field"] == "points"
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("path", [
    "/api/v1/rubrics/..%2F..%2Fevil", "/api/v1/rubrics/../evil", "/api/v1/rubrics/a/b",
    "/api/v1/rubrics/.bashrc", "/api/v1/rubrics/%2Ftmp%2Fevil", "/api/v1/rubrics/Evil",
])
def test_api_save_refuses_a_path_like_id(client, folder, tmp_path, drafted, path):
    data = rubric_to_json(drafted)
    response = client.put(path, json={"rubric": data}, headers=AUTH)
    assert response.status_code in (308, 404, 422)  # 308: werkzeug merging the '//'
    if response.status_code == 422:
        assert response.get_json()["error"] == "invalid_id"
    data["id"] = "../evil"
    response = client.put("/api/v1/rubrics/photosynthesis", json={"rubric": data}, headers=AUTH)
    assert response.status_code == 422
    assert list(folder.iterdir()) == [] and not (tmp_path.parent / "evil.yaml").exists()


def test_api_save_refuses_an_id_other_than_the_url(client, folder, drafted):
    response = client.put("/api/v1/rubrics/other", json={"rubric": rubric_to_json(drafted)},
                          headers=AUTH)
    assert response.status_code == 422 and response.get_json()["error"] == "id_mismatch"
    assert list(folder.iterdir()) == []


def test_oversize_input_is_refused(client, drafted):
    huge = {"rubric": rubric_to_json(drafted), "answers": [{"answer": "x" * 1000}] * 2100}
    response = post(client, "/api/v1/rubrics/try", huge)
    assert response.status_code == 413
    assert response.get_json()["error"] == "request_too_large"
    assert len(json.dumps(huge)) > MAX_CONTENT_LENGTH
    long_answer = post(client, "/api/v1/rubrics/try", {
        "rubric": rubric_to_json(drafted), "answers": [{"answer": "word " * 12_000}]})
    assert long_answer.status_code == 400 and "too long" in long_answer.get_json()["message"]
    big_rubric = rubric_to_json(drafted)
    big_rubric["points"][0]["keywords"] = [["w"] * 40]
    response = post(client, "/api/v1/rubrics/try", {"rubric": big_rubric, "answers": []})
    assert response.status_code == 422
    assert response.get_json()["problems"][0]["field"] == "points[0].keywords[0]"


def test_api_errors_are_json(client):
    assert client.get("/api/v1/nothing", headers=AUTH).get_json()["status"] == 404
    wrong = client.post("/api/v1/rubrics/try", data="{", content_type="application/json",
                        headers=AUTH)
    assert wrong.status_code == 400 and wrong.get_json()["error"] == "bad_request"
    text = client.post("/api/v1/rubrics/try", data="x", headers=AUTH)
    assert text.status_code == 415
    assert client.delete("/api/v1/rubrics/x", headers=AUTH).status_code == 405


def test_openapi_document_is_valid_and_matches_responses(client, drafted):
    from jsonschema import Draft202012Validator
    from openapi_spec_validator import validate

    document = client.get("/api/v1/openapi.json", headers=AUTH).get_json()
    validate(document)
    paths = document["paths"]
    assert {"/api/v1/rubrics", "/api/v1/rubrics/draft", "/api/v1/rubrics/try",
            "/api/v1/rubrics/{rubric_id}"} <= set(paths)

    def check(schema_name, data):
        schema = {**document["components"]["schemas"][schema_name],
                  "components": document["components"]}
        text = json.dumps(schema).replace("#/components/", "#/components/")
        Draft202012Validator(json.loads(text)).validate(data)

    check("Draft", post(client, "/api/v1/rubrics/draft", {
        "id": "photosynthesis", "question": QUESTION, "model_answer": MODEL}).get_json())
    check("Trial", post(client, "/api/v1/rubrics/try", {
        "rubric": rubric_to_json(drafted), "answers": ANSWERS + [{"answer": ""}]}).get_json())
    check("InvalidRubric", post(client, "/api/v1/rubrics/try", {
        "rubric": {}, "answers": []}).get_json())
    check("RubricList", client.get("/api/v1/rubrics", headers=AUTH).get_json())


def test_no_answer_is_logged(client, drafted, caplog):
    import logging

    secret = "Zyxwvut chlorophyll answer"
    with caplog.at_level(logging.DEBUG):
        post(client, "/api/v1/rubrics/try", {"rubric": rubric_to_json(drafted),
                                             "answers": [{"answer": secret, "mark": 1}]})
    assert secret not in caplog.text


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.recursive(st.none() | st.booleans() | st.floats() | st.text(max_size=20)
                         | st.integers(), lambda inner: st.lists(inner, max_size=4)
                         | st.dictionaries(st.sampled_from(
                             ["rubric", "answers", "id", "points", "text", "answer", "mark",
                              "keywords", "max_score", "question", "model_answer", "bands"]),
                             inner, max_size=5), max_leaves=25))
def test_any_json_body_gives_a_result_or_a_json_error(client, body):
    for path in ("/api/v1/rubrics/try", "/api/v1/rubrics/draft"):
        response = post(client, path, body)
        assert response.status_code in (200, 400, 413, 422), (path, body)
        data = response.get_json()
        assert isinstance(data, dict)
        if response.status_code != 200:
            assert set(data) >= {"error", "message", "status"}
        assert not any(isinstance(v, float) and math.isnan(v) for v in data.values())


def test_workshop_command_prints_the_link_and_serves(monkeypatch, tmp_path):
    import waitress
    from click.testing import CliRunner

    from essaycheck.cli import main

    served = {}

    class FakeServer:
        effective_port = 5001

        def run(self):
            served["ran"] = True

        def close(self):
            served["closed"] = True

    def create_server(app, host, port, **kwargs):
        served.update(app=app, host=host, port=port)
        return FakeServer()

    monkeypatch.setattr(waitress, "create_server", create_server)
    result = CliRunner().invoke(main, ["workshop", "--rubrics", str(tmp_path),
                                       "--token", TOKEN])
    assert result.exit_code == 0, result.output
    assert f"http://127.0.0.1:5001/?token={TOKEN}" in result.output
    assert served["host"] == "127.0.0.1" and served["port"] == 5001 and served["closed"]
    assert served["app"].extensions["workshop"].token == TOKEN
    short = CliRunner().invoke(main, ["workshop", "--rubrics", str(tmp_path), "--token", "x"])
    assert short.exit_code == 2 and "at least 16" in short.output
    missing = CliRunner().invoke(main, ["workshop", "--rubrics", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "not a folder" in missing.output


def test_the_bench_part_times_a_re_score_after_an_edit():
    """Part (h) of make bench runs (a quick run; the figures come from make bench itself)."""
    import subprocess
    import sys

    from .conftest import ROOT

    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench.py"), "--quick",
                          "--only", "h", "--no-write"], capture_output=True, text=True,
                         timeout=300, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    line = next(line for line in run.stdout.splitlines() if line.startswith("| (h) |"))
    assert "30 marked 150-word answers, fit included" in line
    assert re.search(r"median \d+ ms, p95 \d+ ms over 5 edits", line)


def test_api_suggest_and_apply(client, drafted):
    """Suggestions from the marks come back in the documented form; accepting one gives the
    rubric with the change made, validated again."""
    from jsonschema import Draft202012Validator

    marked = [dict(a, points={drafted.points[0].id: 1}) for a in ANSWERS]
    response = post(client, "/api/v1/rubrics/suggest", {"rubric": rubric_to_json(drafted),
                                                        "answers": marked})
    assert response.status_code == 200
    document = client.get("/api/v1/openapi.json", headers=AUTH).get_json()
    schema = {**document["components"]["schemas"]["SuggestionList"],
              "components": document["components"]}
    Draft202012Validator(schema).validate(response.get_json())

    group = next(i for i, g in enumerate(drafted.points[0].keywords) if "absorb" in g)
    suggestion = {"question_id": drafted.id, "point_id": drafted.points[0].id,
                  "action": "add", "term": "soak*", "group": group, "fixes": 1, "breaks": 0,
                  "evidence": ["Chlorophyll soaks up light."], "inferred": False}
    applied = post(client, "/api/v1/rubrics/apply", {"rubric": rubric_to_json(drafted),
                                                     "suggestion": suggestion})
    assert applied.status_code == 200
    changed = rubric_from_json(applied.get_json()["rubric"])
    assert changed.points[0].keywords[group][-1] == "soak*"
    assert changed.points[1:] == drafted.points[1:]
    trial = post(client, "/api/v1/rubrics/try", {"rubric": applied.get_json()["rubric"],
                                                 "answers": ANSWERS[1:2]}).get_json()
    assert trial["results"][0]["points"][0]["status"] == "covered"  # re-scored, changed


@pytest.mark.parametrize("change, message", [
    ({"point_id": "nope"}, "no point"),
    ({"group": 99}, "there is no group"),
    ({"action": "remove", "term": "never-there"}, "is not in keyword group"),
    ({"fixes": "two"}, "suggestion.fixes must be a whole number"),
    ({"question_id": "other"}, "for question 'other'"),
])
def test_api_apply_refuses_a_suggestion_that_does_not_fit(client, drafted, change, message):
    suggestion = {"question_id": drafted.id, "point_id": drafted.points[0].id,
                  "action": "add", "term": "soak*", "group": 0, "fixes": 1, "breaks": 0,
                  "evidence": [], "inferred": False, **change}
    response = post(client, "/api/v1/rubrics/apply", {"rubric": rubric_to_json(drafted),
                                                      "suggestion": suggestion})
    assert response.status_code == 422
    assert response.get_json()["error"] == "suggestion"
    assert message in response.get_json()["message"]


# ------------------------------------------------------------------ the analysis cache


def _seed_samples(question_id: str) -> list[dict]:
    """The seed set's marked answers to one question, as the page sends them, with an empty
    answer (an error), a repeat and a misspelt, negated one, and enough of them to fill more
    than one of spaCy's batches."""
    from essaycheck.evaluation import read_marked

    from .conftest import DATA

    with open(DATA / "seed-marked.csv", encoding="utf-8", newline="") as handle:
        rows = [row for row in read_marked(handle, "seed-marked.csv", require_mark=False)
                if row.question_id == question_id]
    samples = [{"answer": row.answer, "mark": row.mark,
                "points": {point: 1.0 if made else 0.0 for point, made in row.points.items()}}
               for row in rows]
    samples += [{"answer": "   ", "mark": 0}, dict(samples[0]),
                {"answer": "Krushchev did not blame Stalin's cult of personallity.", "mark": 1}]
    while len(samples) < 70:  # past Analyzer.BATCH (64): misses and hits across batches
        samples.append({"answer": f"{samples[len(samples) % 10]['answer']} ({len(samples)})"})
    return samples


def test_the_analysis_cache_changes_no_result(base_checker, folder, monkeypatch):
    """The workshop keeps the analyses of sample answers and rubric texts between edits: a
    re-score from the cache gives byte for byte the JSON that a cold one gives, for the same
    rubric and for an edited one, and the results a checker without any cache gives; and the
    warm re-score sends nothing to spaCy."""
    from essaycheck.analysis import Analyzer, CachingAnalyzer

    rubric = next(r for r in load_directory(RUBRIC_DIR) if r.id == "secret-speech-1956")
    samples = _seed_samples(rubric.id)
    edited = rubric_to_json(rubric)
    edited["points"][1]["keywords"][0].append("reign of fear")
    bodies = [{"rubric": rubric_to_json(rubric), "answers": samples},
              {"rubric": edited, "answers": samples}]

    def fresh_client():
        return create_workshop_app(folder, checker=base_checker, token=TOKEN).test_client()

    cold = [post(fresh_client(), "/api/v1/rubrics/try", body).get_data() for body in bodies]
    client = fresh_client()
    post(client, "/api/v1/rubrics/try", bodies[1])  # fills the cache
    analysed: list[str] = []
    analyse_many = Analyzer.analyse_many

    def counting(self, texts):
        texts = list(texts)
        analysed.extend(text for text, _ in texts)
        return analyse_many(self, texts)

    monkeypatch.setattr(Analyzer, "analyse_many", counting)
    monkeypatch.setattr(Analyzer, "analyse", lambda self, text: analysed.append(text))
    warm = [post(client, "/api/v1/rubrics/try", body).get_data() for body in bodies]
    assert analysed == []
    assert warm == cold
    cache = client.application.extensions["workshop"].checker.analyzer
    assert isinstance(cache, CachingAnalyzer) and cache.kept > len(samples) / 2
    monkeypatch.undo()
    plain = base_checker.with_rubrics([rubric])
    results = json.loads(cold[0])["results"]
    for sample, result in zip(samples, results, strict=True):
        try:
            expected = plain.check(rubric.id, sample["answer"]).to_dict()
        except Exception as exc:  # noqa: BLE001 - the empty answer
            expected = {"error": exc.code, "message": exc.message}
        assert result == json.loads(json.dumps(expected))


# ------------------------------------------------------------------ suggestions that yield


def _seed_marked(question_id: str) -> list[dict]:
    return [sample for sample in _seed_samples(question_id) if sample.get("mark") is not None
            and sample.get("points")]


def test_suggest_stops_when_told_and_is_otherwise_the_same(base_checker):
    from essaycheck.suggestions import Superseded, suggest

    rubric = next(r for r in load_directory(RUBRIC_DIR) if r.id == "secret-speech-1956")
    samples = samples_from_json(_seed_marked(rubric.id), rubric.id)
    found = suggest(base_checker, rubric, samples, limit=3)
    assert found  # the seed set's marks point to changes: there are candidates to stop at
    assert suggest(base_checker, rubric, samples, limit=3, stop=lambda: False) == found
    with pytest.raises(Superseded):
        suggest(base_checker, rubric, samples, limit=3, stop=lambda: True)


def test_a_trial_stops_the_suggestions_for_the_rubric_before(app, monkeypatch):
    """With until_next_try (what the page sends), a trial asked for while suggestions are
    computed stops them: an empty list marked superseded, so that the re-score does not share
    the processor with work the page will throw away. Without it, the suggestions come."""
    from essaycheck import suggestions

    rubric = next(r for r in load_directory(RUBRIC_DIR) if r.id == "secret-speech-1956")
    body = {"rubric": rubric_to_json(rubric), "answers": _seed_marked(rubric.id)}
    apply_suggestion = suggestions.apply_suggestion
    tried = []

    def then_a_trial(*args):  # the teacher edits while the first candidate is tried
        if not tried:
            tried.append(post(app.test_client(), "/api/v1/rubrics/try", body).status_code)
        return apply_suggestion(*args)

    monkeypatch.setattr(suggestions, "apply_suggestion", then_a_trial)
    client = app.test_client()
    stopped = post(client, "/api/v1/rubrics/suggest", {**body, "until_next_try": True})
    assert tried == [200]
    assert stopped.status_code == 200
    assert stopped.get_json() == {"suggestions": [], "superseded": True}
    tried.clear()
    plain = post(client, "/api/v1/rubrics/suggest", body).get_json()
    assert tried == [200] and plain["superseded"] is False and plain["suggestions"]
    tried.append("no more trials")
    assert post(client, "/api/v1/rubrics/suggest", {**body, "until_next_try": True}
                ).get_json() == plain  # nothing asked for meanwhile: the same suggestions
    bad = post(client, "/api/v1/rubrics/suggest", {**body, "until_next_try": "yes"})
    assert bad.status_code == 400 and "until_next_try" in bad.get_json()["message"]


def test_suggestions_that_take_too_long_are_stopped_with_what_to_send_less_of(
        base_checker, folder):
    """A suggest is a refit and a re-score per candidate: 200 long marked answers gave so many
    that one request held a worker for over 10 minutes of CPU. Past the workshop's budget
    (here 0 s) it stops, with or without until_next_try, and says what to send less of."""
    rubric = next(r for r in load_directory(RUBRIC_DIR) if r.id == "secret-speech-1956")
    body = {"rubric": rubric_to_json(rubric), "answers": _seed_marked(rubric.id)}
    app = create_workshop_app(folder, checker=base_checker, token=TOKEN,
                              config={"WORKSHOP_SUGGEST_SECONDS": 0})
    client = app.test_client()
    for until_next_try in (False, True):
        response = post(client, "/api/v1/rubrics/suggest",
                        {**body, "until_next_try": until_next_try})
        assert response.status_code == 503
        data = response.get_json()
        assert data["error"] == "suggest_too_long"
        assert "fewer or shorter answers" in data["message"]
    document = client.get("/api/v1/openapi.json", headers=AUTH).get_json()
    assert "503" in document["paths"]["/api/v1/rubrics/suggest"]["post"]["responses"]


_ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4), max_leaves=12)
_SUGGESTION_VALUES = {
    "question_id": st.sampled_from(["photosynthesis"] * 6 + ["other", ""]),
    "point_id": st.sampled_from(["p1", "p2", ""]),
    "action": st.sampled_from(["add", "remove", "ADD"]),
    "term": st.text(max_size=40) | st.sampled_from(["a*", "*", " \u200b\u0301 ", "x " * 60]),
    "group": st.integers(-3, 30) | st.none(),
    "fixes": st.integers(-2, 5),
    "breaks": st.integers(-2, 5),
    "evidence": st.lists(st.text(max_size=10), max_size=3),
    "inferred": st.booleans(),
}


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=st.fixed_dictionaries(_SUGGESTION_VALUES),
       wrong=st.dictionaries(st.sampled_from(sorted(_SUGGESTION_VALUES)), _ANY_JSON,
                             max_size=2),
       left_out=st.sets(st.sampled_from(sorted(_SUGGESTION_VALUES)), max_size=1),
       whole=_ANY_JSON, use_whole=st.integers(0, 7))
def test_apply_never_fails_on_any_suggestion(client, drafted, fields, wrong, left_out, whole,
                                             use_whole):
    """/apply with any suggestion (the fields of one, a few of any JSON type or missing, or
    any JSON at all) gives the changed rubric, valid again, or a JSON error naming what is
    wrong: never a 500."""
    data = rubric_to_json(drafted)
    for point, new_id in zip(data["points"], ("p1", "p2"), strict=False):
        point["id"] = new_id  # ids a suggestion may name
    suggestion = {key: value for key, value in {**fields, **wrong}.items()
                  if key not in left_out}
    if use_whole == 0:
        suggestion = whole
    response = post(client, "/api/v1/rubrics/apply", {"rubric": data, "suggestion": suggestion})
    assert response.status_code in (200, 400, 422), (suggestion, response.get_json())
    body = response.get_json()
    if response.status_code == 200:
        rubric_from_json(body["rubric"])  # the result reads back
    else:
        assert set(body) >= {"error", "message", "status"} and body["message"]


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rubric=st.fixed_dictionaries({}, optional={
           "id": st.sampled_from(["plants", "Bad Id", "../x", ""]) | _ANY_JSON,
           "question": st.text(max_size=30) | _ANY_JSON,
           "model_answer": st.text(max_size=30) | _ANY_JSON,
           "max_score": st.integers(-1, 5) | st.floats() | _ANY_JSON,
           "points": st.lists(st.fixed_dictionaries({}, optional={
               "id": st.sampled_from(["a", "b"]) | _ANY_JSON,
               "text": st.text(max_size=30) | _ANY_JSON,
               "keywords": st.lists(st.lists(st.sampled_from(["a*", "*", "x y", "é", ""])
                                             | _ANY_JSON, max_size=3), max_size=3) | _ANY_JSON,
               "weight": st.floats() | _ANY_JSON}), max_size=3) | _ANY_JSON}) | _ANY_JSON,
       answers=st.lists(st.fixed_dictionaries({"answer": st.text(max_size=60)}, optional={
           "mark": st.floats() | st.integers() | _ANY_JSON,
           "points": st.dictionaries(st.sampled_from(["a", "b"]), st.sampled_from([1, 0.5, 0])
                                     | _ANY_JSON, max_size=2) | _ANY_JSON}) | _ANY_JSON,
           max_size=3) | _ANY_JSON)
def test_suggest_and_save_never_fail_on_any_rubric(client, folder, rubric, answers):
    """/suggest and PUT /rubrics/<id> with any rubric-shaped JSON (fields of any type) and any
    answers give a result or a JSON error: never a 500, and never a file outside the folder."""
    response = post(client, "/api/v1/rubrics/suggest", {"rubric": rubric, "answers": answers})
    assert response.status_code in (200, 400, 422), (rubric, answers, response.get_json())
    saved = client.put("/api/v1/rubrics/plants", data=json.dumps({"rubric": rubric}),
                       headers={**AUTH, "Content-Type": "application/json"})
    assert saved.status_code in (200, 400, 422), (rubric, saved.get_json())
    assert all(path.parent == folder for path in folder.rglob("*"))


def test_draft_of_a_long_model_answer_says_what_it_left_out(client):
    from .test_extract import _long_model_answer

    reply = post(client, "/api/v1/rubrics/draft", {
        "id": "long", "question": "Why did the provinces change?",
        "model_answer": _long_model_answer()})
    assert reply.status_code == 200, reply.get_json()
    data = reply.get_json()
    assert len(data["rubric"]["points"]) == 40 and data["claims"] == 80
    assert len(data["left_out"]) + len(data["merged"]) == 40
    assert data["left_out"][0] in _long_model_answer()
    assert rubric_from_json(data["rubric"]).id == "long"  # the workshop takes its own draft
    short = post(client, "/api/v1/rubrics/draft", {
        "id": "photosynthesis", "question": QUESTION, "model_answer": MODEL}).get_json()
    assert short["merged"] == [] and short["left_out"] == []
