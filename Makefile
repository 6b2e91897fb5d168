# The two README commands (`make demo`, `make test`) and the few others developers use.
# Each target installs what it needs first, so both work on a fresh machine.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo serve test lint format bench bench-overlap bench-load bench-cold soak clean services chromium

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

## Install, build the demo workspace on SQLite and serve it on http://127.0.0.1:8000
demo: $(STAMP)
	$(BIN)/insights demo

## Serve whatever database INSIGHTS_DATABASE_URL names (default: ./insights.db)
serve: $(STAMP)
	$(BIN)/insights serve

## Install, then run the whole test suite on SQLite and PostgreSQL (needs both services)
test: $(STAMP) services chromium
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

services:
	@scripts/ensure-services

chromium:
	@scripts/ensure-chromium

## Lint and types, as CI runs them before the tests (mypy: strict, insights and tests)
lint: $(STAMP)
	$(BIN)/ruff check insights tests benchmarks
	$(BIN)/ruff format --check insights tests benchmarks
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format insights tests benchmarks
	$(BIN)/ruff check --fix insights tests benchmarks

## Benchmarks (not part of the test run); see docs/benchmarks.md
bench: $(STAMP)
	$(BIN)/python -m benchmarks.insights_bench --db both

bench-overlap: $(STAMP)
	$(BIN)/python -m benchmarks.upload_http --db both
	$(BIN)/python -m benchmarks.overlap_http --db both

## Concurrency sweep (16 to 256 connections, wrk) and first requests of fresh processes;
## LOAD_ARGS / COLD_ARGS pass options (e.g. LOAD_ARGS="--runs 100000" for a quick sweep)
bench-load: $(STAMP) services
	@command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk"; exit 1; }
	$(BIN)/python -m benchmarks.load_sweep --db both $(LOAD_ARGS)

bench-cold: $(STAMP) services
	$(BIN)/python -m benchmarks.cold_start --db both $(COLD_ARGS)

## Soak (not in CI): mixed reads and writes, two processes on one PostgreSQL, ten minutes
soak: $(STAMP) services
	$(BIN)/python -m benchmarks.soak --seconds $${SOAK_SECONDS:-600}

clean:
	rm -rf $(VENV) build *.egg-info artifacts
