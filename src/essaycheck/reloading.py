"""A checker that follows its rubric folder: a new, changed or deleted rubric file is picked
up by the next request after a short interval, without restarting the server.

``FollowedRubrics.checker()`` is what a server asks for each request. At most once every
``interval`` seconds it looks at the folder's files (names, sizes, modification times: no file
is opened unless one changed); when they changed, it reads the folder again, fits a new
``Checker`` on the already-built pipeline (``Checker.with_rubrics``, which refits only the
rubrics that changed) and swaps it in at once. Requests keep getting the old checker while one
thread rebuilds. A file that fails validation never takes the page down: the last good version
of that file's rubric stays served (a new file that is bad is left out), and a warning names
the file and each problem. Each process follows the folder on its own (``serve --workers N``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from .checker import Checker
from .errors import RubricProblem
from .loader import check_files, folder_state
from .rubric import Rubric

log = logging.getLogger("essaycheck")

#: Seconds between two looks at the rubric folder: a saved rubric is offered within this.
DEFAULT_INTERVAL = 2.0


class FollowedRubrics:
    """The current ``Checker`` for a rubric folder, refitted when the folder's files change."""

    def __init__(self, checker: Checker, directory: str | Path,
                 interval: float = DEFAULT_INTERVAL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.directory = Path(directory)
        self.interval = interval
        self._clock = clock
        self._checker = checker
        self._lock = threading.Lock()
        self._next = clock() + interval
        # taken before reading, so that a file changed while it was read is read again
        self._state = folder_state(self.directory)
        found, problems = check_files(self.directory)
        if list(found.values()) != list(checker.rubrics_by_id.values()):
            self._state = ()  # the folder changed since the checker was loaded: look again
        # what each file last held when it was valid: kept while the file is broken
        self._good: dict[Path, Rubric] = found
        self._warn(problems)

    def checker(self) -> Checker:
        """The checker to use for this request: the current one, after a look at the folder
        if ``interval`` has passed (one thread looks; the others go on with the current)."""
        if self._clock() >= self._next and self._lock.acquire(blocking=False):
            try:
                self._next = self._clock() + self.interval
                self.refresh()
            except Exception:  # noqa: BLE001 - a failed reload must not fail the request
                log.exception("reloading the rubrics in %s failed; still serving "
                              "the rubrics loaded before", self.directory)
            finally:
                self._lock.release()
        return self._checker

    def refresh(self) -> bool:
        """Look at the folder now and refit if its files changed; True if the checker was
        replaced."""
        state = folder_state(self.directory)
        if state == self._state:
            return False
        self._state = state
        found, problems = check_files(self.directory)
        bad = {Path(p.source) for p in problems}
        taken = {rubric.id for rubric in found.values()}
        kept: dict[Path, Rubric] = {}
        for path, rubric in self._good.items():  # a broken file's last good rubric
            if path in bad and path not in found and rubric.id not in taken:
                kept[path] = rubric
                taken.add(rubric.id)
        self._warn(problems, kept)
        good = {**found, **kept}
        if not good:
            log.warning("%s holds no valid rubric now; still serving the %d "
                        "loaded before", self.directory, len(self._checker.question_ids))
            return False
        self._good = good
        rubrics = [good[path] for path in sorted(good)]  # in file order, as at the start
        if rubrics == list(self._checker.rubrics_by_id.values()):
            return False
        self._checker = self._checker.with_rubrics(rubrics)
        log.info("rubrics reloaded from %s: %s", self.directory,
                 ", ".join(self._checker.question_ids))
        return True

    def _warn(self, problems: list[RubricProblem], kept: dict[Path, Rubric] | None = None
              ) -> None:
        kept = kept or {}
        for source in dict.fromkeys(p.source for p in problems):
            listed = "; ".join(f"{p.field + ': ' if p.field else ''}{p.message} ({p.fix})"
                               for p in problems if p.source == source)
            old = kept.get(Path(source))
            still = (f"still serving its last good version of {old.id!r}" if old is not None
                     else "not served")
            log.warning("rubric file %s is not valid, %s until it is fixed: %s", source, still,
                        listed)
