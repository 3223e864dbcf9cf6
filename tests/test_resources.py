"""Where essaycheck finds its own files, the default rubric folder, and ``python -m``.

Run from a checkout (an editable install), the resources are the checkout's own folders, so
an edited template shows up without reinstalling; tests/test_wheel.py covers the wheel.
"""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from essaycheck import cli, resources

from .conftest import ROOT, RUBRIC_DIR

ANSWER = "Khrushchev wanted to weaken his rivals such as Molotov, who were linked to the purges."


def test_an_editable_install_reads_the_checkouts_own_folders(monkeypatch):
    monkeypatch.delenv(resources.WEB_DIR_VARIABLE, raising=False)
    assert resources.web_dir() == ROOT / "web"
    assert resources.templates_dir() == ROOT / "web" / "templates"
    assert resources.static_dir() == ROOT / "web" / "static"
    assert resources.shipped_rubrics_dir() == RUBRIC_DIR
    assert resources.data_file("table.tsv") == ROOT / "src" / "essaycheck" / "data" / "table.tsv"


def test_the_page_can_be_served_from_another_web_folder(tmp_path, monkeypatch, checker):
    """ESSAYCHECK_WEB_DIR replaces the templates and static files, read as they are now."""
    from essaycheck.web import create_app

    web = tmp_path / "web"
    (web / "templates").mkdir(parents=True)
    (web / "static").mkdir()
    for template in resources.templates_dir().iterdir():
        (web / "templates" / template.name).write_bytes(template.read_bytes())
    base = web / "templates" / "base.html"
    base.write_text(base.read_text(encoding="utf-8") + "<!-- edited -->", encoding="utf-8")
    monkeypatch.setenv(resources.WEB_DIR_VARIABLE, str(web))
    assert resources.static_dir() == web / "static"
    page = create_app(checker=checker).test_client().get("/")
    assert page.status_code == 200 and b"<!-- edited -->" in page.data


def test_the_default_rubric_folder_is_the_local_one_when_it_exists(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resources.default_rubrics_dir() == resources.shipped_rubrics_dir()
    (tmp_path / "rubric").mkdir()
    assert resources.default_rubrics_dir() == resources.LOCAL_RUBRICS


def test_check_without_rubrics_says_which_folder_it_uses(tmp_path, monkeypatch, checker):
    """No ./rubric: the shipped rubrics, said on stderr; with ./rubric: that folder."""
    used = []

    def load_checker(rubrics_dir, pipeline):
        used.append(rubrics_dir)
        return checker

    monkeypatch.setattr(cli, "load_checker", load_checker)
    monkeypatch.chdir(tmp_path)
    shipped = CliRunner().invoke(cli.main, ["check", "secret-speech-1956", "-"], input=ANSWER)
    assert shipped.exit_code == 0, shipped.output
    assert used == [resources.shipped_rubrics_dir()]
    assert "using the shipped rubrics" in shipped.stderr and shipped.stderr.count("\n") == 1
    assert "[x] weaken-rivals: covered" in shipped.stdout

    (tmp_path / "rubric").mkdir()
    local = CliRunner().invoke(cli.main, ["check", "secret-speech-1956", "-"], input=ANSWER)
    assert local.exit_code == 0, local.output
    assert used[-1] == resources.LOCAL_RUBRICS
    assert "using the rubrics in ./rubric" in local.stderr

    given = CliRunner().invoke(cli.main, ["check", "secret-speech-1956", "-", "--rubrics",
                                          str(RUBRIC_DIR)], input=ANSWER)
    assert given.exit_code == 0 and used[-1] == RUBRIC_DIR and given.stderr == ""


def test_serve_without_rubrics_falls_back_to_the_shipped_rubrics(tmp_path, monkeypatch,
                                                                 checker):
    import waitress

    used = []

    def load_checker(rubrics_dir, pipeline):
        used.append(rubrics_dir)
        return checker

    monkeypatch.setattr(cli, "load_checker", load_checker)
    monkeypatch.setattr(waitress, "serve", lambda app, **kwargs: None)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli.main, ["serve", "--port", "5123"])
    assert result.exit_code == 0, result.output
    assert used == [resources.shipped_rubrics_dir()]
    assert "using the shipped rubrics" in result.stderr


def test_calibrate_never_rewrites_the_shipped_rubrics(tmp_path, monkeypatch):
    """calibrate writes rubric files, so without ./rubric it asks for a folder."""
    marked = tmp_path / "marked.csv"
    marked.write_text(f"question_id,answer,mark\nsecret-speech-1956,\"{ANSWER}\",1\n",
                      encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli.main, ["calibrate", str(marked)])
    assert result.exit_code == 2
    assert "no such directory" in result.stderr and "shipped" not in result.output


def test_python_dash_m_essaycheck_runs_the_command_line():
    result = subprocess.run([sys.executable, "-m", "essaycheck", "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "python -m essaycheck" in result.stdout and "serve" in result.stdout


def test_score_quiet_says_nothing_about_the_default_rubrics(tmp_path, monkeypatch, checker):
    monkeypatch.setattr(cli, "load_checker", lambda rubrics_dir, pipeline: checker)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.csv").write_text(f"question_id,answer\nsecret-speech-1956,\"{ANSWER}\"\n",
                                    encoding="utf-8")
    for flags in (["--quiet"], ["-q"]):
        result = CliRunner().invoke(cli.main, ["score", "a.csv", "-o", "out.csv", "--force",
                                               *flags])
        assert result.exit_code == 0 and result.stderr == "", result.output
    loud = CliRunner().invoke(cli.main, ["score", "a.csv", "-o", "out.csv", "--force"])
    assert loud.exit_code == 0 and "using the shipped rubrics" in loud.stderr
