# Two commands: `make run` (install + start the app on the built-in sandbox) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
PORT   ?= 8501

.PHONY: run test test-ducklake install install-dev bench snapshot clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(BIN)/python -m tower --server.port $(PORT)

test: install-dev
	bash scripts/ensure_chromium.sh
	$(BIN)/python -m pytest -q -n 2 --durations=15
	$(MAKE) test-ducklake

# DuckLake store on a real PostgreSQL, in its own venv (DuckDB 1.5.5 + extension wheels: docs/ducklake.md)
test-ducklake:
	PYTHON=$(PYTHON) bash scripts/test_ducklake.sh

bench: install-dev
	$(BIN)/python -m bench

snapshot: install
	$(BIN)/python -m connectors snapshot

clean:
	rm -rf $(VENV) data test-artifacts .pytest_cache
