"""The wheel carries everything a user runs: built, installed into a fresh virtual environment
and run from a directory outside the checkout, it checks an answer and serves the page.

To spare downloading every dependency again, the fresh environment reads the dev
environment's installed packages through a ``.pth`` file (Python does not process the ``.pth``
files inside a folder added that way, so the checkout's editable install stays out); essaycheck
itself comes from the wheel. About 30 s; deselect with ``-m "not wheel"``.
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.wheel

ANSWER = "Khrushchev wanted to weaken his rivals such as Molotov, who were linked to the purges."
#: What the build reads; the rest of a checkout (virtual environments, caches) stays behind.
NOT_SOURCES = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info",
                                     "__pycache__", ".pytest_cache", ".hypothesis",
                                     "test-artifacts", "bench-out")


def run(command: list, **kwargs) -> subprocess.CompletedProcess:
    """Run a command to completion; its output is in the assertion message if it fails."""
    result = subprocess.run([str(part) for part in command], capture_output=True, text=True,
                            timeout=300, **kwargs)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result


def clean_environment() -> dict[str, str]:
    """This process's environment without what would point essaycheck back at the checkout."""
    return {name: value for name, value in os.environ.items()
            if name not in ("PYTHONPATH", "ESSAYCHECK_WEB_DIR", "PYTHONHOME")}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel built from a copy of the checkout's sources."""
    work = tmp_path_factory.mktemp("wheel")
    sources = work / "sources"
    shutil.copytree(ROOT, sources, ignore=NOT_SOURCES, symlinks=True)
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir",
         work / "dist", sources])
    (built,) = (work / "dist").glob("essaycheck-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh virtual environment with the wheel installed; its dependencies are the dev
    environment's."""
    folder = tmp_path_factory.mktemp("venv") / "fresh"
    run([sys.executable, "-m", "venv", "--without-pip", folder])
    python = folder / "bin" / "python"
    site_packages = Path(run([python, "-c", "import sysconfig; "
                              "print(sysconfig.get_path('purelib'))"]).stdout.strip())
    dev = dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])
    (site_packages / "dev-dependencies.pth").write_text("\n".join(dev) + "\n", encoding="utf-8")
    run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
         "--no-index", wheel])
    return folder


@pytest.fixture
def outside(tmp_path) -> Path:
    """A working directory outside the checkout, with no ./rubric."""
    assert not tmp_path.resolve().is_relative_to(ROOT)
    return tmp_path


def test_the_wheel_holds_every_module_template_static_file_rubric_and_data_table(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    package = ROOT / "src" / "essaycheck"
    expected = {f"essaycheck/{path.relative_to(package).as_posix()}"
                for path in package.rglob("*")
                if path.is_file() and "__pycache__" not in path.parts}
    expected |= {f"essaycheck/web_files/{path.relative_to(ROOT / 'web').as_posix()}"
                 for folder in ("templates", "static")
                 for path in (ROOT / "web" / folder).rglob("*") if path.is_file()}
    expected |= {f"essaycheck/shipped_rubrics/{path.name}"
                 for path in (ROOT / "rubric").glob("*.y*ml")}
    missing = sorted(expected - names)
    assert not missing, (f"the wheel lacks {missing}: a new subpackage of src/essaycheck goes "
                         "in [tool.setuptools] packages in pyproject.toml, a new kind of data "
                         "file in [tool.setuptools.package-data]")


def test_the_installed_command_checks_an_answer_outside_the_checkout(venv, outside):
    environment = clean_environment()
    imported = run([venv / "bin" / "python", "-c",
                    "import essaycheck, essaycheck.resources as r; print(essaycheck.__file__); "
                    "print(r.templates_dir()); print(r.shipped_rubrics_dir()); "
                    "print(r.data_file('lexicon.tsv.gz')); "
                    "from essaycheck.lexicon import read_table; print(len(read_table()))"],
                   cwd=outside, env=environment).stdout.split("\n")
    for path in imported[:4]:
        assert Path(path).resolve().is_relative_to(venv.resolve()), imported
    assert int(imported[4]) > 1_000_000  # the lexicon table, read from the installed wheel

    result = run([venv / "bin" / "essaycheck", "check", "secret-speech-1956", "-"],
                 input=ANSWER, cwd=outside, env=environment)
    assert "[x] weaken-rivals: covered" in result.stdout
    assert "using the shipped rubrics" in result.stderr

    version = run([venv / "bin" / "python", "-m", "essaycheck", "--version"], cwd=outside,
                  env=environment)
    assert "0.1.0" in version.stdout


def get(port: int, path: str) -> tuple[int, bytes]:
    """The status and body of a GET on the local server."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_the_installed_command_serves_the_page_and_its_static_files(venv, outside):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = outside / "serve.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [venv / "bin" / "essaycheck", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=outside, env=clean_environment(), stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline, page = time.monotonic() + 60, None
        while page is None and server.poll() is None and time.monotonic() < deadline:
            try:
                page = get(port, "/")
            except OSError:
                time.sleep(0.2)
        assert page is not None, log.read_text()
        status, body = page
        assert status == 200 and b"secret-speech-1956" in body
        assert b"/static/style.css" in body
        for name in ("style.css", "app.js"):
            status, static = get(port, f"/static/{name}")
            assert status == 200 and static == (ROOT / "web" / "static" / name).read_bytes()
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    assert "using the shipped rubrics" in log.read_text()
