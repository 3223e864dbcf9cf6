"""loader: the one module that opens rubric files, reading a folder and writing back."""

from __future__ import annotations

import pytest

from essaycheck import RubricError, dump_rubric
from essaycheck.loader import (
    RubricWriteError,
    check_directory,
    load_directory,
    load_rubric_file,
    rubric_files,
    save_rubric,
    write_rubrics,
)
from essaycheck.rubric import MAX_RUBRIC_BYTES


def write(folder, name: str, rubric) -> object:
    path = folder / name
    path.write_text(dump_rubric(rubric), encoding="utf-8")
    return path


def test_rubric_files_are_the_yaml_files_sorted(tmp_path, make_rubric):
    for name in ("b.yml", "a.yaml", "notes.txt", "c.yaml.bak"):
        (tmp_path / name).write_text("x")
    assert [p.name for p in rubric_files(tmp_path)] == ["a.yaml", "b.yml"]
    assert rubric_files(tmp_path / "a.yaml") == [tmp_path / "a.yaml"]   # a file on its own


@pytest.mark.parametrize("setup, message, fix", [
    (lambda folder: folder / "missing", "no such directory", "pass the folder"),
    (lambda folder: folder, "holds no rubric files", "rubric extract"),
])
def test_a_folder_without_rubrics_is_named_with_a_fix(tmp_path, setup, message, fix):
    with pytest.raises(RubricError) as caught:
        rubric_files(setup(tmp_path))
    text = str(caught.value)
    assert message in text and fix in text


def test_a_file_too_large_is_refused_without_reading_it_all(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"#" * (MAX_RUBRIC_BYTES + 10))
    with pytest.raises(RubricError) as caught:
        load_rubric_file(path)
    assert "huge.yaml" in str(caught.value)


def test_check_directory_collects_every_problem_and_keeps_the_valid_rubrics(tmp_path,
                                                                          make_rubric):
    write(tmp_path, "a.yaml", make_rubric())
    write(tmp_path, "b.yaml", make_rubric())            # the same id again
    (tmp_path / "c.yaml").write_text("id: c\nquestion: Q?\n", encoding="utf-8")
    rubrics, problems = check_directory(tmp_path)
    assert [r.id for r in rubrics] == ["plants"]
    where = {(p.source.rsplit("/", 1)[-1], p.field) for p in problems}
    assert ("b.yaml", "id") in where
    assert any(source == "c.yaml" for source, _ in where)
    with pytest.raises(RubricError):
        load_directory(tmp_path)


def test_write_rubrics_in_place_keeps_a_backup_and_never_overwrites_it_unasked(tmp_path,
                                                                                 make_rubric):
    source = write(tmp_path, "plants.yaml", make_rubric())
    changed = make_rubric(max_score=4)
    assert write_rubrics([changed], ["plants"], {"plants": source}) == [source]
    assert load_rubric_file(source).max_score == 4
    assert load_rubric_file(tmp_path / "plants.yaml.bak").max_score == 2
    with pytest.raises(RubricWriteError, match="--force"):
        write_rubrics([changed], ["plants"], {"plants": source})
    write_rubrics([make_rubric(max_score=5)], ["plants"], {"plants": source}, force=True)
    assert load_rubric_file(source).max_score == 5


def test_write_rubrics_to_another_folder_copies_the_unchanged_ones(tmp_path, make_rubric):
    first = write(tmp_path, "plants.yaml", make_rubric())
    second = write(tmp_path, "soil.yaml", make_rubric(id="soil"))
    out = tmp_path / "calibrated"
    written = write_rubrics([make_rubric(max_score=4), make_rubric(id="soil")], ["plants"],
                            {"plants": first, "soil": second}, output=out)
    assert sorted(p.name for p in written) == ["plants.yaml", "soil.yaml"]
    assert load_rubric_file(out / "plants.yaml").max_score == 4
    assert (out / "soil.yaml").read_bytes() == second.read_bytes()
    with pytest.raises(RubricWriteError, match="the rubric folder itself"):
        write_rubrics([make_rubric()], ["plants"], {"plants": first}, output=tmp_path,
                      force=True)


def test_save_rubric_replaces_the_file_holding_the_id_with_a_backup(tmp_path, make_rubric):
    existing = write(tmp_path, "my-plants-question.yaml", make_rubric())
    saved = save_rubric(tmp_path, make_rubric(max_score=3))
    assert saved == existing                      # no second file with the same id
    assert load_rubric_file(saved).max_score == 3
    assert (tmp_path / "my-plants-question.yaml.bak").exists()
    new = save_rubric(tmp_path, make_rubric(id="soil"))
    assert new == tmp_path / "soil.yaml"


@pytest.mark.parametrize("bad_id", ["../escape", "a/b", "", "UPPER", ".hidden"])
def test_save_rubric_refuses_an_id_that_is_not_a_file_name_inside_the_folder(tmp_path,
                                                                              make_rubric,
                                                                              bad_id):
    rubric = make_rubric()
    object.__setattr__(rubric, "id", bad_id)      # as a hand-built or forged rubric might be
    with pytest.raises(RubricWriteError, match="not a valid rubric id"):
        save_rubric(tmp_path, rubric)
    assert list(tmp_path.iterdir()) == []
