PYTHON ?= python3

.PHONY: test lint

## Fresh database, install with demo data, Odoo test cases and root tests, drop database.
test:
	$(PYTHON) scripts/run_tests.py

## ruff and pylint-odoo, zero findings expected.
lint:
	$(PYTHON) -m ruff check .
	$(PYTHON) -m pylint --rcfile=.pylintrc addons/cobranza_mgmt
