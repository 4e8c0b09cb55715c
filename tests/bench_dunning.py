#!/usr/bin/env python3
"""Benchmark: the daily dunning run against OCA's account_credit_control on the same data.

    make bench-dunning        (PARTNERS=10000 INVOICES=100000 by default)

Creates a database with cobranza_mgmt and OCA's account_credit_control (its 18.0 wheel,
downloaded from PyPI with --no-deps into a temporary addons path), fills it through SQL with
PARTNERS customers and INVOICES open customer invoices due from 200 days ago to 20 days ahead
(every aging bucket), then

* runs our daily run the way the cron does: batches of 200 customers, committed one by one,
  until nothing remains (every reminder e-mail rendered and queued, items advanced);
* runs OCA's credit control run on the same data (its 3-level policy on the receivable
  account), which generates its credit-control lines;

and prints both times, query counts and their ratio. The last line is one JSON object.
The database is dropped afterwards.
"""
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests"))

import run_tests  # noqa: E402
from bench_segmentation import bench_database, clone_portfolio  # noqa: E402

OCA_WHEEL = "odoo-addon-account-credit-control==18.0.2.0.2.6"


def fetch_oca(workdir):
    """The OCA module's wheel, unpacked: its odoo/addons folder is an addons path."""
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(workdir), OCA_WHEEL],
                   check=True)
    wheel = next(workdir.glob("odoo_addon_account_credit_control-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(workdir / "oca")
    return workdir / "oca" / "odoo" / "addons"


def build(env, partners, invoices, days_back=200, days_ahead=20):
    from odoo import Command, fields

    today = fields.Date.context_today(env.user)
    partner = env["res.partner"].create({"name": "Plantilla", "is_company": True, "email": "plantilla@example.com"})
    invoice = env["account.move"].create({
        "move_type": "out_invoice", "partner_id": partner.id, "invoice_date": today, "invoice_date_due": today,
        "invoice_line_ids": [Command.create({"name": "x", "quantity": 1, "price_unit": 100.0,
                                             "tax_ids": [Command.clear()]})],
    })
    invoice.action_post()
    receivable = invoice.line_ids.filtered(lambda line: line.account_type == "asset_receivable")
    env.flush_all()
    cr = env.cr
    clone_portfolio(env.cr, partner, invoice, receivable, partners=partners, invoices=invoices,
                    days_back=days_back, days_ahead=days_ahead)
    cr.execute("ANALYZE")
    env.invalidate_all()
    return receivable.account_id


def timed(cr, function):
    queries, started = cr.sql_log_count, time.perf_counter()
    result = function()
    return result, time.perf_counter() - started, cr.sql_log_count - queries


def measure(env):
    """Our daily run, batch by batch as the cron commits it, then OCA's run on the same data."""
    from odoo import fields

    cr = env.cr
    engine = env["cobranza.dunning"].with_context(cobranza_dunning_batch=200)

    def our_run():
        calls = 0
        while True:
            calls += 1
            _done, remaining = engine._cron_run(companies=env.company)
            cr.commit()
            if not remaining:
                return calls

    calls, seconds, queries = timed(cr, our_run)
    cr.execute("SELECT count(*), count(DISTINCT partner_id) FROM cobranza_communication")
    communications, reminded = cr.fetchone()
    cr.execute("SELECT count(*) FROM account_move_line WHERE cobranza_level_id IS NOT NULL")
    advanced = cr.fetchone()[0]
    run_tests.say(f"ours: {seconds:.1f}s, {queries} queries, {calls} batches, {communications} "
                  f"communications to {reminded} customers, {advanced} items advanced")

    def peer_run():
        run = env["credit.control.run"].create({"date": fields.Date.context_today(env.user),
                                                "company_id": env.company.id})
        run.generate_credit_lines()
        env.flush_all()
        return run

    _run, peer_seconds, peer_queries = timed(cr, peer_run)
    cr.execute("SELECT count(*), count(DISTINCT partner_id) FROM credit_control_line")
    peer_lines, peer_partners = cr.fetchone()
    run_tests.say(f"OCA account_credit_control: {peer_seconds:.1f}s, {peer_queries} queries, "
                  f"{peer_lines} credit-control lines for {peer_partners} customers")
    return {
        "seconds": round(seconds, 3), "queries": queries,
        "queries_per_customer": round(queries / max(reminded, 1), 2), "communications": communications,
        "items_advanced": advanced, "peer_seconds": round(peer_seconds, 3), "peer_queries": peer_queries,
        "peer_lines": peer_lines, "ratio": round(peer_seconds / seconds, 2) if seconds else None,
    }


def main():
    partners = int(os.environ.get("PARTNERS", "10000"))
    invoices = int(os.environ.get("INVOICES", "100000"))
    with bench_database(["cobranza_mgmt", "account_credit_control"], extra_addons=fetch_oca) as env:
        started = time.perf_counter()
        receivable_account = build(env, partners, invoices)
        policy = env.ref("account_credit_control.credit_control_3_time")
        policy.account_ids = receivable_account
        env.company.credit_policy_id = policy
        env.cr.commit()
        run_tests.say(f"built {partners} customers and {invoices} open invoices "
                      f"in {time.perf_counter() - started:.1f}s")
        figures = measure(env)
    print(json.dumps({"partners": partners, "invoices": invoices, **figures}))


if __name__ == "__main__":
    main()
