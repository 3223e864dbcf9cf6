"""The ``essaycheck`` command line: a thin edge over the core.

Each command parses its input, calls the core, prints, and turns the core's own exceptions
into messages on stderr with a non-zero exit code.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from .errors import EssaycheckError, RubricError
from .lifecycle import stop_with_parent
from .matching import limit_blas_threads
from .rubric import MAX_POINTS, MAX_WORDING_CHARS

DEFAULT_RUBRICS = "rubric"


def _default_rubrics(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path:
    """``--rubrics`` as given, else ./rubric or the shipped rubrics, saying which on stderr
    (unless the command was given --quiet)."""
    if value is not None:
        return value
    from .resources import LOCAL_RUBRICS, default_rubrics_dir

    folder = default_rubrics_dir()
    if not ctx.params.get("quiet"):
        which = (f"using the rubrics in ./{LOCAL_RUBRICS}" if folder == LOCAL_RUBRICS else
                 f"no ./{LOCAL_RUBRICS} folder here, so using the shipped rubrics in {folder}")
        click.echo(f"essaycheck: {which} (--rubrics DIR for others)", err=True)
    return folder


rubrics_option = click.option(
    "--rubrics", "rubrics_dir", default=None, callback=_default_rubrics,
    show_default="./rubric if it exists, else the shipped rubrics",
    type=click.Path(file_okay=True, dir_okay=True, path_type=Path),
    help="Folder of rubric .yaml files.")
#: calibrate rewrites rubric files, so it never falls back to the shipped (installed) ones.
writable_rubrics_option = click.option(
    "--rubrics", "rubrics_dir", default=DEFAULT_RUBRICS, show_default=True,
    type=click.Path(file_okay=True, dir_okay=True, path_type=Path),
    help="Folder of rubric .yaml files to calibrate.")
pipeline_option = click.option(
    "--pipeline", default=None, envvar="ESSAYCHECK_PIPELINE",
    help="spaCy pipeline: 'blank:en' (default, no download) or an installed one such as "
         "en_core_web_sm.")


def fail(message: str, code: int = 2) -> None:
    """Print an error for the user and exit."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the command is so that it unwinds as after Ctrl+C."""


@contextmanager
def _interruptible() -> Iterator[None]:
    """Ctrl+C or SIGTERM stop the command cleanly: temporary files are removed as the
    exception unwinds, nothing is written, and the exit status is 130 (Ctrl+C) or 143 (SIGTERM),
    not the 1 that means "written, with row errors"."""
    def terminate(signum, frame) -> None:
        raise _Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    except _Terminated:
        click.echo("Error: stopped by SIGTERM; nothing was written", err=True)
        sys.exit(143)
    except KeyboardInterrupt:
        click.echo("\nError: interrupted; nothing was written", err=True)
        sys.exit(130)
    finally:
        signal.signal(signal.SIGTERM, previous)


def load_rubrics(rubrics_dir: Path):
    """The validated rubrics in a folder, or a clear error and exit."""
    from .loader import load_directory

    try:
        return load_directory(rubrics_dir)
    except RubricError as exc:
        fail(f"the rubrics in {rubrics_dir} are not valid:\n{exc}\n"
             f"Run 'essaycheck rubric check {rubrics_dir}' for details.")


def load_checker(rubrics_dir: Path, pipeline: str | None):
    """A fitted Checker for the rubric folder, or a clear error and exit."""
    from .checker import Checker

    try:
        return Checker(load_rubrics(rubrics_dir), pipeline=pipeline).fit()
    except EssaycheckError as exc:
        fail(str(exc))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="essaycheck")
def main() -> None:
    """Rubric-based feedback on written answers: which points an answer makes and misses."""
    limit_blas_threads()


@main.group()
def rubric() -> None:
    """Check rubric files, or draft one from a model answer."""


@rubric.command("check")
@click.argument("directory", type=click.Path(path_type=Path), default=DEFAULT_RUBRICS)
def rubric_check(directory: Path) -> None:
    """Validate every rubric file in DIRECTORY and report each problem with its fix."""
    from .loader import check_directory

    rubrics, problems = check_directory(directory)
    for item in rubrics:
        click.echo(f"ok      {item.id}: {len(item.points)} points, max_score {item.max_score:g}")
    for problem in problems:
        click.echo(f"problem {problem}", err=True)
    if problems:
        click.echo(f"{len(problems)} problem(s) found in {directory}.", err=True)
        sys.exit(1)
    click.echo(f"All {len(rubrics)} rubric(s) in {directory} are valid.")


@rubric.command("extract")
@click.option("--id", "rubric_id", required=True, help="Rubric id, e.g. secret-speech-1956.")
@click.option("--question", required=True, help="The question, as the student sees it.")
@click.option("--model-answer", "model_answer", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Text file holding the teacher's model answer.")
@click.option("--context", "contexts", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Text file of notes on the topic (repeatable); helps pick distinctive keywords.")
@click.option("--max-score", type=float, default=None,
              help="Marks available (default: one per point).")
@click.option("--max-points", type=click.IntRange(min=1), default=MAX_POINTS, show_default=True,
              help="Most points in the draft; a longer model answer's most alike claims are "
                   f"merged, its least distinctive left out. The workshop takes at most "
                   f"{MAX_POINTS}.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the YAML here instead of standard output.")
@click.option("--force", is_flag=True, help="Overwrite an existing output file.")
@pipeline_option
def rubric_extract(rubric_id, question, model_answer, contexts, max_score, max_points, output,
                   force, pipeline) -> None:
    """Draft a rubric from a model answer, for a teacher to edit."""
    from .analysis import Analyzer, build_pipeline
    from .extract import draft_rubric_report
    from .rubric import dump_rubric
    from .workshop import rubric_to_json, size_problems

    texts = []
    for path in (model_answer, *contexts):
        try:
            texts.append(path.read_text(encoding="utf-8-sig"))
        except UnicodeDecodeError as exc:
            fail(f"{path} is not UTF-8 text (bad byte at position {exc.start}); save it as UTF-8")
    if output is not None and output.exists() and not force:
        fail(f"{output} exists; pass --force to overwrite it")
    try:
        report = draft_rubric_report(rubric_id, question, texts[0],
                                     Analyzer(build_pipeline(pipeline)), context=texts[1:],
                                     max_score=max_score, max_points=max_points)
    except EssaycheckError as exc:
        fail(str(exc))
    draft = report.rubric
    text = dump_rubric(draft)
    if report.merged or report.dropped:
        click.echo(_cap_message(report, max_points), err=True)
    # the workshop's other limits (a very long model answer or sentence): said, not cut
    oversize = size_problems(rubric_to_json(draft), "draft")
    if oversize:
        click.echo("essaycheck: the workshop will refuse this draft until it is edited:\n"
                   + "\n".join(f"  {problem}" for problem in oversize), err=True)
    if output is None:
        click.echo(text, nl=False)
    else:
        from .files import atomic_write_text

        atomic_write_text(output, text)
        click.echo(f"Wrote a draft rubric with {len(draft.points)} points to {output}; "
                   "edit it, then run 'essaycheck rubric check'.", err=True)


def _cap_message(report, max_points: int) -> str:
    """What drafting merged and left out to stay within ``max_points``, and how to keep it."""
    lines = [f"essaycheck: the model answer makes {report.claims} claims; the draft holds "
             f"{len(report.rubric.points)} points (--max-points {max_points}, and the points' "
             f"wordings at most {MAX_WORDING_CHARS:,} characters in all)."]
    if report.merged:
        lines.append(f"{len(report.merged)} claim(s) that say much the same as another were "
                     "merged into it as an accepted wording (its 'accept' list):")
        lines += [f"  {point_id} <- {claim}" for point_id, claim in report.merged]
    if report.dropped:
        lines.append(f"{len(report.dropped)} claim(s) with the least distinctive words were "
                     "left out:")
        lines += [f"  - {claim}" for claim in report.dropped]
        lines.append(f"To keep them, add them to the file as points (or as a point's 'accept' "
                     f"wordings), or draft again with a higher --max-points (the workshop "
                     f"takes at most {MAX_POINTS} points).")
    return "\n".join(lines)


@main.command("check")
@click.argument("question_id")
@click.argument("answer_file", type=click.File("rb"), default="-")
@click.option("--json", "as_json", is_flag=True, help="Print the full result as JSON.")
@rubrics_option
@pipeline_option
def check_command(question_id, answer_file, as_json, rubrics_dir, pipeline) -> None:
    """Check one answer (a file, or standard input) against QUESTION_ID."""
    raw = answer_file.read()
    checker = load_checker(rubrics_dir, pipeline)
    try:
        result = checker.check(question_id, raw)
    except EssaycheckError as exc:
        fail(str(exc), 1)
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    marks = {"covered": "[x]", "partial": "[~]", "missed": "[ ]"}
    click.echo(f"{question_id}: {result.summary}")
    for point in result.points:
        click.echo(f"{marks[point.status]} {point.point_id}: {point.status}")
        if point.quote:
            click.echo(f"      \"{point.quote}\"")
        if point.hint:
            click.echo(f"      hint: {point.hint}")
    for warning in result.warnings:
        click.echo(f"note: {warning}")


#: ``serve``'s defaults for a class at once (30 to 300 students, each browser keeping one to
#: six connections open): connections held at once per server process, and the seconds one
#: may sit idle before it is closed. waitress's own (100 and 120 s) let 100 idle sockets lock
#: every student out for two minutes.
CONNECTION_LIMIT = 1000
CHANNEL_TIMEOUT = 30
#: The largest request body waitress takes: twice the web app's limit, so that an answer a
#: little too long still gets the app's own message, and a body larger than this is refused
#: from its Content-Length, before any of it is read or spooled to disk.
MAX_REQUEST_BODY = 2 * 1024 * 1024
#: what a reverse proxy named with --trusted-proxy may tell the server
PROXY_HEADERS = frozenset({"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host",
                           "x-forwarded-port"})


def waitress_settings(connection_limit: int, channel_timeout: int,
                      trusted_proxy: str | None) -> dict:
    """The settings ``serve`` gives waitress, beside where to listen."""
    from .web import MAX_CONTENT_LENGTH

    assert MAX_REQUEST_BODY >= MAX_CONTENT_LENGTH
    settings = {
        "threads": 8, "ident": "essaycheck", "connection_limit": connection_limit,
        "channel_timeout": channel_timeout,
        # idle connections are looked for this often (waitress: every 30 s)
        "cleanup_interval": max(1, min(10, channel_timeout // 2)),
        "max_request_body_size": MAX_REQUEST_BODY,
        # select() cannot watch more than 1,024 sockets; poll() can
        "asyncore_use_poll": True,
    }
    if trusted_proxy:
        settings.update(trusted_proxy=trusted_proxy, trusted_proxy_headers=set(PROXY_HEADERS),
                        clear_untrusted_proxy_headers=True)
    return settings


def _allow_open_files(connection_limit: int) -> None:
    """Raise this process's open-file limit so that ``connection_limit`` sockets fit, or exit
    with a message if the system's hard limit is too low (Unix; elsewhere nothing)."""
    try:
        import resource
    except ImportError:
        return
    wanted = connection_limit + 100  # the rubric files, the pipeline's data, the listener
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return
    if hard != resource.RLIM_INFINITY and hard < wanted:
        fail(f"--connection-limit {connection_limit} needs {wanted} open files, and this system "
             f"allows {hard}: lower --connection-limit or raise the limit (ulimit -n)")
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


class _EchoHandler(logging.Handler):
    """Log records of the ``essaycheck`` logger as lines on stderr, prefixed ``essaycheck:``."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(f"essaycheck: {self.format(record)}", err=True)


def _log_to_stderr() -> None:
    """Show what the server logs (the rubric reloads, a broken rubric file; never a
    student's text) on stderr."""
    logger = logging.getLogger("essaycheck")
    if not any(isinstance(handler, _EchoHandler) for handler in logger.handlers):
        logger.addHandler(_EchoHandler())
    logger.setLevel(logging.INFO)
    logger.propagate = False


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (127.0.0.1: this computer only).")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Server processes sharing the port (Linux and macOS), each with 8 threads: "
                   "one per core for many students at once.")
@click.option("--connection-limit", default=CONNECTION_LIMIT, show_default=True,
              type=click.IntRange(10, 100_000),
              help="Connections each server process holds open at once; more wait their turn.")
@click.option("--channel-timeout", default=CHANNEL_TIMEOUT, show_default=True,
              type=click.IntRange(1, 3600),
              help="Seconds a connection may sit idle (or stall mid-request) before it is "
                   "closed, so idle clients cannot hold every connection.")
@click.option("--trusted-proxy", default=None, metavar="ADDRESS",
              help="Address of a reverse proxy in front (e.g. 127.0.0.1): its X-Forwarded-For, "
                   "-Proto, -Host and -Port headers are believed, anyone else's dropped.")
@click.option("--reload-interval", default=2.0, show_default=True, metavar="SECONDS",
              type=click.FloatRange(0, 3600),
              help="Look at the rubric folder at most this often (on a request) and serve "
                   "new, changed or deleted rubric files from then on, without a restart; a "
                   "file that is not valid leaves its last good version served, with a "
                   "warning naming it. 0: load the rubrics once, at start.")
@rubrics_option
@pipeline_option
def serve_command(host, port, workers, connection_limit, channel_timeout, trusted_proxy,
                  reload_interval, rubrics_dir, pipeline) -> None:
    """Serve the student page and the JSON API with waitress."""
    import waitress

    from .web import create_app

    if workers > 1 and not hasattr(os, "fork"):
        fail("--workers above 1 needs a system that can fork processes (Linux, macOS); "
             "use --workers 1 here")
    _allow_open_files(connection_limit)
    settings = waitress_settings(connection_limit, channel_timeout, trusted_proxy)
    checker = load_checker(rubrics_dir, pipeline)
    _log_to_stderr()
    app = create_app(checker=checker, rubrics_dir=rubrics_dir,
                     reload_interval=reload_interval or None)
    shown = f"[{host}]" if ":" in host else host
    if workers == 1:
        click.echo(f"essaycheck: serving {len(checker.question_ids)} question(s) from "
                   f"{rubrics_dir} on http://{shown}:{port}/ (Ctrl+C to stop)")
        waitress.serve(app, host=host, port=port, **settings)
        return
    try:
        listener = socket.create_server((host, port), backlog=1024,
                                        family=socket.AF_INET6 if ":" in host
                                        else socket.AF_INET)
    except OSError as exc:
        fail(f"cannot listen on {shown}:{port}: {exc.strerror or exc}")
    click.echo(f"essaycheck: serving {len(checker.question_ids)} question(s) from {rubrics_dir} "
               f"on http://{shown}:{listener.getsockname()[1]}/ with {workers} worker "
               f"processes (Ctrl+C to stop)")
    _serve_forked(lambda: waitress.serve(app, sockets=[listener], **settings), workers)


@main.command("workshop")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (127.0.0.1: this computer only).")
@click.option("--port", default=5001, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on.")
@click.option("--token", default=None, envvar="ESSAYCHECK_WORKSHOP_TOKEN",
              help="Access token (default: a random one, printed in the link).")
@click.option("--rubrics", "rubrics_dir", default=DEFAULT_RUBRICS, show_default=True,
              type=click.Path(file_okay=False, dir_okay=True, path_type=Path),
              help="Folder of rubric .yaml files to open and save into.")
@pipeline_option
def workshop_command(host, port, token, rubrics_dir, pipeline) -> None:
    """Serve the teacher's rubric workshop: draft a rubric, try it on marked answers as you
    edit it, and save it into the rubric folder."""
    import secrets

    import waitress

    from .checker import Checker
    from .workshop_web import create_workshop_app

    if not rubrics_dir.is_dir():
        fail(f"{rubrics_dir} is not a folder: create it (mkdir {rubrics_dir}) or pass "
             "--rubrics DIR")
    if token is not None and len(token) < 16:
        fail("--token must be at least 16 characters, so it cannot be guessed")
    token = token or secrets.token_urlsafe(24)
    try:
        checker = Checker([], pipeline=pipeline).fit()
    except EssaycheckError as exc:
        fail(str(exc))
    app = create_workshop_app(rubrics_dir, checker=checker, token=token)
    try:
        server = waitress.create_server(app, host=host, port=port, threads=4,
                                        ident="essaycheck-workshop")
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"essaycheck workshop: rubrics in {rubrics_dir}. Open this link in your "
               f"browser (Ctrl+C to stop):\n\n    http://{shown}:{server.effective_port}/"
               f"?token={token}\n")
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"Warning: listening on {host}: anyone who can reach this address and has "
                   "the link can change the rubrics.", err=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


def _serve_forked(serve, workers: int) -> None:
    """Run ``serve`` in ``workers`` forked processes (sharing the listening socket and the
    fitted checker, copy on write) until they stop or this process is told to stop."""
    children = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:  # a worker: serve until stopped, never return into the CLI
            stop_with_parent()
            code = 0
            try:
                serve()
            except KeyboardInterrupt:
                pass
            except BaseException:  # noqa: BLE001 - reported, then the worker ends
                import traceback

                traceback.print_exc()
                code = 1
            finally:
                os._exit(code)
        children.append(pid)

    stopping = False

    def stop(signum=None, frame=None) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    failed = None
    running = set(children)
    while running:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        running.discard(pid)
        if not stopping:
            # a worker ended on its own: stop the rest, so a supervisor sees the failure
            failed = os.waitstatus_to_exitcode(status)
            stop()
    if failed is not None:
        fail(f"a server worker stopped unexpectedly (exit status {failed}); all stopped")


def _check_input(answers: Path, encoding: str) -> str:
    """The input file's encoding, canonical; exit with a message if the file cannot be read
    in it (naming the first bad line and an encoding to try)."""
    import codecs

    from . import csvio

    try:
        encoding = codecs.lookup(encoding).name
    except LookupError:
        fail(f"unknown encoding {encoding!r}; try utf-8, cp1252 or latin-1")
    if not answers.is_file():
        fail(f"{answers}: no such file")
    try:
        with answers.open("rb") as raw:
            bad = csvio.find_undecodable(raw, encoding)
            raw.seek(0)
            head = raw.read(4)
    except OSError as exc:
        fail(f"cannot read {answers}: {exc.strerror}")
    if bad:
        line, byte = bad
        other = csvio.suggest_encoding(head, encoding)
        fail(f"{answers}, line {line}: not {encoding} text (byte 0x{byte:02x}); the file may "
             f"be in another encoding: try --encoding {other}")
    return encoding


def _check_targets(answers: Path, output: Path, report: Path | None, force: bool) -> None:
    """Exit with a message if an output would overwrite the input, an existing file without
    --force, or the other output, or has no folder to go in."""
    import os

    targets = [("output", output)] + ([("report", report)] if report else [])
    for name, target in targets:
        if target.exists() and os.path.samefile(target, answers):
            fail(f"the {name} {target} is the input file; write the results somewhere else")
        if target.exists() and not force:
            fail(f"{target} exists; pass --force to overwrite it")
        if not target.parent.is_dir():
            fail(f"cannot write {target}: no folder {target.parent}")
    if report and report.resolve() == output.resolve():
        fail("the report and the output must be different files")


@main.command("score")
@click.argument("answers", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Results file to write (never the input; an existing file needs --force).")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write a class report: one self-contained HTML file.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default=None,
              help="csv (default), or json: JSON Lines, one object per row with every point's "
                   "evidence. Default: json when OUTPUT ends in .json or .jsonl.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes; the results are the same for any number.")
@click.option("--question-column", default="question_id", show_default=True,
              help="Column holding the question id.")
@click.option("--answer-column", default="answer", show_default=True,
              help="Column holding the answer.")
@click.option("--student-column", default="student_id", show_default=True,
              help="Column naming the student (optional in the file).")
@click.option("--encoding", default="utf-8", show_default=True,
              help="Encoding of ANSWERS, e.g. cp1252 or latin-1 for some Excel exports.")
@click.option("--force", is_flag=True, help="Overwrite an existing output or report file.")
# eager: read before --rubrics, whose default says on stderr which folder it uses unless quiet
@click.option("-q", "--quiet", is_flag=True, is_eager=True,
              help="No progress bar and no summary.")
@rubrics_option
@pipeline_option
@_interruptible()
def score_command(answers, output, report, fmt, jobs, question_column, answer_column,
                  student_column, encoding, force, quiet, rubrics_dir, pipeline) -> None:
    """Score every answer in the CSV file ANSWERS and write one result row per input row.

    Exit status: 0 every row scored, 1 some rows could not be scored (their status is
    'error'), 2 nothing written (bad options, or a file that cannot be read), 130 or 143
    interrupted by Ctrl+C or SIGTERM (nothing written).
    """
    from . import csvio, scoring
    from .files import atomic_write_text, atomic_writer

    encoding = _check_input(answers, encoding)
    _check_targets(answers, output, report, force)
    fmt = fmt or ("json" if output.suffix.lower() in (".json", ".jsonl") else "csv")

    source = str(answers)
    if jobs > 1:   # the workers each build the pipeline; this process only needs the rubrics
        checker, rubric_list = None, load_rubrics(rubrics_dir)
    else:
        checker = load_checker(rubrics_dir, pipeline)
        rubric_list = checker.rubrics
    handle = answers.open(encoding=encoding, newline="")
    try:
        try:
            rows = csvio.CsvInput(handle, source, question_column=question_column,
                                  answer_column=answer_column, student_column=student_column,
                                  encoding=encoding,
                                  question_ids=[item.id for item in rubric_list])
        except csvio.CsvEncodingError as exc:
            fail(f"{exc}; the file may be in another encoding: try --encoding {exc.suggestion}")
        except csvio.CsvFormatError as exc:
            option = {"question id": "--question-column", "answer": "--answer-column"}
            hint = f" (or pass {option[exc.role]} NAME)" if exc.role in option else ""
            fail(f"{exc}{hint}")
        if checker is None:
            results = scoring.score_rows_parallel(rubric_list, rows, rows.layout, jobs,
                                                  pipeline=pipeline)
        else:
            results = scoring.score_rows(checker, rows, rows.layout)
        rubrics_by_id = {item.id: item for item in rubric_list}
        summary = scoring.ClassSummary(rubrics_by_id)
        from tqdm import tqdm

        progress = tqdm(total=answers.stat().st_size, unit="B", unit_scale=True,
                        unit_divisor=1024, desc="Scoring", file=sys.stderr, leave=False,
                        disable=quiet or not sys.stderr.isatty())
        bom = fmt == "csv" and rows.layout.bom
        try:
            with progress, atomic_writer(output, newline="" if fmt == "csv" else "\n",
                                         encoding="utf-8-sig" if bom else "utf-8") as out:
                writer = (csvio.CsvResultWriter(out, rows.layout, rubrics_by_id)
                          if fmt == "csv" else csvio.JsonLinesWriter(out, rows.layout))
                for item in results:
                    writer.write(item)
                    summary.add(item)
                    if not progress.disable:
                        progress.update(handle.buffer.raw.tell() - progress.n)
                        progress.set_postfix_str(f"{summary.rows} rows", refresh=False)
                summary.blank_rows = rows.blank_rows
                summary.data_lines = rows.data_lines
                if report:   # before the output is renamed into place: all or nothing
                    from .report import render_report

                    html = render_report(summary, source=answers.name)
                    try:
                        atomic_write_text(report, html)
                    except OSError as exc:
                        fail(f"cannot write {report}: {exc.strerror}; nothing was written")
        except csvio.CsvEncodingError as exc:
            fail(f"{exc}; the file may be in another encoding: try --encoding {exc.suggestion}")
        except EssaycheckError as exc:
            fail(f"{exc}; nothing was written")
        except OSError as exc:
            fail(f"cannot write {output}: {exc.strerror}")
    finally:
        handle.close()

    for item in summary.error_rows[:10]:
        click.echo(f"{source}: {item.message}", err=True)
    if summary.failed > 10:
        click.echo(f"... and {summary.failed - 10} more rows with errors (status 'error' in "
                   f"{output})", err=True)
    if not quiet:
        click.echo("\n".join(summary.summary_lines()))
        written = f"Wrote {output}" + (f" and {report}" if report else "") + "."
        click.echo(f"\n{written}")
    sys.exit(1 if summary.failed else 0)


def _marked_options(command):
    """Options shared by ``evaluate`` and ``calibrate``: which columns hold what."""
    for option in reversed([
        click.option("--mark-column", default="mark", show_default=True,
                     help="Column holding the human mark, on the rubric's scale."),
        click.option("--question-column", default="question_id", show_default=True,
                     help="Column holding the question id."),
        click.option("--answer-column", default="answer", show_default=True,
                     help="Column holding the answer."),
        click.option("--encoding", default="utf-8", show_default=True,
                     help="Encoding of the CSV file."),
    ]):
        command = option(command)
    return command


def _read_marked(path, question_column, answer_column, mark_column, encoding,
                 require_mark=True):
    """The rows of a marked CSV file, or the command fails with what is wrong and the fix."""
    from .errors import MarkedFileError
    from .evaluation import read_marked

    try:
        with open(path, encoding=encoding, newline="") as handle:
            return read_marked(handle, str(path), question_column=question_column,
                               answer_column=answer_column, mark_column=mark_column,
                               require_mark=require_mark, encoding=encoding)
    except MarkedFileError as exc:
        fail(str(exc))
    except UnicodeDecodeError as exc:
        fail(f"{path} is not {encoding} text (bad byte at position {exc.start}); "
             "pass --encoding, e.g. --encoding cp1252")
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")


@main.command("evaluate")
@click.argument("marked", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_marked_options
@click.option("--json", "as_json", is_flag=True, help="Print every figure as JSON.")
@rubrics_option
@pipeline_option
def evaluate_command(marked, mark_column, question_column, answer_column, encoding, as_json,
                     rubrics_dir, pipeline) -> None:
    """Score every answer in MARKED (a CSV with human marks) and report agreement.

    Overall and per question: Pearson and Spearman correlation, quadratic weighted kappa,
    exact and adjacent (within one mark) agreement and a confusion matrix; with point:<id>
    columns (1/0, yes/no, covered/partial/missed), each point's precision and recall.
    """
    from .evaluation import evaluate, format_report, json_ready

    rows = _read_marked(marked, question_column, answer_column, mark_column, encoding)
    checker = load_checker(rubrics_dir, pipeline)
    report = evaluate(checker, rows)
    if as_json:
        click.echo(json.dumps(json_ready(report), indent=2, ensure_ascii=False))
    else:
        click.echo(format_report(report))
    if not report["scored"]:
        fail("no answer could be scored against the human marks: check the question ids "
             f"match the rubrics in {rubrics_dir}", 1)


@main.command("calibrate")
@click.argument("marked", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_marked_options
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write every rubric into this folder instead of updating the rubric files "
                   "in place (which keeps each original as <file>.bak).")
@click.option("--force", is_flag=True,
              help="Overwrite existing files in --output, or existing .bak backups.")
@click.option("--weights", is_flag=True,
              help="Also learn point weights (non-negative least squares), not only thresholds.")
@click.option("--dry-run", is_flag=True, help="Report what calibration would do; write nothing.")
@click.option("--suggest", is_flag=True,
              help="Instead of fitting thresholds, suggest keyword changes point by point "
                   "(words of answers the teacher credited and the rubric missed, alternatives "
                   "that fired where the teacher gave no credit), ranked by how many marked "
                   "answers' point verdicts each fixes and breaks. Writes nothing without "
                   "--apply. Reads point:<id> columns (1/0, covered/partial/missed), or only "
                   "the mark.")
@click.option("--apply", "apply_numbers", default=None, metavar="N[,N...]|all",
              help="With --suggest: write these suggestions (their numbers as listed, or "
                   "'all') into the rubric files, keeping each original as <file>.bak; each "
                   "file is edited where the changes go, its comments and layout kept (or, "
                   "where that cannot be done safely, written in full, as the output says).")
@click.option("--limit", default=5, show_default=True, type=click.IntRange(1, 50),
              help="With --suggest: most suggestions per point.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@writable_rubrics_option
@pipeline_option
def calibrate_command(marked, mark_column, question_column, answer_column, encoding, output,
                      force, weights, dry_run, suggest, apply_numbers, limit, as_json,
                      rubrics_dir, pipeline) -> None:
    """Fit each rubric's thresholds to a teacher's marked sample in MARKED.

    Reports the agreement to expect on new answers from cross-validation (never the in-sample
    figure) and writes a calibration only where cross-validation says it helps. With
    --suggest, lists keyword changes learned from the marks instead, and writes the ones
    named by --apply only.
    """
    from .calibration import calibrate_rubrics, format_outcome, outcome_dict
    from .loader import RubricWriteError, load_rubric_file, rubric_files, write_rubrics

    if apply_numbers is not None and not suggest:
        fail("--apply goes with --suggest: it writes the suggestions listed by number")
    if suggest:
        _suggest(marked, mark_column, question_column, answer_column, encoding, output, force,
                 dry_run, apply_numbers, limit, as_json, rubrics_dir, pipeline)
        return
    rows = _read_marked(marked, question_column, answer_column, mark_column, encoding)
    checker = load_checker(rubrics_dir, pipeline)
    known = {row.question_id for row in rows} & set(checker.question_ids)
    if not known:
        fail(f"no question id in {marked} matches a rubric in {rubrics_dir} "
             f"(known: {', '.join(checker.question_ids)})")
    outcome = calibrate_rubrics(checker, rows, weights=weights)
    if as_json:
        click.echo(json.dumps(outcome_dict(outcome), indent=2, ensure_ascii=False))
    else:
        click.echo(format_outcome(outcome))
    if dry_run or not outcome.changed:
        if not as_json:
            click.echo("\nNothing written" + (
                " (--dry-run)." if dry_run else ": no calibration was shown to mark new answers "
                "better than the current rubrics (why: above)."))
        return
    sources = {load_rubric_file(path).id: path for path in rubric_files(rubrics_dir)}
    try:
        written = write_rubrics(outcome.rubrics, outcome.changed, sources, output=output,
                                force=force)
    except RubricWriteError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write the calibrated rubrics: {exc.strerror}")
    if not as_json:
        where = f"into {output}" if output else "in place (originals kept as .bak)"
        click.echo(f"\nWrote {len(written)} rubric file(s) {where}: "
                   f"{', '.join(outcome.changed)} calibrated.")


def _has_column(path: Path, encoding: str, column: str, question_column: str,
                answer_column: str) -> bool:
    """Whether the CSV file's header names this column (a file that cannot be read says
    nothing here: reading it properly reports the problem)."""
    from .csvio import CsvFormatError, CsvInput

    try:
        with open(path, encoding=encoding, newline="") as handle:
            columns = CsvInput(handle, str(path), question_column=question_column,
                               answer_column=answer_column,
                               student_column=None, encoding=encoding).layout.columns
    except (CsvFormatError, OSError, UnicodeDecodeError):
        return True
    return any(c.strip().lower() == column.strip().lower() for c in columns)


def _chosen(apply_numbers: str, count: int) -> list[int]:
    """The suggestion numbers ``--apply`` names, or a clear error."""
    if apply_numbers.strip().lower() == "all":
        return list(range(1, count + 1))
    chosen = []
    for part in apply_numbers.split(","):
        part = part.strip()
        if not part.isdigit() or not 1 <= int(part) <= count:
            listed = f"1 to {count}" if count else "none: there is nothing to apply"
            fail(f"--apply {apply_numbers}: {part!r} is not a suggestion number (listed: "
                 f"{listed}); write e.g. --apply 1,3 or --apply all")
        chosen.append(int(part))
    return chosen


def _suggest(marked, mark_column, question_column, answer_column, encoding, output, force,
             dry_run, apply_numbers, limit, as_json, rubrics_dir, pipeline) -> None:
    """``calibrate --suggest``: list keyword suggestions; write the chosen ones if asked."""
    from .loader import RubricWriteError, load_rubric_file, rubric_files, write_suggestions
    from .suggestions import (
        format_suggestions,
        numbered,
        suggest_all,
        suggestions_dict,
    )

    # the mark is optional here: point:<id> columns alone are enough
    column = mark_column if _has_column(marked, encoding, mark_column, question_column,
                                        answer_column) else None
    rows = _read_marked(marked, question_column, answer_column, column, encoding,
                        require_mark=False)
    if column is None and not any(row.points for row in rows):
        fail(f"{marked} has neither a {mark_column!r} column nor point:<id> columns: the "
             "suggestions need the teacher's marks (or pass --mark-column NAME)")
    checker = load_checker(rubrics_dir, pipeline)
    known = {row.question_id for row in rows} & set(checker.question_ids)
    if not known:
        fail(f"no question id in {marked} matches a rubric in {rubrics_dir} "
             f"(known: {', '.join(checker.question_ids)})")
    report = suggest_all(checker, rows, limit)
    listed = numbered(report)
    chosen = _chosen(apply_numbers, len(listed)) if apply_numbers is not None else []
    data = suggestions_dict(report)
    if not as_json:
        click.echo(format_suggestions(report, checker.rubrics_by_id))
    if not chosen or dry_run:
        if as_json:
            click.echo(json.dumps({**data, "written": []}, indent=2, ensure_ascii=False))
        elif listed:
            click.echo("\nNothing written" + (" (--dry-run)." if dry_run else
                       ": pass --apply with the numbers to write (e.g. --apply 1,3, or "
                       "--apply all)."))
        return
    picked = [suggestion for number, suggestion in listed if number in set(chosen)]
    sources = {load_rubric_file(path).id: path for path in rubric_files(rubrics_dir)}
    try:
        outcome = write_suggestions(list(checker.rubrics), picked, sources, output=output,
                                    force=force)
    except RubricWriteError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write the rubrics: {exc.strerror}")
    if as_json:
        click.echo(json.dumps({**data, "written": [str(p) for p in outcome.written],
                               "applied": sorted(chosen), "rewritten": outcome.rewritten},
                              indent=2, ensure_ascii=False))
        return
    where = f"into {output}" if output else "in place (originals kept as .bak)"
    click.echo(f"\nWrote {len(outcome.written)} rubric file(s) {where}: suggestion(s) "
               f"{', '.join(map(str, sorted(chosen)))} applied.")
    kept = sorted({s.question_id for s in picked} - set(outcome.rewritten))
    if kept:
        click.echo(f"Edited in place, comments and layout kept: {', '.join(kept)}.")
    backup = "" if output else "; the .bak has them"
    for rubric_id, why in sorted(outcome.rewritten.items()):
        click.echo(f"{sources[rubric_id].name}: written in essaycheck's own layout instead "
                   f"(comments and line breaks not kept{backup}): {why}.")


if __name__ == "__main__":  # pragma: no cover
    main()
