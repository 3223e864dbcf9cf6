"""The ``essaycheck`` command line: a thin edge over the core.

Each command parses its input, calls the core, prints, and turns the core's own exceptions
into messages on stderr with a non-zero exit code.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .errors import EssaycheckError, RubricError

DEFAULT_RUBRICS = "rubric"

rubrics_option = click.option(
    "--rubrics", "rubrics_dir", default=DEFAULT_RUBRICS, show_default=True,
    type=click.Path(file_okay=True, dir_okay=True, path_type=Path),
    help="Folder of rubric .yaml files.")
pipeline_option = click.option(
    "--pipeline", default=None, envvar="ESSAYCHECK_PIPELINE",
    help="spaCy pipeline: 'blank:en' (default, no download) or an installed one such as "
         "en_core_web_sm.")


def fail(message: str, code: int = 2) -> None:
    """Print an error for the user and exit."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def load_checker(rubrics_dir: Path, pipeline: str | None):
    """A fitted Checker for the rubric folder, or a clear error and exit."""
    from .checker import Checker

    try:
        return Checker.from_directory(rubrics_dir, pipeline=pipeline)
    except RubricError as exc:
        fail(f"the rubrics in {rubrics_dir} are not valid:\n{exc}\n"
             f"Run 'essaycheck rubric check {rubrics_dir}' for details.")
    except EssaycheckError as exc:
        fail(str(exc))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="essaycheck")
def main() -> None:
    """Rubric-based feedback on written answers: which points an answer makes and misses."""


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
@click.option("--max-score", type=float, default=None, help="Marks available (default: one per point).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the YAML here instead of standard output.")
@click.option("--force", is_flag=True, help="Overwrite an existing output file.")
@pipeline_option
def rubric_extract(rubric_id, question, model_answer, contexts, max_score, output, force,
                   pipeline) -> None:
    """Draft a rubric from a model answer, for a teacher to edit."""
    from .analysis import Analyzer, build_pipeline
    from .extract import draft_rubric
    from .rubric import dump_rubric

    texts = []
    for path in (model_answer, *contexts):
        try:
            texts.append(path.read_text(encoding="utf-8-sig"))
        except UnicodeDecodeError as exc:
            fail(f"{path} is not UTF-8 text (bad byte at position {exc.start}); save it as UTF-8")
    if output is not None and output.exists() and not force:
        fail(f"{output} exists; pass --force to overwrite it")
    try:
        draft = draft_rubric(rubric_id, question, texts[0], Analyzer(build_pipeline(pipeline)),
                             context=texts[1:], max_score=max_score)
    except EssaycheckError as exc:
        fail(str(exc))
    text = dump_rubric(draft)
    if output is None:
        click.echo(text, nl=False)
    else:
        from .files import atomic_write_text

        atomic_write_text(output, text)
        click.echo(f"Wrote a draft rubric with {len(draft.points)} points to {output}; "
                   "edit it, then run 'essaycheck rubric check'.", err=True)


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


if __name__ == "__main__":  # pragma: no cover
    main()
