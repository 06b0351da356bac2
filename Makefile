# The two commands: `make run` and `make test`. Everything else is set up on the way.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: run test setup browser bench bench-large chaos lint format clean

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements-dev.txt -c constraints.txt
	touch $(STAMP)

setup: $(STAMP)

## make run: web, Celery worker and beat on the embedded defaults, with demo data.
run: $(STAMP)
	$(BIN)/python manage.py prepare_local
	$(BIN)/python manage.py migrate --noinput && $(BIN)/python manage.py createcachetable
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py seed_demo
	PORT=$(PORT) $(BIN)/honcho start -f Procfile

## Debian's chromium for the browser tests (Playwright cannot download its own here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's chromium for the browser tests..."; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "!!! Could not install chromium: the browser tests will be SKIPPED."; \
	  else echo "!!! chromium is not installed and cannot be installed here: the browser tests will be SKIPPED."; fi; }

## make test: the whole suite (SQLite + filesystem broker unless DATABASE_URL / CELERY_BROKER_URL say otherwise).
test: $(STAMP) browser
	$(BIN)/python manage.py prepare_local
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

## make bench-large: ten million contacts (import, reads, segments); about an hour on 2 cores.
bench-large: $(STAMP)
	$(BIN)/python bench/run_all.py --large $(BENCH_ARGS)

chaos: $(STAMP)
	$(BIN)/python bench/chaos.py $(CHAOS_ARGS)

## make lint: ruff, and the import contracts of ARCHITECTURE.md (pyproject.toml [tool.importlinter]).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var
