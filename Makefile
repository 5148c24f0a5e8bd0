# newsaudit: `make help` lists the targets. Every target creates .venv and installs the project first.
.DEFAULT_GOAL := help
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
export DVC_NO_ANALYTICS := 1
# Stages call `newsaudit`, so the venv's bin must come first on PATH for dvc.
export PATH := $(CURDIR)/$(BIN):$(PATH)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name newsaudit --display-name "Python (newsaudit)" >/dev/null
	touch $@

.PHONY: help install repro test test-fast lint lab clean-venv
help: ## Show this help
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-12s %s\n", $$1, $$2}'

install: $(INSTALLED) ## Create .venv (if missing) and install the project with its dev tools

repro: $(INSTALLED) ## Run the whole DVC pipeline (fetch, ingest, ...) on the default data
	$(BIN)/dvc repro

test: repro ## Reproduce the pipeline, then run the whole test suite (what CI runs)
	$(BIN)/pytest

test-fast: $(INSTALLED) ## Run the tests that need no pipeline outputs and are not marked slow
	$(BIN)/pytest -m "not slow and not pipeline"

lint: $(INSTALLED) ## ruff over the package and the tests
	$(BIN)/ruff check src tests

lab: $(INSTALLED) ## Open JupyterLab with the project's kernel ("Python (newsaudit)")
	$(BIN)/jupyter lab notebooks/

clean-venv: ## Remove .venv (the next target recreates it)
	rm -rf $(VENV)
