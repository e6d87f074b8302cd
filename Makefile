# Two commands for a fresh machine: `make run` (the bot) and `make test` (the suite).
# Without a bot token `make run` starts the playground: the bot on a local chat page.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PLAYGROUND_PORT ?= 8080

.PHONY: run test test-sqlite bench install lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,bench,lint]"
	touch $@

install: $(VENV)/.installed

.env:
	cp .env.example .env

run: install .env
	$(BIN)/newsbot run --playground-if-no-token --playground-port $(PLAYGROUND_PORT)

test: install
	$(BIN)/python -m pytest

test-sqlite: install
	NEWSBOT_TEST_BACKENDS=sqlite $(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache
