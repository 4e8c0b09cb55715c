from odoo.tests import tagged

from .common import GROUP_COLLECTOR, GROUP_MANAGER, CobranzaCommon


@tagged("post_install", "-at_install")
class TestInstall(CobranzaCommon):

    def test_default_stages_loaded_in_order(self):
        stages = self.env["cobranza.stage"].search([("company_id", "=", False)])
        self.assertEqual(
            stages.mapped("stage_type"), ["preventive", "administrative", "judicial", "agency"],
        )

    def test_manager_implies_collector(self):
        self.assertTrue(self.manager.has_group(GROUP_COLLECTOR))
        self.assertFalse(self.collector.has_group(GROUP_MANAGER))

    def test_accounting_administrator_is_collections_manager(self):
        self.assertTrue(self.env.ref("base.user_admin").has_group(GROUP_MANAGER))
        self.invoicing_user.groups_id += self.env.ref("account.group_account_manager")
        self.assertTrue(self.invoicing_user.has_group(GROUP_MANAGER))

    def test_collector_can_work_invoices(self):
        """A collector must open customer invoices to collect them."""
        self.assertTrue(self.collector.has_group("account.group_account_invoice"))
