# factory-console: every target creates .venv when it is missing and installs the project into it.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test sysdeps fuzz lint format screenshots bench bench-quick soak clean help

help:
	@echo "make demo         run the console against the built-in simulated cluster"
	@echo "make test         run the test suite (all but the fuzz and the soak)"
	@echo "make fuzz         fuzz the demo server's API from its OpenAPI document (bounded; CI runs it; FUZZ_EXAMPLES=200 hunts)"
	@echo "make lint         ruff check, ruff format --check, import contracts, mypy --strict"
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

# PYTHONDONTWRITEBYTECODE is emptied for the run: where the environment sets it (this machine's image does), every
# worker and every console the tests start would compile the project, and pytest would rewrite every test module,
# from source each time (collection alone 5.3 s a worker instead of 2.3 s).
test: $(STAMP) sysdeps
	PYTHONDONTWRITEBYTECODE= $(PY) -m pytest -q -n 4 --dist loadfile

# System packages the tests' real peers need (the MQTT broker for Sparkplug B, libsodium for Moonraker's libnacl, the
# headless Chromium that tests/web drive through playwright):
# installed with apt-get when missing and we are root (CI, a fresh machine); otherwise say what to install.
sysdeps:
	@command -v mosquitto >/dev/null 2>&1 || test -x /usr/sbin/mosquitto || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mosquitto) >/dev/null; \
	  else echo "make test needs mosquitto (Debian: sudo apt-get install mosquitto)" >&2; exit 1; fi; }
	@ldconfig -p 2>/dev/null | grep -q 'libsodium\.so\.23' || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libsodium23) >/dev/null; \
	  else echo "the Moonraker tests need libsodium (Debian: sudo apt-get install libsodium23); without it they are skipped" >&2; fi; }
	@command -v chromium-headless-shell >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium-headless-shell) >/dev/null; \
	  else echo "the browser tests of serve-web need chromium-headless-shell (Debian: sudo apt-get install chromium-headless-shell); without it they are skipped" >&2; fi; }

# The fuzz (tests/demo/test_server_fuzz.py): bounded and seeded by default, as CI runs it (about a minute);
# FUZZ_EXAMPLES=200 FUZZ_SEED=1 make fuzz hunts longer, with another seed.
FUZZ_EXAMPLES ?= 25
FUZZ_SEED ?= 20261202
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_SEED=$(FUZZ_SEED) $(PY) -m pytest -q -p no:cacheprovider -m fuzz tests/demo/test_server_fuzz.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

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
