#!/usr/bin/env python3
"""make run: Odoo 18 with cobranza_mgmt and its demo data on http://localhost:8069.

The native twin of `docker compose up`: reaches PostgreSQL (starting the local cluster and
creating the role when it may), creates the database `cobranza` with cobranza_mgmt, the
Sales bridge and demo data when it is not there yet, then serves it in the foreground
(Ctrl-C stops it). Running it again reuses the database and its files (`.run/`).

COBRANZA_DB (default cobranza) and COBRANZA_HTTP_PORT (default 8069) change the database
and the port. Log in as admin / admin.
"""
import os
import socket
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pglocal
from run_tests import (
    DEMO_MODULES,
    MODULES,
    ROOT,
    check_odoo,
    die,
    ensure_postgres,
    odoo_command,
    pg_connect,
    say,
    write_config,
)


def port_is_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def module_installed(params, dbname):
    """True when dbname exists with cobranza_mgmt installed."""
    import psycopg2

    connection = pg_connect(params)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname])
            if not cursor.fetchone():
                return False
    finally:
        connection.close()
    try:
        connection = pg_connect(params, dbname)
    except psycopg2.OperationalError:
        return False
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('ir_module_module') IS NOT NULL")
            if not cursor.fetchone()[0]:
                return False
            cursor.execute("SELECT state FROM ir_module_module WHERE name = %s", [MODULES[0]])
            row = cursor.fetchone()
            return bool(row) and row[0] == "installed"
    finally:
        connection.close()


def main():
    dbname = os.environ.get("COBRANZA_DB") or "cobranza"
    port = int(os.environ.get("COBRANZA_HTTP_PORT") or 8069)
    check_odoo()
    if not port_is_free(port):
        die(f"port {port} is already in use (another Odoo? `ss -ltnp 'sport = :{port}'` shows which process): "
            f"stop it, or choose another port with COBRANZA_HTTP_PORT=8070 make run.")
    params = pglocal.params()
    ensure_postgres(params)
    workdir = ROOT / ".run" / dbname
    workdir.mkdir(parents=True, exist_ok=True)
    config = write_config(workdir, params, dbname, http_port=port, max_cron_threads=1)
    if not module_installed(params, dbname):
        say(f"creating database {dbname} with {', '.join(MODULES + DEMO_MODULES)} and demo data (a minute or two)")
        created = subprocess.run(
            odoo_command(config, "-d", dbname, "-i", ",".join(MODULES + DEMO_MODULES), "--without-demo=",
                         "--stop-after-init",
                         "--log-level=warn"),
            check=False,
        )
        if created.returncode:
            die(f"creating {dbname} failed (exit {created.returncode}); the log is above. Fix it and run "
                f"make run again, or drop the database (dropdb {dbname}) to start over.")
    say(f"serving {dbname} on http://localhost:{port} (login admin, password admin); Ctrl-C stops it")
    command = odoo_command(config, "-d", dbname)
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
