# The two commands: `make run` and `make test`. Everything else is a helper of theirs.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
TRANSLATIONS := lms/translations

.PHONY: run test install install-dev translations update-translations bench vendor clean-db help

help:
	@echo "make run    - install, migrate, load demo data if the database is empty, serve on http://127.0.0.1:5000"
	@echo "make test   - install the dev requirements and run the whole suite"
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

run: install
	@mkdir -p instance
	$(FLASK) db upgrade
	$(FLASK) skills load-framework
	$(FLASK) courses sync || echo "Some courses have errors (listed above); the others are imported."
	@$(FLASK) demo seed --if-empty --save-logins instance/demo-logins.txt >/dev/null
	@echo ""
	@echo "Lernpfad runs on http://127.0.0.1:5000 — demo logins (role, e-mail, password):"
	@cat instance/demo-logins.txt 2>/dev/null || echo "(none saved: this database was not seeded by make run)"
	@echo ""
	$(FLASK) run --host 127.0.0.1 --port 5000

test: install-dev
	$(BIN)/pytest

bench: install-dev
	$(BIN)/python -m bench

vendor:
	scripts/vendor-assets.sh
