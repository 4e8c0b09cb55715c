import ast

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import GROUP_COLLECTOR, CobranzaAccountCommon


@tagged("post_install", "-at_install")
class TestCreditAccess(CobranzaAccountCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mine = cls.Profile._get_or_create(cls.customer, cls.company)
        cls.theirs = cls.Profile._get_or_create(cls.other_customer, cls.company)
        cls.mine.collector_id = cls.collector
        cls.theirs.collector_id = cls.collector_2

    def test_collector_sees_only_their_portfolio(self):
        visible = self.Profile.with_user(self.collector).search([])
        self.assertEqual(visible, self.mine)
        with self.assertRaises(AccessError):
            self.theirs.with_user(self.collector).read(["segment", "risk_score"])

    def test_partner_tab_hides_another_collectors_data(self):
        partner = self.other_customer.with_user(self.collector).with_company(self.company)
        self.assertFalse(partner.cobranza_profile_id)
        self.assertFalse(partner.cobranza_segment)
        own = self.customer.with_user(self.collector).with_company(self.company)
        self.assertEqual(own.cobranza_profile_id, self.mine)

    def test_partner_tab_opens_overdue_invoices(self):
        overdue = self._invoice(self.customer, 100.0, days_overdue=5)
        self._invoice(self.other_customer, 100.0, days_overdue=5)
        action = self.customer.with_company(self.company).action_cobranza_open_overdue_invoices()
        self.assertIn("search_default_late", action["context"])
        found = self.env["account.move"].search(action["domain"] + [("invoice_date_due", "<", self.today)])
        self.assertEqual(found, overdue)

    def test_manager_sees_every_portfolio(self):
        visible = self.Profile.with_user(self.manager).search([])
        self.assertIn(self.mine, visible)
        self.assertIn(self.theirs, visible)

    def test_my_portfolio_action(self):
        action = self.env.ref("cobranza_mgmt.cobranza_credit_profile_action_my_portfolio")
        self.assertIn("search_default_filter_my_portfolio", action.context)

    def test_worklist_opens_by_role(self):
        """The worklist opens on every overdue customer the user may see: a manager the whole company, a
        collector their portfolio (their record rule), with no default filter that would leave a manager,
        who has no portfolio of their own, with "nothing to chase"."""
        self._invoice(self.customer, 100.0, days_overdue=5)
        self._invoice(self.other_customer, 100.0, days_overdue=5)
        self.env["cobranza.profile.refresh"].sudo()._cron_refresh()
        action = self.env.ref("cobranza_mgmt.cobranza_credit_profile_action_worklist")
        self.assertNotIn("search_default", action.context or "")
        domain = ast.literal_eval(action.domain)
        self.assertEqual(self.Profile.with_user(self.manager).search(domain), self.mine | self.theirs)
        self.assertEqual(self.Profile.with_user(self.collector).search(domain), self.mine)
        self.assertEqual(self.Profile.with_user(self.collector_2).search(domain), self.theirs)

    def test_no_cross_company_leak(self):
        other = self.setup_other_company(name="Cobranzas del Sur S.A.")["company"]
        foreign = self.Profile._get_or_create(self.customer, other)
        self.assertNotIn(foreign, self.Profile.with_user(self.manager).search([]))
        with self.assertRaises(AccessError):
            foreign.with_user(self.manager).read(["risk_score"])

    def test_collector_cannot_reassign(self):
        with self.assertRaises(AccessError):
            self.mine.with_user(self.collector).write({"collector_id": self.collector_2.id})
        self.mine.with_user(self.manager).write({"collector_id": self.collector_2.id})
        self.assertEqual(self.mine.collector_id, self.collector_2)

    def test_collector_must_be_in_the_group(self):
        with self.assertRaisesRegex(ValidationError, "not in the Collector group"):
            self.mine.collector_id = self.billing_user

    def test_collector_must_work_for_the_company(self):
        other = self.setup_other_company(name="Cobranzas del Norte S.A.")["company"]
        outsider = new_test_user(
            self.env, login="outsider_collector", groups=f"base.group_user,{GROUP_COLLECTOR}",
            company_id=other.id, company_ids=[(6, 0, other.ids)],
        )
        with self.assertRaisesRegex(ValidationError, "has no access to"):
            self.mine.collector_id = outsider

    def test_one_profile_per_customer_and_company(self):
        self.assertEqual(self.Profile._get_or_create(self.customer_contact, self.company), self.mine)
        with self.assertRaisesRegex(ValidationError, "not to its contact"):
            self.Profile.create({"partner_id": self.customer_contact.id, "company_id": self.company.id})
