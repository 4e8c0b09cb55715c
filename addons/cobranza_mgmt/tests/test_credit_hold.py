from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import CobranzaAccountCommon


@tagged("post_install", "-at_install")
class TestCreditHold(CobranzaAccountCommon):

    def _messages(self, partner=None):
        return (partner or self.customer).message_ids.mapped("body")

    def test_manual_hold_needs_a_reason(self):
        profile = self.Profile._get_or_create(self.customer, self.company)
        with self.assertRaises(UserError):
            profile.with_user(self.collector)._hold_by_hand("   ")
        self.assertFalse(profile.is_on_hold)

    def test_manual_hold_keeps_who_when_why_and_logs_it(self):
        profile = self.Profile._get_or_create(self.customer, self.company)
        profile.collector_id = self.collector
        wizard = self.env["cobranza.hold.wizard"].with_user(self.collector).create({
            "profile_id": profile.id, "reason": "Cheque devuelto sin fondos",
        })
        wizard.action_confirm()
        self.assertRecordValues(profile, [{
            "is_on_hold": True, "hold_type": "manual", "hold_reason": "Cheque devuelto sin fondos",
            "hold_user_id": self.collector.id,
        }])
        self.assertTrue(profile.hold_date)
        self.assertTrue(any("Cheque devuelto sin fondos" in body for body in self._messages()))
        self.assertTrue(self.customer.with_company(self.company).cobranza_is_on_hold)

    def test_only_manager_lifts_manual_hold(self):
        profile = self.Profile._get_or_create(self.customer, self.company)
        profile.collector_id = self.collector
        profile._hold_by_hand("Disputa comercial")
        with self.assertRaises(AccessError):
            profile.with_user(self.collector).action_lift_hold()
        self.assertTrue(profile.is_on_hold)
        profile.with_user(self.manager).action_lift_hold()
        self.assertFalse(profile.is_on_hold)
        self.assertTrue(any("lifted by" in body for body in self._messages()))

    def test_cron_sets_automatic_hold_on_overdue_invoice(self):
        self.company.cobranza_auto_hold_days = 45
        self._invoice(self.customer, 800.0, days_overdue=46)
        self._invoice(self.other_customer, 800.0, days_overdue=45)
        self._run_cron()
        profile = self._profile()
        self.assertRecordValues(profile, [{"is_on_hold": True, "hold_type": "policy", "max_days_overdue": 46}])
        self.assertIn("46 days overdue", profile.hold_reason)
        self.assertFalse(self._profile(self.other_customer).is_on_hold, "45 days is not more than 45")
        self.assertTrue(any("set automatically" in body for body in self._messages()))

    def test_automatic_hold_lifted_when_paid(self):
        self.company.cobranza_auto_hold_days = 30
        invoice = self._invoice(self.customer, 500.0, days_overdue=40)
        self._run_cron()
        self.assertTrue(self._profile().is_on_hold)
        self._pay(invoice, days_after_due=40)
        self.assertTrue(self._profile().is_on_hold, "the refresh is deferred: paying costs no more than without us")
        self._refresh_dirty()  # what the reconciliation triggered, within a minute
        self.assertRecordValues(self._profile(), [{"is_on_hold": False, "hold_type": False, "max_days_overdue": 0}])
        self.assertTrue(any("cause is gone" in body for body in self._messages()))

    def test_automatic_hold_over_credit_limit(self):
        self.customer.with_company(self.company).credit_limit = 1000.0
        self._invoice(self.customer, 1200.0, days_overdue=-10)
        self._refresh_dirty()
        profile = self._profile()
        self.assertTrue(profile.is_on_hold, "the refresh posting triggered holds the customer")
        self.assertIn("exceeds the credit limit", profile.hold_reason)
        self.customer.with_company(self.company).credit_limit = 5000.0
        self._run_cron()
        self.assertFalse(profile.is_on_hold)

    def test_policy_does_not_lift_manual_hold(self):
        profile = self.Profile._get_or_create(self.customer, self.company)
        profile._hold_by_hand("Quiebra anunciada")
        self._run_cron()
        self.assertRecordValues(profile, [{"is_on_hold": True, "hold_type": "manual"}])

    def test_disabled_rules_hold_nobody(self):
        self.company.write({"cobranza_auto_hold_days": 0, "cobranza_auto_hold_over_limit": False})
        self.customer.with_company(self.company).credit_limit = 100.0
        self._invoice(self.customer, 900.0, days_overdue=200)
        self._run_cron()
        self.assertFalse(self._profile().is_on_hold)
