# Two commands for a fresh machine: `make run` (the bot) and `make test` (the suite).
# Without a bot token `make run` starts the playground: the bot on a local chat page.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PLAYGROUND_PORT ?= 8080

.PHONY: run test test-sqlite bench install lint format clean acceptance messages container-test

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
	$(BIN)/python -m pytest -n auto

test-sqlite: install
	NEWSBOT_TEST_BACKENDS=sqlite $(BIN)/python -m pytest -n auto

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# After changing user-facing text: refresh the template and merge it into every catalog.
messages: install
	$(BIN)/pybabel --quiet extract -F babel.cfg --project=newsbot --no-location --sort-output --add-comments=Translators: \
		-o bot/locales/messages.pot bot handlers jobs
	$(BIN)/pybabel --quiet update -i bot/locales/messages.pot -d bot/locales -D messages \
		--no-fuzzy-matching --ignore-obsolete

bench: install
	$(BIN)/python -m bench

# `newsbot run` against the third-party Bot API emulator telegram-test-api (needs node, npm).
# About three minutes, most of it waiting for a real digest time: not part of `make test`.
acceptance/node_modules/.package-lock.json: acceptance/package-lock.json
	cd acceptance && npm ci --no-audit --no-fund

acceptance: install acceptance/node_modules/.package-lock.json
	$(BIN)/python -m acceptance.run

# The Dockerfile built with podman from a bare Debian base and run as operators run it
# (needs root, podman, runc, mmdebstrap); a minute or two, the first run a few more.
container-test:
	bash .ci/container-test

clean:
	rm -rf $(VENV) .pytest_cache
