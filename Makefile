# factory-console: every target creates .venv when it is missing and installs the project into it.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint format screenshots bench bench-quick soak clean help

help:
	@echo "make demo         run the console against the built-in simulated cluster"
	@echo "make test         run the whole test suite"
	@echo "make lint         ruff check, ruff format --check, import contracts"
	@echo "make screenshots  write SVG screenshots of the main screens to screenshots/"
	@echo "make bench        run the benchmarks (bench-quick: under 2 minutes)"
	@echo "make soak         the 30-minute soak test"

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/factory-console --demo

test: $(STAMP)
	$(PY) -m pytest -q -n 2 --dist loadfile

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

screenshots: $(STAMP)
	$(PY) -m console.screenshots screenshots

bench: $(STAMP)
	$(PY) -m benchmarks.run

bench-quick: $(STAMP)
	$(PY) -m benchmarks.run --quick

soak: $(STAMP)
	$(PY) -m pytest -q -m soak -p no:cacheprovider --timeout=0

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
