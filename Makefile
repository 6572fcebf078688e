# Two commands for a new user: `make run` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test bench data clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/regiomatch serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest

# The load test uses wrk (Debian package; installed here when running as root, otherwise a
# slower Python load generator stands in). `make bench BENCH_ARGS=--quick` for a 1-minute run.
bench: install
	@if ! command -v wrk >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		(apt-get update -qq && apt-get install -y -qq wrk) || echo "wrk not installed: a Python load generator stands in"; fi
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

# Rebuild data/ from ../shared/data (only needed when the reference data changes).
data: install
	$(BIN)/python data/build_data.py

clean:
	rm -rf $(VENV) .pytest_cache var
