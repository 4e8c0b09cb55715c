"""Every screen of Collections as each role opens it: the menus, their actions and views, a record's
form and its buttons, every wizard filled and confirmed, the settings saved in one go.

The walk is driven by what the server sends each user (menus, views, buttons), so a new menu,
view or button is covered without a new test. A clean refusal (UserError, ValidationError) is
allowed; a traceback, or an access error on something the screen offers, is a defect.
"""
from datetime import timedelta

from lxml import etree

from odoo import Command, fields
from odoo.tests import HttpCase, new_test_user, tagged

from .common import GROUP_COLLECTOR, GROUP_INVOICING, GROUP_MANAGER
from .web_client import Screen, ServerError, Walker, WebClient

MODULE = "cobranza_mgmt"
APP_MENU = "cobranza_mgmt.cobranza_menu_root"


@tagged("post_install", "-at_install")
class TestScreens(HttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.company.cobranza_start_date = fields.Date.today() - timedelta(days=400)
        cls.collector = new_test_user(cls.env, login="screens_collector", name="Cora Cobradora",
                                      groups=f"base.group_user,{GROUP_COLLECTOR}", lang="es_ES"
                                      if cls.env["res.lang"]._lang_get("es_ES") else "en_US")
        cls.manager = new_test_user(cls.env, login="screens_manager", name="Mario Gerente",
                                    groups=f"base.group_user,{GROUP_MANAGER}")
        cls.billing = new_test_user(cls.env, login="screens_billing", name="Bea Facturación",
                                    groups=f"base.group_user,{GROUP_INVOICING}")
        # A customer of the collector's portfolio with an overdue and a current invoice, so every
        # list has a row to open and every button a record to act on.
        cls.customer = cls.env["res.partner"].create({
            "name": "Ferretería La Llave S.A.S.", "is_company": True, "email": "pagos@lallave.example",
        })
        today = fields.Date.today()
        cls.invoices = cls.env["account.move"]
        for days_late, amount in ((45, 1200.0), (-10, 800.0)):
            invoice = cls.env["account.move"].create({
                "move_type": "out_invoice", "partner_id": cls.customer.id,
                "invoice_date": today - timedelta(days=days_late + 30),
                "invoice_date_due": today - timedelta(days=days_late),
                "invoice_line_ids": [Command.create({"name": "Tornillería", "quantity": 1, "price_unit": amount,
                                                     "tax_ids": [Command.clear()]})],
            })
            invoice.action_post()
            cls.invoices |= invoice
        profile = cls.env["cobranza.credit.profile"]._get_or_create(cls.customer, cls.company)
        profile.sudo().collector_id = cls.collector
        profile._refresh_behaviour(partners=cls.customer)

    # ------------------------------------------------------------------ the walk
    def _walk(self, login, password=None):
        walker = Walker(WebClient(self, login, password), MODULE)
        root, menus = walker.walk_app(APP_MENU)
        self.assertTrue(root, f"{login} does not see the Collections app")
        return walker, menus

    def _assert_clean(self, walker):
        problems = walker.client.problems
        report = "\n".join(f"- {where}: {error}\n{error.debug[-1500:]}" for where, error in problems)
        self.assertFalse(problems, f"errors through the screens:\n{report}\n\n{walker.report()}")

    # ------------------------------------------------------------------ per role
    def test_manager_clicks_through_every_menu(self):
        walker, menus = self._walk("screens_manager")
        self._assert_clean(walker)
        self.assertIn("Collections / Configuration / Settings", menus)
        self.assertGreaterEqual(len(menus), 20)
        self.assertGreaterEqual(len(walker.opened), len(menus))
        self.assertIn("Collections / Configuration / Settings", walker.saved)
        self.assertTrue(walker.pressed, "no button was pressed")

    def test_collector_clicks_through_every_menu(self):
        walker, menus = self._walk("screens_collector")
        self._assert_clean(walker)
        self.assertNotIn("Collections / Configuration / Settings", menus)
        self.assertGreaterEqual(len(menus), 10)
        self.assertIn("Collections / Collections / Dunning Dry Run", walker.saved)
        self.assertTrue(walker.pressed, "no button was pressed")

    def test_customer_and_invoice_forms(self):
        """The module's tab on the customer form and its buttons on the invoice form, per role."""
        for login in ("screens_manager", "screens_collector"):
            walker = Walker(WebClient(self, login), MODULE)
            client = walker.client
            for xmlid, record in (("account.res_partner_action_customer", self.customer),
                                  ("account.action_move_out_invoice_type", self.invoices[0])):
                action = client.load_action(self.env.ref(xmlid).id)
                context = client.action_context(action)
                answer = client.get_views(record._name, [[False, "form"]], context)
                screen = Screen(f"{login} {record._name}", record._name, answer["views"],
                                client.fields_info(answer, record._name), context)
                walker.open_form(screen, record.id, own_only=True)
            self._assert_clean(walker)
            self.assertTrue(walker.pressed, f"{login}: no Collections button on the invoice or customer form")

    def test_worklist_reads_the_customer_first_at_1440_px(self):
        """At 1440 px the worklist shows a long customer name whole; the row's buttons are icons."""
        customer = self.env["res.partner"].create({
            "name": "Distribuidora Internacional de Ferretería S.A.", "is_company": True,
        })
        invoice = self.invoices[0].copy({"partner_id": customer.id, "invoice_date": self.invoices[0].invoice_date,
                                         "invoice_date_due": self.invoices[0].invoice_date_due})
        invoice.action_post()
        profile = self.env["cobranza.credit.profile"]._get_or_create(customer, self.company)
        profile.sudo().collector_id = self.collector
        profile._refresh_behaviour(partners=customer)
        self.browser_size = "1440x900"
        self.start_tour("/odoo/collections-worklist", "cobranza_mgmt_worklist_width_tour", login="screens_collector")

    def _settings_save(self, client, values):
        """Collections › Configuration › Settings as the client saves it: onchange, web_save, Save."""
        action = client.load_action(self.env.ref("cobranza_mgmt.cobranza_settings_action").id)
        context = client.action_context(action)
        answer = client.get_views("cobranza.settings", action["views"], context)
        arch = etree.fromstring(answer["views"]["form"]["arch"])
        fields_info = client.fields_info(answer, "cobranza.settings")
        spec = client.specification(arch, fields_info)
        record = client.call("cobranza.settings", "onchange", [], {}, [], spec, context=context)["value"]
        changes = {**client.changes(arch, fields_info, record, context), **values}
        saved = client.call("cobranza.settings", "web_save", [], changes, specification={"display_name": {}},
                            context=context)
        return client.button("cobranza.settings", "action_save", [saved[0]["id"]], context)

    def test_manager_switches_interest_on_in_one_save(self):
        """Rate, ceiling, start day and product saved together; then rate and ceiling raised together."""
        self.assertFalse(self.manager.has_group("base.group_system"))
        product = self.env["product.product"].create({"name": "Intereses de mora", "type": "service"})
        client = WebClient(self, "screens_manager")
        self._settings_save(client, {
            "cobranza_interest_rate": 18.0, "cobranza_interest_ceiling": 24.0,
            "cobranza_interest_from": fields.Date.today().isoformat(), "cobranza_interest_product_id": product.id,
        })
        self.assertRecordValues(self.company, [{
            "cobranza_interest_rate": 18.0, "cobranza_interest_ceiling": 24.0,
            "cobranza_interest_product_id": product.id,
        }])
        self._settings_save(client, {"cobranza_interest_rate": 30.0, "cobranza_interest_ceiling": 36.0})
        self.assertRecordValues(self.company, [{"cobranza_interest_rate": 30.0, "cobranza_interest_ceiling": 36.0}])
        # A rate over the ceiling is still refused, whole: nothing of that save is written.
        with self.assertRaises(ServerError) as refused:
            self._settings_save(client, {"cobranza_interest_rate": 40.0, "cobranza_grace_days": 9})
        self.assertEqual(refused.exception.name, "odoo.exceptions.ValidationError")
        self.assertRecordValues(self.company, [{"cobranza_interest_rate": 30.0, "cobranza_grace_days": 3}])

    def test_collector_cannot_open_or_save_settings(self):
        client = WebClient(self, "screens_collector")
        with self.assertRaises(ServerError) as refused:
            client.call("cobranza.settings", "web_save", [], {"cobranza_grace_days": 9},
                        specification={"display_name": {}})
        self.assertEqual(refused.exception.name, "odoo.exceptions.AccessError")

    def test_dry_run_opens_on_todays_plan(self):
        """From its menu, as a collector: the form shows today's plan before anything is saved, and its
        Refresh recomputes it (the collector may not delete planned lines, and needs not)."""
        client = WebClient(self, "screens_collector")
        action = client.load_action(self.env.ref("cobranza_mgmt.cobranza_dunning_dry_run_action").id)
        answer = client.get_views("cobranza.dunning.dry.run", action["views"], client.action_context(action))
        arch = etree.fromstring(answer["views"]["form"]["arch"])
        fields_info = client.fields_info(answer, "cobranza.dunning.dry.run")
        spec = client.specification(arch, fields_info)
        spec["line_ids"]["fields"]["partner_id"] = {"fields": {"display_name": {}}}
        record = client.call("cobranza.dunning.dry.run", "onchange", [], {}, [], spec)["value"]
        planned = [command[2]["partner_id"]["id"] for command in record["line_ids"] if command[0] == 0]
        self.assertEqual(planned, self.customer.ids, "today's plan of the collector's portfolio")
        saved = client.call("cobranza.dunning.dry.run", "web_save", [], client.changes(arch, fields_info, record, {}),
                            specification=spec)
        client.button("cobranza.dunning.dry.run", "action_refresh", [saved[0]["id"]])
        lines = client.call("cobranza.dunning.dry.run", "web_read", [saved[0]["id"]], specification=spec)[0]["line_ids"]
        self.assertEqual([line["partner_id"]["id"] for line in lines], self.customer.ids)

    def test_invoicing_settings_open_and_save(self):
        """The module's part of Invoicing settings: saved in one go by an administrator, and its link
        opens the Collections settings."""
        walker = Walker(WebClient(self, "admin", "admin"), MODULE)
        action = walker.client.load_action(self.env.ref("account.action_account_config").id)
        walker.open_action("Invoicing settings", action)
        self._assert_clean(walker)
        self.assertIn("Invoicing settings", walker.saved)
        self.assertIn("Invoicing settings [Collections Settings]", walker.pressed)

    def test_collector_cannot_act_on_another_portfolio(self):
        """Send now, dispute, promise on the invoices of another collector's customer: refused by the
        model, over the same calls the screens make, and nothing is written."""
        other_collector = new_test_user(self.env, login="screens_collector_2",
                                        groups=f"base.group_user,{GROUP_COLLECTOR}")
        theirs = self.env["res.partner"].create({"name": "Distribuidora Ajena S.A.", "is_company": True,
                                                 "email": "cxp@ajena.example"})
        invoice = self.invoices[0].copy({"partner_id": theirs.id, "invoice_date": self.invoices[0].invoice_date,
                                         "invoice_date_due": self.invoices[0].invoice_date_due})
        invoice.action_post()
        profile = self.env["cobranza.credit.profile"]._get_or_create(theirs, self.company)
        profile.sudo().collector_id = other_collector
        communications = self.env["cobranza.communication"].sudo().search_count([])
        client = WebClient(self, "screens_collector")
        for method in ("action_cobranza_send_reminder_now", "action_cobranza_open_dispute_wizard"):
            with self.assertRaises(ServerError) as refused:
                client.button("account.move", method, invoice.ids)
            self.assertEqual(refused.exception.name, "odoo.exceptions.AccessError", method)
            self.assertIn("not in your portfolio", refused.exception.message)
        wizard = client.call("cobranza.dispute.wizard", "web_save", [],
                             {"move_ids": [(6, 0, invoice.ids)], "reason": "No reconoce la factura"},
                             specification={"display_name": {}})
        with self.assertRaises(ServerError) as refused:
            client.button("cobranza.dispute.wizard", "action_confirm", [wizard[0]["id"]])
        self.assertEqual(refused.exception.name, "odoo.exceptions.AccessError")
        with self.assertRaises(ServerError):
            client.call("cobranza.promise", "web_save", [], {
                "partner_id": theirs.id, "move_ids": [(6, 0, invoice.ids)], "amount": 10.0,
                "promise_date": fields.Date.today().isoformat(),
            }, specification={"display_name": {}})
        self.assertFalse(invoice.cobranza_is_disputed)
        self.assertEqual(self.env["cobranza.communication"].sudo().search_count([]), communications)
        self.assertFalse(self.env["cobranza.promise"].sudo().search([("partner_id", "=", theirs.id)]))
        # The screens hide what the model refuses: the invoice and the customer say the collector may not act.
        read = client.call("account.move", "web_read", (invoice | self.invoices[0]).ids,
                           specification={"cobranza_can_act": {}})
        self.assertEqual([row["cobranza_can_act"] for row in read], [False, True])
        read = client.call("res.partner", "web_read", (theirs | self.customer).ids,
                           specification={"cobranza_can_act": {}})
        self.assertEqual([row["cobranza_can_act"] for row in read], [False, True])
        # Their own customer's invoice: the same calls work.
        client.button("account.move", "action_cobranza_open_dispute_wizard", self.invoices[0].ids)

    def test_a_reminder_form_mints_no_link(self):
        """Asking a new reminder's onchange for the statement link gives none and issues none."""
        anyone = self.env["res.partner"].create({"name": "Cliente de Nadie S.A.", "is_company": True})
        Token = self.env["cobranza.portal.token"].sudo()
        before = Token.search_count([])
        for login in ("screens_collector", "screens_manager"):
            client = WebClient(self, login)
            answer = client.call("cobranza.communication", "onchange", [], {"partner_id": anyone.id}, ["partner_id"],
                                 {"partner_id": {}, "company_id": {}, "collections_url": {}})
            self.assertFalse(answer["value"].get("collections_url"), login)
        self.assertEqual(Token.search_count([]), before)

    def test_billing_user_has_no_collections(self):
        client = WebClient(self, "screens_billing")
        root, __ = client.app_menus(APP_MENU)
        self.assertFalse(root, "a billing user sees the Collections app")
        for model in ("cobranza.credit.profile", "cobranza.communication", "cobranza.promise", "cobranza.agreement"):
            with self.assertRaises(ServerError) as refused:
                client.call(model, "web_search_read", [], {"display_name": {}}, limit=1)
            self.assertEqual(refused.exception.name, "odoo.exceptions.AccessError", model)
        with self.assertRaises(ServerError) as refused:
            client.call("cobranza.overview", "get_overview")
        self.assertEqual(refused.exception.name, "odoo.exceptions.AccessError")
        # The invoice form still opens for them, without the module's buttons failing.
        action = client.load_action(self.env.ref("account.action_move_out_invoice_type").id)
        answer = client.get_views("account.move", [[False, "form"]], client.action_context(action))
        arch = etree.fromstring(answer["views"]["form"]["arch"])
        record = client.call("account.move", "web_read", self.invoices[0].ids,
                             specification=client.specification(arch, client.fields_info(answer, "account.move")))
        self.assertEqual(record[0]["id"], self.invoices[0].id)
