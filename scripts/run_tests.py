#!/usr/bin/env python3
"""Run the cobranza_mgmt test suite against a fresh PostgreSQL database.

1. checks that this python3 imports Odoo 18.0 and that the tools the browser and PDF
   tests need are present (they would be skipped silently otherwise);
2. reaches PostgreSQL (PGHOST, PGPORT, PGUSER, PGPASSWORD; defaults 127.0.0.1, 5432,
   odoo, odoo); on a Debian host whose local cluster is down it starts it and creates
   the role;
3. creates a fresh database, installs the modules with demo data and fails on any
   WARNING or ERROR logged while installing;
4. runs the modules' Odoo test cases with pytest-odoo (HTTP server on, so browser
   tests run) and the root tests/ suites; any failure or skipped test fails the run;
5. drops the database. pytest's summary line is the last line printed.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADDONS = ROOT / "addons"
MODULES = ["cobranza_mgmt", "cobranza_mgmt_sale"]
LOG_PROBLEM = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (WARNING|ERROR|CRITICAL) ")


def say(message):
    print(f"[run_tests] {message}", flush=True)


def die(message):
    print(f"[run_tests] ERROR: {message}", file=sys.stderr, flush=True)
    sys.exit(2)


def check_odoo():
    try:
        import odoo.release
    except ImportError as error:
        die(
            f"python3 ({sys.executable}) cannot import Odoo: {error}.\n"
            "Install Odoo 18.0 Community into this interpreter (pip install -r requirements.txt "
            "and pip install -e <odoo source tree>), or use the Docker route of README.md."
        )
    if tuple(odoo.release.version_info[:2]) != (18, 0):
        die(f"Odoo {odoo.release.version} is installed; cobranza_mgmt needs Odoo 18.0.")
    say(f"Odoo {odoo.release.version} from {Path(odoo.__file__).parent}")


def check_tools():
    missing = []
    if not shutil.which("wkhtmltopdf"):
        missing.append("wkhtmltopdf (apt-get install wkhtmltopdf)")
    if not any(shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")):
        missing.append("chromium (apt-get install chromium)")
    for module, package in (("websocket", "websocket-client"), ("pytest_odoo", "pytest-odoo")):
        try:
            __import__(module)
        except ImportError:
            missing.append(f"{package} (pip install {package})")
    if missing:
        die("missing, and the tests that need it would be skipped: " + ", ".join(missing))


def pg_params():
    return {
        "host": os.environ.get("PGHOST") or "127.0.0.1",
        "port": int(os.environ.get("PGPORT") or 5432),
        "user": os.environ.get("PGUSER") or "odoo",
        "password": os.environ.get("PGPASSWORD") or "odoo",
    }


def pg_connect(params, dbname="postgres"):
    import psycopg2

    connection = psycopg2.connect(dbname=dbname, connect_timeout=5, **params)
    connection.autocommit = True
    return connection


def start_local_cluster(params):
    """Debian: start the local cluster and create the role, when we may."""
    if params["host"] not in ("127.0.0.1", "localhost", "::1") or not shutil.which("pg_lsclusters"):
        return False
    if os.geteuid() != 0:
        return False
    clusters = subprocess.run(
        ["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=False,
    ).stdout
    started = False
    for line in clusters.splitlines():
        version, name, port, status = line.split()[:4]
        if int(port) != params["port"]:
            continue
        if status != "online":
            say(f"starting PostgreSQL cluster {version}/{name}")
            subprocess.run(["pg_ctlcluster", version, name, "start"], check=True)
        started = True
    if not started:
        return False
    for _attempt in range(30):
        ready = subprocess.run(
            ["pg_isready", "-q", "-h", params["host"], "-p", str(params["port"])], check=False,
        )
        if ready.returncode == 0:
            break
        time.sleep(1)
    role = params["user"].replace('"', '""')
    password = params["password"].replace("'", "''")
    sql = (
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN "
        f"CREATE ROLE \"{role}\" LOGIN CREATEDB PASSWORD '{password}'; END IF; END $$;"
    )
    for _attempt in range(15):  # the server may still be starting up
        created = subprocess.run(
            ["runuser", "-u", "postgres", "--", "psql", "-q", "-U", "postgres", "-p", str(params["port"]),
             "-d", "postgres", "-c", sql],
            capture_output=True, text=True, check=False, cwd="/",
            env={key: value for key, value in os.environ.items() if not key.startswith("PG")},
        )
        if created.returncode == 0:
            return True
        time.sleep(1)
    die(f"could not create the PostgreSQL role {params['user']}: {created.stderr.strip()}")
    return False


def ensure_postgres(params):
    import psycopg2

    try:
        pg_connect(params).close()
        return
    except psycopg2.OperationalError as error:
        first_error = error
    if start_local_cluster(params):
        try:
            pg_connect(params).close()
            return
        except psycopg2.OperationalError as error:
            first_error = error
    die(
        f"cannot reach PostgreSQL at {params['host']}:{params['port']} as {params['user']}: "
        f"{str(first_error).strip()}\nSet PGHOST/PGPORT/PGUSER/PGPASSWORD, or start a server with "
        "a role that has CREATEDB."
    )


def write_config(workdir, params, dbname):
    config = workdir / "odoo.conf"
    config.write_text(
        "[options]\n"
        f"db_host = {params['host']}\n"
        f"db_port = {params['port']}\n"
        f"db_user = {params['user']}\n"
        f"db_password = {params['password']}\n"
        f"db_name = {dbname}\n"
        f"dbfilter = ^{dbname}$\n"
        f"addons_path = {ADDONS}\n"
        f"data_dir = {workdir / 'data'}\n"
        "max_cron_threads = 0\n"
    )
    return config


def odoo_command(config, *args):
    return [sys.executable, "-c", "import odoo.cli; odoo.cli.main()", "-c", str(config), *args]


def install(config, dbname, workdir):
    say(f"installing {', '.join(MODULES)} with demo data into {dbname}")
    log = workdir / "install.log"
    with log.open("w") as out:
        result = subprocess.run(
            odoo_command(config, "-d", dbname, "-i", ",".join(MODULES), "--stop-after-init",
                         "--log-level=info", "--without-demo="),
            stdout=out, stderr=subprocess.STDOUT, check=False,
        )
    problems = [line for line in log.read_text().splitlines() if LOG_PROBLEM.match(line)]
    if result.returncode or problems:
        print(log.read_text()[-20000:], file=sys.stderr)
        die(
            f"installing failed (exit {result.returncode}, {len(problems)} WARNING/ERROR lines):\n"
            + "\n".join(problems[:20])
        )
    say("installed with no WARNING or ERROR logged")


def run_pytest(config, dbname, extra_args):
    command = [
        sys.executable, "-m", "pytest",
        "-p", "no:cacheprovider",
        f"--odoo-config={config}",
        f"--odoo-database={dbname}",
        "--odoo-http",
        "--odoo-log-level=error",
        "-p", "tests.noskip",
        "-rfEs",
        *(extra_args or [str(ADDONS / module / "tests") for module in MODULES] + [str(ROOT / "tests")]),
    ]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(command, cwd=ROOT, env=env, check=False).returncode


def drop_database(params, dbname):
    try:
        connection = pg_connect(params)
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        connection.close()
    except Exception as error:  # noqa: BLE001 - cleanup must not hide the test result
        print(f"[run_tests] could not drop {dbname}: {error}", file=sys.stderr)


def main():
    check_odoo()
    check_tools()
    params = pg_params()
    ensure_postgres(params)
    dbname = os.environ.get("COBRANZA_TEST_DB") or f"cobranza_test_{uuid.uuid4().hex[:8]}"
    workdir = Path(tempfile.mkdtemp(prefix="cobranza_test_"))
    config = write_config(workdir, params, dbname)
    keep = os.environ.get("COBRANZA_KEEP_DB") == "1"
    try:
        install(config, dbname, workdir)
        return run_pytest(config, dbname, sys.argv[1:])
    finally:
        if not keep:
            drop_database(params, dbname)
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
