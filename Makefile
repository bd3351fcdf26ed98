# fissionmall: `make demo` to try it, `make test` to check it.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
PG_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/postgres
REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: demo serve worker migrate test test-sqlite test-postgres test-fast lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

$(DEV_STAMP): $(STAMP) pyproject.toml
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

## demo: install, migrate a SQLite file under ./var, load demo data, serve shop + console on :8000
##       (`make demo HOST=0.0.0.0 PORT=9000` to listen elsewhere)
HOST ?= 127.0.0.1
PORT ?= 8000
demo: $(STAMP)
	$(BIN)/fissionmall demo --host $(HOST) --port $(PORT)

serve: $(STAMP)
	$(BIN)/fissionmall serve

worker: $(STAMP)
	$(BIN)/fissionmall worker

migrate: $(STAMP)
	$(BIN)/fissionmall migrate

## test: every test on SQLite and again on PostgreSQL + Redis (slow stress tests included). The two passes
##       run side by side (each waits on its database part of the time, so two cores finish both in about
##       the time of the longer one); each pass's output is printed whole when it ends.
test: $(DEV_STAMP)
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

# Browser tests get their own pytest process: Playwright's sync API holds an event loop in the main thread.
PYTEST := $(BIN)/pytest -q -p no:cacheprovider --durations=15
PG_ENV := FISSIONMALL_TEST_DB=postgres FISSIONMALL_TEST_PG_URL=$(PG_URL) FISSIONMALL_TEST_REDIS_URL=$(REDIS_URL)

test-sqlite: $(DEV_STAMP)
	FISSIONMALL_TEST_DB=sqlite $(PYTEST) --ignore=tests/browser
	FISSIONMALL_TEST_DB=sqlite $(PYTEST) tests/browser

test-postgres: $(DEV_STAMP)
	$(PG_ENV) $(PYTEST) --ignore=tests/browser
	$(PG_ENV) $(PYTEST) tests/browser

## test-fast: SQLite only, no slow or browser tests (the edit loop)
test-fast: $(DEV_STAMP)
	FISSIONMALL_TEST_DB=sqlite $(PYTEST) -x -m "not slow" --ignore=tests/browser

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

## bench: throughput figures as JSON lines (SQLite and PostgreSQL, with a bare-ASGI ceiling)
bench: $(DEV_STAMP)
	$(BIN)/python -m bench
	$(BIN)/python -m bench.groupbuy
	$(BIN)/python -m bench.bargain
	$(BIN)/python -m bench.pricing
	$(BIN)/python -m bench.distribution
	@# the flash-sale load generator (Debian's wrk); without it bench.seckill falls back to a Python client
	@command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null 2>&1 || echo "note: wrk not installed"
	$(BIN)/python -m bench.seckill

clean:
	rm -rf $(VENV) var build *.egg-info
