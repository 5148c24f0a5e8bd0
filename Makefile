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
# NumPy, OpenBLAS and Arrow held to their AVX2 kernels, as src/newsaudit/__init__.py does for the
# `newsaudit` command: the same floating-point bytes on AVX2 and AVX-512 machines, here also for
# pytest and the notebooks' kernels (which may load NumPy before newsaudit).
ifneq ($(shell grep -qw avx2 /proc/cpuinfo 2>/dev/null && grep -qw fma /proc/cpuinfo && echo yes),)
export NPY_DISABLE_CPU_FEATURES ?= X86_V4 AVX512_ICL AVX512_SPR
export OPENBLAS_CORETYPE ?= Haswell
export ARROW_USER_SIMD_LEVEL ?= AVX2
endif

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name newsaudit --display-name "Python (newsaudit)" >/dev/null
	touch $@

.PHONY: help install repro test test-fast lint check-repro ci lab notebooks explore bench plots clean-venv
help: ## Show this help
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-12s %s\n", $$1, $$2}'

install: $(INSTALLED) ## Create .venv (if missing) and install the project with its dev tools

repro: $(INSTALLED) ## Run the whole DVC pipeline (fetch, ingest, ...) on the default data
	$(BIN)/dvc repro

NBVAL := --nbval --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg
NOTEBOOKS := $(wildcard notebooks/*.ipynb)

test: repro ## Reproduce the pipeline, then run the whole test suite and re-check the notebooks (nbval; CI runs this)
	$(BIN)/pytest tests notebooks $(NBVAL)

# Tracked results a fresh `make repro` must reproduce byte for byte.
TRACKED_RESULTS := dvc.lock reports/metrics reports/tables reports/plots models/line_model.json notebooks

check-repro: $(INSTALLED) ## After `make repro`: a second `dvc repro` has nothing to do and the tracked results equal the commit
	@$(BIN)/dvc repro 2>&1 | tee .dvc/tmp/second-repro.log | tail -3
	@grep -q "Data and pipelines are up to date" .dvc/tmp/second-repro.log || \
	    { echo "check-repro: a second dvc repro ran stages (see .dvc/tmp/second-repro.log)"; exit 1; }
	@changed=$$(git status --porcelain -- $(TRACKED_RESULTS)); \
	if [ -n "$$changed" ]; then echo "check-repro: a fresh repro differs from the commit:"; echo "$$changed"; \
	    git --no-pager diff --stat -- $(TRACKED_RESULTS); git --no-pager diff -U6 -- $(TRACKED_RESULTS) | head -80; exit 1; fi
	@echo "check-repro: nothing to rerun; tracked results equal the commit"

ci: ## What CI runs (.ci/run): lint, the pipeline and every test with no unexplained skip, then check-repro
	$(MAKE) lint
	NEWSAUDIT_NO_SKIPS=1 $(MAKE) test
	$(MAKE) check-repro

test-fast: $(INSTALLED) ## Run the tests that need no pipeline outputs and are not marked slow
	$(BIN)/pytest -m "not slow and not pipeline"

lint: $(INSTALLED) ## ruff, and the import contracts of the layers (import-linter; see docs/architecture.md)
	$(BIN)/ruff check src tests scripts
	$(BIN)/lint-imports

notebooks: repro ## Re-execute the notebooks in place (after results legitimately change) and export them to reports/
	$(BIN)/python notebooks/conftest.py  # the example audit notebook 04 opens
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.kernel_name=newsaudit $(NOTEBOOKS)
	$(BIN)/jupyter nbconvert --to html --no-input --template-file src/newsaudit/templates/nbconvert_offline.html.j2 \
	    --output-dir reports $(NOTEBOOKS)

explore: $(INSTALLED) ## Walk through an audit: make explore AUDIT=DIR writes DIR/explore.ipynb and DIR/explore.html
	@test -n "$(AUDIT)" && test -f "$(AUDIT)/summary.json" || { echo "usage: make explore AUDIT=DIR (a folder written by newsaudit audit CORPUS --out DIR)"; exit 2; }
	NEWSAUDIT_AUDIT="$(abspath $(AUDIT))" $(BIN)/jupyter nbconvert --to notebook --execute --ExecutePreprocessor.kernel_name=newsaudit \
	    --output-dir "$(AUDIT)" --output explore notebooks/04-explore-an-audit.ipynb
	$(BIN)/jupyter nbconvert --to html --no-input --template-file src/newsaudit/templates/nbconvert_offline.html.j2 \
	    --output-dir "$(AUDIT)" "$(AUDIT)/explore.ipynb"

bench: repro ## Throughput/memory benchmark at 10k, 100k and 1M pages vs datasketch/rensa/datatrove (~1.5 h) -> reports/metrics/benchmark.json
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/newsaudit bench

plots: repro ## Render the DVC plots to dvc_plots/index.html (offline template)
	$(BIN)/dvc plots show

lab: $(INSTALLED) ## Open JupyterLab with the project's kernel ("Python (newsaudit)")
	$(BIN)/jupyter lab notebooks/

clean-venv: ## Remove .venv (the next target recreates it)
	rm -rf $(VENV)
