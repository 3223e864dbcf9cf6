"""Writing output files atomically: a temporary file beside the target, then a rename."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_writer(path: str | Path, newline: str | None = None, encoding: str = "utf-8"):
    """Open a temporary file beside ``path``; on success rename it over ``path``, on error
    remove it, so readers never see a half-written file."""
    path = Path(path)
    handle = tempfile.NamedTemporaryFile(
        "w", encoding=encoding, newline=newline, dir=path.parent or ".",
        prefix=f".{path.name}.", suffix=".tmp", delete=False)
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


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write text to ``path`` atomically."""
    with atomic_writer(path) as handle:
        handle.write(text)
