import unittest

from odoo.addons.cobranza_mgmt.demo.cobranza_demo import CUSTOMERS
from odoo.tests import tagged
from odoo.tests.common import TransactionCase

from .common import CobranzaAccountCommon


@tagged("post_install", "-at_install")
class TestExposure(CobranzaAccountCommon):

    def _exposure(self, partner=None):
        partner = partner or self.customer
        exposures = self.env["cobranza.credit.policy"]._exposure(self.company, partner)
        return exposures.get(partner.commercial_partner_id.id, 0.0)

    def test_exposure_counts_open_receivable_and_drafts_of_contacts(self):
        self._invoice(self.customer, 1000.0, days_overdue=5)
        self._invoice(self.customer_contact, 250.0, post=False)
        self._invoice(self.other_customer, 999.0)
        self.assertAlmostEqual(self._exposure(), 1250.0)
        self.assertAlmostEqual(self._exposure(self.customer_contact), 1250.0)

    def test_exposure_in_company_currency(self):
        eur = self.setup_other_currency("EUR", rates=[("2000-01-01", 0.5)])  # 1 company unit = 0.5 EUR
        self._invoice(self.customer, 100.0, currency=eur)
        self._invoice(self.customer, 30.0, currency=eur, post=False)
        self.assertAlmostEqual(self._exposure(), 260.0)

    def test_payments_and_credit_notes_reduce_exposure(self):
        invoice = self._invoice(self.customer, 1000.0)
        self._pay(invoice, amount=400.0)
        self.assertAlmostEqual(self._exposure(), 600.0)
        refund = self.init_invoice("out_refund", partner=self.customer, amounts=[100.0], taxes=[], post=True)
        self.assertTrue(refund)
        self.assertAlmostEqual(self._exposure(), 500.0)

    def test_profile_shows_limit_exposure_and_available_credit(self):
        self.customer.with_company(self.company).credit_limit = 2000.0
        self._invoice(self.customer, 500.0)
        self._refresh_dirty()  # posting queued the customer; the triggered job made its profile
        profile = self._profile()
        self.assertRecordValues(profile, [{"credit_limit": 2000.0, "exposure": 500.0, "available_credit": 1500.0}])


@tagged("post_install", "-at_install")
class TestPaymentBehaviour(CobranzaAccountCommon):

    def test_weighted_days_late_on_time_share_and_overdue(self):
        self.company.cobranza_grace_days = 3
        late = self._invoice(self.customer, 300.0, days_overdue=120)
        self._pay(late, days_after_due=20)           # 300 paid 20 days late
        on_time = self._invoice(self.customer, 100.0, days_overdue=90)
        self._pay(on_time, days_after_due=2)         # within grace: on time, 2 days late
        early = self._invoice(self.customer, 600.0, days_overdue=60)
        self._pay(early, days_after_due=-5)          # early counts as 0 days
        self._invoice(self.customer, 250.0, days_overdue=33)
        self._invoice(self.customer, 50.0, days_overdue=-3)
        self._run_cron()
        profile = self._profile()
        # (300 × 20 + 100 × 2 + 600 × 0) / 1000 = 6.2 days; 2 of 3 paid on time; 33 days, 250 overdue
        self.assertRecordValues(profile, [{
            "avg_days_late": 6.2, "on_time_share": 66.7, "max_days_overdue": 33, "overdue_amount": 250.0,
        }])
        # 40 × 6.2/60 + 25 × (1 − 2/3) + 25 × 33/90 = 4.13 + 8.33 + 9.17
        self.assertEqual(profile.risk_score, 21.6)
        self.assertEqual(profile.segment, "A")

    def test_partial_payment_weighs_by_amount_paid(self):
        invoice = self._invoice(self.customer, 1000.0, days_overdue=50)
        self._pay(invoice, amount=250.0, days_after_due=10)
        self._pay(invoice, amount=750.0, days_after_due=30)
        self._run_cron()
        # (250 × 10 + 750 × 30) / 1000 = 25 days; paid in full after the grace: not on time
        self.assertRecordValues(self._profile(), [{"avg_days_late": 25.0, "on_time_share": 0.0}])

    def test_broken_promises_raise_the_score(self):
        self._invoice(self.customer, 100.0, days_overdue=9)
        self._run_cron()
        profile = self._profile()
        before = profile.risk_score
        profile.sudo().broken_promise_count = 3
        self._run_cron()
        self.assertEqual(profile.broken_promise_count, 3)
        self.assertAlmostEqual(profile.risk_score - before, 10.0, places=1)

    def test_thresholds_move_the_segment(self):
        invoice = self._invoice(self.customer, 100.0, days_overdue=40)
        self._pay(invoice, days_after_due=30)
        self._run_cron()
        profile = self._profile()
        self.assertEqual((profile.risk_score, profile.segment), (45.0, "B"))
        self.company.write({"cobranza_segment_b_score": 10, "cobranza_segment_c_score": 40,
                            "cobranza_segment_d_score": 90})
        self._run_cron()
        self.assertEqual(profile.segment, "C")

    def test_refresh_query_count_does_not_grow_with_partners(self):
        partners = self.env["res.partner"].create([{"name": f"Cliente {i}", "is_company": True} for i in range(12)])
        for partner in partners:
            self._invoice(partner, 100.0, days_overdue=10)
        Profile = self.env["cobranza.credit.profile"].sudo()

        def count(selection):
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            Profile._refresh_behaviour(companies=self.company, partners=selection)
            return self.env.cr.sql_log_count - before

        count(partners[:1])  # warm the registry caches
        self.assertEqual(count(partners[:2]), count(partners))


@tagged("post_install", "-at_install")
class TestDemoSegments(TransactionCase):
    """The demo customers' known histories give known segments and scores."""

    def test_demo_customers_segments(self):
        if not self.env.ref("cobranza_mgmt.res_partner_grupo_industrial_montes_demo", False):
            raise unittest.SkipTest("the test database has no demo data")
        main = self.env.ref("base.main_company")
        profile = self.env["cobranza.credit.profile"].sudo()
        expected = {"punctual": ("A", 0.0), "late": ("B", 36.2), "chronic": ("D", 88.7),
                    "large_debtor": ("C", 59.9), "disputing": ("A", 20.8), "new": ("A", 0.0)}
        # the demo's agreements: one late payer paid its overdue invoice under an agreement today (12 days
        # late), one chronic payer broke an agreement (a broken promise more)
        expected_of = {"transportes_rapidos_del_sur": ("B", 32.8), "electrodomesticos_el_rayo": ("D", 92.0)}
        for key, behaviour in CUSTOMERS.items():
            partner = self.env.ref(f"cobranza_mgmt.res_partner_{key}_demo")
            found = profile.search([("partner_id", "=", partner.id), ("company_id", "=", main.id)])
            self.assertEqual((found.segment, found.risk_score), expected_of.get(key, expected[behaviour]),
                             partner.name)
