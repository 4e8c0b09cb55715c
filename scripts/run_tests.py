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
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pglocal

ROOT = Path(__file__).resolve().parent.parent
ADDONS = ROOT / "addons"
SCREENSHOTS = ROOT / "build" / "screenshots"
MODULES = ["cobranza_mgmt", "cobranza_mgmt_sale"]
# Odoo's demo payment provider: the tests (and the demo database) pay invoices online through it.
DEMO_MODULES = ["payment_demo"]
LOG_PROBLEM = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (WARNING|ERROR|CRITICAL) ")


def say(message):
    print(f"[{Path(sys.argv[0]).stem}] {message}", flush=True)


def die(message):
    print(f"[{Path(sys.argv[0]).stem}] ERROR: {message}", file=sys.stderr, flush=True)
    sys.exit(2)


def check_odoo():
    try:
        import odoo.release
    except ImportError as error:
        die(
            f"python3 ({sys.executable}) cannot import Odoo: {error}.\n"
            "Run `make setup` (it installs Odoo 18.0 Community into .venv) and `make test`, "
            "or use the Docker route of README.md."
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


def ensure_postgres(pg):
    """Reach PostgreSQL; on this machine's own Debian cluster, start it and create the role."""
    import psycopg2

    try:
        pglocal.prepare_local(pg, log=say)
        pg_connect(pg).close()
    except (pglocal.PgError, psycopg2.OperationalError) as error:
        die(
            f"cannot reach PostgreSQL at {pg['host']}:{pg['port']} as {pg['user']}: {str(error).strip()}\n"
            "Run `make setup` (as root it starts the local cluster and creates the role), or set "
            "PGHOST/PGPORT/PGUSER/PGPASSWORD to a server with a role that has CREATEDB."
        )


def pg_connect(pg, dbname="postgres"):
    import psycopg2

    connection = psycopg2.connect(dbname=dbname, connect_timeout=5, **pg)
    connection.autocommit = True
    return connection


def write_config(workdir, params, dbname, **options):
    """An odoo.conf for one database; options add or override lines (e.g. http_port)."""
    lines = {
        "db_host": params["host"],
        "db_port": params["port"],
        "db_user": params["user"],
        "db_password": params["password"],
        "db_name": dbname,
        "dbfilter": f"^{dbname}$",
        "addons_path": ADDONS,
        "data_dir": workdir / "data",
        "max_cron_threads": 0,
        **options,
    }
    config = workdir / "odoo.conf"
    config.write_text("[options]\n" + "".join(f"{key} = {value}\n" for key, value in lines.items()))
    return config


def odoo_command(config, *args):
    return [sys.executable, "-c", "import odoo.cli; odoo.cli.main()", "-c", str(config), *args]


def install(config, dbname, workdir):
    say(f"installing {', '.join(MODULES + DEMO_MODULES)} with demo data into {dbname}")
    log = workdir / "install.log"
    with log.open("w") as out:
        result = subprocess.run(
            odoo_command(config, "-d", dbname, "-i", ",".join(MODULES + DEMO_MODULES), "--stop-after-init",
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
        "-p", "tests.odoo_trimmed",
        "-rfEs",
        *(extra_args or [str(ADDONS / module / "tests") for module in MODULES] + [str(ROOT / "tests")]),
    ]
    # The browser tours save their screenshots here: build output, not committed (README).
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.setdefault("COBRANZA_SCREENSHOTS", str(SCREENSHOTS))
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
    params = pglocal.params()
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
