# Every target works on a fresh machine that has only Python 3.11 and make.
PYTHON ?= python3.11
POETRY_VERSION ?= 2.5.1
VENV := .venv
TOOLS := .tools
POETRY := $(TOOLS)/bin/poetry
BIN := $(VENV)/bin
export POETRY_NO_INTERACTION := 1

.PHONY: install relock run test check lint format typecheck bench clean

install: $(VENV)/.installed

# Dependencies come from poetry.lock, pinned and hash-checked, installed by pip
# (docs/decisions/0002-poetry-lock-and-pip-install.md); `make relock` re-resolves.
$(VENV)/.installed: pyproject.toml poetry.lock scripts/lock_requirements.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python scripts/lock_requirements.py --groups main,dev > $(VENV)/requirements.lock.txt
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(VENV)/requirements.lock.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

$(POETRY):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "poetry==$(POETRY_VERSION)"

relock: $(POETRY)
	bash scripts/relock.sh

# The product's main job with an embedded default: the whole system on this machine:
# central (embedded PostgreSQL), two station agents syncing to it, two simulated stations.
# `lta-agent demo` runs one agent alone.
run: install
	$(BIN)/lta-central demo

test: install
	bash scripts/test.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: install
	$(BIN)/mypy

check: lint typecheck test

bench: install
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache .coverage* htmlcov

.PHONY: build build-test

# PyInstaller and its helpers: the lock's optional "build" group, only for `make build`.
$(VENV)/.installed-build: $(VENV)/.installed poetry.lock
	$(BIN)/python scripts/lock_requirements.py --groups build > $(VENV)/requirements.build.txt
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(VENV)/requirements.build.txt
	touch $@

# The agent as a one-folder app (build/out/lta-agent/) and the Linux package that
# installer/linux/install.sh installs from (docs/install.md, docs/decisions/0009).
build: $(VENV)/.installed-build
	bash build/build.sh

# Builds, installs into a temporary root, runs the frozen agent on a real station file,
# restarts it from another directory (no recompile), upgrades and uninstalls it.
build-test: build
	$(BIN)/python build/smoke_test.py
