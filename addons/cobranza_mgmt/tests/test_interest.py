from datetime import date
from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import AgreementCommon


@tagged("post_install", "-at_install")
class TestLatePaymentInterest(AgreementCommon):
    """The README's worked example of late-payment interest: 18 % a year, legal ceiling 24 %, 3 grace days,
    accruing from 1 January 2026, billed monthly."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product = cls.env["product.product"].create({
            "name": "Intereses de mora", "type": "service", "taxes_id": [Command.clear()],
        })
        cls.company.write({
            "cobranza_grace_days": 3, "cobranza_interest_ceiling": 24.0, "cobranza_interest_from": date(2026, 1, 1),
            "cobranza_interest_product_id": cls.product.id, "cobranza_interest_rate": 18.0,
        })
        cls.Line = cls.env["cobranza.interest.line"].sudo()
        with freeze_time("2026-01-02"):
            cls.invoice_a = cls._dated(cls.customer, 1000.0, date(2026, 1, 10))
            cls.invoice_c = cls._dated(cls.customer, 300.0, date(2026, 1, 20))
            cls.invoice_b = cls._dated(cls.other_customer, 500.0, date(2026, 1, 5))

    @classmethod
    def _dated(cls, partner, amount, due):
        move = cls.env["account.move"].create({
            "move_type": "out_invoice", "partner_id": partner.id, "invoice_date": date(2025, 12, 31),
            "invoice_date_due": due, "invoice_payment_term_id": False,
            "invoice_line_ids": [Command.create({"name": "Servicio", "quantity": 1, "price_unit": amount,
                                                 "tax_ids": [Command.clear()]})],
        })
        move.action_post()
        return move

    def _bill(self, day):
        """The billing cron, as the scheduler runs it, on ``day``; the interest invoices it made."""
        before = self.env["account.move"].search([("cobranza_interest_line_ids", "!=", False)])
        with freeze_time(day):
            self.env.ref("cobranza_mgmt.ir_cron_interest_bill").sudo().method_direct_trigger()
        return self.env["account.move"].search([("cobranza_interest_line_ids", "!=", False)]) - before

    def _lines(self, invoice):
        return self.Line.search([("source_move_id", "=", invoice.id)], order="date_from")

    def test_worked_example_january_then_february(self):
        self._pay(self.invoice_c, 300.0, days_after_due=10)  # paid on 30 January, 10 days late
        january = self._bill("2026-02-03")
        self.assertEqual(len(january), 2, "one interest invoice per customer")
        mine = january.filtered(lambda move: move.partner_id == self.customer)
        a, c = self._lines(self.invoice_a), self._lines(self.invoice_c)
        # 14 to 31 January (the 11th to the 13th are grace days): 18 days on 1,000.00 at 18 %
        self.assertRecordValues(a, [{"date_from": date(2026, 1, 14), "date_to": date(2026, 1, 31), "days": 18,
                                     "average_balance": 1000.0, "rate": 18.0, "amount": 8.88, "state": "billed"}])
        # 24 to 31 January, but paid on the 30th: 6 days on 300.00
        self.assertRecordValues(c, [{"date_from": date(2026, 1, 24), "days": 8, "average_balance": 225.0,
                                     "amount": 0.89, "state": "billed"}])
        self.assertEqual(mine.amount_total, 9.77)
        self.assertEqual(mine.state, "posted")
        self.assertEqual(mine.invoice_date, date(2026, 2, 3))
        label = mine.invoice_line_ids.name
        self.assertIn(f"{self.invoice_a.name}: 18 days (01/14/2026 to 01/31/2026) on an average $\xa01,000.00", label)
        self.assertIn("18.00 % a year: $\xa08.88", label)
        self.assertEqual(self._bill("2026-02-20"), self.env["account.move"], "January is billed once")

        self._pay(self.invoice_a, 400.0, days_after_due=31)  # 10 February
        february = self._bill("2026-03-02")
        a = self._lines(self.invoice_a)
        # 1 to 9 February on 1,000.00, 10 to 28 February on 600.00: 20,400 balance-days
        self.assertRecordValues(a[1], [{"date_from": date(2026, 2, 1), "date_to": date(2026, 2, 28), "days": 28,
                                        "average_balance": 728.57, "amount": 10.06}])
        self.assertEqual(february.filtered(lambda move: move.partner_id == self.customer).amount_total, 10.06)
        self.assertFalse(self._lines(self.invoice_c)[1:], "paid in January: nothing more")
        self.assertEqual(self._bill("2026-03-02"), self.env["account.move"], "run again: nothing charged twice")
        self.assertFalse(self.Line.search([("source_move_id", "in", (january | february).ids)]),
                         "no interest on interest")

    def test_interest_invoices_are_ordinary_invoices(self):
        """Untaxed (entries built already balanced) or taxed (Odoo's full invoice sync), the customer gets an
        invoice like any other: receivable due in 30 days, numbered, logged, paid like any invoice."""
        self._pay(self.invoice_c, 300.0, days_after_due=10)  # as in the worked example: January charges 9.77
        mine = self._bill("2026-02-03").filtered(lambda move: move.partner_id == self.customer)
        receivable = mine.line_ids.filtered(lambda line: line.display_type == "payment_term")
        income = mine.line_ids.filtered(lambda line: line.display_type == "product")
        self.assertEqual(len(mine.line_ids), 2)
        self.assertRecordValues(receivable, [{
            "account_id": self.customer.property_account_receivable_id.id, "debit": 9.77, "credit": 0.0,
            "date_maturity": date(2026, 3, 5), "name": mine.name, "partner_id": self.customer.id,
            "amount_residual": 9.77,
        }])
        self.assertRecordValues(income, [{"product_id": self.product.id, "credit": 9.77, "price_unit": 9.77,
                                          "price_subtotal": 9.77, "quantity": 1.0, "tax_ids": []}])
        self.assertEqual(income.account_id.internal_group, "income")
        self.assertRecordValues(mine, [{"amount_untaxed": 9.77, "amount_tax": 0.0, "amount_residual": 9.77,
                                        "invoice_date_due": date(2026, 3, 5), "payment_reference": mine.name,
                                        "payment_state": "not_paid"}])
        self.assertTrue(mine.name.startswith("INV/2026/"), mine.name)
        self.assertIn("Late-payment interest billed by Collections on 2 overdue invoices.",
                      mine.message_ids.mapped("body")[0])
        self._pay(mine)
        self.assertEqual(mine.payment_state, "paid")

        vat = self.env["account.tax"].create({"name": "IVA 16 %", "amount": 16.0, "type_tax_use": "sale",
                                              "company_id": self.company.id})
        self.product.taxes_id = vat
        taxed = self._bill("2026-03-02").filtered(lambda move: move.partner_id == self.customer)
        # February: 28 days on 1,000.00 at 18 % = 13.81, plus 16 % VAT
        self.assertRecordValues(taxed, [{"amount_untaxed": 13.81, "amount_tax": 2.21, "amount_total": 16.02,
                                         "amount_residual": 16.02, "state": "posted"}])
        self.assertEqual(taxed.line_ids.filtered("tax_line_id").tax_line_id, vat)
        self.assertEqual(taxed.line_ids.filtered(lambda line: line.display_type == "payment_term").debit, 16.02)

    def test_a_manager_bills_the_last_period_now(self):
        """The button starts the billing job at once (the request does not bill); the job bills."""
        cron = self.env.ref("cobranza_mgmt.ir_cron_interest_bill")
        self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]).unlink()
        with freeze_time("2026-02-03"):
            action = self.env["cobranza.interest.line"].with_user(self.manager).action_bill_now()
        self.assertIn("in the background", action["params"]["message"])
        self.assertTrue(self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]))
        self.assertFalse(self._lines(self.invoice_a), "the request itself billed nothing")
        self._bill("2026-02-03")
        self.assertEqual(self._lines(self.invoice_a).state, "billed")
        self.assertEqual(self.company.cobranza_interest_billed_through, date(2026, 1, 31))

    def test_billing_now_before_collections_start_says_why(self):
        self.company.cobranza_start_date = False
        with self.assertRaisesRegex(UserError, "Collections are not started"):
            self.env["cobranza.interest.line"].with_user(self.manager).with_company(self.company).action_bill_now()

    def test_one_customer_failing_does_not_stop_the_others(self):
        Line = type(self.env["cobranza.interest.line"])
        create_invoices = Line._create_invoices
        broken = self.other_customer.id

        def failing_for_one(billing, company, product, lines_by_partner):
            if broken in lines_by_partner:
                raise ValueError("journal locked")  # what a customer's invoice can meet (a lock date, a bad account)
            return create_invoices(billing, company, product, lines_by_partner)

        with patch.object(Line, "_create_invoices", failing_for_one):
            self._bill("2026-02-03")
        self.assertEqual(self._lines(self.invoice_a).state, "billed", "the others are invoiced")
        self.assertFalse(self._lines(self.invoice_b), "the failing customer's days are left to the next billing")
        self.assertIn("journal locked", self.other_customer.message_ids[0].body)
        self._bill("2026-03-02")
        self.assertRecordValues(self._lines(self.invoice_b), [{"date_from": date(2026, 1, 9),
                                                              "date_to": date(2026, 2, 28), "state": "billed"}])
        self.assertEqual(len(self._lines(self.invoice_a)), 2, "nothing charged twice for the others")

    def test_left_out_days_are_never_charged(self):
        self.invoice_b._cobranza_set_dispute("Mercadería dañada")
        self._bill("2026-02-03")
        disputed = self._lines(self.invoice_b)
        self.assertRecordValues(disputed, [{"state": "excluded", "exclusion": "dispute", "amount": 0.0,
                                            "date_to": date(2026, 1, 31)}])
        self.invoice_b.action_cobranza_resolve_dispute()
        self._bill("2026-03-02")
        february = self._lines(self.invoice_b)[1]
        self.assertEqual((february.date_from, february.state), (date(2026, 2, 1), "billed"),
                         "charged again from the day the dispute's days ended")

    def test_open_promise_waits_kept_promise_is_never_charged(self):
        with freeze_time("2026-02-01"):
            promise = self.env["cobranza.promise"].create({
                "partner_id": self.customer.id, "company_id": self.company.id, "promise_date": date(2026, 2, 15),
                "amount": 1000.0, "move_ids": [Command.set(self.invoice_a.ids)],
            })
        # made on 1 February (the database's clock, which stamps create_date, is not frozen)
        self.env.cr.execute("UPDATE cobranza_promise SET create_date = '2026-02-01 09:00' WHERE id = %s", promise.ids)
        self._bill("2026-02-03")
        self.assertFalse(self._lines(self.invoice_a), "an open promise waits to be kept or broken")
        self.assertTrue(self._lines(self.invoice_c), "the customer's other invoice is charged")
        self._pay(self.invoice_a, days_after_due=31)
        with freeze_time("2026-02-16"):
            promise._evaluate(date(2026, 2, 16))
        self.assertEqual(promise.state, "kept")
        self._bill("2026-03-02")
        self.assertRecordValues(self._lines(self.invoice_a), [{"exclusion": "promise", "amount": 0.0,
                                                              "date_from": date(2026, 1, 14)}])

    def test_invoices_in_an_agreement_are_not_charged(self):
        with freeze_time("2026-01-20"):
            agreement = self._agreement(self.invoice_a, date=date(2026, 1, 20), first_due_date=date(2026, 2, 15))
            agreement.action_activate()
        self._bill("2026-02-03")
        self.assertEqual(self._lines(self.invoice_a).exclusion, "agreement")
        self.assertEqual(self._lines(self.invoice_c).state, "billed")

    def test_ladder_rate_and_ceiling(self):
        firm = self.env["cobranza.dunning.ladder"].search([("company_id", "=", self.company.id),
                                                           ("segment_d", "=", True)])
        firm.write({"interest_own_rate": True, "interest_rate": 24.0})
        self.Profile._get_or_create(self.other_customer, self.company).sudo().segment = "D"
        self._bill("2026-02-03")
        # 9 to 31 January: 23 days on 500.00 at the firm ladder's 24 %
        self.assertRecordValues(self._lines(self.invoice_b), [{"days": 23, "rate": 24.0, "amount": 7.56}])
        self.assertEqual(self._lines(self.invoice_a).rate, 18.0)

    def test_bad_rates_are_refused(self):
        firm = self.env["cobranza.dunning.ladder"].search([("company_id", "=", self.company.id),
                                                           ("segment_d", "=", True)])
        refused = self._refused
        refused("exceeds the legal ceiling", self.company, cobranza_interest_rate=30.0)
        refused("exceeds the legal ceiling", firm, interest_own_rate=True, interest_rate=25.0)
        refused("exceeds the legal ceiling", self.company, cobranza_interest_ceiling=12.0)  # below the 18 %
        refused("cannot be negative", self.company, cobranza_interest_rate=-1.0)
        refused("cannot be negative", firm, interest_own_rate=True, interest_rate=-2.0)
        refused("the interest product", self.company, cobranza_interest_product_id=False)
        refused("the day it accrues from", self.company, cobranza_interest_from=False)
        self.assertEqual((self.company.cobranza_interest_rate, self.company.cobranza_interest_ceiling), (18.0, 24.0),
                         "nothing half-saved")
        self.assertFalse(firm.interest_own_rate)

    def _refused(self, message, record, **values):
        with self.assertRaisesRegex(ValidationError, message), self.env.cr.savepoint():
            record.write(values)
        self.env.invalidate_all()  # a refused request rolls back: so does the cache

    def test_a_manager_reverses_and_the_days_stay_charged(self):
        january = self._bill("2026-02-03").filtered(lambda move: move.partner_id == self.customer)
        with self.assertRaises(AccessError):
            january.with_user(self.collector)._cobranza_reverse_interest("Cliente preferente")
        with self.assertRaisesRegex(UserError, "reason"):
            january.with_user(self.manager)._cobranza_reverse_interest("  ")
        wizard = self.env["cobranza.interest.reverse"].with_user(self.manager).create({
            "move_id": january.id, "reason": "Retraso causado por nuestra entrega",
        })
        credit_note = self.env["account.move"].browse(wizard.action_confirm()["res_id"])
        self.assertEqual((credit_note.move_type, credit_note.state, credit_note.amount_total),
                         ("out_refund", "posted", january.amount_total))
        self.assertEqual(january.payment_state, "reversed")
        self.assertEqual(set(january.cobranza_interest_line_ids.mapped("state")), {"reversed"})
        self.assertIn("Retraso causado por nuestra entrega", january.message_ids[0].body)
        self.assertIn("Retraso causado por nuestra entrega", self.customer.message_ids[0].body)
        with self.assertRaisesRegex(UserError, "still charged"):
            january.with_user(self.manager)._cobranza_reverse_interest("otra vez")
        self._bill("2026-03-02")
        self.assertEqual(self._lines(self.invoice_a)[1].date_from, date(2026, 2, 1),
                         "January is not charged again after the reversal")

    def test_who_sees_interest(self):
        self._bill("2026-02-03")
        Line = self.env["cobranza.interest.line"]
        # what the interest invoices say, to whoever reads customer invoices (collectors do)
        self.assertEqual(len(Line.with_user(self.billing_user).search([])), 3)
        self.assertEqual(len(Line.with_user(self.collector_2).search([])), 3)
        employee = new_test_user(self.env, login="cobranza_employee_interest", groups="base.group_user",
                                 company_id=self.company.id, company_ids=[Command.set(self.company.ids)])
        with self.assertRaises(AccessError):
            Line.with_user(employee).search([])
        elsewhere = self.env["res.company"].create({"name": "Otra Empresa S.A."})
        other_user = new_test_user(self.env, login="cobranza_other_company_interest",
                                   groups="base.group_user,account.group_account_invoice",
                                   company_id=elsewhere.id, company_ids=[Command.set(elsewhere.ids)])
        self.assertFalse(Line.with_user(other_user).search([]), "nothing of another company")
        with self.assertRaises(AccessError):
            Line.with_user(self.manager).create({"company_id": self.company.id})
        with self.assertRaises(AccessError):
            Line.with_user(self.manager).search([], limit=1).write({"amount": 0.0})
        with self.assertRaises(AccessError):
            Line.with_user(self.collector).action_bill_now()

    def test_accrued_interest_in_the_reminder_and_the_portal(self):
        self._speak_spanish(self.other_customer)
        with freeze_time("2026-01-31"):
            accrued = self.Line._accrued(self.company, [self.customer.id, self.other_customer.id], date(2026, 1, 31))
            # customer: 18 days on 1,000.00 and 8 days on 300.00; other customer: 23 days on 500.00
            self.assertEqual(accrued, {self.customer.id: 10.06, self.other_customer.id: 5.67})
            self._run()
        table = self._comms(channel="email").invoice_table_html
        self.assertIn("Late-payment interest accrued up to 01/31/2026, not invoiced yet: $\xa010.06.", table)
        body = self._comms(self.other_customer, channel="email").mail_id.body_html
        self.assertIn("Intereses de mora devengados al 31/01/2026, aún no facturados: $\xa05,67.", body)
