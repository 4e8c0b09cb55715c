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
