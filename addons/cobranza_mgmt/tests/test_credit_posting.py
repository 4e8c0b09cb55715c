from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import CobranzaAccountCommon


@tagged("post_install", "-at_install")
class TestCreditPosting(CobranzaAccountCommon):

    def test_posting_blocked_for_customer_on_hold(self):
        self.Profile._get_or_create(self.customer, self.company).action_set_manual_hold("Cheque rechazado")
        invoice = self._invoice(self.customer, 300.0, post=False)
        with self.assertRaisesRegex(UserError, r"on credit hold \(Cheque rechazado\); exposure \$\s?300\.00"):
            invoice.with_user(self.billing_user).action_post()
        self.assertEqual(invoice.state, "draft")

    def test_posting_blocked_over_limit_names_the_figures(self):
        self.customer.with_company(self.company).credit_limit = 1000.0
        self._invoice(self.customer, 700.0)
        invoice = self._invoice(self.customer_contact, 400.0, post=False)  # the contact rolls up to the company
        expected = r"exceed its credit limit: exposure \$\s?1,100\.00, limit \$\s?1,000\.00"
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
        self.Profile._get_or_create(self.customer, self.company).action_set_manual_hold("Revisión")
        invoice = self._invoice(self.customer, 300.0, post=False)
        invoice.with_user(self.billing_user).action_post()
        self.assertEqual(invoice.state, "posted")

    def test_refunds_are_never_blocked(self):
        self.Profile._get_or_create(self.customer, self.company).action_set_manual_hold("Revisión")
        refund = self.init_invoice("out_refund", partner=self.customer, amounts=[50.0], taxes=[])
        refund.with_user(self.billing_user).action_post()
        self.assertEqual(refund.state, "posted")

    def test_banner_on_draft_invoice(self):
        self.customer.with_company(self.company).credit_limit = 1000.0
        invoice = self._invoice(self.customer, 920.0, post=False)
        self.assertIn("near its credit limit", invoice.cobranza_credit_banner)
        self.Profile._get_or_create(self.customer, self.company).action_set_manual_hold("Mora reiterada")
        invoice.invalidate_recordset(["cobranza_credit_banner"])
        self.assertIn("on credit hold (Mora reiterada)", invoice.cobranza_credit_banner)
        quiet = self._invoice(self.other_customer, 10.0, post=False)
        self.assertFalse(quiet.cobranza_credit_banner)
