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

    def test_a_temporary_refusal_is_logged_as_the_warning_it_is(self):
        """Odoo logs a failed send as an ERROR with a traceback; a reminder refused for now is retried,
        so monitoring sees a warning."""
        self._invoice(self.customer, 100.0, days_overdue=3)
        self._run()
        with SMTPServer(self.port) as server, \
                self.assertLogs("odoo.addons.mail.models.mail_mail", "WARNING") as logs:
            server.refuse_with = "451 4.3.0 Mailbox busy, try again later"
            self._send_queue(fields.Datetime.now())
        self.assertEqual(self._emails().state, "queued")
        self.assertEqual([record.levelname for record in logs.records], ["WARNING"])
        self.assertIn("it will be sent again", logs.output[0])
        self.assertIsNone(logs.records[0].exc_info)

    def test_an_address_refused_for_good_is_not_written_again_until_it_changes(self):
        """A 550 (no such mailbox): the reminder fails, the collector is told once, the next runs send no
        e-mail to that address (a call task instead); a corrected address gets the reminders again."""
        invoice = self._invoice(self.customer, 100.0, days_overdue=3)
        self._run()
        with SMTPServer(self.port) as server:
            server.refuse_with = "550 5.1.1 User unknown"
            self._send_queue(fields.Datetime.now())
        failed = self._emails()
        self.assertEqual(failed.state, "failed")
        self.assertIn("550", failed.failure_reason)
        self.assertEqual(self.profile.email_refused, self.customer.email_normalized)
        tasks = self.customer.activity_ids.filtered(lambda a: a.summary == "E-mail address refused: correct it")
        self.assertEqual((len(tasks), tasks.user_id), (1, self.collector))
        for day in (1, 2, 3):
            with freeze_time(self.today + timedelta(days=day)):
                self._run()
        self.assertEqual(self._emails(), failed, "no new e-mail to the refused address")
        self.assertEqual(len(self.customer.activity_ids.filtered(
            lambda a: a.summary == "E-mail address refused: correct it")), 1, "told once")
        self.assertTrue(self._comms(channel="phone"), "the collector calls instead")
        self.customer.email = "tesoreria@riobravo.example.com"
        with freeze_time(self.today + timedelta(days=14)):  # the invoice reaches the next level
            self._run()
        again = self._emails() - failed
        self.assertEqual(len(again), 1)
        self.assertIn(invoice, again.move_ids)

    def test_invalid_address_fails_at_once(self):
        self.customer.email = "no-es-un-correo"
        self._invoice(self.customer, 100.0, days_overdue=3)
        self._invoice(self.other_customer, 100.0, days_overdue=3)
        self._run()
        with SMTPServer(self.port) as server:
            self._send_queue(fields.Datetime.now())
        bad, good = self._comms(channel="email"), self._comms(self.other_customer, channel="email")
        self.assertEqual(bad.state, "failed")
        self.assertEqual(bad.failure_reason, "no-es-un-correo is not a valid e-mail address.")
        self.assertEqual(bad.delivery_attempts, 0, "an invalid address is not retried")
        self.assertEqual(good.state, "sent")
        # the customers' reminders; the collector is also told (Odoo mails the task it is given)
        sent_to = [message["to"] for message in server.messages]
        self.assertIn([self.other_customer.email], sent_to)
        self.assertEqual([to for to in sent_to if to != [self.collector.email]], [[self.other_customer.email]])
        self.assertTrue(self.customer.activity_ids.filtered(
            lambda activity: activity.summary == "E-mail address refused: correct it"))

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
