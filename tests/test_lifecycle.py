"""End to end: cobranza_mgmt installs into an empty database and uninstalls cleanly.

Runs Odoo in subprocesses against a database of its own, so the shared test database
(with demo data) is left alone. Needs the configuration pytest-odoo was started with.
"""
import re
import subprocess
import sys
import uuid

import psycopg2
import pytest

import odoo

LOG_PROBLEM = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (WARNING|ERROR|CRITICAL) ", re.M)
UNINSTALL = """
module = env["ir.module.module"].search([("name", "=", "cobranza_mgmt")])
module.button_immediate_uninstall()
env.cr.commit()
"""


def _odoo(*args, stdin=None):
    command = [sys.executable, "-c", "import odoo.cli; odoo.cli.main()", *args,
               "-c", odoo.tools.config.rcfile, "--log-level=warn"]
    return subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=900, check=False)


@pytest.fixture
def empty_database():
    config = odoo.tools.config
    params = {
        "host": config["db_host"], "port": config["db_port"],
        "user": config["db_user"], "password": config["db_password"],
    }
    name = f"{config['db_name']}_lifecycle_{uuid.uuid4().hex[:6]}"
    yield name, params
    connection = psycopg2.connect(dbname="postgres", **params)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    connection.close()


def test_install_then_uninstall_leaves_nothing(empty_database):
    name, params = empty_database
    installed = _odoo("-d", name, "-i", "cobranza_mgmt", "--without-demo=all", "--stop-after-init",
                      f"--db-filter=^{name}$")
    output = installed.stdout + installed.stderr
    assert installed.returncode == 0, output[-5000:]
    assert not LOG_PROBLEM.search(output), output[-5000:]

    uninstalled = _odoo("shell", "-d", name, f"--db-filter=^{name}$", stdin=UNINSTALL)
    output = uninstalled.stdout + uninstalled.stderr
    assert uninstalled.returncode == 0, output[-5000:]
    assert not LOG_PROBLEM.search(output), output[-5000:]

    connection = psycopg2.connect(dbname=name, **params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT state FROM ir_module_module WHERE name = 'cobranza_mgmt'")
        assert cursor.fetchone()[0] == "uninstalled"
        cursor.execute("SELECT count(*) FROM information_schema.tables WHERE table_name LIKE 'cobranza%%'")
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT count(*) FROM ir_model WHERE model LIKE 'cobranza.%%'")
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT count(*) FROM ir_ui_menu m JOIN ir_model_data d ON d.res_id = m.id "
                       "AND d.model = 'ir.ui.menu' WHERE d.module = 'cobranza_mgmt'")
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT count(*) FROM res_groups g JOIN ir_model_data d ON d.res_id = g.id "
                       "AND d.model = 'res.groups' WHERE d.module = 'cobranza_mgmt'")
        assert cursor.fetchone()[0] == 0
    connection.close()
