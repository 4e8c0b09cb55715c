from datetime import timedelta

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestEarlyPaymentIncentive(DunningCommon):
    """A ladder gives its customers Odoo's early-payment discount on new invoices; the preventive
    reminder says what paying early saves while the discount is open."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Ladder = cls.env["cobranza.dunning.ladder"]
        cls.standard = Ladder.search([("company_id", "=", cls.company.id), ("is_default", "=", True)])
        cls.firm = Ladder.search([("company_id", "=", cls.company.id), ("segment_d", "=", True)])
        cls.term = cls.env["account.payment.term"].create({
            "name": "30 días, 2 % hasta el día 28", "company_id": cls.company.id, "early_discount": True,
            "discount_percentage": 2.0, "discount_days": 28,
            "line_ids": [Command.create({"value": "percent", "value_amount": 100.0, "nb_days": 30})],
        })
        cls.standard.incentive_term_id = cls.term
        cls.other_profile = cls.Profile._get_or_create(cls.other_customer, cls.company)
        cls.other_profile.sudo().segment = "D"  # the firm ladder: no incentive

    def _new_invoice(self, partner, invoice_days_ago, amount=1000.0, currency=None):
        invoice = self.env["account.move"].create({
            "move_type": "out_invoice", "partner_id": partner.id,
            "invoice_date": self.today - timedelta(days=invoice_days_ago),
            **({"currency_id": currency.id} if currency else {}),
            "invoice_line_ids": [Command.create({"name": "Servicio", "quantity": 1, "price_unit": amount,
                                                 "tax_ids": [Command.clear()]})],
        })
        return invoice

    def test_new_invoices_of_the_ladders_customers_get_the_early_payment_terms(self):
        mine = self._new_invoice(self.customer, 0)
        theirs = self._new_invoice(self.other_customer, 0)
        self.assertEqual(mine.invoice_payment_term_id, self.term)
        self.assertFalse(theirs.invoice_payment_term_id, "the firm ladder gives no incentive")
        mine.action_post()
        receivable = mine.line_ids.filtered(lambda line: line.account_id.account_type == "asset_receivable")
        self.assertEqual((receivable.discount_date, receivable.discount_amount_currency),
                         (self.today + timedelta(days=28), 980.0))

    def test_the_preventive_reminder_says_what_paying_early_saves(self):
        self._speak_spanish(self.other_customer)
        self.other_profile.sudo().segment = "A"
        open_discount = self._new_invoice(self.customer, 27)  # due in 3 days, discount until tomorrow
        open_discount.action_post()
        spanish = self._new_invoice(self.other_customer, 27)
        spanish.action_post()
        self.assertEqual(open_discount.invoice_date_due, self.today + timedelta(days=3))
        self._run()
        table = self._comms(channel="email").invoice_table_html
        self.assertIn("o_cobranza_early_payment", table)
        self.assertIn(f"{open_discount.name}: Pay $\xa0980.00 by", table)
        self.assertIn("and save $\xa020.00.", table)
        body = self._comms(self.other_customer, channel="email").mail_id.body_html
        self.assertIn("y ahorre", body, "the customer reads it in Spanish")
        self.assertIn("980,00", body)

    def test_no_saving_after_the_discount_date(self):
        self.term.discount_days = 20  # the discount ended a week before the preventive reminder
        late = self._new_invoice(self.customer, 27)
        late.action_post()
        self._run()
        communication = self._comms(channel="email")
        self.assertTrue(communication)
        self.assertNotIn("o_cobranza_early_payment", communication.invoice_table_html)

    def test_bad_incentives_are_refused(self):
        plain = self.env["account.payment.term"].create({
            "name": "30 días", "company_id": self.company.id,
            "line_ids": [Command.create({"value": "percent", "value_amount": 100.0, "nb_days": 30})],
        })
        with self.assertRaises(ValidationError), self.env.cr.savepoint():
            self.firm.incentive_term_id = plain
        # a foreign currency without a rate: the discount (and the invoice) cannot be converted
        currency = self.env["res.currency"].with_context(active_test=False).search([("name", "=", "CLF")])
        currency.active = True
        currency.rate_ids.unlink()
        foreign = self._new_invoice(self.customer, 0, currency=currency)
        self.assertEqual(foreign.invoice_payment_term_id, self.term)
        with self.assertRaisesRegex(UserError, "no exchange rate"):
            foreign.action_post()
        self.assertEqual(foreign.state, "draft", "nothing posted")

    def test_kpis_count_discounts_offered_and_taken_and_split_the_dso(self):
        if not self.company.account_journal_early_pay_discount_loss_account_id:
            expense = self.company_data["default_account_expense"]
            self.company.account_journal_early_pay_discount_loss_account_id = expense
        early = self._new_invoice(self.customer, 5)  # standard ladder: 2 % until day 28
        early.action_post()
        plain = self._new_invoice(self.other_customer, 10, amount=500.0)  # firm ladder: no incentive
        plain.action_post()
        wizard = self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=early.ids).create({"payment_date": self.today})
        self.assertEqual(wizard.amount, 980.0, "Odoo offers the early-payment amount")
        wizard._create_payments()
        self.assertIn(early.payment_state, ("paid", "in_payment"))
        figures = self.env["cobranza.kpi"]._compute_all(self.company, self.today - timedelta(days=29),
                                                         self.today)["company"][False]
        self.assertEqual((figures["discounts_granted"], figures["discounts_taken"], figures["discount_take_rate"]),
                         (20.0, 20.0, 100.0))
        self.assertEqual((figures["dso_incentive"], figures["dso_no_incentive"]), (0.0, 30.0))
