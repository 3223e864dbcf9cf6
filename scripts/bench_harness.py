"""The benchmark's harness: the table of results, running commands bounded in time (with
their peak memory), the server as a subprocess, and the machine the figures come from."""

from __future__ import annotations

import http.client
import json
import os
import platform
import queue
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench_data import ROOT, RUBRIC_DIR

API_PATH = "/api/v1/check"


# -- results ------------------------------------------------------------------------------------
@dataclass
class Line:
    """One row of the table."""

    part: str
    measure: str
    result: str
    target: str = ""
    met: bool | None = None  # None: informational, or not measured
    why: str = "not available"  # the verdict when met is None

    @property
    def verdict(self) -> str:
        """'met', 'NOT met', or why it was not judged; empty without a target."""
        if not self.target:
            return ""
        if self.met is None:
            return self.why
        return "met" if self.met else "NOT met"


@dataclass
class Report:
    """The lines of the table, in order, and notes to print under it."""

    lines: list[Line] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *args, **kwargs) -> Line:
        """Add a ``Line(*args, **kwargs)`` and print it."""
        line = Line(*args, **kwargs)
        self.lines.append(line)
        print(f"  ({line.part}) {line.measure}: {line.result}"
              + (f"  [target {line.target}: {line.verdict}]" if line.target else ""), flush=True)
        return line

    def table(self) -> str:
        """The lines as a Markdown table."""
        out = ["| Part | Measure | Result | Target | Met |", "|---|---|---|---|---|"]
        for line in self.lines:
            out.append(f"| ({line.part}) | {line.measure} | {line.result} | {line.target} | "
                       f"{line.verdict} |")
        return "\n".join(out)


def fmt_rate(value: float) -> str:
    """A rate for the table: no decimals from 100 up, one below."""
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def megabytes(kib: float | None) -> str:
    """KiB as whole MB for the table; '?' when unknown."""
    return "?" if kib is None else f"{kib / 1024:,.0f} MB"


# -- running commands ---------------------------------------------------------------------------
def essaycheck_command() -> list[str]:
    """The ``essaycheck`` console script next to this Python, or ``python -m essaycheck.cli``."""
    script = Path(sys.executable).with_name("essaycheck")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "essaycheck.cli"]


def available(*subcommand: str) -> bool:
    """True if ``essaycheck SUBCOMMAND --help`` succeeds."""
    try:
        result = subprocess.run([*essaycheck_command(), *subcommand, "--help"], cwd=ROOT,
                                capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def _tree_rss_kib(pid: int, include_root: bool = True) -> int:
    """Resident memory of a process and its descendants, from /proc (0 if unreadable)."""
    total = 0
    stack = [(pid, include_root)]
    while stack:
        current, counted = stack.pop()
        try:
            if counted:
                with open(f"/proc/{current}/status", encoding="ascii",
                          errors="replace") as handle:
                    for text in handle:
                        if text.startswith("VmRSS:"):
                            total += int(text.split()[1])
                            break
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children", encoding="ascii") as handle:
                    stack.extend((int(c), True) for c in handle.read().split())
        except (OSError, ValueError):
            continue
    return total


@dataclass
class Run:
    """How one bounded run of a command ended."""

    returncode: int | None
    seconds: float
    max_rss_kib: int | None      # largest single process (ru_maxrss)
    tree_peak_kib: int | None    # sampled peak of the process and its children together
    timed_out: bool
    stderr: str

    @property
    def ok(self) -> bool:
        """Exit status 0 within the time bound."""
        return self.returncode == 0 and not self.timed_out

    def ok_with(self, codes: tuple[int, ...]) -> bool:
        """One of the exit ``codes`` within the time bound."""
        return self.returncode in codes and not self.timed_out

    def failure(self, limit: float) -> str:
        """What went wrong, for the table."""
        if self.timed_out:
            return f"timed out after {limit:.0f} s"
        return f"failed (exit {self.returncode}): {self.stderr.strip()[-200:]}"


# A child's ru_maxrss counts the memory of the process it was forked from (Linux records the
# forked copy's high-water mark at exec), so a command forked from this process, which holds
# spaCy and the synthetic classes, would show this process's size. A small launcher runs the
# command instead and reports its children's ru_maxrss.
_LAUNCHER = """\
import resource, subprocess, sys
code = subprocess.call(sys.argv[2:])
with open(sys.argv[1], "w") as out:
    out.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(code if code >= 0 else 128 - code)
"""


def run_measured(command: list[str], timeout: float, cwd: Path = ROOT) -> Run:
    """Run a command to completion, timing it and measuring its peak memory: ``ru_maxrss``
    of the command alone (through a small launcher), and the summed resident memory of the
    command and its child processes sampled every 20 ms. Stopped after ``timeout`` seconds."""
    with tempfile.TemporaryFile() as err, tempfile.TemporaryDirectory() as scratch:
        rss_file = Path(scratch) / "maxrss"
        start = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-c", _LAUNCHER, str(rss_file), *command],
                                   cwd=cwd, stdout=subprocess.DEVNULL, stderr=err,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        timed_out = threading.Event()
        done = threading.Event()
        peak = [0]

        def watch() -> None:
            deadline = start + timeout
            while not done.wait(0.02):
                peak[0] = max(peak[0], _tree_rss_kib(process.pid, include_root=False))
                if time.perf_counter() > deadline and not timed_out.is_set():
                    timed_out.set()
                    try:
                        os.killpg(process.pid, signal.SIGKILL)  # the launcher and the command
                    except OSError:
                        pass

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            process.wait()
        finally:
            done.set()
            watcher.join()
        seconds = time.perf_counter() - start
        try:
            max_rss = int(rss_file.read_text()) or None
        except (OSError, ValueError):
            max_rss = None
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    return Run(process.returncode, seconds, max_rss, peak[0] or None, timed_out.is_set(),
               stderr[-2000:])


def run_timed(command: list[str], timeout: float, cwd: Path = ROOT) -> Run:
    """Run a command to completion and time it from process start to exit (no launcher)."""
    start = time.perf_counter()
    try:
        result = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                timeout=timeout)
    except subprocess.TimeoutExpired:
        return Run(None, time.perf_counter() - start, None, None, True, "")
    return Run(result.returncode, time.perf_counter() - start, None, None, False,
               result.stderr.decode("utf-8", "replace")[-2000:])


def best_of(repeats: int, work: Callable[[], object]) -> float:
    """The shortest of ``repeats`` timings of ``work()``, in seconds."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def usable_cores() -> int:
    """Cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]



def post(port: int, body: bytes, timeout: float = 10.0) -> tuple[int, bytes]:
    """POST a JSON ``body`` to the API on 127.0.0.1:``port``: ``(status, response body)``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("POST", API_PATH, body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def open_page(port: int, timeout: float = 10.0) -> tuple[str, str]:
    """GET the student page as a browser does: ``(session cookie, CSRF token)`` for its form."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", "/")
        response = connection.getresponse()
        html = response.read().decode("utf-8", "replace")
        cookie = (response.getheader("Set-Cookie") or "").split(";", 1)[0]
    finally:
        connection.close()
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    if response.status != 200 or found is None:
        raise OSError(f"the student page gave status {response.status} and no form token")
    return cookie, found.group(1)


def post_page(port: int, session: tuple[str, str], question_id: str, answer: str,
              timeout: float = 10.0) -> int:
    """Submit an answer through the student page's form (as ``open_page`` left it): the
    status."""
    cookie, token = session
    body = urllib.parse.urlencode({"csrf_token": token, "question_id": question_id,
                                   "answer": answer}).encode("utf-8")
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("POST", "/check", body, {
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie,
            "Referer": f"http://127.0.0.1:{port}/"})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


class Server:
    """``essaycheck serve`` on 127.0.0.1 and a free port, as a subprocess."""

    def __init__(self, workers: int = 1) -> None:
        self.port = free_port()
        self.log = tempfile.TemporaryFile()
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [*essaycheck_command(), "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--rubrics", str(RUBRIC_DIR)] + (["--workers", str(workers)] if workers > 1 else []),
            cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def wait_ready(self, body: bytes, timeout: float) -> float | None:
        """Seconds from process start to the first successful API response, or None."""
        deadline = self.started + timeout
        while time.perf_counter() < deadline and self.process.poll() is None:
            try:
                status, _ = post(self.port, body, timeout=timeout)
            except OSError:
                time.sleep(0.01)
                continue
            if status == 200:
                return time.perf_counter() - self.started
            time.sleep(0.01)
        return None

    def output(self) -> str:
        """The end of what the server printed."""
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")[-2000:]

    def stop(self) -> None:
        """Stop the server (terminate, then kill after 10 s)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()




# Checker.check in a process of its own, so that an answer that takes minutes can be stopped:
# it reads one JSON answer a line and writes how long check took and how it ended.
_CHECK_WORKER = """\
import json, sys, time
from essaycheck import Checker
from essaycheck.errors import EssaycheckError
from essaycheck.matching import limit_blas_threads
limit_blas_threads()
checker = Checker.from_directory(sys.argv[1])
question_id = checker.question_ids[0]
checker.check(question_id, "Khrushchev denounced Stalin's cult of personality in 1956.")
print("ready", flush=True)
for line in sys.stdin:
    answer = json.loads(line)
    start = time.perf_counter()
    try:
        checker.check(question_id, answer)
        outcome = "checked"
    except EssaycheckError as exc:
        outcome = "refused: " + exc.message
    print(json.dumps([time.perf_counter() - start, outcome]), flush=True)
"""


class CheckerProcess:
    """``Checker.check`` on the shipped rubrics in a separate process, each call bounded in
    time: a call that overruns stops the process, and the next call starts a fresh one."""

    def __init__(self, start_timeout: float) -> None:
        self.start_timeout = start_timeout
        self.process: subprocess.Popen | None = None
        self.lines: queue.Queue[str] = queue.Queue()

    def _start(self) -> None:
        self.lines = queue.Queue()
        self.process = subprocess.Popen(
            [sys.executable, "-c", _CHECK_WORKER, str(RUBRIC_DIR)], cwd=ROOT,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, encoding="utf-8")
        lines, stdout = self.lines, self.process.stdout
        assert stdout is not None  # stdout=PIPE

        def read() -> None:
            with stdout:  # closed here, at its end, never under this thread's feet
                for line in stdout:
                    lines.put(line)
            lines.put("")  # the process ended

        threading.Thread(target=read, daemon=True).start()
        if self._line(self.start_timeout).strip() != "ready":
            self.stop()
            raise OSError("the checker process did not start")

    def _line(self, timeout: float) -> str:
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            return ""

    def check(self, answer: str, timeout: float) -> tuple[float, str] | None:
        """``(seconds, 'checked' or 'refused: why')`` for one answer, timed inside the process
        around ``Checker.check`` alone; None if it took longer than ``timeout``."""
        if self.process is None:
            self._start()
        assert self.process is not None and self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(answer) + "\n")
            self.process.stdin.flush()
        except OSError:  # it has ended (BrokenPipeError)
            line = ""
        else:
            line = self._line(timeout)
        if not line:
            self.stop()
            return None
        seconds, outcome = json.loads(line)
        return seconds, outcome

    def stop(self) -> None:
        """Stop the process (the next ``check`` starts another)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            if self.process.stdin is not None:
                try:
                    self.process.stdin.close()
                except OSError:  # a line it never read
                    pass
            self.process = None


# -- the machine ----------------------------------------------------------------------------------
def machine() -> dict[str, str]:
    """The machine, Python, spaCy and commit the figures come from."""
    info = {"cpu": platform.processor() or platform.machine(), "cores": str(os.cpu_count())}
    try:
        for text in Path("/proc/cpuinfo").read_text().splitlines():
            if text.startswith("model name"):
                info["cpu"] = text.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    if hasattr(os, "sched_getaffinity"):
        info["cores"] = f"{len(os.sched_getaffinity(0))} usable of {os.cpu_count()}"
    try:
        for text in Path("/proc/meminfo").read_text().splitlines():
            if text.startswith("MemTotal:"):
                info["ram"] = f"{int(text.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        info["ram"] = "?"
    import spacy

    import essaycheck

    info["module"] = str(Path(essaycheck.__file__).resolve().parent)
    info["os"] = f"{platform.system()} {platform.release()}"
    info["python"] = platform.python_version()
    info["spacy"] = spacy.__version__
    try:
        from importlib.metadata import version

        info["essaycheck"] = version("essaycheck")
    except Exception:  # noqa: BLE001 - informational only
        info["essaycheck"] = "?"
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        info["commit"] = (commit + (" (with uncommitted changes)" if dirty else "")) or "?"
    except (OSError, subprocess.TimeoutExpired):
        info["commit"] = "?"
    return info


def load_average() -> str:
    """The load average over 1, 5 and 15 minutes, as '1.0/1.2/1.2'."""
    try:
        return "/".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


