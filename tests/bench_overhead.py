#!/usr/bin/env python3
"""Benchmark: what everyday invoicing pays for the module.

    make bench-overhead        (CUSTOMERS=200 INVOICES=400 PAYMENTS=200 by default)

Two databases side by side, one with Odoo's ``account`` only and one with ``cobranza_mgmt``
(collections started, so the credit check at posting runs), each with the same CUSTOMERS
customers and INVOICES draft customer invoices. Then, as users would, each invoice is posted
one by one (its own transaction, committed), and PAYMENTS of them are paid one by one through
the payment-register wizard (committed). The two databases take turns invoice by invoice, each
going first every other time, so whatever else the machine does weighs on both alike; ten of
each are done first to warm the caches and are not counted.

Every query is counted (``cr.sql_log_count``, commits included). Prints the figures; the last
line is one JSON object with ``invoices``, ``post_overhead_pct``, ``pay_overhead_pct`` (time: the
median, over the invoices, of the ratio of the same invoice's transaction with the module to
the one without, done one right after the other, so that what the machine does at a given
moment weighs on both; the ratio of the median transactions and of the totals, which a
checkpoint or an autovacuum can swing by several per cent, are ``*_median_overhead_pct`` and
``*_total_overhead_pct``) and ``post_query_overhead_pct``, ``pay_query_overhead_pct``.
For information it also times the deferred refresh job that the posts and payments triggered
(``refresh_seconds``): the work the module moved out of the user's way.
"""
import json
import os
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests"))

import run_tests  # noqa: E402
from bench_segmentation import bench_database  # noqa: E402

WARM_UP = 10


def prepare(env, customers, invoices):
    """Customers and draft invoices, made by the ORM and committed (not timed)."""
    from odoo import Command, fields

    partners = env["res.partner"].create([{"name": f"Cliente {n}", "is_company": True} for n in range(customers)])
    today = fields.Date.context_today(env.user)
    moves = env["account.move"].create([{
        "move_type": "out_invoice", "partner_id": partners[n % customers].id, "invoice_date": today,
        "invoice_line_ids": [Command.create({"name": "Servicio", "quantity": 1, "price_unit": 100.0 + n,
                                             "tax_ids": [Command.clear()]})],
    } for n in range(invoices + WARM_UP)])
    env.cr.commit()
    return moves


def timed(env, function, *args):
    """Run ``function(env, *args)`` as one user transaction (committed); return (seconds, queries)."""
    queries = env.cr.sql_log_count
    started = time.perf_counter()
    function(env, *args)
    env.cr.commit()
    return time.perf_counter() - started, env.cr.sql_log_count - queries


def post(env, move_id):
    env.invalidate_all()
    env["account.move"].browse(move_id).action_post()


def pay(env, move_id):
    env.invalidate_all()
    env["account.payment.register"].with_context(active_model="account.move", active_ids=[move_id]).create(
        {},
    )._create_payments()


def refresh(env):
    env["cobranza.profile.refresh"]._cron_refresh()


def pct(ours, base):
    return round((ours - base) / base * 100.0, 1)


def main():
    customers = int(os.environ.get("CUSTOMERS", "200"))
    invoices = int(os.environ.get("INVOICES", "400"))
    payments = min(int(os.environ.get("PAYMENTS", "200")), invoices)
    with ExitStack() as stack:
        envs = {
            "without": stack.enter_context(bench_database(["account"])),
            "with": stack.enter_context(bench_database(["cobranza_mgmt"])),
        }
        moves = {name: prepare(env, customers, invoices).ids for name, env in envs.items()}
        totals = {name: {"post": [0.0, 0], "pay": [0.0, 0]} for name in envs}
        each = {name: {"post": [], "pay": []} for name in envs}  # seconds of each transaction
        for phase, action, count in (("post", post, invoices), ("pay", pay, payments)):
            for index in range(count + WARM_UP):
                # each goes first every other time: whatever the first leaves (caches, WAL) weighs on both
                for name, env in sorted(envs.items(), reverse=bool(index % 2)):
                    seconds, queries = timed(env, action, moves[name][index])
                    if index >= WARM_UP:
                        totals[name][phase][0] += seconds
                        totals[name][phase][1] += queries
                        each[name][phase].append(seconds)
        refresh_seconds, refresh_queries = 0.0, 0
        env = envs["with"]
        while True:
            seconds, queries = timed(env, refresh)
            refresh_seconds += seconds
            refresh_queries += queries
            env.cr.execute("SELECT count(*) FROM cobranza_profile_refresh")
            if not env.cr.fetchone()[0]:
                break
        for name in envs:
            (post_s, post_q), (pay_s, pay_q) = totals[name]["post"], totals[name]["pay"]
            run_tests.say(f"{name} the module: posting {invoices} invoices {post_s:.2f}s, {post_q} queries; "
                          f"paying {payments} {pay_s:.2f}s, {pay_q} queries")
        run_tests.say(f"deferred refresh of the customers touched: {refresh_seconds:.2f}s, {refresh_queries} queries "
                      "(in the background job, not in the user's transaction)")
    base, ours = totals["without"], totals["with"]
    median = {name: {phase: statistics.median(times) for phase, times in phases.items()}
              for name, phases in each.items()}
    # the same invoice posted (paid) in both databases one right after the other: their ratio, whatever
    # the machine was doing at that moment; the median of those ratios is the overhead
    paired = {phase: statistics.median(ours / base for ours, base in zip(each["with"][phase], each["without"][phase],
                                                                         strict=True))
              for phase in ("post", "pay")}
    run_tests.say("median transaction: posting {:.1f} ms without, {:.1f} ms with; paying {:.1f} ms without, "
                  "{:.1f} ms with".format(median["without"]["post"] * 1000, median["with"]["post"] * 1000,
                                          median["without"]["pay"] * 1000, median["with"]["pay"] * 1000))
    print(json.dumps({
        "invoices": invoices, "payments": payments, "customers": customers,
        "post_overhead_pct": round((paired["post"] - 1) * 100, 1),
        "pay_overhead_pct": round((paired["pay"] - 1) * 100, 1),
        "post_median_overhead_pct": pct(median["with"]["post"], median["without"]["post"]),
        "pay_median_overhead_pct": pct(median["with"]["pay"], median["without"]["pay"]),
        "post_total_overhead_pct": pct(ours["post"][0], base["post"][0]),
        "pay_total_overhead_pct": pct(ours["pay"][0], base["pay"][0]),
        "post_query_overhead_pct": pct(ours["post"][1], base["post"][1]),
        "pay_query_overhead_pct": pct(ours["pay"][1], base["pay"][1]),
        "post_seconds": [round(base["post"][0], 2), round(ours["post"][0], 2)],
        "pay_seconds": [round(base["pay"][0], 2), round(ours["pay"][0], 2)],
        "refresh_seconds": round(refresh_seconds, 2),
    }))


if __name__ == "__main__":
    main()
