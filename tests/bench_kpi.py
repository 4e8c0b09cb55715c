"""Benchmark: the aging analysis and the KPI set against one hand-written SQL aggregate.

Builds ``LINES`` open receivable items (default 200,000) over ``PARTNERS`` customers (default
10,000), spread over every aging bucket, in a temporary database with ``cobranza_mgmt``. Then
times, best of ``ROUNDS`` (default 3):

* ours: exactly what the daily snapshot cron runs (``cobranza.kpi.snapshot._cron_take``): the
  aging by bucket and the KPI set over the last 30 days (DSO, best DSO, ADD, CEI, recovery,
  delinquency, overdue share, promise and agreement rates, top-10 share, Herfindahl) for the
  company, every collector and every segment from one pass over the items
  (``cobranza.kpi._compute_all``, which the KPI report uses too), then the snapshots stored;
* the floor: a single hand-written SQL aggregate of the open items' residuals per customer and bucket.

Prints both and ``ratio`` = ours / floor; the last line is one JSON object. For information it
also prints the time of the Aging Analysis pivot's query (``cobranza.aging.report`` grouped by
customer and bucket through the ORM, display names included). Then the Collections overview
(``overview_seconds``, target under 1 s): what the browser waits for when a Collections Manager
opens the app, one JSON-RPC call through Odoo's HTTP server with a logged-in session.
Run with ``make bench-kpi``.
"""
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests"))

import run_tests  # noqa: E402
from bench_dunning import build, serve_http  # noqa: E402
from bench_segmentation import bench_database  # noqa: E402

# The same figures by hand: each open item's residual once the customer's unapplied credits paid its
# oldest debits first (overdue is net, README), summed per customer and bucket.
FLOOR_SQL = """
    SELECT partner_id,
           SUM(CASE WHEN age <= 0 THEN net ELSE 0 END),
           SUM(CASE WHEN age BETWEEN 1 AND 30 THEN net ELSE 0 END),
           SUM(CASE WHEN age BETWEEN 31 AND 60 THEN net ELSE 0 END),
           SUM(CASE WHEN age BETWEEN 61 AND 90 THEN net ELSE 0 END),
           SUM(CASE WHEN age > 90 THEN net ELSE 0 END)
      FROM (
        SELECT partner_id, CASE WHEN residual < 0 THEN 0 ELSE %(today)s - due END AS age,
               CASE WHEN residual > 0
                    THEN residual - LEAST(residual, GREATEST(-COALESCE(SUM(residual) FILTER (WHERE residual < 0)
                         OVER (PARTITION BY partner_id), 0) - COALESCE(SUM(residual) FILTER (WHERE residual > 0)
                         OVER (PARTITION BY partner_id ORDER BY due, id
                               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0), 0))
                    ELSE residual + LEAST(-residual, GREATEST(COALESCE(SUM(residual) FILTER (WHERE residual > 0)
                         OVER (PARTITION BY partner_id), 0) + COALESCE(SUM(residual) FILTER (WHERE residual < 0)
                         OVER (PARTITION BY partner_id ORDER BY date, id
                               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0), 0))
               END AS net
          FROM (SELECT aml.id, aml.partner_id, aml.date, COALESCE(aml.date_maturity, aml.date) AS due,
                       aml.amount_residual AS residual
                  FROM account_move_line aml
                  JOIN account_account account ON account.id = aml.account_id
                 WHERE account.account_type = 'asset_receivable' AND aml.parent_state = 'posted'
                   AND NOT aml.reconciled AND aml.company_id = %(company)s) item
      ) net_item
     GROUP BY partner_id
"""


def best_of(rounds, function):
    times, result = [], None
    for _round in range(rounds):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return min(times), result


def main():
    from odoo import fields

    partners = int(os.environ.get("PARTNERS", "10000"))
    lines = int(os.environ.get("LINES", "200000"))
    rounds = int(os.environ.get("ROUNDS", "3"))
    with bench_database(["cobranza_mgmt"]) as env:
        started = time.perf_counter()
        build(env, partners, lines)
        env["cobranza.credit.profile"].sudo()._refresh_behaviour()
        env.cr.commit()
        env.cr.execute("ANALYZE")
        company = env.company
        today = fields.Date.context_today(env.user)
        env.cr.execute("""
            SELECT count(*) FROM account_move_line aml JOIN account_account a ON a.id = aml.account_id
             WHERE a.account_type = 'asset_receivable' AND NOT aml.reconciled AND aml.parent_state = 'posted'
        """)
        open_lines = env.cr.fetchone()[0]
        run_tests.say(f"built {partners} customers, {open_lines} open receivable items "
                      f"in {time.perf_counter() - started:.1f}s")

        def floor():
            env.cr.execute(FLOOR_SQL, {"today": today, "company": company.id})
            return env.cr.fetchall()

        def ours():
            env.invalidate_all()
            env["cobranza.kpi.snapshot"].sudo()._cron_take()
            env.flush_all()
            return env["cobranza.kpi.snapshot"].sudo().search([("company_id", "=", company.id),
                                                                ("date", "=", today)])

        def pivot():
            env.invalidate_all()
            return env["cobranza.aging.report"].read_group(
                [("company_id", "=", company.id)], ["amount_residual:sum"], ["partner_id", "bucket"], lazy=False,
            )

        overview_seconds, overview_queries, overview = measure_overview(env, rounds)
        floor_seconds, floor_rows = best_of(rounds, floor)
        seconds, _snapshots = best_of(rounds, ours)
        pivot_seconds, pivot_groups = best_of(rounds, pivot)
        queries_before = env.cr.sql_log_count
        ours()
        queries = env.cr.sql_log_count - queries_before
        snapshots = env["cobranza.kpi.snapshot"].sudo().search([("company_id", "=", company.id), ("date", "=", today)])
        kpis = snapshots.filtered(lambda snapshot: snapshot.dimension == "company")
        run_tests.say(f"SQL floor: {floor_seconds:.3f}s ({len(floor_rows)} customers)")
        run_tests.say(f"ours (the snapshot cron): {seconds:.3f}s, {queries} queries ({len(snapshots)} snapshots; "
                      f"DSO {kpis.dso}, CEI {kpis.cei}, over 90 days {kpis.days_over_90})")
        run_tests.say(f"for information, the Aging Analysis pivot (ORM read_group, {len(pivot_groups)} groups): "
                      f"{pivot_seconds:.3f}s")
        run_tests.say(f"the Collections overview as a manager opens it (JSON-RPC over HTTP, login excluded): "
                      f"{overview_seconds:.3f}s, {overview_queries} queries "
                      f"(DSO {overview['cards'][0]['value']}, {len(overview['top_debtors'])} top debtors)")
    print(json.dumps({
        "lines": open_lines, "partners": partners, "seconds": round(seconds, 3), "queries": queries,
        "sql_floor_seconds": round(floor_seconds, 3), "ratio": round(seconds / floor_seconds, 2),
        "pivot_seconds": round(pivot_seconds, 3),
        "overview_seconds": round(overview_seconds, 3), "overview_queries": overview_queries,
    }))


def measure_overview(env, rounds):
    """The overview's data as the browser fetches it when a Collections Manager opens the app: one JSON-RPC
    call to ``cobranza.overview.get_overview`` through Odoo's HTTP server, best of ``rounds``; the queries of
    every cursor (Odoo's global counter), for one call."""
    import requests

    import odoo
    from odoo import Command

    serve_http(env)
    env["res.users"].create({
        "name": "Bench Manager", "login": "bench_manager", "password": "bench_manager_pw",
        "groups_id": [Command.set([env.ref("base.group_user").id,
                                   env.ref("cobranza_mgmt.cobranza_mgmt_group_manager").id])],
    })
    env["cobranza.kpi.snapshot"].sudo()._cron_take()  # today's snapshot, as the nightly cron leaves it
    env.cr.commit()
    base = env["ir.config_parameter"].sudo().get_param("report.url")
    session = requests.Session()
    login = session.post(f"{base}/web/session/authenticate", json={"params": {
        "db": env.cr.dbname, "login": "bench_manager", "password": "bench_manager_pw"}}, timeout=60)
    login.raise_for_status()

    def load():
        response = session.post(f"{base}/web/dataset/call_kw/cobranza.overview/get_overview", json={
            "jsonrpc": "2.0", "method": "call",
            "params": {"model": "cobranza.overview", "method": "get_overview", "args": [], "kwargs": {}},
        }, timeout=60)
        response.raise_for_status()
        body = response.json()
        if "error" in body:
            raise RuntimeError(body["error"])
        return body["result"]

    load()  # the server's first call loads the registry's caches; a user's session has them already
    seconds, result = best_of(rounds, load)
    before = odoo.sql_db.sql_counter
    load()
    return seconds, odoo.sql_db.sql_counter - before, result


if __name__ == "__main__":
    main()
