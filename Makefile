# Every target bootstraps .venv from the project's own files; only Python >= 3.11 and make are needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test lint bench demo preview clean

install: $(STAMP)

$(STAMP): requirements.txt lambda/requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/hadolint Dockerfile

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -r bench/requirements.txt
	$(BIN)/python -m bench.run --write docs/BENCHMARKS.md

demo: $(STAMP)
	$(BIN)/txsummary demo

# The summary e-mail of transactions.csv as HTML (and a PNG when chromium is installed), in out/.
preview: $(STAMP)
	$(BIN)/python -m txsummary_local.preview transactions.csv --out out/

clean:
	rm -rf $(VENV) out .cache .pytest_cache .mypy_cache .ruff_cache .hypothesis build *.egg-info lambda/*.egg-info
