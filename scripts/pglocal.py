"""The project's PostgreSQL connection settings and the local Debian cluster.

Standard library only: `make setup` runs this before any virtual environment exists.
Used by scripts/setup.py (start the cluster, create the role), scripts/run_tests.py and
scripts/run_server.py (the same, when they find the server down).
"""
import os
import shutil
import subprocess
import time

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


class PgError(Exception):
    """One line saying what is wrong with PostgreSQL and what to do."""


def params():
    """PGHOST, PGPORT, PGUSER, PGPASSWORD with the project's defaults."""
    return {
        "host": os.environ.get("PGHOST") or "127.0.0.1",
        "port": int(os.environ.get("PGPORT") or 5432),
        "user": os.environ.get("PGUSER") or "odoo",
        "password": os.environ.get("PGPASSWORD") or "odoo",
    }


def is_local(pg):
    return pg["host"] in LOCAL_HOSTS


def _clean_env():
    return {key: value for key, value in os.environ.items() if not key.startswith("PG")}


def clusters():
    """[(version, name, port, status)] of the Debian clusters, [] without pg_lsclusters."""
    if not shutil.which("pg_lsclusters"):
        return []
    listing = subprocess.run(
        ["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=False,
    ).stdout
    found = []
    for line in listing.splitlines():
        fields = line.split()
        if len(fields) >= 4:
            found.append((fields[0], fields[1], int(fields[2]), fields[3]))
    return found


def _ready(pg):
    result = subprocess.run(
        ["pg_isready", "-q", "-h", pg["host"], "-p", str(pg["port"])], check=False, env=_clean_env(),
    )
    return result.returncode == 0


def ensure_local_cluster(pg, log=print):
    """Start the local cluster listening on pg's port when it is down (root only).

    Returns True when a local cluster serves that port afterwards.
    """
    cluster = next((c for c in clusters() if c[2] == pg["port"]), None)
    if cluster is None:
        return False
    version, name, _port, status = cluster
    if status != "online":
        if os.geteuid() != 0:
            raise PgError(
                f"PostgreSQL cluster {version}/{name} is down and only root can start it: "
                f"run `sudo pg_ctlcluster {version} {name} start`, then this command again."
            )
        log(f"starting PostgreSQL cluster {version}/{name}")
        started = subprocess.run(
            ["pg_ctlcluster", version, name, "start"], capture_output=True, text=True, check=False,
        )
        if started.returncode:
            raise PgError(
                f"pg_ctlcluster {version} {name} start failed: {started.stderr.strip() or started.stdout.strip()}"
                f" (see /var/log/postgresql/postgresql-{version}-{name}.log)"
            )
    for _attempt in range(30):
        if _ready(pg):
            return True
        time.sleep(1)
    raise PgError(f"PostgreSQL cluster {version}/{name} does not accept connections after 30 s.")


def _literal(value):
    return "'" + value.replace("'", "''") + "'"


def ensure_role(pg, log=print):
    """Create pg's role with LOGIN CREATEDB and its password, as the postgres superuser (root only)."""
    role = pg["user"]
    if role == "postgres":
        raise PgError("Odoo refuses to connect as the postgres superuser: set PGUSER to another role.")
    ident = '"' + role.replace('"', '""') + '"'
    sql = (
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = " + _literal(role) + ") THEN "
        "CREATE ROLE " + ident + " LOGIN CREATEDB PASSWORD " + _literal(pg["password"]) + "; "
        "RAISE NOTICE 'created'; END IF; END $$;"
    )
    last = None
    for _attempt in range(15):  # the server may still be starting up
        last = subprocess.run(
            ["runuser", "-u", "postgres", "--", "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1",
             "-p", str(pg["port"]), "-d", "postgres", "-c", sql],
            capture_output=True, text=True, check=False, cwd="/", env=_clean_env(),
        )
        if last.returncode == 0:
            if "created" in last.stderr:
                log(f"created PostgreSQL role {role} (LOGIN CREATEDB)")
            return
        time.sleep(1)
    raise PgError(f"could not create the PostgreSQL role {role}: {last.stderr.strip()}")


def prepare_local(pg, log=print):
    """Local cluster up and the role there, when this machine can do it; False when not local."""
    if not is_local(pg) or os.geteuid() != 0:
        return False
    if not ensure_local_cluster(pg, log):
        return False
    ensure_role(pg, log)
    return True
