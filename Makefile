# migralex — set up, demo, test, benchmark. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CORPUS ?= ../shared/corpus
STORE ?= store
PORT ?= 8501
STAMP := $(VENV)/.installed

.PHONY: setup demo ingest serve test lint bench clean screenshots

setup: $(STAMP)

$(STAMP): pyproject.toml
	# Tesseract (OCR of scanned PDF pages); Debian packages, installed where missing
	command -v tesseract >/dev/null || { command -v apt-get >/dev/null && \
	  (apt-get update -qq && apt-get install -y -qq tesseract-ocr tesseract-ocr-fra tesseract-ocr-spa) \
	  || echo "warning: tesseract not installed; scanned PDFs cannot be OCR'd"; }
	# Chromium (the browser journeys of tests/ui/test_browser.py; Playwright drives Debian's
	# chromium, no browser download); installed where missing, the journeys skip without it
	command -v chromium >/dev/null || { command -v apt-get >/dev/null && \
	  (apt-get update -qq && apt-get install -y -qq chromium fonts-noto-color-emoji) \
	  || echo "warning: chromium not installed; the browser journeys will be skipped"; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# exactly this torch: the local CPU wheel (any other version pulls GBs of CUDA)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

ingest: setup
	$(BIN)/migralex ingest $(CORPUS) --store $(STORE)
	$(BIN)/migralex stats --store $(STORE)

serve: setup
	$(BIN)/migralex serve --store $(STORE) --port $(PORT)

demo: ingest serve

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: setup lint
	$(BIN)/python -m pytest

# Screenshots of each page for the README, taken by the browser journeys (small test store)
screenshots: setup
	SCREENSHOTS_DIR=docs/screenshots $(BIN)/python -m pytest -q tests/ui/test_browser.py

bench: setup
	test -f $(STORE)/migralex.sqlite || $(BIN)/migralex ingest $(CORPUS) --store $(STORE)
	# the experimental cross-encoder (off by default in search), for the +ranker benchmark rows
	test -f $(STORE)/ranker/card.json || $(BIN)/migralex train-ranker --kind cross-encoder --store $(STORE)
	# the domain-adapted bi-encoder (search uses it when present; --no-adapted measures without)
	test -f $(STORE)/encoder/card.json || $(BIN)/migralex train-ranker --kind encoder --store $(STORE)
	$(BIN)/python -m migralex.evaluation.retrieval --store $(STORE) --no-adapted --no-ranker
	$(BIN)/python -m migralex.evaluation.segmentation --corpus $(CORPUS) --quiet
	$(BIN)/python -m migralex.evaluation.tagging --corpus $(CORPUS)
	$(BIN)/python -m migralex.evaluation.retrieval --store $(STORE)
	$(BIN)/python -m migralex.evaluation.checklist --store $(STORE) --corpus $(CORPUS)
	$(BIN)/python -m migralex.evaluation.speed --corpus $(CORPUS) --store $(STORE)
	$(BIN)/python -m migralex.evaluation.robustness

clean:
	rm -rf $(STORE) .pytest_cache .mypy_cache .ruff_cache
