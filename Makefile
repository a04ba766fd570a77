# Two commands: `make run` (demo site on 127.0.0.1:8000, SQLite) and `make test` (the suite).
# Everything else they need is set up here, from nothing but Python 3.11 and make.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2
export QATYSU_CONFIG ?= development

.PHONY: run test lint install install-dev translations migrate seed serve bench bench-tally bench-votes bench-count bench-web clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Compiled catalogues are build products: made here, never committed.
translations: $(VENV)/.installed
	@$(BIN)/pybabel compile -d translations >/dev/null 2>&1 || $(BIN)/pybabel compile -d translations

migrate: install translations
	@mkdir -p instance
	$(FLASK) db upgrade
	@# Photos and PDFs of an instance from before files moved into the database (idempotent).
	@$(FLASK) files import-disk >/dev/null || echo "make: some uploaded files are missing on disk (flask --app wsgi files import-disk lists them)" >&2

seed: migrate
	$(FLASK) demo seed

# With REDIS_URL (or JOBS_REDIS_URL) set, an RQ worker runs beside gunicorn for the background
# jobs (the count at close, mail) and stops with it; without, jobs run inline (app/jobs.py).
serve:
	@worker=""; queue="$${JOBS_REDIS_URL-$$REDIS_URL}"; \
	if [ -n "$$queue" ]; then \
	  echo "Background jobs: an RQ worker on $$queue"; \
	  $(FLASK) jobs worker & worker=$$!; \
	else echo "Background jobs: inline (no REDIS_URL)"; fi; \
	trap '[ -z "$$worker" ] || kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn -c gunicorn.conf.py --workers $(WORKERS) --bind $(HOST):$(PORT) wsgi:app

run: seed
	@echo "Qatysu is at http://$(HOST):$(PORT)/  (Ctrl-C stops it)"
	@$(MAKE) --no-print-directory serve

# Lint first (ruff: pyflakes, pycodestyle, import order, complexity), then the suite.
lint: install-dev
	$(BIN)/ruff check .

# pytest exits 5 when it collected nothing: that is a failure here, never a pass.
test: install-dev translations lint
	@$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: no tests were collected" >&2; exit 1; fi; exit $$rc

# Benchmarks, run on demand: the counting engine against pabutools, and ballots under load
# against gunicorn on PostgreSQL (needs a server on 127.0.0.1:5432); bench-web also needs Redis on
# 127.0.0.1:6379 and wrk (Debian: apt-get install wrk).
bench: bench-tally bench-votes bench-count bench-web

bench-tally: install-dev translations
	$(BIN)/python bench/tally.py $(BENCH_ARGS)

bench-votes: install-dev translations
	$(BIN)/python bench/vote_load.py $(BENCH_ARGS)

# The count at close on a million ballots (PostgreSQL on 127.0.0.1:5432), beside the old count.
bench-count: install-dev translations
	$(BIN)/python bench/count_million.py $(BENCH_ARGS)

bench-web: install-dev translations
	@command -v wrk >/dev/null || { echo "bench-web needs wrk: apt-get install wrk" >&2; exit 2; }
	$(BIN)/python bench/web.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance/qatysu.db .pytest_cache
