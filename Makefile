# The two commands: `make run` and `make test`. Everything else is a helper of theirs.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
# Where `make run` serves; change them on the command line: `make run PORT=8080 HOST=0.0.0.0`.
# Not read from the environment, where some shells keep HOST as the machine's name.
HOST := 127.0.0.1
PORT := 5000
TRANSLATIONS := lms/translations

.PHONY: run test lint install install-dev translations update-translations bench vendor clean-db help

help:
	@echo "make run    - install, migrate, load demo data if the database is empty, serve on http://$(HOST):$(PORT) (PORT=, HOST= to change)"
	@echo "make test   - install the dev requirements, lint, and run the whole suite"
	@echo "make lint   - ruff (lint and format check) and mypy"
	@echo "make bench  - run the benchmarks (bench/results.json)"
	@echo "make vendor - re-vendor KERN and axe-core from the npm registry"
	@echo "make update-translations - extract messages and update the catalogues"

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed translations
install-dev: $(VENV)/.installed-dev translations

translations: $(VENV)/.installed
	@$(BIN)/pybabel -q compile -d $(TRANSLATIONS)

update-translations: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o $(TRANSLATIONS)/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-fuzzy-matching --ignore-obsolete

# One process prepares everything (migrations, DigComp, courses, demo town, logins), one serves.
run: install
	@mkdir -p instance
	$(FLASK) demo setup --logins-file instance/demo-logins.txt
	@echo ""
	@echo "Lernpfad runs on http://$(HOST):$(PORT) (Ctrl+C stops it)"
	$(FLASK) run --host $(HOST) --port $(PORT)

test: install-dev
	$(BIN)/pytest

# Quality gates: ruff's lint (complexity <= 15) and format check, mypy on lms/.
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: install-dev
	$(BIN)/python -m bench

vendor:
	scripts/vendor-assets.sh
