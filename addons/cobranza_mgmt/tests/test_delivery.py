from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.modules import module as odoo_module
from odoo.tests import freeze_time, tagged

from .common import DunningCommon
from .smtp_server import SMTPServer, free_port


@tagged("post_install", "-at_install")
class TestSMTPDelivery(DunningCommon):
    """Reminder e-mails through a real SMTP server on 127.0.0.1: down, refusing, back up."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.port = free_port()
        cls.env["ir.mail_server"].search([]).active = False
        cls.env["ir.mail_server"].create({
            "name": "Servidor de prueba", "smtp_host": "127.0.0.1", "smtp_port": cls.port,
            "smtp_encryption": "none", "sequence": 1,
        })
        cls.company.email = "cobranza@empresa.example.com"
        cls.third_customer = cls.customer.copy({"name": "Distribuidora Tercera", "email": "pagos@tercera.example.com"})
        cls.customers = cls.customer | cls.other_customer | cls.third_customer

    def _send_queue(self, at):
        """Odoo's mail queue job at ``at``, sending for real (Odoo skips the SMTP server under test);
        only this test's customers' e-mails (the demo customers of the company have theirs)."""
        with patch.object(odoo_module, "current_test", None), freeze_time(at):
            self.env["mail.mail"].sudo().with_context(filters=[("recipient_ids", "in", self.customers.ids)]) \
                .process_email_queue()
        self.env.invalidate_all()

    def _emails(self):
        return self.Communication.search([("company_id", "=", self.company.id), ("channel", "=", "email"),
                                          ("partner_id", "in", self.customers.ids)])

    def test_smtp_down_then_up_every_reminder_arrives_once(self):
        invoices = {customer.email: self._invoice(customer, 100.0, days_overdue=3) for customer in self.customers}
        start = fields.Datetime.now()
        self._run()
        emails = self._emails()
        self.assertEqual(len(emails), 3)

        # the server is down: the reminders stay queued, retried later with growing pauses
        self._send_queue(start)
        self.assertEqual(set(emails.mapped("state")), {"queued"})
        self.assertEqual(emails.mapped("delivery_attempts"), [1, 1, 1])
        self.assertIn("Temporary failure", emails[0].failure_reason)
        self.assertEqual(set(emails.mail_id.mapped("state")), {"outgoing"})
        first_pause = emails[0].mail_id.scheduled_date - start
        self.assertGreaterEqual(first_pause, timedelta(minutes=5))
        self._send_queue(start + timedelta(minutes=6))
        self.assertEqual(emails.mapped("delivery_attempts"), [2, 2, 2])
        self.assertGreater(emails[0].mail_id.scheduled_date - (start + timedelta(minutes=6)), first_pause)

        with SMTPServer(self.port) as server:
            # back up, but the next try is not due yet: nothing is sent before it
            self._send_queue(start + timedelta(minutes=7))
            self.assertEqual(server.messages, [])
            self._send_queue(start + timedelta(hours=1))
            self._send_queue(start + timedelta(hours=2))  # once sent, never again
        self.assertEqual(set(emails.mapped("state")), {"sent"})
        received = sorted(address for message in server.messages for address in message["to"])
        self.assertEqual(received, sorted(emails.partner_id.mapped("email")))
        for message in server.messages:
            self.assertIn("payment reminder", message["message"]["Subject"])
            body = message["message"].get_body(("html",)).get_content()
            self.assertIn(invoices[message["to"][0]].name, body, "each customer gets its own reminder")

    def test_temporary_refusal_then_accepted(self):
        self._invoice(self.customer, 100.0, days_overdue=3)
        start = fields.Datetime.now()
        self._run()
        email = self._emails()
        with SMTPServer(self.port) as server:
            server.refuse_with = "451 4.3.0 Mailbox busy, try again later"
            self._send_queue(start)
            self.assertEqual(email.state, "queued")
            self.assertIn("451", email.failure_reason)
            server.refuse_with = None
            self._send_queue(start + timedelta(hours=1))
        self.assertEqual(email.state, "sent")
        self.assertEqual(len(server.messages), 1)

    def test_invalid_address_fails_at_once(self):
        self.customer.email = "no-es-un-correo"
        self._invoice(self.customer, 100.0, days_overdue=3)
        self._invoice(self.other_customer, 100.0, days_overdue=3)
        self._run()
        with SMTPServer(self.port) as server:
            self._send_queue(fields.Datetime.now())
        bad, good = self._comms(channel="email"), self._comms(self.other_customer, channel="email")
        self.assertEqual(bad.state, "failed")
        self.assertTrue(bad.failure_reason)
        self.assertEqual(bad.delivery_attempts, 0, "an invalid address is not retried")
        self.assertEqual(good.state, "sent")
        self.assertEqual([message["to"] for message in server.messages], [[self.other_customer.email]])

    def test_given_up_after_the_hours_items_back_and_reminded_next_run(self):
        self.company.cobranza_retry_hours = 2
        invoice = self._invoice(self.customer, 100.0, days_overdue=3)
        item = invoice.line_ids.filtered(lambda line: line.account_type == "asset_receivable")
        start = fields.Datetime.now()
        self._run()
        email = self._emails()
        self.assertEqual(item.cobranza_level_id, self.level_first)
        for hours in (0, 1, 2.1):
            self._send_queue(start + timedelta(hours=hours))
        self.assertEqual(email.state, "failed")
        self.assertFalse(item.cobranza_level_id, "the item is back where it was: the reminder never arrived")
        # the next run reminds it again, and this time the server is up
        with freeze_time(self.today + timedelta(days=1)):
            self._run()
        again = self._emails() - email
        self.assertEqual(len(again), 1)
        self.assertEqual(again.line_ids, item)
        with SMTPServer(self.port) as server:
            self._send_queue(fields.Datetime.now() + timedelta(days=1))
        self.assertEqual(again.state, "sent")
        self.assertEqual(len(server.messages), 1)

    def test_given_up_keeps_the_level_when_the_level_did_more(self):
        self.company.cobranza_retry_hours = 0
        invoice = self._invoice(self.customer, 100.0, days_overdue=31)
        item = invoice.line_ids.filtered(lambda line: line.account_type == "asset_receivable")
        self._run()
        email = self._emails()
        self._send_queue(fields.Datetime.now())
        self.assertEqual(email.state, "failed")
        self.assertEqual(item.cobranza_level_id, self.level_final, "the hold and the call task already happened")
        self.assertTrue(self.profile.is_on_hold)
