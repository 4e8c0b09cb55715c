from datetime import timedelta

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestNetOverdue(DunningCommon):
    """Overdue is net: a customer's unapplied payments and credit notes pay its oldest overdue first,
    and every place shows the same figure (worklist, overview, KPIs, aging by customer, dunning)."""

    def _unapplied_payment(self, partner, amount, days_ago=0):
        payment = self.env["account.payment"].create({
            "payment_type": "inbound", "partner_type": "customer", "partner_id": partner.id, "amount": amount,
            "date": self.today - timedelta(days=days_ago), "journal_id": self.company_data["default_journal_bank"].id,
        })
        payment.action_post()
        return payment

    def _aging_by_customer(self, partner):
        Aging = self.env["cobranza.aging.report"]
        groups = Aging._read_group([("partner_id", "=", partner.id)], [],
                                   ["net_residual:sum", "not_due:sum", "days_1_30:sum", "days_31_60:sum"])
        return groups[0]

    def test_a_customer_paid_in_full_but_not_applied_owes_nothing_overdue(self):
        self._invoice(self.customer, 1000.0, days_overdue=20)
        self._unapplied_payment(self.customer, 1000.0)
        self.Profile._refresh_behaviour(companies=self.company, partners=self.customer)
        profile = self._profile()
        self.assertEqual((profile.overdue_amount, profile.max_days_overdue), (0.0, 0))
        top = self.env["cobranza.overview"].with_company(self.company)._top_debtors(self.company)
        self.assertNotIn(self.customer.id, [row["partner_id"] for row in top])
        kpis = self.env["cobranza.kpi"]._compute(self.company, self.today - timedelta(days=29), self.today)
        self.assertEqual(kpis[False]["overdue"], 0.0)
        self.assertEqual(self._aging_by_customer(self.customer), (0.0, 0.0, 0.0, 0.0))
        self._run()
        self.assertFalse(self._comms(), "nothing net is owed: no reminder")
        with self.assertRaisesRegex(UserError, "owes nothing net"):
            self.env["cobranza.dunning"].sudo()._send_now(self.company, self.customer)

    def test_a_partial_payment_pays_the_oldest_first(self):
        """Debits 600 (50 days late) and 400 (10 days late), 700 unapplied: the 600 is paid, 300 of
        the 400 remain, in its own bucket; the total owed is unchanged."""
        self._invoice(self.customer, 600.0, days_overdue=50)
        self._invoice(self.customer, 400.0, days_overdue=10)
        self._unapplied_payment(self.customer, 700.0)
        self.Profile._refresh_behaviour(companies=self.company, partners=self.customer)
        profile = self._profile()
        self.assertEqual((profile.overdue_amount, profile.max_days_overdue), (300.0, 10))
        self.assertEqual(self._aging_by_customer(self.customer), (300.0, 0.0, 300.0, 0.0))
        company_kpis = self.env["cobranza.kpi"]._compute(self.company, self.today - timedelta(days=29),
                                                          self.today)[False]
        self.assertEqual((company_kpis["receivables"], company_kpis["overdue"]), (300.0, 300.0))
        self.assertLessEqual(company_kpis["overdue"], company_kpis["receivables"])
        self._run()
        reminder = self._comms(channel="email")
        self.assertEqual(len(reminder), 1)
        self.assertAlmostEqual(reminder.amount_due, 300.0)

    def test_credit_left_over_is_not_overdue(self):
        """More paid than owed: nothing overdue, and the left-over credit is current, not a negative overdue."""
        self._invoice(self.customer, 100.0, days_overdue=40)
        self._unapplied_payment(self.customer, 250.0, days_ago=45)
        self.Profile._refresh_behaviour(companies=self.company, partners=self.customer)
        self.assertEqual(self._profile().overdue_amount, 0.0)
        self.assertEqual(self._aging_by_customer(self.customer), (-150.0, -150.0, 0.0, 0.0))
        kpis = self.env["cobranza.kpi"]._compute(self.company, self.today - timedelta(days=29), self.today)
        self.assertEqual(kpis[False]["overdue"], 0.0)
