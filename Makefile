# modelport: `make demo` runs the main job end to end, `make test` builds .venv from the lock and runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha256sum requirements.lock | cut -c1-16)
PIP_VERSION := 26.3

.PHONY: install lint test test-fast demo lock clean

install: $(STAMP) $(VENV)/.editable

# The lock decides the environment: a changed lock rebuilds .venv from scratch.
$(STAMP): requirements.lock
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check pip==$(PIP_VERSION)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	@if $(BIN)/pip freeze | grep -qi '^nvidia-'; then echo "the lock pulled CUDA packages" >&2; exit 1; fi
	touch $@

# modelport itself, editable; redone when pyproject.toml changes (entry points, package data).
$(VENV)/.editable: $(STAMP) pyproject.toml
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

lint: install
	$(BIN)/ruff check src tests examples bench
	$(BIN)/mypy
	$(BIN)/lint-imports

test: install lint
	bash scripts/run-tests.sh

test-fast: install
	$(BIN)/pytest -q -m "not slow"

demo: install
	$(BIN)/python examples/credit_demo.py

# Re-resolve the lock from pyproject.toml in a scratch venv (pip takes torch's CPU build from disk).
lock:
	rm -rf /tmp/modelport-lock && $(PYTHON) -m venv /tmp/modelport-lock
	/tmp/modelport-lock/bin/pip install --quiet pip==$(PIP_VERSION)
	/tmp/modelport-lock/bin/pip install --quiet -e ".[all,dev]"
	{ head -n 2 requirements.lock; /tmp/modelport-lock/bin/pip freeze --all --exclude-editable | grep -v -e '^-e' -e '^pip=='; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
