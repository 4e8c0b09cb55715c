"""Security and safety hardening (issue #17): each case here was reproduced on the code before it.

Access is exercised through the ORM as each kind of user would call it over RPC (``with_user``),
not through the screens.
"""
from datetime import timedelta
from unittest.mock import patch
from zoneinfo import ZoneInfo

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.modules.neutralize import get_neutralization_queries
from odoo.tests import new_test_user, tagged
from odoo.tools import format_date

from .common import AgreementCommon

SECRET_EXPRESSION = "{{ object.env['ir.config_parameter'].sudo().get_param('database.secret') }}"


@tagged("post_install", "-at_install")
class TestTextsRunNoCode(AgreementCommon):
    """Critical: a level's SMS/WhatsApp text is rendered as placeholders, never as code."""

    def test_code_in_a_text_is_refused_for_everyone(self):
        for user in (self.manager, self.env.user):  # a Collections Manager, an accounting administrator
            with self.subTest(user=user.name), \
                    self.assertRaisesRegex(ValidationError, "may only use these placeholders"):
                self.level_first.with_user(user).write({"send_text": True, "text_body": f"Hola {SECRET_EXPRESSION}"})

    def test_code_in_a_translation_is_refused(self):
        self.env["res.lang"]._activate_lang("es_ES")
        with self.assertRaisesRegex(ValidationError, "solo pueden usar estos marcadores"):  # said in Spanish
            self.level_first.with_user(self.manager).update_field_translations(
                "text_body", {"es_ES": f"Hola {SECRET_EXPRESSION}"},
            )

    def test_stored_code_is_not_run_by_the_delivery_job(self):
        """A text that holds code anyway (written before this check, straight in the database) fails
        its communication with the reason; the secret is never read into anything."""
        self.level_first.write({"send_text": True, "text_channel": "sms"})
        self.env.cr.execute(
            "UPDATE cobranza_dunning_level SET text_body = jsonb_build_object('en_US', %s::text) WHERE id = %s",
            [f"Hola {SECRET_EXPRESSION}", self.level_first.id],
        )
        self.level_first.invalidate_recordset(["text_body"])
        self.customer.mobile = "+52 55 1234 5678"
        self._invoice(self.customer, 100.0, days_overdue=3)
        with patch("odoo.addons.cobranza_mgmt.models.cobranza_sms_gateway.requests.post") as post:
            self._run()
        sms = self._comms(channel="sms")
        self.assertEqual(sms.state, "failed")
        self.assertIn("not a placeholder", sms.failure_reason)
        secret = self.env["ir.config_parameter"].sudo().get_param("database.secret")
        self.assertNotIn(secret, sms.failure_reason + (sms.text_body or ""))
        post.assert_not_called()
        self.assertEqual(self._comms(channel="email").state, "queued", "the e-mail of the same reminder goes out")

    def test_placeholders_render_in_the_customer_language(self):
        self.level_first.write({
            "send_text": True,
            "text_body": "{{ object.company_id.name }}: {{ object.partner_id.name }} debe {{ object.amount_due_text }}",
        })
        self._invoice(self.customer, 1234.5, days_overdue=3)
        self._run(deliver=False)
        sms = self._comms(channel="sms")
        self.assertEqual(sms._render_text(self.level_first),
                         f"{self.company.name}: {self.customer.name} debe $\xa01,234.50")


@tagged("post_install", "-at_install")
class TestNoBypass(AgreementCommon):
    """High: no context key skips a rule; direct writes meet the rules the buttons meet."""

    def test_context_key_does_not_skip_the_credit_control(self):
        self.profile._hold_by_hand("Cheque rechazado")
        invoice = self._invoice(self.customer, 100.0, post=False)
        with self.assertRaisesRegex(UserError, "on credit hold"):
            invoice.with_user(self.billing_user).with_context(cobranza_skip_credit_check=True).action_post()
        self.assertEqual(invoice.state, "draft")

    def test_context_key_does_not_allow_a_past_promise(self):
        invoice = self._invoice(self.customer, 100.0, days_overdue=10)
        with self.assertRaisesRegex(ValidationError, "in the past"):
            self.env["cobranza.promise"].with_user(self.collector).with_context(cobranza_allow_past_promise=True).create({
                "partner_id": self.customer.id, "move_ids": [Command.set(invoice.ids)],
                "promise_date": self.today - timedelta(days=1), "amount": 50.0,
            })

    def test_promise_date_has_an_upper_bound(self):
        invoice = self._invoice(self.customer, 100.0, days_overdue=10)
        values = {"partner_id": self.customer.id, "move_ids": [Command.set(invoice.ids)], "amount": 50.0}
        Promise = self.env["cobranza.promise"].with_user(self.collector)
        with self.assertRaisesRegex(ValidationError, "60 days ahead at most"):
            Promise.create({**values, "promise_date": self.today + timedelta(days=61)})
        promise = Promise.create({**values, "promise_date": self.today + timedelta(days=60)})
        with self.assertRaisesRegex(AccessError, "not written directly"):
            promise.write({"state": "kept"})

    def test_collector_cannot_lift_or_fake_a_hold(self):
        self.profile._hold_by_hand("Cheque rechazado")
        as_collector = self.profile.with_user(self.collector)
        with self.assertRaisesRegex(AccessError, "not written directly"):
            as_collector.write({"is_on_hold": False})
        with self.assertRaisesRegex(AccessError, "Only a Collections Manager"):
            as_collector.action_lift_hold()
        self.assertTrue(self.profile.is_on_hold)

    def test_collector_cannot_lift_an_automatic_hold_then_post(self):
        self.company.cobranza_auto_hold_days = 60
        invoice = self._invoice(self.customer, 100.0, days_overdue=91)
        self.Profile._refresh_behaviour(companies=self.company, partners=self.customer)
        self.assertEqual(self.profile.hold_type, "policy")
        with self.assertRaisesRegex(AccessError, "Only a Collections Manager"):
            self.profile.with_user(self.collector).action_lift_hold()
        draft = self._invoice(self.customer, 10.0, post=False)
        with self.assertRaisesRegex(UserError, "on credit hold"):
            draft.with_user(self.collector).action_post()
        self.assertTrue(invoice)

    def test_profile_cannot_be_pointed_at_another_customer(self):
        with self.assertRaisesRegex(AccessError, "not written directly"):
            self.profile.with_user(self.collector).write({"partner_id": self.other_customer.id})
        with self.assertRaisesRegex(AccessError, "not written directly"):
            self.profile.with_user(self.manager).write({"broken_promise_count": 0, "risk_score": 0})

    def test_agreement_state_payments_and_schedule_are_not_writable(self):
        invoice, agreement = self._past_agreement()
        as_collector = agreement.with_user(self.collector)
        agreement.sudo().collector_id = self.collector
        for values in ({"state": "completed"}, {"paid_amount": 300.0}, {"signed_by": "Nadie"}):
            with self.subTest(values=values), self.assertRaisesRegex(AccessError, "not written directly"):
                as_collector.write(values)
        with self.assertRaisesRegex(AccessError, "not written directly"):
            agreement.installment_ids[0].with_user(self.collector).write({"state": "paid", "paid_amount": 100.0})
        with self.assertRaisesRegex(ValidationError, "Only a draft agreement"):
            as_collector.write({"financed_amount": 1.0})
        with self.assertRaisesRegex(ValidationError, "draft agreement"):
            agreement.installment_ids[0].with_user(self.collector).write({"amount": 1.0})
        self.assertEqual(agreement.state, "active")
        self.assertTrue(invoice)

    def test_another_customers_invoice_cannot_be_linked(self):
        mine = self._invoice(self.customer, 300.0, days_overdue=20)
        theirs = self._invoice(self.other_customer, 500.0, days_overdue=20)
        agreement = self._agreement(mine)
        agreement.sudo().collector_id = self.collector
        with self.assertRaises(ValidationError) as refused:
            agreement.with_user(self.collector).write({"move_ids": [Command.link(theirs.id)]})
        self.assertIn("not of", str(refused.exception))
        self.assertEqual(agreement.move_ids, mine)

    def test_invoice_already_in_an_active_agreement_cannot_be_added_by_write(self):
        invoice, _active = self._past_agreement()
        other = self._invoice(self.customer, 200.0, days_overdue=20)
        draft = self._agreement(other)
        with self.assertRaises(ValidationError) as refused:
            draft.write({"move_ids": [Command.link(invoice.id)]})
        self.assertIn("already in agreement", str(refused.exception))
        self.assertEqual(draft.move_ids, other)

    def test_billing_user_cannot_run_collector_actions(self):
        invoice = self._invoice(self.customer, 100.0, days_overdue=20)
        as_billing = invoice.with_user(self.billing_user)
        for call in (lambda: as_billing._cobranza_set_dispute("No reconozco"),
                     as_billing.action_cobranza_send_reminder_now,
                     as_billing.action_cobranza_resolve_dispute,
                     lambda: as_billing.write({"cobranza_is_disputed": True})):
            with self.assertRaises(AccessError):
                call()
        self.assertFalse(invoice.cobranza_is_disputed)
        self.assertFalse(self._comms())

    def test_billing_user_cannot_raise_a_credit_limit(self):
        billing = new_test_user(  # a billing user who may edit contacts, as many are
            self.env, login="cobranza_billing_contacts", company_id=self.company.id,
            groups="base.group_user,account.group_account_invoice,base.group_partner_manager",
            company_ids=[Command.set(self.company.ids)],
        )
        self.customer.with_company(self.company).credit_limit = 1000.0
        self.customer.with_user(billing).write({"phone": "+52 55 0000 0000"})
        with self.assertRaisesRegex(AccessError, "credit limit"):
            self.customer.with_user(billing).with_company(self.company).credit_limit = 1_000_000.0
        with self.assertRaisesRegex(AccessError, "credit limit"):
            self.env["res.partner"].with_user(billing).create({"name": "Nuevo", "credit_limit": 5000.0})
        self.customer.with_user(self.manager).with_company(self.company).credit_limit = 2000.0
        self.assertEqual(self.customer.with_company(self.company).credit_limit, 2000.0)

    def test_dunning_level_fields_are_not_writable_on_items(self):
        invoice = self._invoice(self.customer, 100.0, days_overdue=20)
        line = invoice.line_ids.filtered(lambda item: item.account_type == "asset_receivable")
        with self.assertRaisesRegex(AccessError, "not written directly"):
            line.with_user(self.billing_user).write({"cobranza_level_id": self.level_formal.id})


@tagged("post_install", "-at_install")
class TestReportsCheckAccess(AgreementCommon):
    """High: the KPI report and statements check who asks, whatever the route."""

    def _render(self, user, report, ids):
        return self.env["ir.actions.report"].with_user(user)._render_qweb_html(report, ids)

    def test_kpi_report_for_managers_of_the_company_only(self):
        portal = new_test_user(self.env, login="cobranza_portal_kpi", groups="base.group_portal",
                               company_id=self.company.id, company_ids=[Command.set(self.company.ids)])
        for user in (portal, self.billing_user, self.collector):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self._render(user, "cobranza_mgmt.action_report_cobranza_kpi", self.company.ids)
        other_company = self.env["res.company"].create({"name": "Otra Empresa S.A."})
        with self.assertRaises(AccessError):
            self._render(self.manager, "cobranza_mgmt.action_report_cobranza_kpi", other_company.ids)
        html, _kind = self._render(self.manager, "cobranza_mgmt.action_report_cobranza_kpi", self.company.ids)
        self.assertIn(b"Collections KPIs", html)

    def test_statement_for_the_customers_collector_and_managers(self):
        self._invoice(self.customer, 100.0, days_overdue=20)
        report = "cobranza_mgmt.action_report_cobranza_statement"
        employee = new_test_user(self.env, login="cobranza_employee", groups="base.group_user",
                                 company_id=self.company.id, company_ids=[Command.set(self.company.ids)])
        for user in (employee, self.billing_user, self.collector_2):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self._render(user, report, self.customer.ids)
        for user in (self.collector, self.manager):
            html, _kind = self._render(user, report, self.customer.ids)
            self.assertIn(b"Statement of Account", html)


@tagged("post_install", "-at_install")
class TestDeliveryNeverReplays(AgreementCommon):
    """High: a failed delivery is retried by itself; the level's side effects are never replayed."""

    def test_failed_letter_keeps_level_fee_and_siblings(self):
        product = self.env["product.product"].create({"name": "Recargo por mora", "type": "service",
                                                      "taxes_id": [Command.clear()]})
        self.company.cobranza_late_fee_product_id = product
        self.level_formal.write({"late_fee_type": "fixed", "late_fee_amount": 25.0})
        invoice = self._invoice(self.customer, 1000.0, days_overdue=61)
        crash = RuntimeError("wkhtmltopdf crashed")
        with patch.object(type(self.Communication), "_store_documents", side_effect=crash):
            self._run()
        letter, email = self._comms(channel="letter"), self._comms(channel="email")
        self.assertEqual(letter.state, "failed")
        self.assertIn("wkhtmltopdf crashed", letter.failure_reason)
        self.assertTrue(email.mail_id, "the e-mail of the same reminder went out")
        item = invoice.line_ids.filtered(lambda line: line.account_type == "asset_receivable")
        self.assertEqual(item.cobranza_level_id, self.level_formal, "the item keeps the level it reached")
        fees = lambda: self.env["account.move"].search([("invoice_line_ids.product_id", "=", product.id)])  # noqa: E731
        self.assertEqual(len(fees()), 1)
        # tomorrow's run replays nothing
        with freeze_time(self.today + timedelta(days=1)):
            self._run()
        self.assertEqual(len(fees()), 1)
        self.assertEqual(len(self._comms(channel="letter")), 1)
        # the failed letter itself is retried once its cause is fixed
        letter.with_user(self.collector).action_retry()
        self.Communication._dispatch_queued()
        self.assertEqual(letter.state, "sent")
        self.assertTrue(letter.attachment_id)

    def test_smtp_outage_is_retried_not_lost(self):
        self._invoice(self.customer, 100.0, days_overdue=3)
        self._run()
        email = self._comms(channel="email")
        mail = email.mail_id
        # what mail.mail.send() does when the SMTP server cannot be reached
        mail.write({"state": "exception", "failure_reason": "Connection refused"})
        mail._postprocess_sent_message(success_pids=[], failure_type="mail_smtp")
        self.assertEqual((email.state, mail.state, email.delivery_attempts), ("queued", "outgoing", 1))
        mail._postprocess_sent_message(success_pids=[])
        self.assertEqual(email.state, "sent")

    def test_paid_or_disputed_before_delivery_is_dropped(self):
        paid = self._invoice(self.customer, 100.0, days_overdue=3)
        kept = self._invoice(self.customer, 200.0, days_overdue=4)
        self._invoice(self.other_customer, 300.0, days_overdue=3)
        self._run(deliver=False)
        self.env["account.payment.register"].with_context(active_model="account.move", active_ids=paid.ids) \
            .create({})._create_payments()
        other_invoice = self._comms(self.other_customer, channel="email").move_ids
        other_invoice.with_user(self.manager)._cobranza_set_dispute("Mercadería dañada")
        self.Communication._dispatch_queued()
        email = self._comms(channel="email")
        self.assertEqual(email.move_ids, kept)
        self.assertAlmostEqual(email.amount_due, 200.0)
        self.assertNotIn(paid.name, email.mail_id.body_html)
        other = self._comms(self.other_customer, channel="email")
        self.assertEqual(other.state, "cancelled")
        self.assertFalse(other.mail_id)


@tagged("post_install", "-at_install")
class TestGatewayGarbage(AgreementCommon):
    """High: whatever a gateway answers or a text holds, each communication records its own outcome."""

    def test_answer_that_is_not_an_object_and_a_broken_text(self):
        import threading

        from .test_sms_gateway import GatewayHandler, GatewayServer

        server = GatewayServer(("127.0.0.1", 0), GatewayHandler)
        server.received, server.modes = [], ["list"]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        self.env["cobranza.sms.gateway"].create({
            "name": "Pasarela local", "url": f"http://127.0.0.1:{server.server_address[1]}/messages",
            "token": "s3creto", "sender": "COBRANZA", "timeout": 2.0, "max_attempts": 1,
            "company_id": self.company.id,
        })
        self.level_first.write({"send_text": True, "text_channel": "sms"})
        self.customer.mobile = "+52 55 1234 5678"
        self.other_customer.mobile = "+52 55 8765 4321"
        self._invoice(self.customer, 100.0, days_overdue=3)
        self._invoice(self.other_customer, 100.0, days_overdue=3)
        self._run(deliver=False)
        broken = self._comms(self.other_customer, channel="sms")
        broken.text_body = False
        self.env.cr.execute(  # a text whose placeholder is not one
            "UPDATE cobranza_dunning_level SET text_body = jsonb_build_object('en_US', 'Hola {{ object.nope }}') "
            "WHERE id = %s", [self.level_first.id])
        self.level_first.invalidate_recordset(["text_body"])
        first = self._comms(channel="sms")
        first.text_body = "Recordatorio de pago"
        self.Communication._dispatch_queued()
        self.assertEqual(first.state, "sent", "a 2xx whose JSON is a list was still taken")
        self.assertEqual(broken.state, "failed")
        self.assertIn("object.nope", broken.failure_reason)
        self.assertEqual(len(server.received), 1, "the broken text was never posted")
        self.assertTrue(server.received[0]["key"].startswith("cobranza-"))
        database = self.env["ir.config_parameter"].sudo().get_param("database.uuid")
        self.assertEqual(server.received[0]["key"], f"cobranza-{database}-{first.id}")

    def test_plain_http_with_a_token_is_refused_outside_this_machine(self):
        values = {"name": "Proveedor", "sender": "COBRANZA", "company_id": self.company.id, "token": "s3creto"}
        with self.assertRaisesRegex(ValidationError, "https"):
            self.env["cobranza.sms.gateway"].create({**values, "url": "http://sms.example.com/send"})
        self.env["cobranza.sms.gateway"].create({**values, "url": "https://sms.example.com/send"})

    def test_a_restored_copy_sends_no_texts(self):
        gateway = self.env["cobranza.sms.gateway"].create({
            "name": "Proveedor", "sender": "COBRANZA", "company_id": self.company.id,
            "url": "https://sms.example.com/send",
        })
        queries = list(get_neutralization_queries(["cobranza_mgmt"]))
        self.assertTrue(any("cobranza_sms_gateway" in query for query in queries))
        for query in queries:
            if "cobranza_sms_gateway" in query:
                self.env.cr.execute(query)
        gateway.invalidate_recordset(["active"])
        self.assertFalse(gateway.active)


@tagged("post_install", "-at_install")
class TestCalmFirstDay(AgreementCommon):
    """High: a company where collections were not started holds nobody and sends nothing."""

    def test_not_started_company_holds_nobody_and_sends_nothing(self):
        self.company.cobranza_start_date = False
        self.company.cobranza_auto_hold_days = 60
        self.customer.with_company(self.company).credit_limit = 100.0
        invoices = [self._invoice(self.customer, 500.0, days_overdue=days) for days in (-2, 5, 20, 35, 70, 120)]
        self.Profile._refresh_behaviour(companies=self.company)
        self.assertFalse(self.profile.is_on_hold)
        self._run()
        self.assertFalse(self.Communication.search([("company_id", "=", self.company.id)]))
        # the onboarding step shows what the first run would do, then starts from today
        wizard = self.env["cobranza.start.wizard"].with_user(self.manager).with_company(self.company).create({})
        self.assertEqual(wizard.customer_count, 1)
        self.assertEqual(wizard.hold_count, 1)
        self.assertEqual(wizard.line_ids.level_id.mapped("offset_days"), [-3, 1, 15, 30, 60, 90])
        wizard.action_start()
        self.assertEqual(self.company.cobranza_start_date, fields.Date.today())
        self.assertFalse(self.Communication.search([("company_id", "=", self.company.id)]))
        levels = [invoice.line_ids.filtered(lambda line: line.account_type == "asset_receivable").cobranza_level_id
                  for invoice in invoices]
        self.assertEqual([level.offset_days for level in levels], [-3, 1, 15, 30, 60, 90])
        self.assertTrue(self.profile.is_on_hold, "the policy acts once started")
        self._run()
        self.assertFalse(self.Communication.search([("company_id", "=", self.company.id)]),
                         "nothing new reached today: nothing sent")

    def test_preview_counts_customers_without_a_profile_yet(self):
        """Before the nightly refresh made their profiles, customers over the automatic-hold days are
        still counted: the preview says what starting will do."""
        self.company.cobranza_start_date = False
        self.company.cobranza_auto_hold_days = 60
        fresh = self.env["res.partner"].create({"name": "Cliente Sin Perfil S.A.", "is_company": True})
        self._invoice(fresh, 300.0, days_overdue=90)
        self.assertFalse(self.Profile.sudo().search([("partner_id", "=", fresh.id)]))
        wizard = self.env["cobranza.start.wizard"].with_user(self.manager).with_company(self.company).create({})
        self.assertEqual(wizard.hold_count, 1)

    def test_a_manager_previews_only_their_companies(self):
        other = self.env["res.company"].create({"name": "Empresa Ajena S.A.S."})
        with self.assertRaisesRegex(AccessError, "Empresa Ajena"):
            self.env["cobranza.start.wizard"].with_user(self.manager).with_company(self.company).create({
                "company_id": other.id,
            })

    def test_only_managers_start_collections(self):
        self.company.cobranza_start_date = False
        with self.assertRaises(AccessError):
            self.env["cobranza.start.wizard"].with_user(self.collector).with_company(self.company).create({})

    def test_sale_of_a_not_started_company_is_not_blocked_over_limit(self):
        self.company.cobranza_start_date = False
        self.customer.with_company(self.company).credit_limit = 100.0
        self._invoice(self.customer, 500.0, days_overdue=5)
        draft = self._invoice(self.customer, 50.0, post=False)
        draft.with_user(self.billing_user).action_post()
        self.assertEqual(draft.state, "posted")


@tagged("post_install", "-at_install")
class TestMediumAndLow(AgreementCommon):

    def test_dunning_hold_lifts_once_paid(self):
        invoice = self._invoice(self.customer, 100.0, days_overdue=31)
        self._run()
        self.assertRecordValues(self.profile, [{"is_on_hold": True, "hold_type": "dunning"}])
        self.env["account.payment.register"].with_context(active_model="account.move", active_ids=invoice.ids) \
            .create({})._create_payments()
        self.Profile._refresh_behaviour(companies=self.company, partners=self.customer)
        self.assertFalse(self.profile.is_on_hold)

    def test_totals_per_currency(self):
        self.company.cobranza_auto_hold_over_limit = False
        eur = self.setup_other_currency("EUR", rates=[("2000-01-01", 0.5)])
        self._invoice(self.customer, 100.0, days_overdue=3)
        self._invoice(self.customer, 40.0, days_overdue=3, currency=eur)
        self._run()
        email = self._comms(channel="email")
        totals = email._lines_data()["totals"]
        self.assertEqual(sorted((currency.name, amount) for currency, amount in totals),
                         [("EUR", 40.0), ("USD", 100.0)])
        self.assertIn("+", email.amount_due_text)
        self.assertIn("40.00", email.mail_id.body_html)

    def test_unreconciling_reopens_a_completed_agreement(self):
        invoice = self._invoice(self.customer, 300.0, days_overdue=20)
        agreement = self._agreement(invoice, installment_count=1, first_due_date=self.today + timedelta(days=5))
        agreement.action_activate()
        payment = self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids).create({})._create_payments()
        self.assertEqual(agreement.state, "completed")
        payment.move_id.line_ids.remove_move_reconcile()
        self.assertEqual(agreement.state, "active")

    def test_back_dated_agreement_with_past_installments_is_refused(self):
        invoice = self._invoice(self.customer, 300.0, days_overdue=60)
        start = self.today - timedelta(days=40)
        agreement = self._agreement(invoice, date=start, first_due_date=start + timedelta(days=10))
        with self.assertRaisesRegex(ValidationError, "before today"):
            agreement.action_activate()
        self.assertEqual(agreement.state, "draft")

    def test_levels_in_use_are_archived_not_deleted_nor_moved(self):
        self._invoice(self.customer, 100.0, days_overdue=3)
        self._run()
        with self.assertRaisesRegex(UserError, "archive it instead"):
            self.level_first.unlink()
        with self.assertRaisesRegex(UserError, "lower level after a higher one"):
            self.level_first.offset_days = 20
        self.level_first.active = False
        unused = self.levels.filtered(lambda lvl: lvl.offset_days == 90)
        unused.offset_days = 95
        self.assertEqual(unused.offset_days, 95)

    def test_today_is_the_company_day(self):
        self.company.partner_id.tz = "Pacific/Kiritimati"  # UTC+14
        self.env.user.tz = "Pacific/Pago_Pago"  # UTC-11: always another date
        now = fields.Datetime.now().replace(tzinfo=ZoneInfo("UTC"))
        expected = now.astimezone(ZoneInfo("Pacific/Kiritimati")).date()
        self.assertEqual(self.company._cobranza_today(), expected)
        self.assertNotEqual(self.company._cobranza_today(), fields.Date.context_today(self.env.user))

    def test_one_failing_promise_does_not_block_the_others(self):
        invoices = [self._invoice(partner, 100.0, days_overdue=20) for partner in (self.customer, self.other_customer)]
        Promise = self.env["cobranza.promise"].sudo()
        promises = Promise.browse()
        with freeze_time(self.today - timedelta(days=10)):
            for invoice in invoices:
                promises |= Promise.create({"partner_id": invoice.partner_id.id, "move_ids": [Command.set(invoice.ids)],
                                            "promise_date": self.today - timedelta(days=9), "amount": 100.0})
        original = type(Promise)._break

        def _break(promise):
            if promise.partner_id == self.customer:
                raise RuntimeError("activity type missing")
            return original(promise)

        with patch.object(type(Promise), "_break", _break):
            Promise._cron_evaluate()
        self.assertEqual(promises.mapped("state"), ["open", "broken"])

    def test_dry_run_shows_a_collector_their_portfolio_only(self):
        self._invoice(self.customer, 100.0, days_overdue=3)
        self._invoice(self.other_customer, 100.0, days_overdue=3)
        mine = self.env["cobranza.dunning.dry.run"].with_user(self.collector).with_company(self.company).create({})
        self.assertEqual(mine.line_ids.partner_id, self.customer)
        other = self.env["cobranza.dunning.dry.run"].with_user(self.collector_2).with_company(self.company).create({})
        self.assertFalse(other.line_ids)
        everyone = self.env["cobranza.dunning.dry.run"].with_user(self.manager).with_company(self.company).create({})
        self.assertEqual(everyone.line_ids.partner_id, self.customer | self.other_customer)

    def test_cancelled_proposal_link_stops_working(self):
        invoice = self._invoice(self.customer, 300.0, days_overdue=20)
        agreement = self._agreement(invoice)
        agreement.action_propose()
        token = agreement._portal_ensure_token()
        self.assertTrue(token)
        agreement.action_cancel()
        self.assertNotEqual(agreement.access_token, token)

    def test_kpi_snapshot_uniqueness_survives_older_postgresql(self):
        self.env.cr.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'cobranza_kpi_snapshot_one_per_day_idx'")
        definition = self.env.cr.fetchone()[0]
        self.assertIn("COALESCE(collector_id, 0)", definition)
        self.assertNotIn("NULLS NOT DISTINCT", definition)


ALLOWED, DENIED = True, False


class _Undo(Exception):
    """Rolls a matrix cell back after an allowed call."""


@tagged("post_install", "-at_install")
class TestAccessMatrix(AgreementCommon):
    """Who may do what, through the API, for every kind of user (portal user to administrator)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        values = {"company_id": cls.company.id, "company_ids": [Command.set(cls.company.ids)]}
        cls.users = {
            "portal": new_test_user(cls.env, login="matrix_portal", groups="base.group_portal", **values),
            "employee": new_test_user(cls.env, login="matrix_employee", groups="base.group_user", **values),
            "billing": cls.billing_user,
            "other collector": cls.collector_2,
            "collector": cls.collector,
            "manager": cls.manager,
            "administrator": cls.env.user,  # an accounting administrator
        }

    def _attempt(self, call):
        """Whether the call is allowed; its effects are undone either way, so every cell starts alike."""
        try:
            with self.env.cr.savepoint():
                call()
                raise _Undo
        except _Undo:
            return ALLOWED
        except (AccessError, UserError):
            return DENIED
        finally:
            self.env.invalidate_all()

    def _check(self, name, expected, call):
        for who, allowed in zip(self.users, expected, strict=True):
            with self.subTest(operation=name, user=who):
                self.assertEqual(self._attempt(lambda user=self.users[who]: call(user)), allowed)

    def test_matrix(self):
        invoice = self._invoice(self.customer, 300.0, days_overdue=20)
        agreement = self._agreement(invoice)
        agreement.sudo().collector_id = self.collector
        self._invoice(self.customer, 100.0, days_overdue=3)
        self._run(deliver=False)
        communication = self._comms(channel="email")
        communication.write({"state": "failed", "failure_reason": "SMTP"})
        report = self.env["ir.actions.report"]
        profile = self.profile
        #            portal  employee billing other-c collector manager admin
        matrix = [
            ("read profile", (DENIED, DENIED, DENIED, DENIED, ALLOWED, ALLOWED, ALLOWED),
             lambda u: profile.with_user(u).read(["risk_score", "hold_reason"])),
            ("write exclusion", (DENIED, DENIED, DENIED, DENIED, ALLOWED, ALLOWED, ALLOWED),
             lambda u: profile.with_user(u).write({"is_dunning_excluded": False})),
            ("assign collector", (DENIED, DENIED, DENIED, DENIED, DENIED, ALLOWED, ALLOWED),
             lambda u: profile.with_user(u).write({"collector_id": self.collector.id})),
            ("set hold", (DENIED, DENIED, DENIED, DENIED, ALLOWED, ALLOWED, ALLOWED),
             lambda u: profile.with_user(u)._hold_by_hand("Cheque rechazado")),
            ("lift hold", (DENIED, DENIED, DENIED, DENIED, DENIED, ALLOWED, ALLOWED),
             lambda u: profile.with_user(u).action_lift_hold()),
            ("remind customer", (DENIED, DENIED, DENIED, DENIED, ALLOWED, ALLOWED, ALLOWED),
             lambda u: profile.with_user(u).action_send_reminder_now()),
            # a collector acts on the invoices of their own portfolio only, as on its customers
            ("dispute invoice", (DENIED, DENIED, DENIED, DENIED, ALLOWED, ALLOWED, ALLOWED),
             lambda u: invoice.with_user(u)._cobranza_set_dispute("No reconozco")),
            ("remind invoice", (DENIED, DENIED, DENIED, DENIED, ALLOWED, ALLOWED, ALLOWED),
             lambda u: invoice.with_user(u).action_cobranza_send_reminder_now()),
            ("write dispute flag", (DENIED, DENIED, DENIED, DENIED, DENIED, DENIED, DENIED),
             lambda u: invoice.with_user(u).write({"cobranza_is_disputed": True})),
            ("read agreement", (DENIED, DENIED, DENIED, DENIED, ALLOWED, ALLOWED, ALLOWED),
             lambda u: agreement.with_user(u).read(["state"])),
            ("cancel agreement", (DENIED, DENIED, DENIED, DENIED, ALLOWED, ALLOWED, ALLOWED),
             lambda u: agreement.with_user(u).action_cancel()),
            ("write agreement state", (DENIED, DENIED, DENIED, DENIED, DENIED, DENIED, DENIED),
             lambda u: agreement.with_user(u).write({"state": "completed"})),
            ("retry reminder", (DENIED, DENIED, DENIED, DENIED, ALLOWED, ALLOWED, ALLOWED),
             lambda u: communication.with_user(u).action_retry()),
            ("dry run", (DENIED, DENIED, DENIED, ALLOWED, ALLOWED, ALLOWED, ALLOWED),
             lambda u: self.env["cobranza.dunning.dry.run"].with_user(u).create({})),
            ("start collections", (DENIED, DENIED, DENIED, DENIED, DENIED, ALLOWED, ALLOWED),
             lambda u: self.env["cobranza.start.wizard"].with_user(u).create({})),
            ("credit limit", (DENIED, DENIED, DENIED, DENIED, DENIED, ALLOWED, ALLOWED),
             lambda u: self.customer.with_user(u).write({"credit_limit": 5000.0})),
            ("statement report", (DENIED, DENIED, DENIED, DENIED, ALLOWED, ALLOWED, ALLOWED),
             lambda u: report.with_user(u)._render_qweb_html("cobranza_mgmt.action_report_cobranza_statement",
                                                              self.customer.ids)),
            ("KPI report", (DENIED, DENIED, DENIED, DENIED, DENIED, ALLOWED, ALLOWED),
             lambda u: report.with_user(u)._render_qweb_html("cobranza_mgmt.action_report_cobranza_kpi",
                                                              self.company.ids)),
        ]
        for name, expected, call in matrix:
            self._check(name, expected, call)


@tagged("post_install", "-at_install")
class TestContactPolicy(AgreementCommon):
    """Issue #11, contact policy: one reminder per customer per channel per run, at the highest level."""

    def test_one_email_letter_and_call_whatever_the_levels_reached(self):
        product = self.env["product.product"].create({"name": "Recargo por mora", "type": "service",
                                                      "taxes_id": [Command.clear()]})
        self.company.cobranza_late_fee_product_id = product
        self.level_second.write({"late_fee_type": "fixed", "late_fee_amount": 10.0})
        self.level_formal.write({"late_fee_type": "fixed", "late_fee_amount": 25.0})
        invoices = [self._invoice(self.customer, 100.0, days_overdue=days) for days in (2, 16, 31, 61, 95)]
        self._run()
        communications = self._comms()
        self.assertEqual(sorted(communications.mapped("channel")), ["email", "letter", "phone"])
        self.assertEqual(communications.level_id, self.levels.filtered(lambda lvl: lvl.offset_days == 90))
        email = communications.filtered(lambda c: c.channel == "email")
        self.assertEqual(email.move_ids, self.env["account.move"].union(*invoices))
        for invoice in invoices:
            self.assertIn(invoice.name, email.mail_id.body_html)
        fees = self.env["account.move"].search([("invoice_line_ids.product_id", "=", product.id)])
        self.assertEqual(sorted(fees.mapped("amount_total")), [10.0, 25.0], "each level's side action, once")
        self.assertTrue(self.profile.is_on_hold, "the final notice's hold applies too")
        levels = [invoice.line_ids.filtered(lambda line: line.account_type == "asset_receivable").cobranza_level_id
                  for invoice in invoices]
        self.assertEqual([level.offset_days for level in levels], [1, 15, 30, 60, 90])

    def test_days_between_reminders_hold_items_then_include_them(self):
        self.company.cobranza_contact_interval_days = 7
        first = self._invoice(self.customer, 100.0, days_overdue=2)
        self._run()
        self.assertEqual(len(self._comms(channel="email")), 1)
        # three days later another invoice falls due: it waits for the next reminder
        second = self._invoice(self.customer, 200.0, days_overdue=-3)
        with freeze_time(self.today + timedelta(days=4)):
            self._run()
            self.assertEqual(len(self._comms(channel="email")), 1, "reminded 4 days ago: nothing yet")
            dry = self.env["cobranza.dunning.dry.run"].with_user(self.manager).with_company(self.company).create({})
            waiting = dry.line_ids.filtered(lambda line: line.partner_id == self.customer)
            # the dry run shows what the next reminder will hold and when it may go out
            self.assertTrue(waiting.waiting)
            self.assertEqual(waiting.next_date, self.today + timedelta(days=7))
            self.assertEqual(waiting.invoices, f"{second.name} (First notice)")
            # and so does the worklist
            profile = self.Profile._get_or_create(self.customer, self.company).with_user(self.collector)
            self.assertEqual(profile.next_reminder, f"First notice, 1 item(s), "
                                                    f"{format_date(self.env, self.today + timedelta(days=7))}")
        with freeze_time(self.today + timedelta(days=7)):
            self._run()
        emails = self._comms(channel="email")
        self.assertEqual(len(emails), 2)
        self.assertEqual(emails.sorted("id")[-1].move_ids, second, "the held item goes out with the next reminder")
        self.assertTrue(first)

    def test_an_urgent_level_ignores_the_interval(self):
        self.company.cobranza_contact_interval_days = 30
        self._invoice(self.customer, 100.0, days_overdue=2)
        self._run()
        self._invoice(self.customer, 500.0, days_overdue=61)  # formal notice: urgent
        self._invoice(self.customer, 50.0, days_overdue=16)  # not urgent, but goes with it
        self._run()
        emails = self._comms(channel="email")
        self.assertEqual(len(emails), 2)
        self.assertEqual(emails.sorted("id")[-1].level_id, self.level_formal)
        self.assertEqual(len(emails.sorted("id")[-1].move_ids), 2)

    def test_preventive_reminders_are_apart(self):
        self.company.cobranza_contact_interval_days = 7
        self._invoice(self.customer, 100.0, days_overdue=-3)
        self._run()
        self._invoice(self.customer, 100.0, days_overdue=2)
        self._run()
        self.assertEqual(self._comms(channel="email").level_id.mapped("offset_days"), [1, -3])

    def test_delivery_reports_progress_so_the_cron_drains_the_queue(self):
        for partner in (self.customer, self.other_customer):
            self._invoice(partner, 100.0, days_overdue=16)  # e-mail and call task each
        self._run(deliver=False)
        queued = self.Communication.search([("company_id", "=", self.company.id), ("state", "=", "queued")])
        self.assertEqual(len(queued), 4)
        total = self.Communication.search_count([("state", "=", "queued"), ("mail_id", "=", False)])  # demo too
        cron = self.env.ref("cobranza_mgmt.ir_cron_dispatch_queued")
        progress = self.env["ir.cron.progress"].sudo().create({"cron_id": cron.id, "remaining": 0, "done": 0})
        self.Communication.with_context(ir_cron_progress_id=progress.id)._dispatch_queued(limit=3)
        self.assertEqual((progress.done, progress.remaining), (3, total - 3), "the cron is told to call again")
        self.Communication.with_context(ir_cron_progress_id=progress.id)._dispatch_queued(limit=total)
        self.assertEqual((progress.done, progress.remaining), (total - 3, 0))
        self.assertFalse(queued.filtered(lambda c: c.state == "queued" and not c.mail_id))
