#!/usr/bin/env python3
"""Benchmark: the daily dunning run against OCA's account_credit_control on the same data.

    make bench-dunning        (PARTNERS=10000 INVOICES=100000 by default)

Creates a database with cobranza_mgmt and OCA's account_credit_control (its 18.0 wheel,
downloaded from PyPI with --no-deps into a temporary addons path), fills it through SQL with
PARTNERS customers and INVOICES open customer invoices due from 200 days ago to 20 days ahead
(every aging bucket), then

* plan: runs our daily run the way the cron does, batches of 200 customers committed one by one
  until nothing remains (communications queued, items advanced, chatter written);
* deliver: runs our delivery job the way the cron does, one committed batch per call until
  nothing is queued (e-mails rendered into Odoo's mail queue, letters rendered by wkhtmltopdf
  as PDF attachments, with Odoo's HTTP server serving their stylesheets, call tasks created);
* runs OCA's credit control run on the same data (its 3-level policy on the receivable
  account), which generates its credit-control lines, then its own "set to ready" and "run
  channel action" buttons: its communications and their e-mails (its letters get their
  communications and a print action, rendered only when a user downloads them);

* interest: then bills late-payment interest (18 % a year, accruing for the last year) the way its
  cron does, one committed batch per call: the accrual pass over every overdue item, then one
  posted interest invoice per customer (``interest_seconds``, ``interest_invoices``,
  ``interest_queries``);

and prints the times, query counts, what was produced and the ratios (OCA ÷ ours, for the plan
and end to end). The last line is one JSON object. ``INTEREST_ONLY=1`` measures the interest
billing alone on the same data (no dunning run, and OCA's module not installed).
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


def template_invoice(env):
    """The customer and the posted invoice (and its receivable item) that the benchmarks clone."""
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
    return partner, invoice, receivable


def build(env, partners, invoices, days_back=200, days_ahead=20):
    partner, invoice, receivable = template_invoice(env)
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


def serve_http(env):
    """Odoo's HTTP server on a free port of 127.0.0.1, as in production: wkhtmltopdf fetches the
    letters' stylesheets from it."""
    import socket

    import odoo
    from odoo.service.server import ThreadedServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    odoo.tools.config["http_interface"], odoo.tools.config["http_port"] = "127.0.0.1", port
    ThreadedServer(odoo.http.root).http_spawn()
    env["ir.config_parameter"].set_param("report.url", f"http://127.0.0.1:{port}")
    env.cr.commit()


def count(cr, query):
    cr.execute(query)
    return cr.fetchone()[0]


def measure(env, peer_sample=0):
    """Our daily run and its delivery, batch by batch as the crons commit them; then OCA's run and
    its communications on the same data."""
    from odoo import fields

    cr = env.cr
    engine = env["cobranza.dunning"].with_context(cobranza_dunning_batch=200)
    Communication = env["cobranza.communication"]

    def our_run():
        calls = 0
        while True:
            calls += 1
            _done, remaining = engine._cron_run(companies=env.company)
            cr.commit()
            if not remaining:
                return calls

    def our_delivery():
        # the delivery job as the cron calls it: one committed batch per call while any is queued
        calls = 0
        while count(cr, "SELECT count(*) FROM cobranza_communication WHERE state = 'queued' AND mail_id IS NULL"):
            calls += 1
            Communication._dispatch_queued()
            cr.commit()
        return calls

    calls, seconds, queries = timed(cr, our_run)
    communications = count(cr, "SELECT count(*) FROM cobranza_communication")
    advanced = count(cr, "SELECT count(*) FROM account_move_line WHERE cobranza_level_id IS NOT NULL")
    run_tests.say(f"ours, plan: {seconds:.1f}s, {queries} queries, {calls} batches, {communications} communications, "
                  f"{advanced} items advanced")
    deliver_calls, deliver_seconds, deliver_queries = timed(cr, our_delivery)
    figures = {
        "emails": count(cr, "SELECT count(*) FROM mail_mail mail JOIN cobranza_communication c ON c.mail_id = mail.id"),
        "letters": count(cr, "SELECT count(*) FROM cobranza_communication c JOIN ir_attachment a "
                             "ON a.id = c.attachment_id WHERE c.channel = 'letter' AND a.mimetype = 'application/pdf'"),
        "case_files": count(cr, "SELECT count(*) FROM cobranza_communication WHERE channel = 'agency' "
                                "AND attachment_id IS NOT NULL"),
        "call_tasks": count(cr, "SELECT count(*) FROM cobranza_communication WHERE activity_id IS NOT NULL"),
        "customers_contacted": count(cr, "SELECT count(DISTINCT partner_id) FROM cobranza_communication "
                                         "WHERE state != 'cancelled'"),
        "failed": count(cr, "SELECT count(*) FROM cobranza_communication WHERE state = 'failed'"),
    }
    run_tests.say(f"ours, deliver: {deliver_seconds:.1f}s, {deliver_queries} queries, {deliver_calls} batches: "
                  f"{figures['emails']} e-mails in the mail queue, {figures['letters']} letters, "
                  f"{figures['case_files']} case files, {figures['call_tasks']} call tasks for "
                  f"{figures['customers_contacted']} customers ({figures['failed']} failed)")

    def peer_run():
        run = env["credit.control.run"].create({"date": fields.Date.context_today(env.user),
                                                "company_id": env.company.id})
        run.generate_credit_lines()
        env.flush_all()
        return run

    def peer_communications(run, sample):
        # its own buttons: "set to ready", then "run channel action" (communications and e-mails,
        # each e-mail with its PDF summary attached; letters get their communications and a print
        # action, rendered when a user downloads it). On a sample of customers when asked: the
        # work is per communication (one wkhtmltopdf call per e-mail), hours at 10,000 customers.
        if sample:
            partners = run.line_ids.partner_id.sorted("id")[:sample]
            run.line_ids.filtered(lambda line: line.partner_id in partners).write({"state": "to_be_sent"})
        else:
            run.set_to_ready_lines()
        run.run_channel_action()
        env.flush_all()

    run, peer_seconds, peer_queries = timed(cr, peer_run)
    peer_lines, peer_partners = count(cr, "SELECT count(*) FROM credit_control_line"), \
        count(cr, "SELECT count(DISTINCT partner_id) FROM credit_control_line")
    run_tests.say(f"OCA account_credit_control, lines: {peer_seconds:.1f}s, {peer_queries} queries, "
                  f"{peer_lines} credit-control lines for {peer_partners} customers")
    sample = peer_sample if peer_sample and peer_sample < peer_partners else 0
    _none, peer_comm_seconds, peer_comm_queries = timed(cr, lambda: peer_communications(run, sample))
    peer_emails = count(cr, "SELECT count(*) FROM mail_mail mail JOIN mail_message message "
                            "ON message.id = mail.mail_message_id WHERE message.model = 'credit.control.communication'")
    peer_communications_count = count(cr, "SELECT count(*) FROM credit_control_communication")
    scale = peer_partners / sample if sample else 1.0
    run_tests.say(f"OCA account_credit_control, communications: {peer_comm_seconds:.1f}s, {peer_comm_queries} "
                  f"queries, {peer_communications_count} communications, {peer_emails} e-mails"
                  + (f" for a sample of {sample} customers: {peer_comm_seconds * scale:.1f}s for all "
                     f"{peer_partners} at the same rate" if sample else ""))
    end_to_end = seconds + deliver_seconds
    peer_comm_measured, peer_comm_seconds = peer_comm_seconds, peer_comm_seconds * scale
    peer_end_to_end = peer_seconds + peer_comm_seconds
    return {
        "seconds": round(seconds, 3), "deliver_seconds": round(deliver_seconds, 3),
        "end_to_end_seconds": round(end_to_end, 3), "queries": queries, "deliver_queries": deliver_queries,
        "queries_per_customer": round(queries / max(figures["customers_contacted"], 1), 2),
        "communications": communications, "items_advanced": advanced, **figures,
        "peer_seconds": round(peer_seconds, 3), "peer_queries": peer_queries, "peer_lines": peer_lines,
        "peer_communications_seconds": round(peer_comm_seconds, 3), "peer_communications": peer_communications_count,
        "peer_emails": peer_emails, "peer_sample_customers": sample or peer_partners,
        "peer_communications_measured_seconds": round(peer_comm_measured, 3),
        "peer_end_to_end_seconds": round(peer_end_to_end, 3),
        "ratio": round(peer_seconds / seconds, 2) if seconds else None,
        "end_to_end_ratio": round(peer_end_to_end / end_to_end, 2) if end_to_end else None,
    }


def measure_interest(env):
    """Late-payment interest billed as its cron does: batch by batch, each committed, until no customer remains."""
    from dateutil.relativedelta import relativedelta

    from odoo import Command

    cr = env.cr
    company = env.company
    product = env["product.product"].create({"name": "Intereses de mora", "type": "service",
                                             "taxes_id": [Command.clear()]})
    company.write({"cobranza_interest_from": company._cobranza_today() - relativedelta(days=365),
                   "cobranza_interest_product_id": product.id, "cobranza_interest_rate": 18.0})
    cr.commit()
    billing = env["cobranza.interest.line"]

    def our_billing():
        calls = 0
        while True:
            calls += 1
            _done, remaining = billing._cron_bill(companies=company)
            cr.commit()
            if not remaining:
                return calls

    calls, seconds, queries = timed(cr, our_billing)
    figures = {
        "interest_seconds": round(seconds, 3), "interest_queries": queries,
        "interest_invoices": count(cr, "SELECT count(DISTINCT interest_move_id) FROM cobranza_interest_line "
                                       "WHERE state = 'billed'"),
        "interest_lines": count(cr, "SELECT count(*) FROM cobranza_interest_line WHERE state = 'billed'"),
        "interest_amount": float(count(cr, "SELECT COALESCE(SUM(amount), 0) FROM cobranza_interest_line")),
    }
    run_tests.say(f"ours, interest: {seconds:.1f}s, {queries} queries, {calls} batches: "
                  f"{figures['interest_invoices']} interest invoices posted for {figures['interest_lines']} overdue "
                  f"items, {figures['interest_amount']:.2f} charged")
    return figures


def main():
    partners = int(os.environ.get("PARTNERS", "10000"))
    invoices = int(os.environ.get("INVOICES", "100000"))
    interest_only = bool(os.environ.get("INTEREST_ONLY"))
    modules, extra = (["cobranza_mgmt"], None) if interest_only else \
        (["cobranza_mgmt", "account_credit_control"], fetch_oca)
    with bench_database(modules, extra_addons=extra) as env:
        started = time.perf_counter()
        receivable_account = build(env, partners, invoices)
        if not interest_only:
            policy = env.ref("account_credit_control.credit_control_3_time")
            policy.account_ids = receivable_account
            env.company.credit_policy_id = policy
            serve_http(env)
        run_tests.say(f"built {partners} customers and {invoices} open invoices "
                      f"in {time.perf_counter() - started:.1f}s")
        figures = {} if interest_only else measure(env, peer_sample=int(os.environ.get("PEER_SAMPLE", "500")))
        figures.update(measure_interest(env))
    print(json.dumps({"partners": partners, "invoices": invoices, **figures}))


if __name__ == "__main__":
    main()
