from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import CobranzaCommon


@tagged("post_install", "-at_install")
class TestAccess(CobranzaCommon):
    """Each role sees the menus and records its group allows."""

    def _visible_menus(self, user):
        """XML ids of the menus the web client loads for ``user``."""
        menus = self.env["ir.ui.menu"].with_user(user).load_menus(debug=False)
        return {menu.get("xmlid") for menu in menus.values()}

    def _menu(self, xmlid):
        return f"cobranza_mgmt.{xmlid}"

    def test_collector_sees_operations_not_configuration(self):
        visible = self._visible_menus(self.collector)
        for xmlid in ("cobranza_menu_root", "cobranza_credit_profile_menu", "cobranza_credit_profile_menu_my_portfolio",
                      "account_move_menu_overdue", "account_move_menu_receivable"):
            self.assertIn(self._menu(xmlid), visible, xmlid)
        self.assertNotIn(self._menu("cobranza_menu_config"), visible)
        self.assertNotIn(self._menu("cobranza_stage_menu"), visible)

    def test_manager_sees_configuration(self):
        visible = self._visible_menus(self.manager)
        self.assertIn(self._menu("cobranza_menu_root"), visible)
        self.assertIn(self._menu("cobranza_stage_menu"), visible)

    def test_invoicing_user_does_not_see_collections(self):
        visible = self._visible_menus(self.invoicing_user)
        self.assertNotIn(self._menu("cobranza_menu_root"), visible)
        self.assertNotIn(self._menu("account_move_menu_overdue"), visible)

    def test_collector_reads_stages_but_cannot_change_them(self):
        stages = self.env["cobranza.stage"].with_user(self.collector).search([])
        self.assertGreaterEqual(len(stages), 4)
        with self.assertRaises(AccessError):
            stages[0].write({"name": "Renamed by a collector"})
        with self.assertRaises(AccessError):
            self.env["cobranza.stage"].with_user(self.collector).create({"name": "Mine"})
        with self.assertRaises(AccessError):
            stages[0].unlink()

    def test_manager_manages_stages(self):
        stage = self.env["cobranza.stage"].with_user(self.manager).create({
            "name": "Pre-legal", "stage_type": "judicial", "sequence": 25,
        })
        stage.write({"name": "Pre-legal notice"})
        self.assertEqual(stage.name, "Pre-legal notice")
        stage.unlink()
        self.assertFalse(stage.exists())

    def test_invoicing_user_cannot_read_stages(self):
        with self.assertRaises(AccessError):
            self.env["cobranza.stage"].with_user(self.invoicing_user).search([])

    def test_stage_of_other_company_is_invisible(self):
        other_company = self.env["res.company"].create({"name": "Cobranzas Sur S.A."})
        hidden = self.env["cobranza.stage"].create({
            "name": "Agencia del Sur", "stage_type": "agency", "company_id": other_company.id,
        })
        visible = self.env["cobranza.stage"].with_user(self.manager).search([])
        self.assertNotIn(hidden, visible)
        with self.assertRaises(AccessError):
            hidden.with_user(self.manager).read(["name"])

    def test_collector_opens_overdue_invoices(self):
        """The Overdue Invoices action runs for a collector with its default filter."""
        action = self.env.ref("cobranza_mgmt.account_move_action_overdue")
        self.assertIn("search_default_late", action.context)
        invoices = self.env["account.move"].with_user(self.collector).search(
            [("move_type", "=", "out_invoice"), ("state", "=", "posted")], limit=5,
        )
        invoices.read(["name", "amount_residual", "invoice_date_due"])
