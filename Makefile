# Every target bootstraps .venv from the project's own files; only Python >= 3.11 and make are needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test lint bench demo preview lock clean

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

# The e-mail FILE would send (its rejection e-mail if it is rejected): out/<name>.html and .eml,
# and, when chromium is installed, out/<name>-phone.png (375 px) and out/<name>-desktop.png.
FILE ?= transactions.csv
preview: $(STAMP)
	$(BIN)/python -m txsummary_local.preview "$(FILE)" --out out/

# The image's lock: every transitive runtime dependency pinned with its hashes, resolved from
# lambda/requirements.txt. Run it after changing a pin there; the Dockerfile installs the lock.
lock: $(STAMP)
	$(BIN)/pip-compile --quiet --allow-unsafe --generate-hashes --no-emit-index-url --strip-extras \
		--output-file=lambda/requirements.lock lambda/requirements.txt

clean:
	rm -rf $(VENV) out .cache .pytest_cache .mypy_cache .ruff_cache .hypothesis build *.egg-info lambda/*.egg-info
