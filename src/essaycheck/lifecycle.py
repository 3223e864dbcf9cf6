"""Child processes that end with the command that started them."""

from __future__ import annotations

import os
import signal
import sys


def stop_with_parent(parent_pid: int | None = None) -> None:
    """On Linux, have the kernel send this process SIGTERM when its parent dies, so workers of
    a command killed outright (SIGKILL gives it no chance to stop them) do not live on; if the
    parent ``parent_pid`` is already gone, stop now. Elsewhere the parent's own handler must."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)   # the parent died before the kernel could be asked to tell us
