# Two commands for a new user: `make run` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

# Debian packages some tests need: headless Chromium and its driver (browser tests, PDF reports),
# PostgreSQL (the store on PostgreSQL), Pango (WeasyPrint PDFs), poppler-utils (PDF page images),
# python3-qgis (QGIS's OAPIF provider reads /ogc in tests/test_ogc_clients.py; 214 packages, about
# 66 s with apt-get update on Debian 12).
# The one list: .ci/run and `make test` both install from it.
SYSTEM_PACKAGES := chromium chromium-driver postgresql libpango-1.0-0 libpangoft2-1.0-0 poppler-utils python3-qgis

.PHONY: install bytecode system-deps run test check lint bench data clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Our own modules compiled ahead, as pip does for installed packages: where the environment sets
# PYTHONDONTWRITEBYTECODE (containers, this CI), every start would compile them again (0.1-0.2 s
# of a 1.5 s cold start). Only changed files are compiled; stale ones are never used. The page
# templates likewise (maps/templates/__pycache__, keyed by their source), the catalog and the shipped
# layers' outlines (data/__pycache__, geo/kept.py): 0.3 s of W13's first answer.
bytecode: install
	@$(BIN)/python -m compileall -q geo api maps
	@$(BIN)/regiomatch prepare

run: install bytecode
	$(BIN)/regiomatch serve --host $(HOST) --port $(PORT)

# Installs the missing SYSTEM_PACKAGES as root with apt; otherwise says which are missing (the
# tests needing them then skip with one line naming them) and carries on.
system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing system packages:$$missing"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
			|| echo "could not install:$$missing (tests needing them skip)"; \
	else \
		echo "system packages missing:$$missing (install as root with: make system-deps); tests needing them skip"; \
	fi

# The whole suite in parallel (pytest-xdist, one worker per core; tests that share a module-scoped
# server or browser stay on one worker). Lint first: it takes seconds and fails fast.
TEST_WORKERS ?= auto
test: install bytecode system-deps lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

# The loop while working: everything but browsers, real servers, PDFs and the soak, with a quarter
# of each property test's examples (tests/examples.py; `make test` and CI draw them all). Under 2 minutes.
check: install bytecode lint
	REGIOMATCH_EXAMPLE_SHARE=0.25 $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not browser and not server and not pdf and not soak" -q

# ruff (errors, imports, docstring rules) and mypy (types of the engine), configured in pyproject.toml.
lint: install
	$(BIN)/python -m ruff check geo api maps benchmarks tests data conftest.py
	$(BIN)/python -m mypy

# The load test uses wrk (Debian package; installed here when running as root, otherwise a
# slower Python load generator stands in). `make bench BENCH_ARGS=--quick` for a 1-minute run.
bench: install bytecode
	@if ! command -v wrk >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		(apt-get update -qq && apt-get install -y -qq wrk) || echo "wrk not installed: a Python load generator stands in"; fi
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

# Rebuild data/ from ../shared/data (only needed when the reference data changes).
data: install
	$(BIN)/python data/build_data.py

clean:
	rm -rf $(VENV) .pytest_cache var
