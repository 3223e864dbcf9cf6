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
        os.replace(handle.name, path)
    except BaseException:
        try:
            os.unlink(handle.name)
        except OSError:
            pass
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write text to ``path`` atomically."""
    with atomic_writer(path) as handle:
        handle.write(text)
