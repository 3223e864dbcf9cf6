"""Where essaycheck finds its own files.

Run from a checkout (an editable install), the resources are the checkout's own folders, so
an edited template shows up without reinstalling; tests/test_wheel.py covers the wheel.
"""

from __future__ import annotations

from essaycheck import resources

from .conftest import ROOT, RUBRIC_DIR


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
