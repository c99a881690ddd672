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

# The requirements files are pinned and hashed, so pip installs in hash-checking mode: exactly
# the files that were locked, or nothing.
$(VENV)/.installed: requirements.txt | $(BIN)/activate
	$(BIN)/pip install --quiet --require-hashes -r requirements.txt
	touch $@

# requirements-dev.txt holds the runtime packages too, at the same versions.
$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed translations
install-dev: $(VENV)/.installed-dev translations

# After editing requirements.in or requirements-dev.in: lock them again (pip-tools). pip itself is
# left out (every venv brings one, and hash-checking accepts it as installed; pip-compile's closing
# warning about it is expected), and so are this machine's index and find-links settings.
# To update a package: change its pin in the .in file, then run this and `make test`.
PIP_COMPILE := CUSTOM_COMPILE_COMMAND="make requirements" $(BIN)/pip-compile --quiet --generate-hashes \
	--strip-extras --unsafe-package pip --no-allow-unsafe --no-emit-index-url --no-emit-find-links
.PHONY: requirements
requirements: $(VENV)/.installed-dev
	$(PIP_COMPILE) --output-file requirements.txt requirements.in
	$(PIP_COMPILE) --output-file requirements-dev.txt requirements-dev.in

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

test: install-dev lint
	$(BIN)/pytest

# Quality gates: ruff's lint (complexity <= 15) and format check, mypy on lms/.
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The throughput benchmark drives gunicorn with wrk (Debian package `wrk`); without it, it says so and fails.
bench: install-dev
	@command -v wrk >/dev/null || echo "wrk is missing (apt-get install wrk): the throughput benchmark will fail"
	$(BIN)/python -m bench

vendor:
	scripts/vendor-assets.sh
