PYTHON ?= python3

.PHONY: test lint bench-segmentation bench-dunning bench-kpi

## Fresh database, install with demo data, Odoo test cases and root tests, drop database.
test:
	$(PYTHON) scripts/run_tests.py

## ruff and pylint-odoo, zero findings expected.
lint:
	$(PYTHON) -m ruff check .
	$(PYTHON) -m pylint --rcfile=.pylintrc addons/cobranza_mgmt addons/cobranza_mgmt_sale

## Nightly behaviour/segment/hold recompute on 10,000 customers and 200,000 invoices.
bench-segmentation:
	$(PYTHON) tests/bench_segmentation.py

## Daily dunning run against OCA account_credit_control, 10,000 customers, 100,000 open invoices.
bench-dunning:
	$(PYTHON) tests/bench_dunning.py

bench-kpi:
	$(PYTHON) tests/bench_kpi.py
