# The two commands that set everything up on a fresh machine:
#   make site   install what the site needs, then build it (validate, render, PDFs, mkdocs, link check)
#   make test   install everything the tests need (Chromium included), then run lint, types and tests
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# CPU build of torch: an unpinned torch pulls several GB of CUDA packages.
TORCH ?= torch==2.13.0
export NO_MKDOCS_2_WARNING := 1

.PHONY: site test install install-test lint typecheck pytest serve clean

site: install
	$(BIN)/kb build

serve: install
	$(BIN)/mkdocs serve

test: install-test lint typecheck pytest

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

install: $(BIN)/python
	./scripts/system-deps.sh site
	$(BIN)/pip install -q -e .

install-test: $(BIN)/python
	./scripts/system-deps.sh test
	$(BIN)/pip install -q "$(TORCH)"
	$(BIN)/pip install -q -e ".[smoke,test,dev]"

lint:
	$(BIN)/ruff check generator tests benchmarks
	$(BIN)/ruff format --check generator tests benchmarks

typecheck:
	$(BIN)/mypy

pytest:
	$(BIN)/pytest -q -p no:cacheprovider -n 2 --dist loadfile

clean:
	rm -rf site artifacts .pytest_cache .mypy_cache .ruff_cache
