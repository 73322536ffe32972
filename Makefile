# make run   — set up .venv (first time, or when pyproject.toml changed), migrate, seed a demo, serve
# make test  — the same set-up, then lint, type checks and the tests
# make lint  — ruff and mypy only
# make bench — every bench/*.py
# make eval  — NLP scores on the dev data (../shared/data, else tests/data), misses listed

PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench eval install

install: $(STAMP)

$(BIN)/python:
	$(PY) -m venv $(VENV)

# Reinstall only when pyproject.toml is newer than the last install.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/fuqing db upgrade
	$(BIN)/fuqing demo
	$(BIN)/fuqing serve

test: lint
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP)
	@for script in bench/*.py; do \
		[ -e "$$script" ] || continue; \
		case "$$script" in bench/_*) continue;; esac; \
		echo "== $$script"; \
		$(BIN)/python "$$script" || exit 1; \
	done

eval: $(STAMP)
	$(BIN)/python -m bot.nlp.evaluate
