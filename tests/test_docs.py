"""The README documents the command line: every command and every option of ``essaycheck``
appears in ``--help`` and in README.md (as sqlite-utils' docs tests do)."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from essaycheck import cli

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def commands(group: click.Group = cli.main, prefix: tuple[str, ...] = ()):
    """Every command below the ``essaycheck`` group, as its words, with the command."""
    for name, command in sorted(group.commands.items()):
        words = (*prefix, name)
        if command.hidden:
            continue
        if isinstance(command, click.Group):
            yield from commands(command, words)
        else:
            yield words, command


COMMANDS = list(commands())
OPTIONS = [(words, option) for words, command in COMMANDS for param in command.params
           if isinstance(param, click.Option) and not param.hidden
           for option in param.opts if option.startswith("--") and option != "--help"]


def test_the_cli_has_the_commands_a_user_is_told_about():
    names = {" ".join(words) for words, _ in COMMANDS}
    assert {"check", "score", "serve", "evaluate", "calibrate", "rubric check",
            "rubric extract"} <= names


@pytest.mark.parametrize("words", [w for w, _ in COMMANDS], ids=" ".join)
def test_every_command_is_in_the_readme(words):
    assert f"essaycheck {' '.join(words)}" in README, (
        f"README.md never shows `essaycheck {' '.join(words)}`: document the command")


@pytest.mark.parametrize("words, option", OPTIONS, ids=lambda v: " ".join(v)
                         if isinstance(v, tuple) else v)
def test_every_option_is_in_its_help_and_in_the_readme(words, option):
    result = CliRunner().invoke(cli.main, [*words, "--help"])
    assert result.exit_code == 0, result.output
    assert option in result.output, f"`essaycheck {' '.join(words)} --help` omits {option}"
    assert f"`{option}" in README or f"{option} " in README or f"{option}=" in README, (
        f"README.md never mentions {option} (of `essaycheck {' '.join(words)}`): say what "
        "it does where the command is described")
