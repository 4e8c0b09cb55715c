#!/usr/bin/env python3
"""A worker process of the two-process test (tests/test_dunning_workers.py).

    dunning_workers.py setup CONFIG DB CUSTOMERS   build a portfolio in the main company
    dunning_workers.py work CONFIG DB BATCH        the daily run, then the delivery, as the cron
                                                   calls them: batch after batch, each committed

``work`` prints one JSON line: how many batches and customers the run took in this process and
how many communications its delivery took. Any exception ends it with a traceback and exit 1.
"""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests"))


def registry_for(config, dbname):
    import odoo

    odoo.tools.config.parse_config(["-c", config, "-d", dbname, "--log-level=warn"])
    return odoo.modules.registry.Registry(dbname)


def setup(registry, customers):
    from bench_dunning import build

    from odoo import SUPERUSER_ID, api

    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        # due from 55 days ago to 5 days ahead: the levels up to the final notice (e-mail, call, hold)
        build(env, customers, customers * 3, days_back=55, days_ahead=5)
        # No web server runs here for wkhtmltopdf to fetch the report assets from: the levels with
        # letters, formal notice and hand-over) are left out, and so are the demo data's queued letters;
        # letters have tests of their own.
        cr.execute("UPDATE cobranza_dunning_level SET active = FALSE WHERE print_letter OR agency_handover")
        cr.execute("UPDATE cobranza_communication SET state = 'cancelled' WHERE state = 'queued' "
                   "AND channel IN ('letter', 'agency')")


def work(registry, batch):
    from odoo import SUPERUSER_ID, api

    figures = {"run_batches": 0, "customers": 0, "delivered": 0}
    while True:
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"cobranza_dunning_batch": batch})
            done, remaining = env["cobranza.dunning"]._cron_run()
        if done:
            figures["run_batches"] += 1
            figures["customers"] += done
        if not remaining:
            break
    while True:
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            figures["delivered"] += env["cobranza.communication"]._dispatch_queued(limit=batch)
            cr.execute("SELECT count(*) FROM cobranza_communication WHERE state = 'queued' AND mail_id IS NULL")
            remaining = cr.fetchone()[0]
        if not remaining:
            break
    print(json.dumps(figures))


def main():
    command, config, dbname, number = sys.argv[1:5]
    registry = registry_for(config, dbname)
    if command == "setup":
        setup(registry, int(number))
    else:
        work(registry, int(number))


if __name__ == "__main__":
    main()
