# essaycheck: the two commands a new user needs are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install run serve test lint check-rubrics eval eval-seed bench clean

# A virtual environment with essaycheck (editable) and the test tools; redone when
# pyproject.toml changes.
$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed

# The main job: the student page on http://$(HOST):$(PORT) with the shipped rubrics.
run: install
	$(BIN)/essaycheck serve --host $(HOST) --port $(PORT) --rubrics rubric

serve: run

# Every test, on as many worker processes as there are cores (at most 4: each builds its own
# spaCy pipeline and checker); a test file stays on one worker, so its module fixtures (the
# wheel, a served app) are built once. One file alone: $(BIN)/python -m pytest tests/test_x.py
test: install
	$(BIN)/python -m pytest -n auto --maxprocesses 4 --dist loadfile

# Style and types: ruff and mypy, both configured in pyproject.toml (which also says which
# folders mypy checks).
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

check-rubrics: install
	$(BIN)/essaycheck rubric check rubric

eval: install
	$(BIN)/python scripts/eval_report.py
	$(BIN)/python scripts/seed_eval.py

# Agreement with a teacher's marks on the seed questions: the development set drafting's
# choices are made on (tests/data/seed-dev.csv), then the test set (tests/data/seed-marked.csv).
eval-seed: install
	$(BIN)/python scripts/seed_eval.py --data tests/data/seed-dev.csv
	$(BIN)/python scripts/seed_eval.py

bench: install
	$(BIN)/python scripts/bench.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache test-artifacts
