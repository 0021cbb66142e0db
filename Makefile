# Everything a fresh machine needs (Python 3.11+, nothing else): a virtualenv in .venv with the
# pinned dependencies, then the command.
#   make demo    a whole sandbox campaign, end to end (ARGS="--leads FILE --report PATH ...")
#   make test    the test suite (needs PostgreSQL and Redis on 127.0.0.1, see README; installs
#                Debian's Chromium for the browser tests when it is missing: `make browser`)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint install browser clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/dialer demo $(ARGS)

# tests/browser drives Debian's Chromium (no browser download: Playwright is told where it is).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium; }

test: $(STAMP) browser
	$(BIN)/python -m pytest -q $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python tools/code_sizes.py

clean:
	rm -rf $(VENV) .dialer demo-report.json
