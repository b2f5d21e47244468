# One command to run the product, one to run the tests; each sets up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint format bench messages ci clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# Links printed by seed_demo, in emails and QR codes point at this server.
run: export PUBLIC_BASE_URL ?= http://$(HOST):$(PORT)
run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py serve $(HOST):$(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --config .importlinter

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Only this target needs GNU gettext (xgettext, msgmerge: `apt-get install gettext`);
# compiling is pure Python and the .mo files are committed.
messages: $(STAMP)
	$(BIN)/python manage.py makemessages -l zh_Hans --no-obsolete \
		--ignore=.venv --ignore=static --ignore=staticfiles --ignore=build \
		--ignore=test-artifacts --ignore=node_modules
	$(BIN)/python manage.py compilemessages_py

bench: $(STAMP)
	@test -f bench/__main__.py || { echo "no benchmarks yet (bench/__main__.py)"; exit 0; }; \
	test ! -f bench/__main__.py || $(BIN)/python -m bench

# What CI runs (.ci/run): PostgreSQL, Redis and Chromium, with REQUIRE_SERVICES=1.
ci:
	bash .ci/run

clean:
	rm -rf $(VENV) db.sqlite3 media
