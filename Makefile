# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
SANDBOX_PORT ?= 8070

.PHONY: run test install lint types pytest bench sandbox clean translations

# Compiled catalogs (.mo) are built here, never committed.
MO_FILES := $(patsubst %.po,%.mo,$(wildcard dashboard/translations/*/LC_MESSAGES/messages.po))

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

static/vendor/.installed: package.json package-lock.json scripts/vendor.mjs scripts/bootstrap.scss
	npm ci --no-audit --no-fund --loglevel=error
	node scripts/vendor.mjs
	touch $@

$(MO_FILES): %.mo: %.po $(VENV)/.installed
	$(VENV)/bin/pybabel compile -d dashboard/translations

install: $(VENV)/.installed static/vendor/.installed $(MO_FILES)

## After changing user-visible text: re-extract, merge into the catalogs, then translate what is new.
translations: install
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -o messages.pot .
	$(VENV)/bin/pybabel update -i messages.pot -d dashboard/translations --no-fuzzy-matching --ignore-obsolete
	$(MAKE) $(MO_FILES)

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
	$(PY) scripts/check_translations.py

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
