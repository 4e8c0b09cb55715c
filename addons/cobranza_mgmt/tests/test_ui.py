from odoo.tests import HttpCase, new_test_user, tagged

from .common import GROUP_COLLECTOR, GROUP_MANAGER


@tagged("post_install", "-at_install")
class TestUi(HttpCase):
    """The Collections app opens in a real browser without a client error."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        new_test_user(cls.env, login="tour_collector", groups=f"base.group_user,{GROUP_COLLECTOR}")
        new_test_user(cls.env, login="tour_manager", groups=f"base.group_user,{GROUP_MANAGER}")

    def test_collector_opens_collections_app(self):
        self.start_tour("/odoo", "cobranza_mgmt_collector_tour", login="tour_collector")

    def test_manager_opens_collection_stages(self):
        self.start_tour("/odoo", "cobranza_mgmt_manager_tour", login="tour_manager")

    def _customer_on_hold(self):
        customer = self.env["res.partner"].create({"name": "Tour Customer On Hold", "is_company": True})
        profile = self.env["cobranza.credit.profile"]._get_or_create(customer, self.env.company)
        profile._hold_by_hand("Cheque devuelto")
        profile._refresh_behaviour(partners=customer)
        return profile

    def test_manager_lifts_hold_from_profile(self):
        profile = self._customer_on_hold()
        self.start_tour(
            "/odoo/action-cobranza_mgmt.cobranza_credit_profile_action", "cobranza_mgmt_profile_tour",
            login="tour_manager",
        )
        self.assertFalse(profile.is_on_hold)

    def test_partner_form_collections_tab(self):
        profile = self._customer_on_hold()
        self.start_tour(f"/odoo/res.partner/{profile.partner_id.id}", "cobranza_mgmt_partner_tab_tour", login="admin")

    def test_manager_opens_reports(self):
        self.env["cobranza.kpi.snapshot"]._take(companies=self.env.company)
        self.start_tour("/odoo", "cobranza_mgmt_reporting_tour", login="tour_manager")

    def test_agreement_from_an_overdue_invoice(self):
        from datetime import timedelta

        from odoo import Command, fields

        today = fields.Date.context_today(self.env.user)
        customer = self.env["res.partner"].create({"name": "Tour Customer Agreement", "is_company": True})
        invoice = self.env["account.move"].create({
            "move_type": "out_invoice", "partner_id": customer.id, "invoice_date": today - timedelta(days=60),
            "invoice_date_due": today - timedelta(days=30),
            "invoice_line_ids": [Command.create({"name": "Servicio", "quantity": 1, "price_unit": 900.0,
                                                 "tax_ids": [Command.clear()]})],
        })
        invoice.action_post()
        self.start_tour(f"/odoo/account.move/{invoice.id}", "cobranza_mgmt_agreement_tour", login="admin")
        agreement = self.env["cobranza.agreement"].search([("move_ids", "in", invoice.ids)])
        self.assertEqual(agreement.state, "draft")
        self.assertEqual(sum(agreement.installment_ids.mapped("amount")), 900.0)
