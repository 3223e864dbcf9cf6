"""The one place that opens rubric files: reading a directory of ``*.yaml`` / ``*.yml``
rubrics, and writing rubrics back (calibrated or edited ones) with backups."""

from __future__ import annotations

import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import EssaycheckError, RubricError, RubricProblem
from .rubric import ID_PATTERN, MAX_RUBRIC_BYTES, Rubric, dump_rubric, parse_rubric

if TYPE_CHECKING:
    from .suggestions import Suggestion

RUBRIC_SUFFIXES = (".yaml", ".yml")


def rubric_files(directory: str | Path) -> list[Path]:
    """The rubric files in a directory, sorted by name; RubricError if there are none."""
    path = Path(directory)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise RubricError([RubricProblem(
            str(path), "", "no such directory",
            "pass the folder that holds the rubric .yaml files")])
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
        with path.open("rb") as stream:
            # one byte past the limit is enough for parse_rubric to refuse a file too large
            data = stream.read(MAX_RUBRIC_BYTES + 1)
    except OSError as exc:
        raise RubricError([RubricProblem(str(path), "", f"cannot be read: {exc.strerror}",
                                         "check the path and its permissions")]) from None
    return parse_rubric(data, str(path))


def check_directory(directory: str | Path) -> tuple[list[Rubric], list[RubricProblem]]:
    """Validate every rubric file in a directory; return the valid rubrics and all problems."""
    found, problems = check_files(directory)
    return list(found.values()), problems


def check_files(directory: str | Path) -> tuple[dict[Path, Rubric], list[RubricProblem]]:
    """``check_directory`` with each valid rubric under the file it came from (in file
    order): what a caller that follows a folder's changes file by file needs."""
    rubrics: dict[Path, Rubric] = {}
    problems: list[RubricProblem] = []
    seen: dict[str, str] = {}
    try:
        files = rubric_files(directory)
    except RubricError as exc:
        return {}, exc.problems
    for path in files:
        try:
            rubric = load_rubric_file(path)
        except RubricError as exc:
            problems.extend(exc.problems)
            continue
        if rubric.id in seen:
            problems.append(RubricProblem(str(path), "id", f"duplicate rubric id {rubric.id!r} "
                                          f"(also in {seen[rubric.id]})",
                                          "give each rubric its own id"))
            continue
        seen[rubric.id] = str(path)
        rubrics[path] = rubric
    return rubrics, problems


def folder_state(directory: str | Path) -> tuple[tuple[str, int, int, int], ...]:
    """What changes when a rubric file in ``directory`` is added, changed, replaced or
    removed, read without opening any: each rubric file's name, size, modification time (ns)
    and inode, in name order; empty for a folder that is missing or holds none."""
    path = Path(directory)
    try:
        entries = [path] if path.is_file() else [
            p for p in path.iterdir() if p.suffix in RUBRIC_SUFFIXES]
        state = []
        for entry in sorted(entries):
            try:
                info = entry.stat()
            except OSError:  # removed since the listing
                continue
            if stat.S_ISREG(info.st_mode):
                state.append((entry.name, info.st_size, info.st_mtime_ns, info.st_ino))
        return tuple(state)
    except OSError:
        return ()


def load_directory(directory: str | Path) -> list[Rubric]:
    """Load every rubric in a directory, or raise RubricError listing all problems."""
    rubrics, problems = check_directory(directory)
    if problems:
        raise RubricError(problems)
    return rubrics


class RubricWriteError(EssaycheckError):
    """Rubric files could not be written without overwriting something."""

    code = "rubric_write"


def write_rubrics(rubrics: list[Rubric], changed: list[str] | set[str],
                  sources: dict[str, Path], output: Path | None = None,
                  force: bool = False) -> list[Path]:
    """Write changed rubrics (e.g. calibrated ones) atomically; return the files written.

    In place (no ``output``): each changed rubric file is first copied to ``<file>.bak``;
    an existing backup is not overwritten without ``force``. With ``output`` (a folder):
    every rubric is written there (unchanged ones copied byte for byte), so the folder can be
    passed to ``--rubrics``; existing files there are not overwritten without ``force``.
    """
    by_id = {rubric.id: rubric for rubric in rubrics}
    return _write_texts({rubric_id: dump_rubric(by_id[rubric_id]) for rubric_id in changed},
                        sources, output, force)


@dataclass(frozen=True)
class SuggestionsWritten:
    """The rubric files ``write_suggestions`` wrote, and which lost their own layout."""

    written: tuple[Path, ...]
    #: rubric id -> why its file was written in essaycheck's own layout (comments, key order
    #: and line breaks not kept; the ``.bak`` or the original keeps them)
    rewritten: dict[str, str]


def write_suggestions(rubrics: list[Rubric], suggestions: list[Suggestion],
                      sources: dict[str, Path], output: Path | None = None,
                      force: bool = False) -> SuggestionsWritten:
    """Write keyword suggestions into the rubric files they are for, as ``write_rubrics``
    writes (atomically, keeping ``<file>.bak``, or into ``output``).

    Each file is edited in place where the changes go (``yamledit``), every other byte kept;
    the edit is written only if it reads back as ``suggestions.apply_suggestions`` makes the
    rubric in memory. Where it cannot be done safely, the whole rubric is written in
    ``dump_rubric``'s layout instead, and ``rewritten`` says why.
    """
    from .suggestions import apply_suggestions
    from .yamledit import TextEditError, apply_suggestions_to_text

    wanted = {suggestion.question_id for suggestion in suggestions}
    texts: dict[str, str] = {}
    rewritten: dict[str, str] = {}
    for rubric in rubrics:
        if rubric.id not in wanted:
            continue
        expected = apply_suggestions(rubric, suggestions)
        source = sources[rubric.id]
        try:
            try:
                original = source.read_bytes().decode("utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise TextEditError(f"{source} cannot be read back ({exc})") from None
            bom = "\ufeff" if original.startswith("\ufeff") else ""
            texts[rubric.id] = bom + apply_suggestions_to_text(
                original[len(bom):], rubric, suggestions, expected, source.name)
        except TextEditError as exc:
            texts[rubric.id] = dump_rubric(expected)
            rewritten[rubric.id] = exc.message
    exact = frozenset(texts) - set(rewritten)
    written = _write_texts(texts, sources, output, force, exact)
    return SuggestionsWritten(tuple(written), rewritten)


def _write_texts(texts: dict[str, str], sources: dict[str, Path], output: Path | None,
                 force: bool, exact: frozenset[str] = frozenset()) -> list[Path]:
    """``write_rubrics`` for rubric files' new texts by rubric id (those in ``exact`` written
    with their line breaks as they are)."""
    from .files import atomic_write_text

    changed = set(texts)
    # rubric id, target, its text (None: a copy of the source's), and the backup (in place)
    # or the source
    plans: list[tuple[str, Path, str | None, Path]] = []
    if output is None:
        for rubric_id in sorted(changed):
            source = sources[rubric_id]
            backup = source.with_name(source.name + ".bak")
            if backup.exists() and not force:
                raise RubricWriteError(
                    f"{backup} exists; pass --force to replace that backup, or --output DIR "
                    "to write the calibrated rubrics beside the originals")
            plans.append((rubric_id, source, texts[rubric_id], backup))
    else:
        output = Path(output)
        if output.exists() and not output.is_dir():
            raise RubricWriteError(f"{output} is a file; --output takes a folder")
        for rubric_id, source in sorted(sources.items()):
            target = output / source.name
            if target.exists() and not force:
                raise RubricWriteError(f"{target} exists; pass --force to overwrite it")
            if source.resolve() == target.resolve():
                raise RubricWriteError(
                    f"--output {output} is the rubric folder itself; leave out --output to "
                    "update it in place (with backups)")
            plans.append((rubric_id, target, texts.get(rubric_id), source))
        output.mkdir(parents=True, exist_ok=True)
    written = []
    for rubric_id, target, text, other in plans:
        if output is None:
            shutil.copy2(target, other)  # the backup first
        atomic_write_text(target, other.read_text(encoding="utf-8-sig") if text is None else text,
                          newline="" if text is not None and rubric_id in exact else None)
        written.append(target)
    return written


def save_rubric(directory: str | Path, rubric: Rubric) -> Path:
    """Write one rubric into ``directory`` atomically and return the file written.

    The file is the one in ``directory`` that already holds this rubric id, else
    ``<id>.yaml``; a file it replaces is first copied to ``<file>.bak`` (replacing an older
    backup). The id must be a valid rubric id, so the file is always directly inside
    ``directory``; the text written is parsed back first, so an invalid file is never written.
    Raises ``RubricWriteError`` (bad id, no such folder, a file holding another rubric) or
    ``RubricError``.
    """
    from .files import atomic_write_text

    folder = Path(directory)
    if not isinstance(rubric.id, str) or not ID_PATTERN.match(rubric.id):
        raise RubricWriteError(f"{rubric.id!r} is not a valid rubric id: use lower-case "
                               "letters, digits, '-', '_' or '.', e.g. cell-respiration")
    if not folder.is_dir():
        raise RubricWriteError(f"{folder} is not a folder: create it, or pass the folder that "
                               "holds the rubric .yaml files")
    text = dump_rubric(rubric)
    parse_rubric(text, f"{rubric.id}.yaml")  # never write what cannot be read back
    target = _file_for(folder, rubric.id)
    if target.parent.resolve() != folder.resolve():  # pragma: no cover - the id forbids it
        raise RubricWriteError(f"{target} is outside {folder}; nothing was written")
    if target.is_file():
        shutil.copy2(target, target.with_name(target.name + ".bak"))
    atomic_write_text(target, text)
    return target


def _file_for(folder: Path, rubric_id: str) -> Path:
    """The file in ``folder`` holding ``rubric_id`` (so saving never makes a second file with
    the same id), else ``<id>.yaml``; RubricWriteError if ``<id>.yaml`` holds another rubric."""
    default = folder / f"{rubric_id}.yaml"
    holding_other = None
    try:
        files = rubric_files(folder)
    except RubricError:  # a folder with no rubric yet
        files = []
    for path in files:
        try:
            found = load_rubric_file(path).id
        except RubricError:
            continue
        if found == rubric_id:
            return path
        if path == default:
            holding_other = found
    if holding_other is not None:
        raise RubricWriteError(f"{default} holds the rubric {holding_other!r}, not "
                               f"{rubric_id!r}; rename that file or choose another id")
    return default
