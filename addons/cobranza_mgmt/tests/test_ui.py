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
        profile.action_set_manual_hold("Cheque devuelto")
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
