"""Atomic output files: whole or nothing, with ordinary permissions."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from essaycheck.files import atomic_write_text, atomic_writer, stale_temporaries


def test_failed_write_leaves_no_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.csv"
    with pytest.raises(RuntimeError):
        with atomic_writer(target) as handle:
            handle.write("half")
            raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_new_file_gets_the_umask_mode_and_a_replaced_file_keeps_its_mode(tmp_path):
    old = os.umask(0o022)
    try:
        target = tmp_path / "new.txt"
        atomic_write_text(target, "x")
        assert stat.S_IMODE(target.stat().st_mode) == 0o644
        target.chmod(0o600)
        atomic_write_text(target, "y")
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        assert target.read_text() == "y"
    finally:
        os.umask(old)


def test_a_temporary_left_by_a_killed_run_is_removed_by_the_next_run(tmp_path):
    import subprocess
    import sys

    # a process that has ended: its id names a temporary that nobody is writing any more
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    stale = tmp_path / f".out.csv.{int(dead.stdout)}.abcd1234.tmp"
    stale.write_text("half of a killed run")
    alive = tmp_path / f".out.csv.{os.getppid()}.efgh5678.tmp"   # a run still going
    alive.write_text("being written")
    other = tmp_path / f".other.csv.{int(dead.stdout)}.abcd1234.tmp"
    other.write_text("another output's")
    assert stale_temporaries(tmp_path / "out.csv") == [stale]
    atomic_write_text(tmp_path / "out.csv", "done")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["out.csv", alive.name, other.name])


def test_temporaries_are_named_for_their_output_and_process(tmp_path):
    with atomic_writer(tmp_path / "results.csv") as handle:
        name = Path(handle.name).name
        assert name.startswith(f".results.csv.{os.getpid()}.") and name.endswith(".tmp")
