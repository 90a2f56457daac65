# Two commands do everything: `make demo` (run the product with demo data) and `make test` (every check).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?= --durations=20

.PHONY: demo test install assets lint typecheck test-sqlite test-postgres bench clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP) assets

assets: $(STAMP)
	$(BIN)/python scripts/build_assets.py

demo: install
	$(BIN)/ioc db upgrade
	$(BIN)/ioc demo seed
	$(BIN)/ioc run --demo-activity --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts bench
	$(BIN)/ruff format --check src tests scripts bench

typecheck: $(STAMP)
	$(BIN)/mypy

test-sqlite: install
	TEST_DATABASE_URL=sqlite $(BIN)/pytest $(PYTEST_ARGS)

test-postgres: install
	TEST_DATABASE_URL=postgresql $(BIN)/pytest $(PYTEST_ARGS)

# The two engines' passes run side by side (one per core); each pass's output is printed whole when it ends.
test: install lint typecheck
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

clean:
	rm -rf $(VENV) node_modules src/ioc/web/static/vendor test-artifacts .mypy_cache .ruff_cache .pytest_cache

# Benchmarks print one table and write bench/results/<engine>.json; BENCH_DATABASE=postgresql for PostgreSQL.
bench: $(STAMP)
	BENCH_DATABASE=sqlite $(BIN)/python -m bench
	BENCH_DATABASE=postgresql $(BIN)/python -m bench
