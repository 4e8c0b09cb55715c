import itertools
from datetime import timedelta

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged

from .common import AgreementCommon


@tagged("post_install", "-at_install")
class TestAgreementSchedule(AgreementCommon):

    def test_every_frequency_and_interest_mode_sums_exactly(self):
        start = self.today + timedelta(days=7)
        for frequency in ("weekly", "biweekly", "monthly", "custom"):
            for method, rate in (("flat", 0.0), ("flat", 18.0), ("french", 24.5)):
                with self.subTest(frequency=frequency, method=method, rate=rate):
                    invoice = self._invoice(self.customer, 1000.01, days_overdue=45)
                    custom = [start + timedelta(days=9 * k) for k in range(7)] if frequency == "custom" else None
                    agreement = self._agreement(
                        invoice, down_payment=100.0, installment_count=7, frequency=frequency,
                        first_due_date=start, interest_rate=rate, interest_method=method, custom_dates=custom,
                    )
                    installments = agreement.installment_ids.sorted("sequence")
                    self.assertEqual(len(installments), 8)  # down payment + 7
                    self.assertTrue(installments[0].is_down_payment)
                    self.assertEqual(installments[0].amount, 100.0)
                    self.assertAlmostEqual(sum(installments.mapped("principal")), 1000.01, places=2)
                    self.assertAlmostEqual(sum(installments.mapped("amount")),
                                           1000.01 + agreement.interest_amount, places=2)
                    self.assertAlmostEqual(agreement.total_amount,
                                           agreement.financed_amount + agreement.interest_amount, places=2)
                    self.assertEqual(bool(agreement.interest_amount), bool(rate))
                    dates = installments.mapped("due_date")
                    self.assertTrue(all(a < b for a, b in itertools.pairwise(dates)))
                    step = {"weekly": 7, "biweekly": 14, "custom": 9}.get(frequency)
                    if step:
                        self.assertEqual((dates[2] - dates[1]).days, step)
                    else:
                        self.assertEqual(dates[2].day, dates[1].day if dates[1].day <= 28 else dates[2].day)
                    agreement.action_cancel()

    def test_flat_interest_figures(self):
        invoice = self._invoice(self.customer, 1200.0, days_overdue=45)
        agreement = self._agreement(invoice, installment_count=12, interest_rate=12.0, interest_method="flat")
        self.assertEqual(agreement.interest_amount, 144.0)
        self.assertEqual(set(agreement.installment_ids.mapped("amount")), {112.0})

    def test_french_rounding_lands_on_the_last_installment(self):
        invoice = self._invoice(self.customer, 1000.0, days_overdue=45)
        agreement = self._agreement(invoice, installment_count=3, interest_rate=12.0, interest_method="french")
        self.assertEqual(agreement.installment_ids.sorted("sequence").mapped("amount"), [340.02, 340.02, 340.03])
        self.assertAlmostEqual(agreement.interest_amount, 20.07)

    def test_wizard_preview_and_entry_points(self):
        invoice = self._invoice(self.customer, 900.0, days_overdue=20)
        wizard = self._wizard(invoice, down_payment=300.0)
        self.assertEqual(wizard.partner_id, self.customer)
        self.assertEqual(wizard.financed_amount, 900.0)
        self.assertIn("200.00", wizard.preview_html)
        self.assertIn("down payment", wizard.preview_html)
        # from the customer (all its overdue invoices) and from the worklist
        self._invoice(self.customer, 50.0, days_overdue=-5)  # not overdue yet: not proposed
        from_partner = self.env["cobranza.agreement.wizard"].with_context(
            active_model="res.partner", active_id=self.customer.id,
        ).create({"first_due_date": self.today + timedelta(days=30)})
        self.assertEqual(from_partner.move_ids, invoice)
        from_worklist = self.env["cobranza.agreement.wizard"].with_context(
            active_model="cobranza.credit.profile", active_id=self.profile.id,
        ).create({"first_due_date": self.today + timedelta(days=30)})
        self.assertEqual(from_worklist.move_ids, invoice)
        # bad terms show in the preview instead of a schedule
        wizard.down_payment = 1000.0
        self.assertIn("must be less than the debt", wizard.preview_html)

    def test_chatter_logs_every_state_change(self):
        invoice = self._invoice(self.customer, 300.0, days_overdue=20)
        agreement = self._agreement(invoice).with_context(tracking_disable=False, mail_notrack=False)
        for action in (agreement.action_propose, agreement.action_activate, agreement.action_cancel):
            action()
            self.env.flush_all()
            self.env.cr.precommit.run()  # tracking is written when the transaction commits
        tracked = agreement.message_ids.sudo().tracking_value_ids.filtered(lambda t: t.field_id.name == "state")
        self.assertTrue({"Active", "Cancelled"} <= set(tracked.mapped("new_value_char")))
        # the proposal is in the chatter as the e-mail sent to the customer
        self.assertTrue(any("we propose to settle" in (m.body or "") for m in agreement.message_ids))


@tagged("post_install", "-at_install")
class TestAgreementBadInput(AgreementCommon):

    def _assert_refused(self, message, moves, **values):
        before = self.Agreement.search_count([])
        with self.assertRaisesRegex(ValidationError, message):
            self._agreement(moves, **values)
        self.assertEqual(self.Agreement.search_count([]), before, "nothing is created")

    def test_coverage_checked_on_every_write(self):
        """Two drafts may name the same invoice; no write makes both cover it, whatever writes it."""
        invoice = self._invoice(self.customer, 300.0, days_overdue=20)
        other = self._invoice(self.customer, 200.0, days_overdue=20)
        first = self._agreement(invoice)
        second = self._agreement(invoice)
        first.action_activate()
        with self.assertRaises(ValidationError) as caught:  # assertRaises: rolled back to a savepoint
            second.sudo().write({"state": "active"})
        self.assertIn("already in agreement", str(caught.exception))
        third = self._agreement(other)
        third.action_activate()
        with self.assertRaises(ValidationError) as caught:
            third.sudo().write({"move_ids": [Command.link(invoice.id)],
                                "financed_amount": third.financed_amount + invoice.amount_residual})
        self.assertIn("already in agreement", str(caught.exception))
        self.assertEqual(third.move_ids, other)
        self.assertEqual(second.state, "draft")

    def test_invoice_already_in_an_active_agreement(self):
        invoice = self._invoice(self.customer, 300.0, days_overdue=20)
        self._agreement(invoice).action_activate()
        self._assert_refused("already in agreement", invoice)

    def test_unposted_and_non_receivable_moves(self):
        draft = self._invoice(self.customer, 300.0, days_overdue=20, post=False)
        self._assert_refused("Only posted invoices", draft)
        bill = self.init_invoice("in_invoice", partner=self.customer, amounts=[100.0], post=True)
        self._assert_refused("Only customer invoices", bill)
        refund = self.init_invoice("out_refund", partner=self.customer, amounts=[100.0], post=True)
        self._assert_refused("Only customer invoices", refund)

    def test_other_partner_or_company(self):
        mine = self._invoice(self.customer, 300.0, days_overdue=20)
        theirs = self._invoice(self.other_customer, 300.0, days_overdue=20)
        self._assert_refused("are not of", mine | theirs)
        other_company = self.setup_other_company()["company"]
        foreign = self.env["account.move"].with_company(other_company).create({
            "move_type": "out_invoice", "partner_id": self.customer.id, "company_id": other_company.id,
            "invoice_date": self.today - timedelta(days=60),
            "invoice_line_ids": [Command.create({"name": "x", "quantity": 1, "price_unit": 10.0,
                                                 "tax_ids": [Command.clear()]})],
        })
        foreign.action_post()
        self._assert_refused("are not of", mine | foreign)

    def test_amounts(self):
        invoice = self._invoice(self.customer, 300.0, days_overdue=20)
        self._assert_refused("must be positive", invoice, installment_count=0)
        self._assert_refused("must be positive", invoice, installment_count=-2)
        self._assert_refused("cannot be negative", invoice, down_payment=-1.0)
        self._assert_refused("must be less than the debt", invoice, down_payment=300.0)
        self._assert_refused("must be less than the debt", invoice, down_payment=450.0)
        self._assert_refused("interest rate cannot be negative", invoice, interest_rate=-3.0)
        paid = self._invoice(self.customer, 100.0, days_overdue=20)
        self._pay(paid)
        self._assert_refused("nothing left to pay", paid)
        self._assert_refused("Choose the invoices", self.env["account.move"])

    def test_dates(self):
        invoice = self._invoice(self.customer, 300.0, days_overdue=20)
        later = self.today + timedelta(days=20)
        self._assert_refused("strictly increasing", invoice, frequency="custom", installment_count=3,
                             custom_dates=[later, later + timedelta(days=10), later + timedelta(days=5)])
        self._assert_refused("strictly increasing", invoice, frequency="custom", installment_count=2,
                             custom_dates=[later, later])
        self._assert_refused("one date per installment", invoice, frequency="custom", installment_count=3,
                             custom_dates=[later])
        self._assert_refused("must fall after the agreement date", invoice,
                             first_due_date=self.today - timedelta(days=1))
        self._assert_refused("must fall after the agreement date", invoice, down_payment=10.0,
                             first_due_date=self.today)

    def test_direct_create_is_checked_too(self):
        invoice = self._invoice(self.customer, 300.0, days_overdue=20)
        with self.assertRaisesRegex(ValidationError, "must be what the invoices owe"):
            self.Agreement.create({
                "partner_id": self.customer.id, "currency_id": invoice.currency_id.id,
                "move_ids": [Command.set(invoice.ids)], "financed_amount": 100.0,
                "first_due_date": self.today + timedelta(days=3),
                "installment_ids": [Command.create({"due_date": self.today + timedelta(days=3),
                                                    "principal": 100.0, "amount": 100.0})],
            })
        with self.assertRaisesRegex(ValidationError, "strictly increasing"):
            self.Agreement.create({
                "partner_id": self.customer.id, "currency_id": invoice.currency_id.id,
                "move_ids": [Command.set(invoice.ids)], "financed_amount": 300.0,
                "first_due_date": self.today + timedelta(days=3),
                "installment_ids": [
                    Command.create({"sequence": 1, "due_date": self.today + timedelta(days=9),
                                    "principal": 150.0, "amount": 150.0}),
                    Command.create({"sequence": 2, "due_date": self.today + timedelta(days=3),
                                    "principal": 150.0, "amount": 150.0}),
                ],
            })


@tagged("post_install", "-at_install")
class TestAgreementTracking(AgreementCommon):

    def test_partial_then_early_payment_completes(self):
        invoice = self._invoice(self.customer, 300.0, days_overdue=20)
        agreement = self._agreement(invoice)
        agreement.action_activate()
        first, second, third = agreement.installment_ids.sorted("sequence")
        self._pay(invoice, 150.0)  # a partial payment: the first installment, half the second
        self.assertEqual((first.state, first.paid_amount), ("paid", 100.0))
        self.assertEqual((second.state, second.paid_amount), ("partial", 50.0))
        self.assertEqual((third.state, third.paid_amount), ("open", 0.0))
        self.assertEqual(agreement.paid_amount, 150.0)
        self.assertEqual(agreement.residual_amount, 150.0)
        self._pay(invoice, 150.0)  # the rest, long before the last due date
        self.assertEqual(agreement.installment_ids.mapped("state"), ["paid"] * 3)
        self.assertEqual(agreement.state, "completed")
        self.assertTrue(any("completed" in (message.body or "") for message in agreement.message_ids))

    def test_interest_is_invoiced_and_tracked(self):
        invoice = self._invoice(self.customer, 1200.0, days_overdue=20)
        agreement = self._agreement(invoice, installment_count=12, interest_rate=12.0)
        agreement.action_activate()
        self.assertEqual(agreement.interest_move_id.amount_total, 144.0)
        self.assertEqual(agreement.interest_move_id.state, "posted")
        self._pay(invoice)
        self.assertEqual(agreement.paid_amount, 1200.0)
        self.assertEqual(agreement.state, "active")  # the interest is still owed
        self._pay(agreement.interest_move_id)
        self.assertEqual(agreement.state, "completed")

    def test_interest_without_product_is_refused_cleanly(self):
        self.company.cobranza_agreement_interest_product_id = False
        invoice = self._invoice(self.customer, 1200.0, days_overdue=20)
        agreement = self._agreement(invoice, interest_rate=12.0)
        with self.assertRaisesRegex(UserError, "interest product"):
            agreement.action_activate()

    def test_covered_invoices_leave_dunning_and_come_back_at_their_level(self):
        invoice = self._invoice(self.customer, 300.0, days_overdue=35)
        line = invoice.line_ids.filtered(lambda aml: aml.account_id.account_type == "asset_receivable")
        line.sudo().cobranza_level_id = self.level_second  # reached 15 days late before the agreement
        engine = self.env["cobranza.dunning"]
        self.assertIn(line.id, [row[0] for row in engine._candidate_rows(self.company, self.today)])
        start = self.today - timedelta(days=30)
        with freeze_time(start):
            agreement = self._agreement(invoice, date=start, first_due_date=start + timedelta(days=10))
            agreement.action_activate()
        self.assertNotIn(line.id, [row[0] for row in engine._candidate_rows(self.company, self.today)])
        self._run()
        self.assertFalse(self._comms())
        self.env.ref("cobranza_mgmt.ir_cron_agreement_follow_up").sudo().method_direct_trigger()
        self.assertEqual(agreement.state, "broken")
        self.assertEqual(line.cobranza_level_id, self.level_second, "the level reached is kept")
        self._run()
        self.assertEqual(self._comms().level_id, self.level_final, "dunning goes on from the level reached")


@tagged("post_install", "-at_install")
class TestAgreementFollowUp(AgreementCommon):

    def _cron(self):
        self.env.ref("cobranza_mgmt.ir_cron_agreement_follow_up").sudo().method_direct_trigger()

    def _sent(self, agreement):
        return self.env["mail.mail"].sudo().search([
            "|", "&", ("model", "=", "cobranza.agreement"), ("res_id", "=", agreement.id),
            "&", ("model", "=", "cobranza.agreement.installment"), ("res_id", "in", agreement.installment_ids.ids),
        ])

    def test_reminder_before_due_sent_once(self):
        invoice = self._invoice(self.customer, 300.0, days_overdue=20)
        agreement = self._agreement(invoice, first_due_date=self.today + timedelta(days=2))
        agreement.action_activate()
        self._cron()
        first = agreement.installment_ids.sorted("sequence")[0]
        self.assertTrue(first.reminder_sent)
        mails = self._sent(agreement)
        self.assertEqual(len(mails), 1)
        self.assertEqual((mails.model, mails.res_id), ("cobranza.agreement.installment", first.id))
        self.assertIn("falls due on", mails.body_html)
        self.assertIn(self.customer, mails.recipient_ids)
        self._cron()
        self.assertEqual(len(self._sent(agreement)), 1, "a second run sends nothing again")

    def test_overdue_notice_then_breach(self):
        _invoice, agreement = self._past_agreement(days_ago=12)  # first installment due 2 days ago
        self._cron()
        first = agreement.installment_ids.sorted("sequence")[0]
        self.assertEqual(first.state, "overdue")
        self.assertTrue(first.overdue_notice_sent)
        self.assertEqual(agreement.state, "active", "still within the grace days")
        notices = self._sent(agreement).filtered(lambda m: "is unpaid" in m.body_html)
        self.assertEqual(len(notices), 1)
        self._cron()
        self.assertEqual(len(self._sent(agreement).filtered(lambda m: "is unpaid" in m.body_html)), 1)

    def test_breach_beyond_grace(self):
        invoice, agreement = self._past_agreement(days_ago=20)  # first installment 10 days late, grace 5
        profile = self._profile()
        broken_before = profile.broken_promise_count
        self._cron()
        self.assertEqual(agreement.state, "broken")
        self.assertEqual(profile.broken_promise_count, broken_before + 1)
        activity = agreement.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.collector)
        breach = self._sent(agreement).filtered(lambda m: "cancelled under its" in m.body_html)
        self.assertEqual(len(breach), 1)
        self.assertTrue(any("back in dunning" in (message.body or "") for message in agreement.message_ids))
        self._cron()
        self.assertEqual(len(self._sent(agreement).filtered(lambda m: "cancelled under its" in m.body_html)), 1)
        self.assertEqual(len(agreement.activity_ids), 1)
        self._pay(invoice)  # paying after the breach does not revive it
        self.assertEqual(agreement.state, "broken")

    def test_breach_note_in_the_collectors_language_and_number_format(self):
        """A Spanish-speaking collector reads the call task in Spanish, with Spanish amounts."""
        self._speak_spanish()
        self.collector.lang = "es_ES"
        self.env["res.lang"]._lang_get("es_ES").write({"thousands_sep": ".", "decimal_point": ","})
        _invoice, agreement = self._past_agreement(amount=3000.0, days_ago=20)
        self._cron()
        note = agreement.activity_ids.note
        self.assertIn("1.000,00", note)
        self.assertNotIn("1,000.00", note)
        self.assertIn("La cuota 1 de", note)

    def test_one_failing_agreement_does_not_stop_the_others(self):
        _invoice, good = self._past_agreement(days_ago=20)
        other_invoice = self._invoice(self.other_customer, 300.0, days_overdue=60)
        start = self.today - timedelta(days=20)
        with freeze_time(start):
            bad = self._agreement(other_invoice, date=start, first_due_date=start + timedelta(days=10), grace_days=0)
            bad.action_activate()
        template = self.env.ref("cobranza_mgmt.mail_template_agreement_overdue")
        template.body_html = f"<p><t t-out='1 / (0 if object.partner_id.id == {self.other_customer.id} else 1)'/></p>"
        self._cron()
        self.assertEqual(good.state, "broken")
        self.assertEqual(bad.state, "active", "its failure is logged and rolled back alone")

    def test_spanish_and_english_texts(self):
        self.env["res.lang"]._activate_lang("es_ES")
        self.env["ir.module.module"]._load_module_terms(["cobranza_mgmt"], ["es_ES"], overwrite=True)
        invoice = self._invoice(self.customer, 300.0, days_overdue=20)
        agreement = self._agreement(invoice, first_due_date=self.today + timedelta(days=1))
        agreement.action_activate()
        self.customer.lang = "es_ES"
        self._cron()
        self.assertIn("vence el", self._sent(agreement).body_html)
        english = self._invoice(self.other_customer, 300.0, days_overdue=20)
        agreement_en = self._agreement(english, first_due_date=self.today + timedelta(days=1))
        agreement_en.action_activate()
        self._cron()
        self.assertIn("falls due on", self._sent(agreement_en).body_html)


@tagged("post_install", "-at_install")
class TestAgreementAccess(AgreementCommon):

    def test_collectors_see_their_own(self):
        invoice = self._invoice(self.customer, 300.0, days_overdue=20)
        agreement = self._agreement(invoice)  # the customer's collector is self.collector
        self.assertEqual(agreement.collector_id, self.collector)
        as_collector = self.Agreement.with_user(self.collector)
        self.assertEqual(as_collector.search([]), agreement)
        self.assertFalse(self.Agreement.with_user(self.collector_2).search([]))
        with self.assertRaises(AccessError):
            agreement.with_user(self.collector_2).read(["name"])
        self.assertEqual(self.Agreement.with_user(self.manager).search([]), agreement)

    def test_collector_creates_through_the_wizard(self):
        invoice = self._invoice(self.customer, 300.0, days_overdue=20)
        wizard = Form(self.env["cobranza.agreement.wizard"].with_user(self.collector).with_context(
            active_model="account.move", active_ids=invoice.ids,
        ))
        wizard.installment_count = 2
        action = wizard.save().action_confirm()
        agreement = self.Agreement.with_user(self.collector).browse(action["res_id"])
        self.assertEqual(agreement.installment_ids.mapped("amount"), [150.0, 150.0])
        with self.assertRaises(AccessError):
            agreement.unlink()
