"""The one place that opens rubric files: a directory of ``*.yaml`` / ``*.yml`` rubrics."""

from __future__ import annotations

from pathlib import Path

from .errors import RubricError, RubricProblem
from .rubric import Rubric, parse_rubric

RUBRIC_SUFFIXES = (".yaml", ".yml")


def rubric_files(directory: str | Path) -> list[Path]:
    """The rubric files in a directory, sorted by name; RubricError if there are none."""
    path = Path(directory)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise RubricError([RubricProblem(
            str(path), "", "no such directory", "pass the folder that holds the rubric .yaml files")])
    files = sorted(p for p in path.iterdir() if p.suffix in RUBRIC_SUFFIXES and p.is_file())
    if not files:
        raise RubricError([RubricProblem(
            str(path), "", "holds no rubric files (*.yaml)",
            "add a rubric, e.g. with 'essaycheck rubric extract'")])
    return files


def load_rubric_file(path: str | Path) -> Rubric:
    """Read and validate one rubric file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RubricError([RubricProblem(str(path), "", f"cannot be read: {exc.strerror}",
                                         "check the path and its permissions")]) from None
    return parse_rubric(data, str(path))


def check_directory(directory: str | Path) -> tuple[list[Rubric], list[RubricProblem]]:
    """Validate every rubric file in a directory; return the valid rubrics and all problems."""
    rubrics: list[Rubric] = []
    problems: list[RubricProblem] = []
    seen: dict[str, str] = {}
    try:
        files = rubric_files(directory)
    except RubricError as exc:
        return [], exc.problems
    for path in files:
        try:
            rubric = load_rubric_file(path)
        except RubricError as exc:
            problems.extend(exc.problems)
            continue
        if rubric.id in seen:
            problems.append(RubricProblem(str(path), "id", f"duplicate rubric id {rubric.id!r} "
                                          f"(also in {seen[rubric.id]})", "give each rubric its own id"))
            continue
        seen[rubric.id] = str(path)
        rubrics.append(rubric)
    return rubrics, problems


def load_directory(directory: str | Path) -> list[Rubric]:
    """Load every rubric in a directory, or raise RubricError listing all problems."""
    rubrics, problems = check_directory(directory)
    if problems:
        raise RubricError(problems)
    return rubrics
