# Two commands on a fresh machine (see README): `make run` and `make test`.
# Both create .venv, install CPU torch first (any other torch pulls a multi-GB CUDA build), then the project.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test bench bench-load lint

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: install
	$(BIN)/umkm-bot run

test: install
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q

bench: install
	$(BIN)/python bench/search_bench.py

# Questions from 1, 10 and 100 simulated users through the fake Bot API, then a 10-minute soak (~15 min).
bench-load: install
	HF_HUB_OFFLINE=1 $(BIN)/python bench/load_bench.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/umkm-bot kb lint
