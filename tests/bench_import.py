#!/usr/bin/env python3
"""Benchmark: a bank collection file of 10,000 payments, read, matched, posted and reconciled.

    make bench-import        (PARTNERS=10000 INVOICES=50000 LINES=10000 PEER_SAMPLE=200 by default)

Creates a database with cobranza_mgmt (no demo), fills it through SQL with PARTNERS customers
(each with a tax id) and INVOICES open customer invoices, and writes a collection file of LINES
payments, each with its own bank reference: 60 % by invoice number paying it in full, 15 % by
tax id for the exact residual, 10 % partial payments, 5 % one payment for two invoices, 5 %
paying more than the invoice, 5 % with a reference that does not exist. The same data is
written as .xls (xlwt) and .xlsx (openpyxl). Then, as a user would, through the product's own
path (the import wizard, then the scheduled job that reads and posts large files):

* preview (.xlsx, then .xls): upload, read, match, the lines created; the .xlsx import is cancelled;
* post: confirm the .xls import; the job posts the payments and reconciles them;
* the same .xls file again: read, and its post refused: ``second_import_posted`` counts what it posted;
* peer: Odoo's own payment-register wizard, invoice by invoice, as an accountant would without
  the module, on PEER_SAMPLE of the same payments (rolled back), extrapolated to all the lines.

Every query is counted (``cr.sql_log_count``). The last line is one JSON object with ``lines``,
``matched``, ``preview_seconds`` (.xls), ``preview_seconds_xlsx``, ``post_seconds``, ``queries``
(preview + post of the .xls file), ``second_import_posted``, ``peer_seconds`` and ``ratio``
(peer ÷ our preview + post). The database is dropped afterwards.
"""
import base64
import io
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests"))

import run_tests  # noqa: E402
from bench_dunning import template_invoice  # noqa: E402
from bench_segmentation import bench_database, clone_portfolio, clone_sql  # noqa: E402

HEADER = ["date", "amount", "reference", "tax_id", "bank_reference", "currency", "payer"]


def build(env, partners, invoices):
    """PARTNERS customers with tax ids and INVOICES open invoices, cloned through SQL from one made
    by the ORM: both journal items of each (receivable and income), so that they reconcile."""
    partner, invoice, receivable = template_invoice(env)
    income = invoice.line_ids.filtered(lambda line: line.display_type == "product")
    cr = env.cr
    clone_portfolio(cr, partner, invoice, receivable, partners=partners, invoices=invoices,
                    days_back=120, days_ahead=30)
    clone_sql(cr, "account_move_line", income.id, invoices, {
        "move_id": "b.move_id", "move_name": "b.name", "partner_id": "b.partner_id",
        "date": "b.due - 30", "invoice_date": "b.due - 30", "debit": "0", "credit": "b.amount",
        "balance": "-b.amount", "amount_currency": "-b.amount", "price_unit": "b.amount",
        "price_subtotal": "b.amount", "price_total": "b.amount",
    }, extra_from="JOIN bench_moves b ON b.g = gs.n")
    cr.execute("UPDATE res_partner SET vat = '900' || lpad(id::text, 7, '0') WHERE name LIKE 'Cliente %%'")
    cr.execute("ANALYZE")
    env.invalidate_all()


def payments(env, lines):
    """The collection file's rows and, for the peer, (invoice id, amount) of each row that pays one."""
    cr = env.cr
    cr.execute("""
        SELECT move.id, move.name, move.amount_residual, partner.vat, partner.name, partner.id
          FROM account_move move JOIN res_partner partner ON partner.id = move.commercial_partner_id
         WHERE move.payment_reference LIKE 'BENCH/%%' ORDER BY move.id
    """)
    invoices = cr.fetchall()
    of_partner = {}
    for invoice in invoices:
        of_partner.setdefault(invoice[5], []).append(invoice)
    today = time.strftime("%Y-%m-%d")
    rows, peer, used = [], [], set()
    pending = iter(invoices)
    for n in range(lines):
        kind = n % 20
        move_id, name, residual, vat, payer, partner_id = next(invoice for invoice in pending if invoice[0] not in used)
        used.add(move_id)
        bank_ref = f"TRX-{n:07d}"
        if kind < 12:  # invoice number, in full
            rows.append([today, float(residual), name, "", bank_ref, "", payer])
        elif kind < 15:  # tax id and exact residual
            rows.append([today, float(residual), "", vat, bank_ref, "", payer])
        elif kind < 17:  # partial
            rows.append([today, round(float(residual) / 2, 2), name, vat, bank_ref, "", payer])
        elif kind == 17:  # two invoices of the customer in one payment
            second = next(invoice for invoice in of_partner[partner_id] if invoice[0] not in used)
            used.add(second[0])
            rows.append([today, float(residual + second[2]), f"{name}, {second[1]}", "", bank_ref, "", payer])
        elif kind == 18:  # more than the invoice
            rows.append([today, float(residual) + 10.0, name, "", bank_ref, "", payer])
        else:  # a reference that does not exist
            rows.append([today, 99.0, f"NO-EXISTE-{n}", "", bank_ref, "", payer])
            continue
        peer.append((move_id, rows[-1][1]))
    return rows, peer


def xls_content(rows):
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Recaudo")
    for r, row in enumerate([HEADER, *rows]):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue()


def xlsx_content(rows):
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    for row in [HEADER, *rows]:
        sheet.append(row)
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue()


def timed(env, function):
    cr = env.cr
    queries, started = cr.sql_log_count, time.perf_counter()
    result = function()
    env.flush_all()
    cr.commit()
    return result, time.perf_counter() - started, cr.sql_log_count - queries


def import_file(env, profile, journal, content, name):
    """What the user does and waits for: the wizard, then the job that reads a large file."""
    wizard = env["cobranza.import.wizard"].create({
        "profile_id": profile.id, "journal_id": journal.id, "file": base64.b64encode(content), "file_name": name,
    })
    batch = env["cobranza.import.batch"].browse(wizard.action_import()["res_id"])
    while batch.state == "queued":
        env["cobranza.import.batch"]._cron_process()
        batch.invalidate_recordset()
    return batch


def post(env, batch):
    batch.action_post()
    batch.invalidate_recordset()
    while batch.state == "posting":
        env["cobranza.import.batch"]._cron_process()
        batch.invalidate_recordset()
    return batch


def peer(env, journal, sample):
    """Odoo's payment-register wizard, invoice by invoice, each its own transaction (rolled back after)."""
    cr = env.cr
    cr.execute("SAVEPOINT bench_peer")
    times = []
    for move_id, amount in sample:
        env.invalidate_all()
        started = time.perf_counter()
        env["account.payment.register"].with_context(active_model="account.move", active_ids=[move_id]).create(
            {"journal_id": journal.id, "amount": amount},
        )._create_payments()
        env.flush_all()
        times.append(time.perf_counter() - started)
    cr.execute("ROLLBACK TO SAVEPOINT bench_peer")
    env.invalidate_all()
    return times


def main():
    partners = int(os.environ.get("PARTNERS", "10000"))
    invoices = int(os.environ.get("INVOICES", "50000"))
    lines = int(os.environ.get("LINES", "10000"))
    peer_sample = int(os.environ.get("PEER_SAMPLE", "200"))
    with bench_database(["cobranza_mgmt"]) as root:
        cr = root.cr
        started = time.perf_counter()
        build(root, partners, invoices)
        cr.commit()
        root.invalidate_all()
        env = root(user=root.ref("base.user_admin"))  # the accountant (a Collections Manager)
        company = env.company
        journal = env["account.journal"].search([("type", "=", "bank"), ("company_id", "=", company.id)], limit=1)
        profile = env["cobranza.import.profile"].create({
            "name": "Bench", "company_id": company.id, "file_type": "xls", "journal_id": journal.id,
            "date_column": "date", "amount_column": "amount", "reference_column": "reference",
            "tax_id_column": "tax_id", "bank_ref_column": "bank_reference", "currency_column": "currency",
            "payer_column": "payer",
        })
        rows, peer_rows = payments(env, lines)
        xls, xlsx = xls_content(rows), xlsx_content(rows)
        cr.commit()
        run_tests.say(f"built {partners} customers, {invoices} invoices, a file of {lines} payments "
                      f"(.xls {len(xls) // 1024} KiB, .xlsx {len(xlsx) // 1024} KiB) in "
                      f"{time.perf_counter() - started:.1f}s")

        peer_times = peer(env, journal, peer_rows[:peer_sample])
        peer_each = statistics.mean(peer_times)
        run_tests.say(f"peer: Odoo's register wizard, {len(peer_times)} invoices one by one: "
                      f"{peer_each * 1000:.1f} ms each (median {statistics.median(peer_times) * 1000:.1f} ms)")

        xlsx_profile = profile.copy({"name": "Bench xlsx", "file_type": "xlsx"})
        batch_xlsx, preview_xlsx, queries_xlsx = timed(env, lambda: import_file(env, xlsx_profile, journal, xlsx,
                                                                                "recaudo.xlsx"))
        run_tests.say(f"preview .xlsx: {preview_xlsx:.2f}s, {queries_xlsx} queries, "
                      f"{batch_xlsx.matched_count} matched of {batch_xlsx.line_count}")
        batch_xlsx.action_cancel()
        cr.commit()

        batch, preview_seconds, preview_queries = timed(env, lambda: import_file(env, profile, journal, xls,
                                                                                 "recaudo.xls"))
        matched = batch.matched_count
        run_tests.say(f"preview .xls: {preview_seconds:.2f}s, {preview_queries} queries, "
                      f"{matched} matched, {batch.unmatched_count} unmatched of {batch.line_count}")
        _batch, post_seconds, post_queries = timed(env, lambda: post(env, batch))
        run_tests.say(f"post: {post_seconds:.2f}s, {post_queries} queries, {batch.posted_count} posted "
                      f"({batch.state}) in {len(batch.move_ids)} entries")
        cr.execute("""
            SELECT count(*) FILTER (WHERE move.payment_state IN ('paid', 'in_payment')),
                   count(*) FILTER (WHERE move.payment_state = 'partial')
              FROM cobranza_import_line_move_rel rel JOIN account_move move ON move.id = rel.move_id
              JOIN cobranza_import_line line ON line.id = rel.line_id WHERE line.batch_id = %s
        """, (batch.id,))
        paid, partial = cr.fetchone()
        run_tests.say(f"invoices afterwards: {paid} paid, {partial} partially paid")

        again, again_seconds, _queries = timed(env, lambda: import_file(env, profile, journal, xls, "recaudo.xls"))
        try:
            again.action_post()
        except Exception as error:  # noqa: BLE001 (the refusal is what is measured)
            run_tests.say(f"second import of the same file: {again_seconds:.2f}s to read; posting refused: {error}")
            cr.rollback()
        again.invalidate_recordset()
        second_posted = again.posted_count

        ours = preview_seconds + post_seconds
        peer_seconds = peer_each * lines
        figures = {
            "partners": partners, "invoices": invoices, "lines": lines, "matched": matched,
            "preview_seconds": round(preview_seconds, 2), "preview_seconds_xlsx": round(preview_xlsx, 2),
            "post_seconds": round(post_seconds, 2), "queries": preview_queries + post_queries,
            "second_import_posted": second_posted, "peer_sample": len(peer_times),
            "peer_ms_each": round(peer_each * 1000, 1), "peer_seconds": round(peer_seconds, 1),
            "ratio": round(peer_seconds / ours, 2),
        }
        run_tests.say(f"ours {ours:.1f}s (preview + post) vs the register wizard {peer_seconds:.0f}s "
                      f"(extrapolated): ratio {figures['ratio']}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
