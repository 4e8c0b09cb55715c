import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from odoo.tests import tagged

from .common import DunningCommon


class GatewayHandler(BaseHTTPRequestHandler):
    """A tiny SMS provider on 127.0.0.1: its behaviour is set per test on the server."""

    def do_POST(self):
        server = self.server
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        server.received.append({"body": body, "auth": self.headers.get("Authorization"),
                                "key": self.headers.get("Idempotency-Key")})
        mode = server.modes.pop(0) if server.modes else "ok"
        if mode == "slow":
            # Odoo's test framework raises request time-outs under 10 s to 10 s
            time.sleep(10.5)
            mode = "ok"
        status, answer = {
            "ok": (200, {"id": f"msg-{len(server.received)}"}),
            "reject": (422, {"error": "invalid destination number"}),
            "down": (503, {"error": "service unavailable"}),
            "list": (200, ["queued"]),  # taken, but the answer is not a JSON object
        }[mode]
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """A client that timed out closed the socket: nothing to report."""


@tagged("post_install", "-at_install")
class TestSmsGateway(DunningCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = GatewayServer(("127.0.0.1", 0), GatewayHandler)
        cls.server.received, cls.server.modes = [], []
        cls.thread = threading.Thread(target=cls.server.serve_forever, daemon=True)
        cls.thread.start()
        cls.addClassCleanup(cls.server.server_close)
        cls.addClassCleanup(cls.server.shutdown)
        cls.gateway = cls.env["cobranza.sms.gateway"].create({
            "name": "Pasarela local", "url": f"http://127.0.0.1:{cls.server.server_address[1]}/messages",
            "token": "s3creto", "sender": "COBRANZA", "timeout": 1.0, "max_attempts": 2,
            "company_id": cls.company.id,
        })
        cls.customer.mobile = "+52 55 1234 5678"
        cls.level_first.write({"send_text": True, "text_channel": "sms"})

    def setUp(self):
        super().setUp()
        self.server.received.clear()
        self.server.modes.clear()

    def _remind_and_dispatch(self):
        self._invoice(self.customer, 100.0, days_overdue=3)
        self._run(deliver=False)
        sms = self._comms(channel="sms")
        self.assertEqual(sms.state, "queued", "texts leave after the batch is committed")
        self.Communication._dispatch_queued()
        return sms

    def test_text_sent_through_gateway(self):
        sms = self._remind_and_dispatch()
        self.assertRecordValues(sms, [{"state": "sent", "provider_reference": "msg-1"}])
        request = self.server.received[0]
        self.assertEqual(request["auth"], "Bearer s3creto")
        database = self.env["ir.config_parameter"].sudo().get_param("database.uuid")
        self.assertEqual(request["key"], f"cobranza-{database}-{sms.id}")
        self.assertEqual(request["body"]["to"], "+52 55 1234 5678")
        self.assertEqual(request["body"]["from"], "COBRANZA")
        self.assertIn("100.00", request["body"]["text"])
        self.assertIn("If you have already paid", request["body"]["text"])

    def test_provider_error_stored_and_not_retried(self):
        self.server.modes.extend(["reject"])
        sms = self._remind_and_dispatch()
        self.assertEqual(sms.state, "failed")
        self.assertIn("422", sms.failure_reason)
        self.assertIn("invalid destination number", sms.failure_reason)
        self.assertEqual(len(self.server.received), 1)

    def test_server_error_retried_then_sent(self):
        self.server.modes.extend(["down"])
        sms = self._remind_and_dispatch()
        self.assertRecordValues(sms, [{"state": "sent", "provider_reference": "msg-2"}])
        self.assertEqual(len(self.server.received), 2)

    def test_timeout_fails_after_bounded_attempts(self):
        self.server.modes.extend(["slow", "slow"])
        sms = self._remind_and_dispatch()
        self.assertEqual(sms.state, "failed")
        self.assertIn("unreachable", sms.failure_reason)
        self.assertIn("timed out", sms.failure_reason.lower())
        self.assertEqual(len(self.server.received), 2, "bounded: max_attempts requests, no more")

    def test_no_number_fails_clearly(self):
        self.customer.mobile = False
        self.customer.phone = False
        sms = self._remind_and_dispatch()
        self.assertEqual(sms.state, "failed")
        self.assertIn("no mobile or phone number", sms.failure_reason)
        self.assertFalse(self.server.received)
