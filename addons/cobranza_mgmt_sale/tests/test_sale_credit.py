from odoo import Command
from odoo.addons.cobranza_mgmt.tests.common import CobranzaAccountCommon
from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged


@tagged("post_install", "-at_install")
class TestSaleCredit(CobranzaAccountCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesman = new_test_user(
            cls.env, login="cobranza_salesman", groups="base.group_user,sales_team.group_sale_salesman",
            company_id=cls.company.id, company_ids=[Command.set(cls.company.ids)],
        )

    def _order(self, partner, amount, user=None):
        return self.env["sale.order"].create({
            "partner_id": partner.id,
            "user_id": (user or self.salesman).id,
            "order_line": [Command.create({
                "product_id": self.product_a.id, "product_uom_qty": 1, "price_unit": amount,
                "tax_id": [Command.clear()],
            })],
        })

    def test_confirmation_blocked_on_hold(self):
        self.Profile._get_or_create(self.customer, self.company)._hold_by_hand("Cheque rechazado")
        order = self._order(self.customer, 100.0)
        with self.assertRaisesRegex(UserError, "cannot be confirmed.*on credit hold"):
            order.with_user(self.salesman).action_confirm()
        self.assertEqual(order.state, "draft")

    def _exposure(self):
        return self.env["cobranza.credit.policy"]._exposure(self.company, self.customer)[self.customer.id]

    def test_confirmation_blocked_over_limit_counting_orders_not_invoiced(self):
        self.customer.with_company(self.company).credit_limit = 1000.0
        self._invoice(self.customer, 300.0)
        self._order(self.customer, 500.0).action_confirm()  # not invoiced: 500 more exposure
        self.assertAlmostEqual(self._exposure(), 800.0)
        order = self._order(self.customer_contact, 250.0)
        with self.assertRaisesRegex(UserError, r"Exposure \$\s?1,050\.00 exceeds the credit limit \$\s?1,000\.00"):
            order.with_user(self.salesman).action_confirm()
        self.assertEqual(order.state, "draft")

    def test_within_limit_confirms(self):
        self.customer.with_company(self.company).credit_limit = 1000.0
        order = self._order(self.customer, 1000.0)
        order.with_user(self.salesman).action_confirm()
        self.assertEqual(order.state, "sale")

    def test_manager_override_logged_on_order(self):
        self.customer.with_company(self.company).credit_limit = 10.0
        self.manager.groups_id += self.env.ref("sales_team.group_sale_salesman")
        order = self._order(self.customer, 500.0, user=self.manager)
        order.with_user(self.manager).action_confirm()
        self.assertEqual(order.state, "sale")
        self.assertTrue(any("overrode the credit control" in body for body in order.message_ids.mapped("body")))

    def test_invoice_of_a_confirmed_order_is_not_counted_twice(self):
        """Limit 1,000, order of 800 confirmed, its draft invoice: exposure 800, not 1,600."""
        self.customer.with_company(self.company).credit_limit = 1000.0
        self.product_a.invoice_policy = "order"
        order = self._order(self.customer, 800.0)
        order.action_confirm()
        invoice = order._create_invoices()
        self.assertEqual(invoice.state, "draft")
        self.assertAlmostEqual(self._exposure(), 800.0)
        invoice.with_user(self.billing_user).action_post()
        self.assertEqual(invoice.state, "posted")
        self.assertAlmostEqual(self._exposure(), 800.0)
