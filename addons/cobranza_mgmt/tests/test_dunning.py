from datetime import timedelta

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import freeze_time, new_test_user, tagged

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestDunningRun(DunningCommon):

    def test_default_ladder_copied_to_new_company(self):
        self.assertEqual(self.levels.mapped("offset_days"), [-3, 1, 15, 30, 60, 90])
        self.assertEqual(self.levels[0].stage_id.stage_type, "preventive")
        self.assertEqual(self.levels[-1].stage_id.stage_type, "agency")

    def test_one_consolidated_email_per_partner_and_level(self):
        first = self._invoice(self.customer, 100.0, days_overdue=3)
        second = self._invoice(self.customer_contact, 250.0, days_overdue=5)
        refund = self.init_invoice("out_refund", partner=self.customer, amounts=[40.0], taxes=[], post=True)
        self._run()
        emails = self._comms(channel="email")
        self.assertEqual(len(emails), 1)
        self.assertEqual(emails.level_id, self.level_first)
        self.assertEqual(emails.move_ids, first | second)
        refund_line = refund.line_ids.filtered(lambda line: line.account_type == "asset_receivable")
        self.assertIn(refund_line, emails.credit_line_ids)
        self.assertAlmostEqual(emails.amount_due, 310.0)
        body = emails.mail_id.body_html
        for text in (first.name, second.name, refund.name, "If you have already paid, please ignore this message",
                     "/my/invoices"):
            self.assertIn(text, body)
        self.assertEqual(emails.mail_id.state, "outgoing", "queued in Odoo's mail queue, not sent inline")
        self.assertIn(self.customer, emails.mail_id.recipient_ids)
        self.assertTrue(any("First notice" in (m.body or "") for m in self.customer.message_ids))
        lines = (first | second).line_ids.filtered(lambda line: line.account_type == "asset_receivable")
        self.assertEqual(lines.cobranza_level_id, self.level_first)

    def test_each_invoice_links_to_its_portal_page_with_a_token_made_by_the_run(self):
        """Invoices made as users make them have no portal token: the run gives them one, in one
        statement for the batch, and the reminder links each invoice with it."""
        invoices = [self._invoice(self.customer, 100.0 + n, days_overdue=3) for n in range(3)]
        self.assertFalse(any(invoice.access_token for invoice in invoices))
        self._run()
        body = self._comms(channel="email").mail_id.body_html
        for invoice in invoices:
            self.assertTrue(invoice.access_token)
            self.assertIn(f"/my/invoices/{invoice.id}?access_token={invoice.access_token}", body)
        # a token is never replaced: the links sent before keep working
        tokens = [invoice.access_token for invoice in invoices]
        self.env["account.move"].browse([i.id for i in invoices])._cobranza_ensure_portal_tokens()
        self.assertEqual([invoice.access_token for invoice in invoices], tokens)

    def test_reminder_lists_each_item_with_its_notice_and_the_other_open_items(self):
        reminded = self._invoice(self.customer, 300.0, days_overdue=3)
        self._run()
        # a week later (days counted from the first run): one invoice reaches the second notice,
        # another the first; the one reminded last week reached nothing new and one is not due
        # yet: both are shown, for context only
        with freeze_time(self.today + timedelta(days=7)):
            second = self._invoice(self.customer, 100.0, days_overdue=8)
            first = self._invoice(self.customer, 200.0, days_overdue=-5)
            later = self._invoice(self.customer, 50.0, days_overdue=-17)
            self._run()
        email = self._comms(channel="email").filtered(lambda c: c.move_ids == second | first)
        self.assertEqual(email.level_id, self.level_second, "one e-mail, in the tone of the highest level")
        main, context = email.mail_id.body_html.split("Your other open invoices")
        for text in (second.name, first.name, "Second notice", "First notice"):
            self.assertIn(text, main)
        for text in (reminded.name, later.name, "10 days late", "Not due yet"):
            self.assertIn(text, context)
        self.assertNotIn(reminded.name, main)

    def test_second_run_same_day_sends_nothing(self):
        self._invoice(self.customer, 100.0, days_overdue=3)
        self._run()
        self._run()
        self.assertEqual(len(self._comms(channel="email")), 1)

    def test_item_climbs_to_the_highest_level_reached_once(self):
        self.company.cobranza_contact_interval_days = 0  # both runs fall on the same day here
        self._invoice(self.customer, 100.0, days_overdue=20)
        self._run()
        self.assertEqual(self._comms(channel="email").level_id, self.level_second, "skipped levels are not sent")
        # 15 days later the same item reaches the final notice, once
        with freeze_time(self.today + timedelta(days=15)):
            self._run()
            self._run()
        self.assertEqual(set(self._comms(channel="email").level_id.ids), {self.level_second.id, self.level_final.id})

    def test_preventive_reminder_before_due_date(self):
        self._invoice(self.customer, 100.0, days_overdue=-3)
        self._invoice(self.other_customer, 100.0, days_overdue=-4)
        self._run()
        self.assertEqual(self._comms(channel="email").level_id.offset_days, -3)
        self.assertFalse(self._comms(self.other_customer))

    def test_paid_never_reminded_partial_shows_residual(self):
        paid = self._invoice(self.customer, 100.0, days_overdue=3)
        self._pay(paid)
        partial = self._invoice(self.other_customer, 1000.0, days_overdue=3)
        self._pay(partial, amount=600.0)
        self._run()
        self.assertFalse(self._comms())
        email = self._comms(self.other_customer, channel="email")
        self.assertAlmostEqual(email.amount_due, 400.0)
        self.assertIn("400.00", email.mail_id.body_html)

    def test_batches_resume_without_duplicates(self):
        partners = self.env["res.partner"].create([
            {"name": f"Cliente {i}", "is_company": True, "email": f"c{i}@example.com"} for i in range(5)
        ])
        for partner in partners:
            self._invoice(partner, 100.0, days_overdue=2)
        engine = self.env["cobranza.dunning"].with_context(cobranza_dunning_batch=2)
        done, remaining = engine._cron_run(companies=self.company)
        self.assertEqual((done, remaining), (2, 3))
        # the next batch is killed before the cron commits it: nothing of it remains
        with self.assertRaises(InterruptedError), self.env.cr.savepoint():
            engine._cron_run(companies=self.company)
            raise InterruptedError("worker killed")
        self.assertEqual(len(self.Communication.search([("partner_id", "in", partners.ids)])), 2)
        calls = self._run(batch=2, deliver=False)
        self.assertEqual(calls, 2)
        for partner in partners:
            self.assertEqual(len(self._comms(partner, channel="email")), 1, partner.name)

    def test_failing_template_is_logged_and_run_carries_on(self):
        broken = self.level_first.mail_template_id.copy({
            "body_html": "<p t-out=\"object.partner_id.name if object.partner_id.email != 'pagos@riobravo.example.com' "
                         "else object.no_such_field\"/>",
        })
        self.level_first.mail_template_id = broken
        self._invoice(self.customer, 100.0, days_overdue=3)
        self._invoice(self.other_customer, 100.0, days_overdue=3)
        self._run()
        failed = self._comms()
        self.assertEqual(failed.mapped("state"), ["failed"])
        self.assertTrue(failed.failure_reason)
        self.assertEqual(self._comms(self.other_customer).state, "queued")
        self.assertTrue(any("Dunning failed" in (m.body or "") for m in self.customer.message_ids))
        # the next run does not replay the level; once the template is fixed, the reminder is retried
        self._run()
        self.assertEqual(len(self._comms(channel="email")), 1)
        self.level_first.mail_template_id = self.env.ref("cobranza_mgmt.mail_template_dunning_first")
        failed.with_user(self.collector).action_retry()
        self.Communication._dispatch_queued()
        self.assertEqual(failed.state, "queued")
        self.assertTrue(failed.mail_id, "rendered into the mail queue this time")

    def test_dry_run_lists_and_sends_nothing(self):
        invoice = self._invoice(self.customer, 100.0, days_overdue=31)
        wizard = self.env["cobranza.dunning.dry.run"].with_user(self.manager).create({})
        line = wizard.line_ids.filtered(lambda planned: planned.partner_id == self.customer)
        self.assertEqual((line.level_id, line.invoice_count, line.amount), (self.level_final, 1, 100.0))
        self.assertIn("Put on Credit Hold", line.actions)
        self.assertFalse(self._comms())
        self.assertFalse(invoice.line_ids.cobranza_level_id)


@tagged("post_install", "-at_install")
class TestDunningActions(DunningCommon):

    def test_phone_task_for_the_collector(self):
        self._invoice(self.customer, 100.0, days_overdue=16)
        self._run()
        phone = self._comms(channel="phone")
        self.assertEqual(phone.state, "sent")
        self.assertEqual(phone.activity_id.user_id, self.collector)
        self.assertEqual(phone.activity_id.activity_type_id, self.env.ref("mail.mail_activity_data_call"))

    def test_final_notice_puts_customer_on_hold(self):
        self._invoice(self.customer, 100.0, days_overdue=31)
        self._run()
        self.assertRecordValues(self.profile, [{"is_on_hold": True, "hold_type": "dunning"}])
        self.assertIn("Final notice", self.profile.hold_reason)

    def test_letter_queued_then_rendered(self):
        self._invoice(self.customer, 100.0, days_overdue=61)
        self._run(deliver=False)
        letter = self._comms(channel="letter")
        self.assertEqual(letter.state, "queued", "documents are rendered after the batch is committed")
        self.Communication._dispatch_queued()
        self.assertEqual(letter.state, "sent")
        self.assertTrue(letter.attachment_id.raw)

    def test_agency_handover_records_agency_and_case_file(self):
        agency = self.env["res.partner"].create({"name": "Recuperaciones Andinas S.A.", "is_company": True})
        level_agency = self.levels.filtered(lambda lvl: lvl.offset_days == 90)
        level_agency.write({"agency_handover": True, "agency_partner_id": agency.id})
        self._invoice(self.customer, 100.0, days_overdue=95)
        self._run(deliver=False)
        handover = self._comms(channel="agency")
        self.assertEqual(self.profile.agency_partner_id, agency)
        self.assertEqual(self.profile.agency_date, self.today)
        self.Communication._dispatch_queued()
        self.assertEqual(handover.state, "sent")
        self.assertIn(b"Recuperaciones Andinas", handover.attachment_id.raw)

    def test_nothing_more_after_the_agency_hand_over(self):
        """Once a customer's item reached the agency stage, the agency collects: a newer invoice of the
        customer gets no first notice from Collections while that item is open."""
        old = self._invoice(self.customer, 100.0, days_overdue=95)
        self._run()
        handed_over = self._comms()
        self.assertEqual(handed_over.level_id.stage_id.stage_type, "agency")
        self._invoice(self.customer, 80.0, days_overdue=3)
        with freeze_time(self.today + timedelta(days=1)):
            self._run()
        self.assertEqual(self._comms(), handed_over, "no first notice after the hand-over")
        self._pay(old)
        with freeze_time(self.today + timedelta(days=10)):  # past the days between reminders
            self._run()
        self.assertEqual((self._comms() - handed_over).level_id, self.level_first,
                         "with the handed-over debt paid, Collections reminds again")

    def test_late_fee_once_per_event(self):
        product = self.env["product.product"].create({"name": "Recargo por mora", "type": "service",
                                                      "taxes_id": [Command.clear()]})
        self.company.cobranza_late_fee_product_id = product
        self.level_second.write({"late_fee_type": "percentage", "late_fee_amount": 2.0})
        self._invoice(self.customer, 1000.0, days_overdue=16)
        self._invoice(self.customer, 500.0, days_overdue=17)
        self._run()
        self._run()
        fees = self.env["account.move"].search([("partner_id", "=", self.customer.id),
                                                ("invoice_line_ids.product_id", "=", product.id)])
        self.assertEqual(len(fees), 1)
        self.assertEqual(fees.state, "posted")
        self.assertAlmostEqual(fees.amount_total, 30.0)
        self.assertEqual(self._comms(channel="email").fee_move_id, fees)

    def test_late_fee_without_product_fails_the_customer_only(self):
        self.level_second.write({"late_fee_type": "fixed", "late_fee_amount": 25.0})
        self._invoice(self.customer, 100.0, days_overdue=16)
        self._run()
        failed = self._comms(state="failed")
        self.assertEqual(set(failed.mapped("channel")), {"email", "phone"})
        self.assertTrue(all("late fee product" in reason for reason in failed.mapped("failure_reason")))
        self.assertFalse(self._comms(state="queued"))
        # the customer's chatter note, linked from each communication, says it failed and why
        note = failed.message_id
        self.assertEqual(len(note), 1)
        self.assertEqual((note.model, note.res_id), ("res.partner", self.customer.id))
        self.assertIn("failed", note.body)
        self.assertIn("late fee product", note.body)
        self.assertIn(note, self.customer.message_ids)
        # and no e-mail left (reminders are threaded on the customer, so look there too)
        self.assertFalse(self._comms().mail_id)
        self.assertFalse(self.env["mail.mail"].search([
            "|", "&", ("model", "=", "cobranza.communication"), ("res_id", "in", self._comms().ids),
            "&", ("model", "=", "res.partner"), ("res_id", "=", self.customer.id),
        ]))


@tagged("post_install", "-at_install")
class TestDunningExclusions(DunningCommon):

    def test_disputed_invoice_excluded_until_resolved(self):
        disputed = self._invoice(self.customer, 100.0, days_overdue=3)
        wizard = self.env["cobranza.dispute.wizard"].with_user(self.collector).create({
            "move_ids": [Command.set(disputed.ids)], "reason": "Mercadería dañada",
        })
        wizard.action_confirm()
        self.assertRecordValues(disputed, [{
            "cobranza_is_disputed": True, "cobranza_dispute_reason": "Mercadería dañada",
            "cobranza_dispute_user_id": self.collector.id,
        }])
        self._run()
        self.assertFalse(self._comms())
        disputed.action_cobranza_resolve_dispute()
        self._run()
        self.assertEqual(len(self._comms(channel="email")), 1)

    def test_dispute_needs_a_reason(self):
        invoice = self._invoice(self.customer, 100.0, days_overdue=3)
        with self.assertRaises(UserError):
            invoice._cobranza_set_dispute(" ")
        self.assertFalse(invoice.cobranza_is_disputed)

    def test_excluded_customer_gets_nothing(self):
        self.profile.write({"is_dunning_excluded": True, "dunning_exclusion_reason": "Cliente estratégico"})
        self._invoice(self.customer, 100.0, days_overdue=3)
        self._run()
        self.assertFalse(self._comms())

    def test_future_promise_pauses_dunning(self):
        invoice = self._invoice(self.customer, 100.0, days_overdue=3)
        other = self._invoice(self.customer, 50.0, days_overdue=4)
        self.env["cobranza.promise"].with_user(self.collector).create({
            "partner_id": self.customer.id, "move_ids": [Command.set(invoice.ids)],
            "promise_date": self.today + timedelta(days=5), "amount": 100.0,
        })
        self._run()
        self.assertEqual(self._comms(channel="email").move_ids, other)


@tagged("post_install", "-at_install")
class TestPromises(DunningCommon):

    def _promise(self, invoice, amount, days=5):
        return self.env["cobranza.promise"].with_user(self.collector).create({
            "partner_id": self.customer.id, "move_ids": [Command.set(invoice.ids)],
            "promise_date": self.today + timedelta(days=days), "amount": amount,
        })

    def test_promise_kept_by_payment(self):
        invoice = self._invoice(self.customer, 300.0, days_overdue=10)
        promise = self._promise(invoice, 300.0)
        self._pay(invoice, days_after_due=12)
        promise._evaluate(self.today)
        self.assertEqual(promise.state, "kept")
        self.assertEqual(self.profile.broken_promise_count, 0)

    def test_promise_broken_escalates(self):
        invoice = self._invoice(self.customer, 300.0, days_overdue=10)
        promise = self._promise(invoice, 300.0, days=1)
        self._pay(invoice, amount=100.0, days_after_due=10)
        promise._evaluate(self.today + timedelta(days=1 + self.company.cobranza_grace_days + 1))
        self.assertEqual(promise.state, "broken")
        self.assertEqual(self.profile.broken_promise_count, 1)
        self.assertTrue(self.customer.activity_ids.filtered(lambda a: "Broken promise" in (a.summary or "")))
        self.assertEqual(self.customer.activity_ids.filtered(lambda a: "Broken promise" in (a.summary or "")).user_id,
                         self.collector)

    def test_open_promise_waits(self):
        invoice = self._invoice(self.customer, 300.0, days_overdue=10)
        promise = self._promise(invoice, 300.0, days=3)
        promise._evaluate(self.today)
        self.assertEqual(promise.state, "open")

    def test_bad_promises_refused(self):
        invoice = self._invoice(self.customer, 300.0, days_overdue=10)
        foreign = self._invoice(self.other_customer, 300.0, days_overdue=10)
        with self.assertRaisesRegex(ValidationError, "must be positive"):
            self._promise(invoice, 0.0)
        with self.assertRaisesRegex(ValidationError, "in the past"):
            self._promise(invoice, 10.0, days=-1)
        with self.assertRaisesRegex(ValidationError, "are not of"):
            self._promise(foreign, 10.0)


@tagged("post_install", "-at_install")
class TestManualControl(DunningCommon):

    def test_send_reminder_now_from_invoice_and_profile(self):
        invoice = self._invoice(self.customer, 100.0, days_overdue=3)
        invoice.with_user(self.collector).action_cobranza_send_reminder_now()
        email = self._comms(channel="email")
        self.assertTrue(email.is_manual)
        self.assertEqual(email.level_id, self.level_first)
        # already reminded at its level: "now" repeats the last reminder without advancing
        self.profile.with_user(self.collector).action_send_reminder_now()
        self.assertEqual(len(self._comms(channel="email")), 2)
        self.assertEqual(invoice.line_ids.cobranza_level_id, self.level_first)

    def test_nothing_to_remind(self):
        with self.assertRaises(UserError):
            self.profile.action_send_reminder_now()

    def test_log_call_with_outcome(self):
        self._invoice(self.customer, 100.0, days_overdue=3)
        self.env["cobranza.call.wizard"].with_user(self.collector).create({
            "profile_id": self.profile.id, "outcome": "no_answer", "note": "Buzón de voz",
        }).action_confirm()
        call = self._comms(channel="phone")
        self.assertIn("No answer", call.text_body)
        self.assertTrue(any("Buzón de voz" in (m.body or "") for m in self.customer.message_ids))


@tagged("post_install", "-at_install")
class TestDunningAccess(DunningCommon):

    def test_collector_sees_only_their_communications(self):
        self.Profile._get_or_create(self.other_customer, self.company).collector_id = self.collector_2
        self._invoice(self.customer, 100.0, days_overdue=3)
        self._invoice(self.other_customer, 100.0, days_overdue=3)
        self._run()
        visible = self.env["cobranza.communication"].with_user(self.collector).search([])
        self.assertEqual(visible.partner_id, self.customer)
        with self.assertRaises(AccessError):
            self._comms(self.other_customer).with_user(self.collector).read(["amount_due"])

    def test_portal_user_sees_none(self):
        self._invoice(self.customer, 100.0, days_overdue=3)
        self._run()
        portal = new_test_user(self.env, login="cobranza_portal", groups="base.group_portal",
                               partner_id=self.customer.id)
        with self.assertRaises(AccessError):
            self.env["cobranza.communication"].with_user(portal).search([])

    def test_gateway_secrets_for_administrators_only(self):
        gateway = self.env["cobranza.sms.gateway"].create({
            "name": "Pasarela", "url": "http://127.0.0.1:9/", "token": "secreto", "sender": "COBRANZA",
        })
        with self.assertRaises(AccessError):
            gateway.with_user(self.manager).read(["token"])
        self.assertEqual(gateway.with_user(self.manager).read(["sender"])[0]["sender"], "COBRANZA")
