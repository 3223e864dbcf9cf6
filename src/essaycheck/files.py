"""Writing output files atomically: a temporary file beside the target, then a rename."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


def _temporary_prefix(path: Path) -> str:
    # the process id in the name tells a later run whether the writer is still alive
    return f".{path.name}.{os.getpid()}."


def _temporary_pattern(path: Path) -> re.Pattern[str]:
    return re.compile(rf"\.{re.escape(path.name)}\.(\d+)\.[^.]+\.tmp")


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # alive, but another user's
        return True
    return True


def stale_temporaries(path: str | Path) -> list[Path]:
    """Temporary files that an earlier ``atomic_writer`` for ``path`` left behind when its
    process was killed outright (``kill -9``, a power cut): their writer is no longer running."""
    path = Path(path)
    folder = path.parent
    pattern = _temporary_pattern(path)
    try:
        names = os.listdir(folder or ".")
    except OSError:
        return []
    found = []
    for name in names:
        match = pattern.fullmatch(name)
        if match and int(match.group(1)) != os.getpid() and not _process_alive(int(match.group(1))):
            found.append(folder / name)
    return sorted(found)


def remove_stale_temporaries(path: str | Path) -> list[Path]:
    """Remove the stale temporary files of ``path`` (see ``stale_temporaries``); returns them."""
    removed = []
    for stale in stale_temporaries(path):
        try:
            stale.unlink()
        except OSError:
            continue
        removed.append(stale)
    return removed


@contextmanager
def atomic_writer(path: str | Path, newline: str | None = None,
                  encoding: str = "utf-8") -> Iterator[IO[str]]:
    """Open a temporary file beside ``path``; on success rename it over ``path``, on error
    (an exception, Ctrl+C, or a SIGTERM turned into one) remove it, so readers never see a
    half-written file. Temporary files that a killed earlier run left for ``path`` are removed
    first."""
    path = Path(path)
    remove_stale_temporaries(path)
    handle = tempfile.NamedTemporaryFile(
        "w", encoding=encoding, newline=newline, dir=path.parent or ".",
        prefix=_temporary_prefix(path), suffix=".tmp", delete=False)
    try:
        with handle:
            yield handle
        # a temporary file is private (0600); give the result the mode any new file gets
        # here, or keep the mode of the file it replaces
        os.chmod(handle.name, _mode_for(path))
        os.replace(handle.name, path)
    except BaseException:
        try:
            os.unlink(handle.name)
        except OSError:
            pass
        raise


def _mode_for(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def atomic_write_text(path: str | Path, text: str, newline: str | None = None) -> None:
    """Write text to ``path`` atomically (``newline=""``: its line breaks exactly as given)."""
    with atomic_writer(path, newline=newline) as handle:
        handle.write(text)
