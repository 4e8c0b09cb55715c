#!/usr/bin/env python3
"""Benchmark: the nightly recompute of payment behaviour, segments and holds.

    make bench-segmentation        (PARTNERS=10000 INVOICES=200000 by default)

Creates a database with cobranza_mgmt (no demo), fills it through SQL with PARTNERS
customers and INVOICES posted customer invoices (each cloned from a real invoice made by
the ORM; most due ones paid, some late, some partially), runs the recompute twice (first
run creates the profiles, second updates them) and prints the figures. The last line is
one JSON object. The database is dropped afterwards.
"""
import json
import os
import sys
import time
import uuid
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import run_tests  # noqa: E402  (the test command's database helpers)


def clone_sql(cr, table, template_id, count, overrides, *, extra_from=""):
    """INSERT count copies of row template_id of table, with SQL expressions for some columns."""
    cr.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s AND column_name != 'id' "
        "AND is_generated = 'NEVER' ORDER BY ordinal_position", (table,),
    )
    columns = [name for (name,) in cr.fetchall()]
    select = ", ".join(overrides.get(name, f't."{name}"') for name in columns)
    target = ", ".join(f'"{name}"' for name in columns)
    cr.execute(
        f'INSERT INTO "{table}" ({target}) SELECT {select} '
        f'FROM "{table}" t, generate_series(1, %s) AS gs(n) {extra_from} WHERE t.id = %s',
        (count, template_id),
    )


def clone_portfolio(cr, partner, invoice, receivable, *, partners, invoices, days_back, days_ahead):
    """Clone ``partner`` into PARTNERS customers and ``invoice`` (with its receivable item) into
    INVOICES open invoices spread over them, due from ``days_back`` days ago to ``days_ahead``
    days ahead, amounts 50..2000. Leaves a temporary table bench_moves (move_id, g, name, partner_id,
    due, amount)."""
    clone_sql(cr, "res_partner", partner.id, partners, {
        "name": "'Cliente ' || gs.n", "complete_name": "'Cliente ' || gs.n", "commercial_partner_id": "NULL",
        "email": "'cliente' || gs.n || '@example.com'", "email_normalized": "'cliente' || gs.n || '@example.com'",
    })
    cr.execute("UPDATE res_partner SET commercial_partner_id = id WHERE name LIKE 'Cliente %' "
               "AND commercial_partner_id IS NULL")
    cr.execute("SELECT min(id) FROM res_partner WHERE name LIKE 'Cliente %'")
    first_partner = cr.fetchone()[0]
    span = days_back + days_ahead
    due = f"(CURRENT_DATE - ((gs.n::bigint * 7919) %% {span} - {days_ahead})::int)"
    amount = "(50 + (gs.n::bigint * 104729) %% 1950)::numeric"
    # numbered as Odoo numbers invoices (INV/<year of the accounting date>/000002...), so that Odoo's
    # numbering of the invoices a benchmark posts looks its last number up as in a real journal
    year = f"to_char({due} - 30, 'YYYY')"
    clone_sql(cr, "account_move", invoice.id, invoices, {
        "name": f"'INV/' || {year} || '/' || lpad((gs.n + 1)::text, 6, '0')",
        "sequence_prefix": f"'INV/' || {year} || '/'", "sequence_number": "gs.n + 1",
        "partner_id": f"{first_partner} + gs.n %% {partners}",
        "commercial_partner_id": f"{first_partner} + gs.n %% {partners}",
        "invoice_date_due": due, "invoice_date": f"{due} - 30", "date": f"{due} - 30",
        "amount_total": amount, "amount_total_signed": amount, "amount_residual": amount,
        "amount_residual_signed": amount, "amount_untaxed": amount, "amount_untaxed_signed": amount,
        "payment_state": "'not_paid'", "payment_reference": "'BENCH/' || gs.n", "access_token": "NULL",
    })
    cr.execute("""
        CREATE TEMP TABLE bench_moves AS
        SELECT id AS move_id, substr(payment_reference, 7)::int AS g, name, partner_id, invoice_date_due AS due,
               amount_total AS amount
          FROM account_move WHERE payment_reference LIKE 'BENCH/%'
    """)
    clone_sql(cr, "account_move_line", receivable.id, invoices, {
        "move_id": "b.move_id", "move_name": "b.name", "partner_id": "b.partner_id",
        "date_maturity": "b.due", "date": "b.due - 30", "invoice_date": "b.due - 30",
        "debit": "b.amount", "credit": "0", "balance": "b.amount", "amount_currency": "b.amount",
        "amount_residual": "b.amount", "amount_residual_currency": "b.amount", "reconciled": "false",
        "full_reconcile_id": "NULL", "matching_number": "NULL",
    }, extra_from="JOIN bench_moves b ON b.g = gs.n")


def build(env, partners, invoices):
    from odoo import Command, fields

    company = env.company
    company.account_use_credit_limit = True
    today = fields.Date.context_today(env.user)
    partner = env["res.partner"].create({"name": "Plantilla", "is_company": True})
    invoice = env["account.move"].create({
        "move_type": "out_invoice", "partner_id": partner.id,
        "invoice_date": today - timedelta(days=40), "invoice_date_due": today - timedelta(days=10),
        "invoice_line_ids": [Command.create({"name": "x", "quantity": 1, "price_unit": 100.0,
                                             "tax_ids": [Command.clear()]})],
    })
    invoice.action_post()
    env["account.payment.register"].with_context(active_model="account.move", active_ids=invoice.ids).create(
        {"payment_date": today, "amount": 40.0},
    )._create_payments()
    receivable = invoice.line_ids.filtered(lambda line: line.account_type == "asset_receivable")
    partial = receivable.matched_credit_ids
    payment_line = partial.credit_move_id
    env.flush_all()
    cr = env.cr

    # Invoices: due between 300 days ago and 60 days ahead, amounts 50..2000.
    clone_portfolio(cr, partner, invoice, receivable, partners=partners, invoices=invoices,
                    days_back=300, days_ahead=60)
    # Most due invoices paid (a third of the customers pay everything), each customer with its own
    # lateness; 2 in 5 paid in full, the others 40 %; one payment line and partial each.
    cr.execute("""
        CREATE TEMP TABLE bench_paid AS
        SELECT l.id AS line_id, b.g, b.partner_id, b.amount,
               CASE WHEN b.g % 5 < 2 THEN b.amount ELSE round(b.amount * 0.4, 2) END AS paid,
               LEAST(b.due + ((b.partner_id * 37) % 90 - 15 + b.g % 7), CURRENT_DATE) AS paid_on
          FROM bench_moves b JOIN account_move_line l ON l.move_id = b.move_id
         WHERE (b.g % 5 < 3 OR b.partner_id % 3 = 0) AND b.due < CURRENT_DATE
    """)
    cr.execute("SELECT count(*) FROM bench_paid")
    paid = cr.fetchone()[0]
    clone_sql(cr, "account_move_line", payment_line.id, paid, {
        "partner_id": "p.partner_id", "date": "p.paid_on", "credit": "p.paid", "debit": "0",
        "balance": "-p.paid", "amount_currency": "-p.paid", "amount_residual": "0",
        "amount_residual_currency": "0", "reconciled": "true", "name": "'BENCH-PAY/' || p.g",
        "full_reconcile_id": "NULL", "matching_number": "NULL",
    }, extra_from="JOIN (SELECT *, row_number() OVER (ORDER BY g) AS n FROM bench_paid) p ON p.n = gs.n")
    clone_sql(cr, "account_partial_reconcile", partial.id, paid, {
        "debit_move_id": "p.line_id", "credit_move_id": "c.id", "amount": "p.paid",
        "debit_amount_currency": "p.paid", "credit_amount_currency": "p.paid", "max_date": "p.paid_on",
        "full_reconcile_id": "NULL", "exchange_move_id": "NULL",
    }, extra_from="JOIN (SELECT *, row_number() OVER (ORDER BY g) AS n FROM bench_paid) p ON p.n = gs.n "
                  "JOIN account_move_line c ON c.name = 'BENCH-PAY/' || p.g")
    cr.execute("""
        UPDATE account_move_line l SET amount_residual = l.debit - p.paid,
               amount_residual_currency = l.debit - p.paid, reconciled = (p.paid >= l.debit)
          FROM bench_paid p WHERE p.line_id = l.id
    """)
    cr.execute("ANALYZE")
    env.invalidate_all()
    return paid


CONFIGURED = []  # databases whose configuration was parsed: Odoo parses its configuration once per process


@contextmanager
def bench_database(modules, extra_addons=None):
    """A temporary database with ``modules`` installed (no demo); yields a superuser env whose
    transaction is rolled back, then drops the database. ``extra_addons(workdir)`` may return
    one more addons path (a module fetched for the comparison)."""
    import odoo
    from odoo import SUPERUSER_ID, api

    params = run_tests.pglocal.params()
    run_tests.ensure_postgres(params)
    dbname = f"cobranza_bench_{uuid.uuid4().hex[:8]}"
    workdir = Path(run_tests.tempfile.mkdtemp(prefix="cobranza_bench_"))
    config = run_tests.write_config(workdir, params, dbname)
    if extra_addons:
        config.write_text(config.read_text().replace(
            f"addons_path = {run_tests.ADDONS}", f"addons_path = {run_tests.ADDONS},{extra_addons(workdir)}",
        ))
    try:
        run_tests.say(f"installing {', '.join(modules)} (no demo) into {dbname}")
        run_tests.subprocess.run(
            run_tests.odoo_command(config, "-d", dbname, "-i", ",".join(modules), "--stop-after-init",
                                   "--without-demo=all", "--log-level=warn"),
            check=True,
        )
        if not CONFIGURED:  # bench_overhead opens two databases in one process
            odoo.tools.config.parse_config(["-c", str(config), "--log-level=warn"])
            CONFIGURED.append(dbname)
        registry = odoo.modules.registry.Registry(dbname)
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            # collections started, as a manager does with the start wizard ("send what is due now")
            if "cobranza_start_date" in env["res.company"]._fields:
                env["res.company"].search([]).cobranza_start_date = \
                    env["res.company"].search([], limit=1)._cobranza_today()
            yield env
            cr.rollback()
        odoo.sql_db.close_db(dbname)
    finally:
        run_tests.drop_database(params, dbname)
        run_tests.shutil.rmtree(workdir, ignore_errors=True)


def main():
    partners = int(os.environ.get("PARTNERS", "10000"))
    invoices = int(os.environ.get("INVOICES", "200000"))
    with bench_database(["cobranza_mgmt"]) as env:
        cr = env.cr
        started = time.perf_counter()
        paid = build(env, partners, invoices)
        cr.commit()
        run_tests.say(f"built {partners} customers, {invoices} invoices, {paid} payments "
                      f"in {time.perf_counter() - started:.1f}s")
        profile = env["cobranza.credit.profile"]
        runs = []
        for _attempt in range(2):
            env.invalidate_all()
            queries = cr.sql_log_count
            started = time.perf_counter()
            profile._refresh_behaviour(companies=env.company)
            env.flush_all()
            runs.append((time.perf_counter() - started, cr.sql_log_count - queries))
        cr.execute("SELECT count(*), count(*) FILTER (WHERE is_on_hold) FROM cobranza_credit_profile")
        profiles, held = cr.fetchone()
        cr.execute("SELECT segment, count(*) FROM cobranza_credit_profile GROUP BY 1 ORDER BY 1")
        segments = dict(cr.fetchall())
    print(f"first run (creates profiles): {runs[0][0]:.2f}s, {runs[0][1]} queries")
    print(f"second run (updates them):    {runs[1][0]:.2f}s, {runs[1][1]} queries")
    print(f"profiles: {profiles}, on hold: {held}, segments: {segments}")
    print(json.dumps({
        "partners": partners, "invoices": invoices, "payments": paid, "profiles": profiles,
        "seconds": round(runs[0][0], 3), "queries": runs[0][1],
        "second_run_seconds": round(runs[1][0], 3), "second_run_queries": runs[1][1],
    }))


if __name__ == "__main__":
    main()
