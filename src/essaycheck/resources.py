"""Where the files essaycheck ships live: the page's templates and static files, the shipped
rubrics and the data tables. Every caller finds them here.

They are package data, found with ``importlib.resources``. ``pyproject.toml`` maps the
checkout's top-level ``web/`` and ``rubric/`` folders into the package as
``essaycheck.web_files`` and ``essaycheck.shipped_rubrics``: an installed wheel carries copies,
while an editable install resolves the same names to the checkout's folders, so an edited
template shows up without reinstalling. The functions return paths and open nothing.
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

WEB_PACKAGE = "essaycheck.web_files"
RUBRICS_PACKAGE = "essaycheck.shipped_rubrics"

#: Set to a folder holding ``templates/`` and ``static/`` to serve the page from there instead.
WEB_DIR_VARIABLE = "ESSAYCHECK_WEB_DIR"


def package_folder(package: str) -> Path:
    """The folder of one of essaycheck's resource packages, as a file system path."""
    try:
        folder = files(package)
    except ModuleNotFoundError:
        # An editable install made before pyproject.toml mapped web/ and rubric/ lacks them.
        raise RuntimeError(f"{package} is not installed; reinstall essaycheck "
                           "('make install', or pip install -e .)") from None
    if not isinstance(folder, Path):
        # Flask and the loader need real files: pip installs wheels unpacked, never zipped.
        raise RuntimeError(f"{package} is inside an archive ({folder}); install essaycheck "
                           "with pip so that its files are on disk")
    return folder


def web_dir() -> Path:
    """The folder holding the page's ``templates/`` and ``static/`` (or ESSAYCHECK_WEB_DIR)."""
    override = os.environ.get(WEB_DIR_VARIABLE)
    return Path(override) if override else package_folder(WEB_PACKAGE)


def templates_dir() -> Path:
    """The folder of the Jinja templates (the page's, and the class report's)."""
    return web_dir() / "templates"


def static_dir() -> Path:
    """The folder of the page's static files (CSS, JavaScript, icon)."""
    return web_dir() / "static"


def shipped_rubrics_dir() -> Path:
    """The folder of the rubrics that come with essaycheck."""
    return package_folder(RUBRICS_PACKAGE)


def data_file(name: str) -> Path:
    """The path of a data table shipped in ``essaycheck/data/`` (it may not exist)."""
    return package_folder("essaycheck") / "data" / name


#: The rubric folder the commands read when given none, if the working directory has one.
LOCAL_RUBRICS = Path("rubric")


def default_rubrics_dir() -> Path:
    """The rubric folder to use when none is given: ./rubric if it exists, else the shipped
    rubrics (so an installed essaycheck works from any directory)."""
    return LOCAL_RUBRICS if LOCAL_RUBRICS.is_dir() else shipped_rubrics_dir()
