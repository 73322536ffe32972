# make run   — set up .venv (first time, or when the lock changed), migrate, seed a demo, serve
#              (make run PORT=8080 HOST=0.0.0.0 to serve elsewhere)
# make test  — the same set-up, then lint, type checks and the tests (coverage gate: 95 %)
# make lint  — ruff, mypy and the import-linter contracts (the layers) only
# make bench — every bench/*.py
# make eval  — NLP scores on the dev data (../shared/data, else tests/data), misses listed
# make lock  — re-resolve requirements*.lock after a change to pyproject.toml (UPGRADE=1: newest)

PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# One lock for every Python 3.11+ and platform, with hashes (docs/operations.md, "Deploying").
LOCK := UV_CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes \
	--quiet $(if $(UPGRADE),--upgrade)

.PHONY: run test lint bench eval install lock

install: $(STAMP)

$(BIN)/python:
	$(PY) -m venv $(VENV)

# Reinstall only when the lock (or pyproject.toml) is newer than the last install: the pinned,
# hash-checked dependencies first, then this project itself without touching them.
$(STAMP): requirements-dev.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@$(BIN)/python -m pip check >/dev/null || { $(BIN)/python -m pip check; \
		echo "requirements-dev.lock is behind pyproject.toml: run make lock"; exit 1; }
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/fuqing db upgrade
	$(BIN)/fuqing demo
	$(BIN)/fuqing serve --host $(HOST) --port $(PORT)

# The runtime lock (the image installs it), then the dev lock held to the same versions.
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(LOCK) -o requirements.lock
	$(LOCK) --extra dev -c requirements.lock -o requirements-dev.lock

# The coverage gate: line coverage of bot, storage and scheduler was 96.0 % when it was set.
test: lint
	$(BIN)/pytest -q --cov --cov-report=term --cov-fail-under=95

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

bench: $(STAMP)
	@for script in bench/*.py; do \
		[ -e "$$script" ] || continue; \
		case "$$script" in bench/_*) continue;; esac; \
		echo "== $$script"; \
		$(BIN)/python "$$script" || exit 1; \
	done

eval: $(STAMP)
	$(BIN)/python -m bot.nlp.evaluate
