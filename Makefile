# jobcenter.digital: `make run` serves the app with demo data, `make test` runs every check.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
LINT_PATHS := app tests e2e a11y bench
# xdist workers: one server and one Chromium each. `auto` = one per CPU core.
PYTEST_WORKERS ?= auto
PYTEST_ARGS ?=
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CHROMIUM := /usr/bin/chromium

export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint chromium xmlsec1

run: $(VENV)/.installed xmlsec1
	$(PY) -m app migrate --data-dir var
	$(PY) -m app serve --port 8000 --data-dir var --demo

# Lint first, then ONE pytest run (unit, e2e, a11y) even when lint failed, so a run
# shows every problem; the exit status is non-zero if anything failed. pytest's exit
# status 5 (no tests collected) counts as a failure.
test: $(VENV)/.installed-test chromium xmlsec1
	@lint=0; \
	$(VENV)/bin/ruff check $(LINT_PATHS) || lint=1; \
	$(VENV)/bin/ruff format --check $(LINT_PATHS) || lint=1; \
	$(PY) -m pytest tests e2e a11y -n $(PYTEST_WORKERS) --dist load -p no:cacheprovider \
	  $(PYTEST_ARGS); tests=$$?; \
	if [ $$tests -eq 5 ]; then echo "make test: pytest collected no tests"; fi; \
	if [ $$lint -ne 0 ]; then echo "make test: ruff check / ruff format --check failed"; fi; \
	if [ $$tests -ne 0 ] || [ $$lint -ne 0 ]; then exit 1; fi

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/ruff format --check $(LINT_PATHS)

# Debian's Chromium is the browser of the e2e and a11y suites (never a downloaded build).
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	  echo "installing Debian's chromium"; \
	  $(SUDO) apt-get update && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	fi

# xmlsec1 signs and checks SAML messages (pysaml2) for the eID login.
xmlsec1:
	@if ! command -v xmlsec1 >/dev/null; then \
	  echo "installing Debian's xmlsec1"; \
	  $(SUDO) apt-get update && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y xmlsec1; \
	fi

$(PY):
	$(PYTHON) -m venv $(VENV)

# Stamps: reinstall only when pyproject.toml changed.
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PY) -m pip install -e '.[test]'
	touch $@ $(VENV)/.installed
