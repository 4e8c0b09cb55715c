"""Two real processes run the daily dunning run and the delivery at the same time.

They work on a copy of the test database (demo data plus a portfolio of 150 customers), batch
after batch with each batch committed, as two cron workers would. Both must finish with no error
or warning logged, no customer reminded twice, nobody left out, and the work split between them.
"""
import json
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg2
import pytest

import odoo

HERE = Path(__file__).resolve().parent
LOG_PROBLEM = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (WARNING|ERROR|CRITICAL) ", re.M)
CUSTOMERS = 150


def _params():
    config = odoo.tools.config
    return {"host": config["db_host"], "port": config["db_port"],
            "user": config["db_user"], "password": config["db_password"]}


@pytest.fixture
def database_copy():
    """A copy of the test database, dropped afterwards."""
    source = odoo.tools.config["db_name"]
    name = f"{source}_workers_{uuid.uuid4().hex[:6]}"
    odoo.sql_db.close_db(source)  # CREATE DATABASE … TEMPLATE needs no one connected to the source
    connection = psycopg2.connect(dbname="postgres", **_params())
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    yield name
    # FORCE ends our own sessions, not an autovacuum worker (the server's own role) that a busy machine
    # may have started on the copy: it ends by itself within moments, so the drop is tried again.
    for attempt in range(30):
        try:
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            break
        except psycopg2.errors.InsufficientPrivilege:
            if attempt == 29:
                raise
            time.sleep(1)
    connection.close()


def _worker(*args):
    return subprocess.Popen(
        [sys.executable, str(HERE / "dunning_workers.py"), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )


def _query(dbname, sql):
    connection = psycopg2.connect(dbname=dbname, **_params())
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()
    finally:
        connection.close()


def test_two_processes_share_the_run_and_the_delivery(database_copy):
    config = odoo.tools.config.rcfile
    setup = _worker("setup", config, database_copy, str(CUSTOMERS))
    _out, err = setup.communicate(timeout=600)
    assert setup.returncode == 0, err[-5000:]
    before = _query(database_copy, "SELECT coalesce(max(id), 0) FROM cobranza_communication")[0][0]
    waiting = _query(database_copy, "SELECT count(*) FROM cobranza_communication "
                                    "WHERE state = 'queued' AND mail_id IS NULL")[0][0]

    workers = [_worker("work", config, database_copy, "10") for _ in range(2)]
    results = [worker.communicate(timeout=900) for worker in workers]
    for worker, (_out, err) in zip(workers, results, strict=True):
        assert worker.returncode == 0, err[-5000:]
        assert not LOG_PROBLEM.search(err), err[-5000:]
    figures = [json.loads(out.strip().splitlines()[-1]) for out, _err in results]

    # the work was split: each process ran batches of the run and delivered reminders
    assert all(figure["run_batches"] > 0 for figure in figures), figures
    assert all(figure["delivered"] > 0 for figure in figures), figures
    # no duplicate: one communication per customer and channel
    duplicates = _query(database_copy, f"""
        SELECT partner_id, channel, count(*) FROM cobranza_communication
         WHERE id > {before} GROUP BY partner_id, channel HAVING count(*) > 1
    """)
    assert duplicates == []
    # nothing missing: every customer with an overdue or soon-due item was handled, every item advanced
    missing = _query(database_copy, f"""
        SELECT DISTINCT aml.partner_id FROM account_move_line aml
          JOIN account_move move ON move.id = aml.move_id
         WHERE move.payment_reference LIKE 'BENCH/%%' AND aml.account_id IN (
               SELECT id FROM account_account WHERE account_type = 'asset_receivable')
           AND aml.date_maturity <= CURRENT_DATE + 3
           AND NOT EXISTS (SELECT 1 FROM cobranza_communication c WHERE c.id > {before}
                            AND c.partner_id = aml.partner_id)
    """)
    assert missing == []
    customers = _query(database_copy, f"SELECT count(DISTINCT partner_id) FROM cobranza_communication "
                                      f"WHERE id > {before} AND partner_id IN (SELECT id FROM res_partner "
                                      f"WHERE name LIKE 'Cliente %%')")[0][0]
    assert customers > CUSTOMERS * 0.9
    # the delivery took every communication once, e-mails into the mail queue, calls as tasks
    states = dict(_query(database_copy, f"SELECT state, count(*) FROM cobranza_communication "
                                        f"WHERE id > {before} GROUP BY state"))
    assert set(states) <= {"queued", "sent"}, states
    unqueued = _query(database_copy, f"SELECT count(*) FROM cobranza_communication WHERE id > {before} "
                                     f"AND state = 'queued' AND mail_id IS NULL")[0][0]
    assert unqueued == 0
    delivered = sum(figure["delivered"] for figure in figures)
    assert delivered == sum(states.values()) + waiting, "each communication was delivered by one worker"
    mails = _query(database_copy, f"SELECT count(*), count(DISTINCT mail_id) FROM cobranza_communication "
                                  f"WHERE id > {before} AND channel = 'email'")[0]
    assert mails[0] == mails[1]
