import base64
import json
import logging
import os
import re
from datetime import timedelta
from pathlib import Path
from unittest.mock import patch

from odoo.tests import HttpCase, tagged
from odoo.tests.common import ChromeBrowser
from odoo.tools import config

from .common import DunningCommon

_logger = logging.getLogger(__name__)

SHOT = "cobranza-screenshot:"


def screenshot_dir():
    """Where the tours' screenshots go: $COBRANZA_SCREENSHOTS (`make test` sets build/screenshots, a
    build artefact that git ignores), else beside Odoo's own failure screenshots."""
    return Path(os.environ.get("COBRANZA_SCREENSHOTS") or Path(config["screenshots"]) / "cobranza_mgmt")


def _with_screenshots(original):
    """ChromeBrowser's console handler, plus: a tour step that logs ``cobranza-screenshot:NAME`` gets
    the whole page saved as NAME.png, then ``data-cobranza-shot=NAME`` on <body> so the tour waits."""

    def handle_console(browser, type, args=None, stackTrace=None, **kw):  # pylint: disable=redefined-builtin
        text = str(browser._from_remoteobject(args[0])) if type == "log" and args else ""
        if not text.startswith(SHOT):
            return original(browser, type, args, stackTrace, **kw)
        name = re.sub(r"[^\w-]", "_", text[len(SHOT):])

        def tell_the_tour(expression):
            browser._websocket_send("Runtime.evaluate", params={"expression": expression})

        def save(future):
            try:
                data = base64.b64decode(future.result()["data"], validate=True)
                folder = screenshot_dir()
                folder.mkdir(parents=True, exist_ok=True)
                (folder / f"{name}.png").write_bytes(data)
                tell_the_tour(f"document.body.dataset.cobranzaShot = {json.dumps(name)}")
            except Exception as error:  # noqa: BLE001 (reported to the tour, which then fails)
                tell_the_tour(f"console.error({json.dumps(f'Screenshot {name} failed: {error}')})")

        def capture(future):
            try:
                size = future.result()["cssContentSize"]
            except Exception as error:  # noqa: BLE001
                tell_the_tour(f"console.error({json.dumps(f'Screenshot {name} failed: {error}')})")
                return
            clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 4000), "scale": 1}
            browser._websocket_send("Page.captureScreenshot", with_future=True, params={
                "clip": clip, "captureBeyondViewport": True,
            }).add_done_callback(save)

        browser._websocket_send("Page.getLayoutMetrics", with_future=True).add_done_callback(capture)
        return None

    return handle_console


@tagged("post_install", "-at_install")
class TestPortalTours(DunningCommon, HttpCase):
    """The customer's whole story in headless Chromium, from the link of a real reminder: the
    statement, two invoices paid with the demo provider, a promise, a dispute with a file and a request
    for installments; the collector approves it in the back office; the customer signs it. Each step's
    page is saved as a screenshot (see README, "Customer self-service")."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._speak_spanish(cls.customer)
        cls.paid_a = cls._invoice(cls.customer, 310.0, days_overdue=20)
        cls.paid_b = cls._invoice(cls.customer, 220.0, days_overdue=12)
        cls.promised = cls._invoice(cls.customer, 450.0, days_overdue=25)
        cls.disputed = cls._invoice(cls.customer, 370.0, days_overdue=8)
        cls.financed = cls._invoice(cls.customer, 680.0, days_overdue=35)
        cls.company.cobranza_agreement_interest_product_id = cls.product_a
        base = cls.env.ref("payment.payment_provider_demo").sudo()
        cls.provider = base if base.company_id == cls.company else base.copy({"company_id": cls.company.id})
        cls.provider.write({"state": "test", "is_published": True})
        cls.provider.payment_method_ids.active = True
        cls.env["cobranza.agreement.policy"].create({
            "company_id": cls.company.id, "segment": "B", "max_installments": 4, "min_down_payment_percent": 10,
            "max_first_days": 30,
        })
        cls.profile.sudo().segment = "B"

    def setUp(self):
        super().setUp()
        for old in screenshot_dir().glob("0*.png"):  # this run's pictures only
            old.unlink()

    def _tour(self, url, name, login=None):
        with patch.object(ChromeBrowser, "_handle_console", _with_screenshots(ChromeBrowser._handle_console)):
            self.start_tour(url, name, login=login, timeout=120)
        self.env.invalidate_all()  # the browser's requests wrote through their own environments

    def _link_in(self, body, path):
        match = re.search(rf'href="https?://[^/"]+({re.escape(path)}[^"]*)"', body)
        self.assertTrue(match, f"{path} is linked from the e-mail")
        return match.group(1).replace("&amp;", "&")

    def test_customer_story_in_the_browser(self):
        # a real reminder, rendered by the dunning run, links to the page
        self._run()
        reminder = self._comms(channel="email")[:1]
        self.assertTrue(reminder)
        body = reminder.mail_id.body_html
        self.assertIn("Estimado", body)  # the customer's language
        self._tour(self._link_in(body, "/my/collections?token="), "cobranza_mgmt_portal_customer_tour")

        # paid and reconciled, the others untouched
        for invoice in self.paid_a | self.paid_b:
            self.assertIn(invoice.payment_state, ("paid", "in_payment"), invoice.name)
            self.assertEqual(invoice.amount_residual, 0.0)
        transaction = self.env["payment.transaction"].sudo().search([("invoice_ids", "in", self.paid_a.ids)])
        self.assertEqual((transaction.state, transaction.amount, transaction.invoice_ids),
                         ("done", 530.0, self.paid_a | self.paid_b))
        self.assertEqual((self.promised | self.disputed | self.financed).mapped("amount_residual"),
                         [450.0, 370.0, 680.0])
        # the promise pauses the dunning of its invoice, the dispute takes its invoice out of it
        promise = self.env["cobranza.promise"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual((promise.move_ids, promise.amount, promise.promise_date, promise.state),
                         (self.promised, 450.0, self.today + timedelta(days=10), "open"))
        self.assertTrue(self.disputed.cobranza_is_disputed)
        self.assertIn("La mercadería llegó incompleta", self.disputed.cobranza_dispute_reason)
        files = self.disputed.message_ids.attachment_ids
        self.assertEqual(files.mapped("name"), ["remito.pdf"])
        self.assertIn(b"remito 0001-00012345", files.raw)
        sent = self.Communication.search([]).ids
        self.Communication.search([("partner_id", "=", self.customer.id)]).sudo().write({
            "date": self.today - timedelta(days=30)})  # the days between reminders have passed
        self._run()
        later = self.Communication.search([("id", "not in", sent), ("partner_id", "=", self.customer.id)])
        self.assertFalse(later.move_ids & (self.promised | self.disputed),
                         "the next run skips the promised and the disputed invoices")

        # the collector approves the request in the back office
        request = self.env["cobranza.agreement"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual((request.state, request.move_ids, request.down_payment, request.installment_count,
                          request.first_due_date, request.request_note),
                         ("requested", self.financed, 100.0, 3, self.today + timedelta(days=20),
                          "Cobramos a fin de mes"))
        self._tour("/odoo/action-cobranza_mgmt.cobranza_agreement_action", "cobranza_mgmt_collector_approves_tour",
                   login=self.collector.login)
        self.assertEqual(request.state, "proposed")

        # the customer signs it from the link of the proposal e-mail
        proposal = request.message_ids.filtered(lambda m: self.customer in m.partner_ids)
        self.assertEqual(len(proposal), 1)
        self.assertIn("convenio", proposal.body)
        self._tour(self._link_in(proposal.body, f"/my/agreements/{request.id}"), "cobranza_mgmt_portal_sign_tour")
        self.assertEqual((request.state, request.signed_by), ("active", self.customer.name))
        self.assertTrue(request.signature)

        shots = sorted(path.name for path in screenshot_dir().glob("0*.png"))
        self.assertEqual(shots, [
            "01_statement.png", "02_payment_form.png", "03_paid.png", "04_dispute_form.png",
            "05_installments_form.png", "06_after_requests.png", "07_collector_request.png", "08_sign.png",
            "09_signed.png",
        ])
