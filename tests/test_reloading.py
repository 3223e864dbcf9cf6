"""The student page follows its rubric folder (issue 11, item 5): a new, changed or deleted
rubric file is served from the first request after the interval, without a restart; a broken
file leaves the last good rubrics served."""

from __future__ import annotations

import logging
import time

import pytest

from essaycheck import Checker
from essaycheck.loader import load_directory, save_rubric
from essaycheck.reloading import FollowedRubrics
from essaycheck.web import create_app

from .conftest import RUBRIC_DIR

INTERVAL = 0.05
#: an answer that names the light with a word the plants rubric does not list (yet)
SUNSHINE = "Chlorophyll takes in the sunshine so the plant can make glucose by photosynthesis."


class Clock:
    """A clock the test moves on by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def folder(tmp_path, make_rubric):
    """A rubric folder holding conftest's one-off ``plants`` rubric."""
    save_rubric(tmp_path, make_rubric())
    return tmp_path


@pytest.fixture
def client(nlp, folder):
    """A test client of the student page's app following ``folder`` every ``INTERVAL`` s."""
    checker = Checker(load_directory(folder), nlp=nlp).fit()
    app = create_app(checker=checker, rubrics_dir=folder, reload_interval=INTERVAL,
                     config={"WTF_CSRF_ENABLED": False})
    return app.test_client()


def questions(client) -> list[str]:
    """The ids of the questions the app offers now."""
    return [q["id"] for q in client.get("/api/v1/questions").get_json()["questions"]]


def check(client, question_id: str, answer: str):
    """The API's response to checking ``answer``."""
    return client.post("/api/v1/check", json={"question_id": question_id, "answer": answer})


def next_interval() -> None:
    """Wait until the app's next look at the folder is due."""
    time.sleep(INTERVAL * 1.5)


def light_point(client) -> dict:
    """The ``plants`` rubric's second point, as it marks the ``SUNSHINE`` answer."""
    return check(client, "plants", SUNSHINE).get_json()["points"][1]


def test_a_new_rubric_is_listed_and_checked_after_the_interval(client, folder):
    assert questions(client) == ["plants"]
    shipped = next(r for r in load_directory(RUBRIC_DIR) if r.id == "secret-speech-1956")
    save_rubric(folder, shipped)
    next_interval()
    assert questions(client) == ["plants", "secret-speech-1956"]
    response = check(client, shipped.id, "Khrushchev wanted to weaken his rivals.")
    assert response.status_code == 200 and response.get_json()["question_id"] == shipped.id
    page = client.get("/").get_data(as_text=True)
    assert shipped.question.split()[0] in page and 'value="secret-speech-1956"' in page


def test_a_changed_keyword_takes_effect(client, folder, make_rubric):
    assert light_point(client)["status"] != "covered"
    changed = make_rubric()
    points = list(changed.to_dict()["points"])
    points[1]["keywords"][1].append("sunshine")
    save_rubric(folder, make_rubric(points=points))
    next_interval()
    point = light_point(client)
    assert point["status"] == "covered" and "sunshine" in point["matched_terms"]


def test_a_deleted_rubric_is_no_longer_served(client, folder):
    shipped = next(r for r in load_directory(RUBRIC_DIR) if r.id == "thaw-significance")
    path = save_rubric(folder, shipped)
    next_interval()
    assert "thaw-significance" in questions(client)
    path.unlink()
    next_interval()
    assert questions(client) == ["plants"]
    assert check(client, "thaw-significance", "The thaw relaxed censorship.").status_code == 404


def test_a_broken_file_leaves_the_last_good_rubrics_served(client, folder, make_rubric,
                                                           caplog):
    before = light_point(client)
    path = folder / "plants.yaml"
    good_text = path.read_text(encoding="utf-8")
    points = make_rubric().to_dict()["points"]
    points[1]["keywords"][1].append("sunshine")
    with caplog.at_level(logging.WARNING, logger="essaycheck"):
        path.write_text(good_text.replace("max_score: 2", "max_score: lots"), encoding="utf-8")
        (folder / "new.yaml").write_text("id: [not, valid\n", encoding="utf-8")
        next_interval()
        assert questions(client) == ["plants"]
        assert light_point(client) == before  # the old plants rubric, still
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("plants.yaml is not valid, still serving its last good version of 'plants' "
               "until it is fixed" in w and "max_score" in w for w in warnings), warnings
    assert any("new.yaml is not valid, not served until it is fixed" in w
               for w in warnings), warnings
    assert not any(SUNSHINE in w for w in warnings)  # no student text in the log
    save_rubric(folder, make_rubric(points=points))  # fixed, with the new keyword
    next_interval()
    assert light_point(client)["status"] == "covered"


def test_the_folder_is_looked_at_at_most_once_per_interval(nlp, folder, make_rubric,
                                                           monkeypatch):
    """Before the interval nothing is read; an unchanged folder refits nothing; a change
    refits only the rubric that changed, on the same pipeline."""
    from essaycheck import reloading

    clock = Clock()
    checker = Checker(load_directory(folder), nlp=nlp).fit()
    followed = FollowedRubrics(checker, folder, interval=2.0, clock=clock)
    looks = []
    state = reloading.folder_state
    monkeypatch.setattr(reloading, "folder_state", lambda d: looks.append(d) or state(d))
    assert followed.checker() is checker
    shipped = next(r for r in load_directory(RUBRIC_DIR) if r.id == "thaw-significance")
    save_rubric(folder, shipped)
    clock.now = 1.9
    assert followed.checker() is checker and looks == []
    clock.now = 2.0
    added = followed.checker()
    assert added is not checker and added.question_ids == ["plants", "thaw-significance"]
    assert added.matcher("plants") is checker.matcher("plants")  # unchanged: not refitted
    assert added.analyzer is checker.analyzer
    assert len(looks) == 1
    clock.now = 4.5
    assert followed.checker() is added and len(looks) == 2  # looked, nothing changed
    save_rubric(folder, make_rubric(question="How do green plants make their food?"))
    clock.now = 7.0
    changed = followed.checker()
    assert changed.matcher("thaw-significance") is added.matcher("thaw-significance")
    assert changed.matcher("plants") is not added.matcher("plants")


def test_a_folder_left_with_no_valid_rubric_keeps_serving(nlp, folder, caplog):
    clock = Clock()
    checker = Checker(load_directory(folder), nlp=nlp).fit()
    followed = FollowedRubrics(checker, folder, interval=1.0, clock=clock)
    (folder / "plants.yaml").unlink()
    clock.now = 1.0
    with caplog.at_level(logging.WARNING, logger="essaycheck"):
        assert followed.checker() is checker
    assert any("holds no valid rubric now" in r.getMessage() for r in caplog.records)


def test_a_failing_reload_keeps_the_checker_and_the_request(nlp, folder, make_rubric,
                                                            monkeypatch, caplog):
    from essaycheck import reloading

    clock = Clock()
    checker = Checker(load_directory(folder), nlp=nlp).fit()
    followed = FollowedRubrics(checker, folder, interval=1.0, clock=clock)
    save_rubric(folder, make_rubric(question="How do green plants make their food?"))

    def broken(directory):
        raise MemoryError("no room to fit")

    monkeypatch.setattr(reloading, "check_files", broken)
    clock.now = 1.0
    with caplog.at_level(logging.ERROR, logger="essaycheck"):
        assert followed.checker() is checker
    assert any("still serving the rubrics loaded before" in r.getMessage()
               for r in caplog.records)


def test_serve_follows_the_folder_unless_told_not_to(monkeypatch, checker, folder):
    import waitress
    from click.testing import CliRunner

    from essaycheck import cli

    served: dict = {}
    monkeypatch.setattr(cli, "load_checker", lambda rubrics_dir, pipeline: checker)
    monkeypatch.setattr(waitress, "serve", lambda app, **kwargs: served.update(app=app))
    for args, interval in (([], 2.0), (["--reload-interval", "0.5"], 0.5),
                           (["--reload-interval", "0"], None)):
        result = CliRunner().invoke(cli.main, ["serve", "--rubrics", str(folder), *args])
        assert result.exit_code == 0, result.output
        followed = served["app"].extensions.get("essaycheck_rubrics")
        assert (followed and followed.interval) == interval
        if followed:
            assert followed.directory == folder


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="--workers needs fork")
def test_every_worker_serves_a_saved_rubric_after_the_interval(folder):
    """``serve --workers 2``: each worker follows the folder on its own, so once the interval
    has passed every answer, whichever worker gives it, lists the new rubric."""
    import http.client
    import json
    import signal
    import socket
    import subprocess
    import sys

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "essaycheck.cli", "serve", "--port", str(port), "--workers", "2",
         "--reload-interval", "0.2", "--rubrics", str(folder)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def listed() -> list[str]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request("GET", "/api/v1/questions")
            return [q["id"] for q in json.loads(connection.getresponse().read())["questions"]]
        finally:
            connection.close()

    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                assert listed() == ["plants"]
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        for _ in range(6):  # both workers answer before the change
            assert listed() == ["plants"]
        shipped = next(r for r in load_directory(RUBRIC_DIR) if r.id == "thaw-significance")
        save_rubric(folder, shipped)
        time.sleep(0.5)
        assert [listed() for _ in range(12)] == [["plants", "thaw-significance"]] * 12
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=20)[0]
    assert "rubrics reloaded from" in output


def test_a_change_made_while_the_checker_was_loading_is_picked_up(nlp, folder, make_rubric):
    """The checker given was loaded before the folder was last changed: the first look after
    the interval serves the folder as it is."""
    clock = Clock()
    checker = Checker(load_directory(folder), nlp=nlp).fit()
    save_rubric(folder, make_rubric(question="How do green plants make their food?"))
    followed = FollowedRubrics(checker, folder, interval=1.0, clock=clock)
    assert followed.checker() is checker
    clock.now = 1.0
    assert followed.checker().rubric("plants").question == "How do green plants make their food?"
