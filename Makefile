# The two commands a new machine needs:
#   make run    set up everything, build the demo project from corpus/, run the pipeline, say how to explore
#   make test   set up everything the tests need (PostgreSQL, Chromium, axe-core) and run the whole suite
PYTHON ?= python3
VENV ?= .venv
DEMO ?= demo-project
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test install install-dev explore bench evaluate lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# torch comes first from the machine's CPU build, and is pinned again so nothing pulls a CUDA build.
.stamp-install: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e . torch==2.13.0
	$(BIN)/python -m narratives.discovery.compiled  # UMAP compiled once, kept for every later process
	touch $@

.stamp-install-dev: .stamp-install
	$(BIN)/pip install -q -e '.[dev]' torch==2.13.0
	touch $@

install: .stamp-install
install-dev: .stamp-install-dev

run: install
	$(BIN)/narratives demo $(DEMO) --pipeline pipelines/demo.toml

explore: install
	$(BIN)/narratives explore $(DEMO)

test: install-dev
	bash scripts/test.sh

bench: install
	$(BIN)/narratives bench

evaluate: install
	$(BIN)/narratives evaluate --codebook models/codebooks/nhs-fft.yaml \
		--gold evals/data/nhs_fft_dev/comments.csv --where substantive=True

lint: install-dev
	$(BIN)/ruff check narratives tests app.py
	$(BIN)/ruff format --check narratives tests app.py
	$(BIN)/mypy narratives

clean:
	rm -rf $(DEMO) test-output .stamp-install .stamp-install-dev
