# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
SANDBOX_PORT ?= 8070

.PHONY: run test install lint types pytest bench sandbox clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

static/vendor/.installed: package.json package-lock.json scripts/vendor.mjs
	npm ci --no-audit --no-fund --loglevel=error
	node scripts/vendor.mjs
	touch $@

install: $(VENV)/.installed static/vendor/.installed

## The whole product on http://$(HOST):$(PORT), with the sandbox gateway on $(SANDBOX_PORT). Ctrl-C stops both.
run: install
	$(FLASK) db upgrade
	$(FLASK) user ensure-admin
	$(PY) -m dashboard.devserver --host $(HOST) --port $(PORT) --sandbox-port $(SANDBOX_PORT)

sandbox: install
	$(PY) -m dashboard.sandbox --host 127.0.0.1 --port $(SANDBOX_PORT)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

types: install
	$(VENV)/bin/mypy

## The suite on SQLite, then again on PostgreSQL when TEST_DATABASE_URL is set.
pytest: install
	TEST_DATABASE_URL= $(VENV)/bin/pytest -q
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
	  echo "== again on PostgreSQL =="; \
	  $(VENV)/bin/pytest -q -m "not browser"; \
	fi

test: lint types pytest

bench: install
	$(PY) -m bench

clean:
	rm -rf $(VENV) node_modules static/vendor .pytest_cache .mypy_cache .ruff_cache
