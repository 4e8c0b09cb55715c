from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import CobranzaAccountCommon


@tagged("post_install", "-at_install")
class TestCreditPosting(CobranzaAccountCommon):

    def test_posting_blocked_for_customer_on_hold(self):
        self.Profile._get_or_create(self.customer, self.company)._hold_by_hand("Cheque rechazado")
        invoice = self._invoice(self.customer, 300.0, post=False)
        with self.assertRaisesRegex(UserError, r"on credit hold \(Cheque rechazado\); exposure \$\s?300\.00"):
            invoice.with_user(self.billing_user).action_post()
        self.assertEqual(invoice.state, "draft")

    def test_posting_blocked_over_limit_names_the_figures(self):
        self.customer.with_company(self.company).credit_limit = 1000.0
        self._invoice(self.customer, 700.0)
        invoice = self._invoice(self.customer_contact, 400.0, post=False)  # the contact rolls up to the company
        expected = r"Exposure \$\s?1,100\.00 exceeds the credit limit \$\s?1,000\.00"
        with self.assertRaisesRegex(UserError, expected):
            invoice.with_user(self.billing_user).action_post()
        self.assertEqual(invoice.state, "draft")

    def test_within_limit_posts(self):
        self.customer.with_company(self.company).credit_limit = 1000.0
        invoice = self._invoice(self.customer, 999.0, post=False)
        invoice.with_user(self.billing_user).action_post()
        self.assertEqual(invoice.state, "posted")

    def test_manager_override_is_logged(self):
        self.customer.with_company(self.company).credit_limit = 100.0
        invoice = self._invoice(self.customer, 400.0, post=False)
        invoice.with_user(self.manager).action_post()
        self.assertEqual(invoice.state, "posted")
        override = [body for body in invoice.message_ids.mapped("body") if "overrode the credit control" in body]
        self.assertEqual(len(override), 1)
        self.assertIn(self.manager.name, override[0])

    def test_policy_can_allow_posting(self):
        self.company.cobranza_block_posting = False
        self.Profile._get_or_create(self.customer, self.company)._hold_by_hand("Revisión")
        invoice = self._invoice(self.customer, 300.0, post=False)
        invoice.with_user(self.billing_user).action_post()
        self.assertEqual(invoice.state, "posted")

    def test_refunds_are_never_blocked(self):
        self.Profile._get_or_create(self.customer, self.company)._hold_by_hand("Revisión")
        refund = self.init_invoice("out_refund", partner=self.customer, amounts=[50.0], taxes=[])
        refund.with_user(self.billing_user).action_post()
        self.assertEqual(refund.state, "posted")

    def test_odoo_credit_warning_fed_by_the_policy(self):
        """One banner, Odoo's own: the policy's reason first, Odoo's over-the-limit text after."""
        self.customer.with_company(self.company).credit_limit = 1000.0
        invoice = self._invoice(self.customer, 920.0, post=False)
        self.assertFalse(invoice.partner_credit_warning)
        self.Profile._get_or_create(self.customer, self.company)._hold_by_hand("Mora reiterada")
        invoice.invalidate_recordset(["partner_credit_warning"])
        self.assertIn("on credit hold (Mora reiterada)", invoice.partner_credit_warning)
        self.assertNotIn("cobranza_credit_banner", self.env["account.move"]._fields)
        quiet = self._invoice(self.other_customer, 10.0, post=False)
        self.assertFalse(quiet.partner_credit_warning)

    def test_collector_cannot_post_for_a_customer_past_the_hold_days(self):
        """The check at posting reads live figures: a customer 91 days overdue is refused to a
        collector even before any refresh stored a hold, or after a manager lifted it."""
        self.company.cobranza_auto_hold_days = 60
        self._invoice(self.customer, 500.0, days_overdue=91)
        profile = self.Profile._get_or_create(self.customer, self.company)
        self.assertFalse(profile.is_on_hold, "nothing refreshed the profile yet")
        invoice = self._invoice(self.customer, 100.0, post=False)
        with self.assertRaisesRegex(UserError, r"91 days overdue \(policy: hold after 60 days\)"):
            invoice.with_user(self.collector).action_post()
        self._refresh_dirty()
        self.assertRecordValues(profile, [{"is_on_hold": True, "hold_type": "policy"}])
        with self.assertRaises(AccessError):
            profile.with_user(self.collector).action_lift_hold()
        profile.with_user(self.manager).action_lift_hold()
        with self.assertRaisesRegex(UserError, r"91 days overdue"):
            invoice.with_user(self.collector).action_post()
        self.assertEqual(invoice.state, "draft")
        invoice.with_user(self.manager).action_post()  # only a manager posts over the policy, logged
        self.assertEqual(invoice.state, "posted")
        self.assertTrue(any("overrode the credit control" in body for body in invoice.message_ids.mapped("body")))

    def test_currency_without_rate_is_refused_at_posting(self):
        currency = self.env["res.currency"].create({
            "name": "XTR", "symbol": "T", "rounding": 0.01, "currency_unit_label": "Tr",
        })
        invoice = self._invoice(self.customer, 100.0, currency=currency, post=False)
        with self.assertRaisesRegex(UserError, r"XTR has no exchange rate on or before"):
            invoice.action_post()
        self.assertEqual(invoice.state, "draft")
        self.env["res.currency.rate"].create({
            "currency_id": currency.id, "name": invoice.invoice_date, "rate": 2.0, "company_id": self.company.id,
        })
        rated = self._invoice(self.customer, 100.0, currency=currency)
        self.assertEqual(rated.amount_residual_signed, 50.0)
