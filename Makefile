# Afisha: the two commands of the quick start are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint pytest bench chaos fuzz clean catalogs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/afisha demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

pytest: $(STAMP)
	$(BIN)/python -m pytest

test: lint pytest

# Benchmarks and the chaos run against the sandbox (each within 15 minutes on 2 cores); results
# go to bench/results/ and the tables into README.md. Not part of `make test`.
BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): pyproject.toml | $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $(BENCH_STAMP)

# Afisha as a library installs it, without the test and lint tools: the footprint is measured
# here (the tools' libraries would otherwise be loaded by the HTTP client: rich, pygments).
RUN_VENV  := .venv-run
RUN_STAMP := $(RUN_VENV)/.installed

$(RUN_STAMP): pyproject.toml
	$(PYTHON) -m venv $(RUN_VENV)
	$(RUN_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(RUN_VENV)/bin/python -m pip install --quiet -e .
	touch $(RUN_STAMP)

bench: $(BENCH_STAMP) $(RUN_STAMP)
	$(BIN)/python -m bench.run --readme

chaos: $(BENCH_STAMP)
	$(BIN)/python -m bench.chaos --readme

# Every fuzz target with its full budget (over a million generated inputs, two sessions side by
# side), printing the count; `make test` runs a small slice of the same targets.
fuzz: $(STAMP)
	$(BIN)/python -m tests.fuzz.run

clean:
	rm -rf $(VENV) $(RUN_VENV) .pytest_cache .mypy_cache .ruff_cache

# Refresh the translation catalogs after adding or changing messages.
catalogs: $(STAMP)
	$(BIN)/python tools/catalogs.py
