"""`make run`'s server step, driven as a newcomer would use it.

Starts scripts/run_server.py on a database and port of its own (the test session's Odoo
holds 8069), waits until it answers, logs in as admin over HTTP, reads a demo customer and
the Collections app, stops it with Ctrl-C, starts it again (the database is reused, not
created again) and drops the database.
"""
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import closing
from pathlib import Path

import psycopg2
import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import pglocal  # noqa: E402


def free_port():
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    def __init__(self, dbname, port, log):
        self.dbname, self.port, self.log = dbname, port, log
        self.url = f"http://127.0.0.1:{port}"
        self.process = None

    def start(self):
        env = dict(os.environ, COBRANZA_DB=self.dbname, COBRANZA_HTTP_PORT=str(self.port))
        with self.log.open("a") as out:
            self.process = subprocess.Popen(
                [sys.executable, str(ROOT / "scripts" / "run_server.py")],
                stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT,
            )

    def wait_ready(self, timeout=900):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"run_server.py exited with {self.process.returncode}:\n{self.log.read_text()[-5000:]}")
            try:
                if requests.get(f"{self.url}/web/login", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(2)
        pytest.fail(f"no answer on {self.url} after {timeout} s:\n{self.log.read_text()[-5000:]}")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # what Ctrl-C sends
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return self.process.returncode


def rpc(session, url, path, params):
    answer = session.post(f"{url}{path}", json={"jsonrpc": "2.0", "method": "call", "params": params}, timeout=60)
    answer.raise_for_status()
    body = answer.json()
    assert "error" not in body, body.get("error")
    return body["result"]


def call(session, url, model, method, *args, **kwargs):
    return rpc(session, url, "/web/dataset/call_kw",
               {"model": model, "method": method, "args": list(args), "kwargs": kwargs})


@pytest.fixture
def server(tmp_path):
    dbname = f"cobranza_run_{uuid.uuid4().hex[:8]}"
    server = Server(dbname, free_port(), tmp_path / "run_server.log")
    yield server
    server.stop()
    drop_database(dbname)
    subprocess.run(["rm", "-rf", str(ROOT / ".run" / dbname)], check=False)


def drop_database(dbname, attempts=20):
    """Drop it once the server's connections are gone (an autovacuum worker on a fresh database
    cannot be ended by a non-superuser: wait for it instead)."""
    connection = psycopg2.connect(dbname="postgres", connect_timeout=5, **pglocal.params())
    connection.autocommit = True
    try:
        for attempt in range(attempts):
            try:
                with connection.cursor() as cursor:
                    cursor.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
                return
            except (psycopg2.errors.ObjectInUse, psycopg2.errors.InsufficientPrivilege):
                if attempt == attempts - 1:
                    raise
                time.sleep(1)
    finally:
        connection.close()


def test_make_run_serves_the_demo_portfolio_and_reuses_its_database(server):
    server.start()
    server.wait_ready()
    session = requests.Session()
    user = rpc(session, server.url, "/web/session/authenticate",
               {"db": server.dbname, "login": "admin", "password": "admin"})
    assert user["uid"] == 2

    menu = call(session, server.url, "ir.model.data", "search_read",
                [("module", "=", "cobranza_mgmt"), ("name", "=", "cobranza_menu_root")], fields=["res_id"])
    app = call(session, server.url, "ir.ui.menu", "read", [menu[0]["res_id"]], fields=["name"])
    assert app[0]["name"] == "Collections"

    demo = call(session, server.url, "ir.model.data", "search_read",
                [("module", "=", "cobranza_mgmt"), ("model", "=", "res.partner"),
                 ("name", "=like", "res_partner_%_demo")], fields=["res_id"])
    assert len(demo) >= 30
    overdue = call(session, server.url, "account.move", "search_count",
                   [("partner_id", "in", [row["res_id"] for row in demo]), ("move_type", "=", "out_invoice"),
                    ("state", "=", "posted"), ("payment_state", "in", ["not_paid", "partial"]),
                    ("invoice_date_due", "<", time.strftime("%Y-%m-%d"))])
    assert overdue > 10
    customer = call(session, server.url, "res.partner", "read", [demo[0]["res_id"]], fields=["name", "credit"])
    assert customer[0]["name"]

    assert server.stop() in (0, -signal.SIGINT)
    first_log = server.log.read_text()
    assert f"creating database {server.dbname}" in first_log

    # Again: the database is there, so it is served at once, not created again.
    server.log.write_text("")
    server.start()
    server.wait_ready(timeout=120)
    again = requests.Session()
    assert rpc(again, server.url, "/web/session/authenticate",
               {"db": server.dbname, "login": "admin", "password": "admin"})["uid"] == 2
    assert "creating database" not in server.log.read_text()


def test_make_run_on_a_busy_port_says_so(tmp_path):
    with closing(socket.socket()) as busy:
        busy.bind(("0.0.0.0", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "run_server.py")],
            env=dict(os.environ, COBRANZA_DB=f"cobranza_busy_{uuid.uuid4().hex[:6]}", COBRANZA_HTTP_PORT=str(port)),
            capture_output=True, text=True, timeout=120, check=False, cwd=ROOT,
        )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"port {port} is already in use" in lines[0]
