# Every target but setup uses the project's own environment, .venv, which `make setup`
# builds (Odoo 18.0 Community included) and keeps when it is up to date (a second or two).
SYSTEM_PYTHON ?= python3
PYTHON ?= .venv/bin/python

.PHONY: setup run test lint bench-segmentation bench-dunning bench-kpi bench-overhead bench-import

## apt packages, PostgreSQL cluster and role, .venv with Odoo 18.0 (ODOO_SOURCE) and the dev packages.
setup:
	$(SYSTEM_PYTHON) scripts/setup.py

## Odoo with cobranza_mgmt and demo data on http://localhost:8069 (admin/admin), database "cobranza".
run: setup
	$(PYTHON) scripts/run_server.py

## Fresh database, install with demo data, Odoo test cases and root tests, drop database.
test: setup
	$(PYTHON) scripts/run_tests.py

## ruff and pylint-odoo, zero findings expected.
lint: setup
	$(PYTHON) -m ruff check .
	$(PYTHON) -m pylint --rcfile=.pylintrc addons/cobranza_mgmt addons/cobranza_mgmt_sale

## Nightly behaviour/segment/hold recompute on 10,000 customers and 200,000 invoices.
bench-segmentation: setup
	$(PYTHON) tests/bench_segmentation.py

## Daily dunning run against OCA account_credit_control, 10,000 customers, 100,000 open invoices.
bench-dunning: setup
	$(PYTHON) tests/bench_dunning.py

## Aging analysis and KPI set against a hand-written SQL aggregate, 200,000 open items.
bench-kpi: setup
	$(PYTHON) tests/bench_kpi.py

## Everyday invoicing with and without the module: 400 invoices posted, 200 paid, one by one.
bench-overhead: setup
	$(PYTHON) tests/bench_overhead.py

## A bank collection file of 10,000 payments against 50,000 open invoices, and Odoo's register wizard.
bench-import: setup
	$(PYTHON) tests/bench_import.py
