# mapsite — everyday commands.
#
#   make run         set up .venv, migrate, seed the demo and run web + worker + beat
#   make test        lint, format check and the whole test suite
#   make screenshots retake the README's screenshots from a fresh demo (needs Chromium)
#
# The virtual environment in .venv is made with the first Python 3.12+ found
# (override with PYTHON=/path/to/python3) and re-installed when pyproject.toml changes.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV        := .venv
VENV_PY     := $(VENV)/bin/python
STAMP       := $(VENV)/.installed
DATA_DIR    := $(if $(MAPSITE_DATA_DIR),$(MAPSITE_DATA_DIR),var)
ARGS        ?=
PYTEST_ARGS ?=
CHROMIUM    ?= /usr/bin/chromium
LIGHTHOUSE  ?= lighthouse

.PHONY: help run test lint fmt clean reset-data venv screenshots lighthouse

help:
	@echo "make run         set up, migrate, seed the demo and run mapsite at http://127.0.0.1:8000"
	@echo "make test        ruff check, ruff format --check and pytest (make test ARGS='-k plan')"
	@echo "make lint        ruff check and ruff format --check"
	@echo "make fmt         fix what ruff can and format the code"
	@echo "make screenshots retake docs/screenshots/*.png from a fresh demo in a throwaway data dir"
	@echo "                 (Chromium at /usr/bin/chromium, or CHROMIUM=/path/to/chromium)"
	@echo "make lighthouse  Lighthouse's accessibility score (mobile) of the main pages on a throwaway demo"
	@echo "                 (needs Lighthouse: LIGHTHOUSE=/path/to/lighthouse, and Chromium)"
	@echo "make clean       remove collected static files and caches (never the database)"
	@echo "make reset-data  delete $(DATA_DIR)/ entirely: database, secret key, queue (asks first)"

venv: $(STAMP)

# Finds a Python 3.12+ to build .venv with; PYTHON=... overrides the search.
# Candidates on PATH may be pyenv shims that refuse to run, so each is tried for real.
$(STAMP): pyproject.toml
	@set -e; \
	is_ok() { "$$1" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; }; \
	if [ -x "$(VENV_PY)" ] && ! is_ok "$(VENV_PY)"; then \
		echo "$(VENV) is not Python 3.12+ (or is broken); making it again"; rm -rf "$(VENV)"; \
	fi; \
	if [ ! -x "$(VENV_PY)" ]; then \
		if [ -n "$(PYTHON)" ]; then \
			is_ok "$(PYTHON)" || { echo "PYTHON=$(PYTHON) is not a working Python 3.12+." >&2; exit 1; }; \
			py="$(PYTHON)"; \
		else \
			roots="$$HOME/.pyenv /root/.pyenv"; \
			if command -v pyenv >/dev/null 2>&1; then roots="$$(pyenv root) $$roots"; fi; \
			py=""; \
			cands="python3.13 python3.12"; \
			for v in 3.13 3.12; do for r in $$roots; do cands="$$cands $$(ls -d "$$r"/versions/$$v*/bin/python3 2>/dev/null | sort -V -r | tr '\n' ' ')"; done; done; \
			for c in $$cands python3.14 python3; do \
				if is_ok "$$c"; then py="$$c"; break; fi; \
			done; \
			if [ -z "$$py" ]; then \
				echo "mapsite needs Python 3.12 or newer and none was found (tried python3.13," >&2; \
				echo "python3.12, pyenv versions 3.13/3.12, python3). Install one, or point to it:" >&2; \
				echo "  make $(MAKECMDGOALS) PYTHON=/path/to/python3.12" >&2; \
				exit 1; \
			fi; \
		fi; \
		echo "Creating $(VENV) with $$("$$py" -c 'import sys; print(sys.executable, sys.version.split()[0])')"; \
		"$$py" -m venv "$(VENV)"; \
	fi; \
	echo "Installing dependencies from pyproject.toml into $(VENV)"; \
	"$(VENV_PY)" -m pip install --quiet --disable-pip-version-check ".[dev]"; \
	rm -rf build mapsite.egg-info; \
	touch "$(STAMP)"

run: $(STAMP)
	$(VENV_PY) manage.py migrate --noinput
	$(VENV_PY) manage.py collectstatic --noinput --verbosity 0
	$(VENV_PY) manage.py seed_demo
	$(VENV_PY) manage.py recount_room_signals
	$(VENV_PY) manage.py scan_overdue
	exec $(VENV_PY) -m mapsite.run

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest $(ARGS) $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# A fresh demo in a temporary MAPSITE_DATA_DIR, photographed through Playwright;
# var/ and any DATABASE_URL/REDIS_URL in the environment are left alone.
screenshots: $(STAMP)
	$(VENV_PY) docs/screenshots.py --chromium "$(CHROMIUM)"

lighthouse: $(STAMP)
	$(VENV_PY) docs/lighthouse.py --chromium "$(CHROMIUM)" --lighthouse "$(LIGHTHOUSE)"

clean:
	rm -rf "$(DATA_DIR)/staticfiles" "$(DATA_DIR)/fragments" build *.egg-info .ruff_cache .pytest_cache test-results
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

reset-data:
	@if [ ! -e "$(DATA_DIR)" ]; then echo "$(DATA_DIR)/ does not exist; nothing to delete."; exit 0; fi; \
	if [ "$(YES)" != "1" ]; then \
		if [ ! -t 0 ]; then echo "Refusing to delete $(DATA_DIR)/ without a terminal; run: make reset-data YES=1" >&2; exit 1; fi; \
		read -r -p "Delete $(DATA_DIR)/ with its database, secret key and queued jobs? Type yes: " answer; \
		[ "$$answer" = "yes" ] || { echo "Nothing deleted."; exit 1; }; \
	fi; \
	rm -rf "$(DATA_DIR)"; echo "Deleted $(DATA_DIR)/. The next 'make run' starts afresh with a new demo."
