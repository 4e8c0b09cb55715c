import ast
import itertools
import unittest
from datetime import timedelta

from odoo import fields
from odoo.addons.cobranza_mgmt.demo.cobranza_demo import CUSTOMERS, LARGE_DEBTOR_CREDIT_LIMIT, PROFILES
from odoo.addons.cobranza_mgmt.logic import aging
from odoo.tests import tagged
from odoo.tests.common import TransactionCase


@tagged("post_install", "-at_install")
class TestDemoData(TransactionCase):
    """The demo portfolio makes the collections desk meaningful on first start."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not cls.env.ref("cobranza_mgmt.res_partner_grupo_industrial_montes_demo", False):
            raise unittest.SkipTest("the test database has no demo data")
        cls.today = fields.Date.context_today(cls.env.user)
        cls.partners = {
            key: cls.env.ref(f"cobranza_mgmt.res_partner_{key}_demo") for key in CUSTOMERS
        }
        cls.invoices = cls.env["account.move"].search([
            ("partner_id", "in", [p.id for p in cls.partners.values()]),
            ("move_type", "=", "out_invoice"),
            ("state", "=", "posted"),
        ])

    def _partners_of(self, profile):
        return [self.partners[key] for key, prof in CUSTOMERS.items() if prof == profile]

    def _invoices_of(self, partner, paid):
        return self.invoices.filtered(
            lambda m: m.partner_id == partner and (m.payment_state == "paid") == paid
        )

    def _payment_delays(self, invoice):
        """Days between the due date and each payment reconciled with the invoice."""
        receivable = invoice.line_ids.filtered(lambda line: line.account_type == "asset_receivable")
        return [
            (partial.credit_move_id.date - invoice.invoice_date_due).days
            for partial in receivable.matched_credit_ids
        ]

    def test_thirty_customers_with_spanish_names(self):
        self.assertEqual(len(self.partners), 30)
        for partner in self.partners.values():
            self.assertTrue(partner.is_company and partner.customer_rank > 0, partner.name)
        self.assertIn("Ferretería El Martillo S.L.", [p.name for p in self.partners.values()])

    def test_open_items_in_every_aging_bucket(self):
        lines = self.env["account.move.line"].search([
            ("move_id", "in", self.invoices.ids),
            ("account_type", "=", "asset_receivable"),
            ("reconciled", "=", False),
        ])
        buckets = {aging.bucket_for_date(line.date_maturity, self.today) for line in lines}
        self.assertEqual(buckets, set(aging.BUCKET_KEYS))

    def test_some_invoices_partially_paid(self):
        partial = self.invoices.filtered(lambda m: m.payment_state == "partial")
        self.assertGreaterEqual(len(partial), 5)
        for invoice in partial:
            self.assertTrue(0 < invoice.amount_residual < invoice.amount_total, invoice.name)

    def test_open_invoices_in_two_currencies(self):
        open_invoices = self.invoices.filtered(lambda m: m.payment_state in ("not_paid", "partial"))
        self.assertEqual(
            set(open_invoices.currency_id.mapped("name")),
            {self.env.company.currency_id.name, "EUR"},
        )

    def test_punctual_customers_paid_on_time(self):
        for partner in self._partners_of("punctual"):
            paid = self._invoices_of(partner, paid=True)
            self.assertEqual(len(paid), sum(1 for *_plan, payment in PROFILES["punctual"] if payment), partner.name)
            for invoice in paid:
                self.assertTrue(all(d <= 0 for d in self._payment_delays(invoice)), invoice.name)

    def test_chronic_customers_paid_late(self):
        for partner in self._partners_of("chronic"):
            paid = self._invoices_of(partner, paid=True)
            self.assertTrue(paid, partner.name)
            delays = [d for invoice in paid for d in self._payment_delays(invoice)]
            self.assertGreater(min(delays), 30, partner.name)
            overdue = self._invoices_of(partner, paid=False).filtered(
                lambda m: m.invoice_date_due < self.today
            )
            self.assertGreaterEqual(len(overdue), 3, partner.name)

    def test_large_debtor_near_credit_limit(self):
        partner = self.partners["grupo_industrial_montes"]
        self.assertEqual(partner.credit_limit, LARGE_DEBTOR_CREDIT_LIMIT)
        self.assertTrue(self.env.company.account_use_credit_limit)
        self.assertGreater(partner.credit, 0.8 * partner.credit_limit)
        self.assertLess(partner.credit, partner.credit_limit)

    def test_demo_dunning_history(self):
        """Install ran the dunning once: the demo customers have reminders, the disputed invoice none."""
        communications = self.env["cobranza.communication"].search([
            ("partner_id", "in", [p.id for p in self.partners.values()]),
        ])
        self.assertGreaterEqual(len(communications.partner_id), 15)
        self.assertFalse(communications.filtered(lambda c: c.state == "failed"))
        disputed = self.invoices.filtered("cobranza_is_disputed")
        self.assertFalse(communications.line_ids.filtered(lambda line: line.move_id in disputed))

    def test_demo_history_keeps_the_contact_policy(self):
        """The history is what the engine would have done: one reminder a customer a day, none within the
        days between reminders unless urgent, none after the agency hand-over."""
        company = self.env.company
        interval = timedelta(days=company.cobranza_contact_interval_days)
        communications = self.env["cobranza.communication"].search([
            ("partner_id", "in", [p.id for p in self.partners.values()]), ("channel", "=", "email"),
            ("state", "!=", "cancelled"),
        ], order="date, id")
        for partner, reminders in communications.grouped("partner_id").items():
            days = reminders.mapped("date")
            self.assertEqual(len(days), len(set(days)), f"{partner.name}: two e-mails on one day")
            for before, after in itertools.pairwise(reminders):
                if not after.level_id.is_urgent:
                    self.assertGreaterEqual(after.date - before.date, interval, partner.name)
            handed_over = reminders.filtered(lambda c: c.level_id.stage_id.stage_type == "agency")[:1]
            if handed_over:
                self.assertFalse(reminders.filtered(lambda c, h=handed_over: c.date > h.date),
                                 f"{partner.name}: reminded after the agency hand-over")

    def test_demo_agreements_are_their_collectors(self):
        collector = self.env.ref("cobranza_mgmt.user_cobranza_collector_demo")
        agreements = self.env["cobranza.agreement"].search([
            ("partner_id", "in", [self.partners["imprenta_gutenberg"].id, self.partners["gimnasio_fuerza_total"].id]),
        ])
        self.assertEqual(set(agreements.mapped("user_id")), {collector})
        self.assertEqual(set(agreements.mapped("collector_id")), {collector})

    def test_demo_recovers_overdue_debt(self):
        """Over the overview's last 30 days and the 30 before, some of what was overdue was collected."""
        Kpi = self.env["cobranza.kpi"]
        for days_back in (0, 30):
            date_to = self.today - timedelta(days=days_back)
            figures = Kpi._compute(self.env.company, date_to - timedelta(days=29), date_to)[False]
            self.assertGreater(figures["recovery_rate"] or 0.0, 0.0, date_to)

    def test_disputing_customer_has_disputed_overdue_invoice(self):
        partner = self.partners["servicios_medicos_integrales"]
        overdue = self.invoices.filtered(
            lambda m: m.partner_id == partner and m.payment_state == "not_paid"
            and m.invoice_date_due < self.today
        )
        self.assertEqual(len(overdue), 1)
        self.assertTrue(overdue.cobranza_is_disputed)
        self.assertTrue(
            any("disputes" in (message.body or "") for message in overdue.message_ids),
            "the disputed invoice carries the customer's objection in its chatter",
        )

    def test_demo_agreements_and_kpi_snapshot(self):
        agreements = self.env["cobranza.agreement"].search([
            ("partner_id", "in", [self.partners["imprenta_gutenberg"].id, self.partners["gimnasio_fuerza_total"].id]),
        ])
        self.assertEqual(sorted(agreements.mapped("state")), ["active", "proposed"])
        self.assertTrue(all(agreement.installment_ids for agreement in agreements))
        self.assertTrue(self.env["cobranza.kpi.snapshot"].search_count([("dimension", "=", "company")]))

    def test_a_year_of_history(self):
        """The overview and the KPI graphs show a trend on first opening: a snapshot at each of the last 12
        month ends, past reminders, promises kept and broken, invoices issued over the last year."""
        company = self.env.ref("base.main_company")
        snapshots = self.env["cobranza.kpi.snapshot"].search([("company_id", "=", company.id),
                                                               ("dimension", "=", "company")])
        months = {snapshot.date.replace(day=1) for snapshot in snapshots if snapshot.date < self.today.replace(day=1)}
        self.assertGreaterEqual(len(months), 12)
        self.assertGreater(len(set(snapshots.mapped("dso"))), 3, "the DSO moves over the year")
        self.assertLess(min(self.invoices.mapped("invoice_date")), self.today - timedelta(days=360))
        reminders = self.env["cobranza.communication"].search([
            ("company_id", "=", company.id), ("date", "<", self.today - timedelta(days=180))])
        self.assertTrue(reminders and set(reminders.mapped("state")) == {"sent"})
        promises = self.env["cobranza.promise"].search([("company_id", "=", company.id)])
        self.assertEqual(set(promises.mapped("state")) & {"kept", "broken"}, {"kept", "broken"})
        agreements = self.env["cobranza.agreement"].search([("company_id", "=", company.id)])
        self.assertTrue({"active", "completed", "broken"} <= set(agreements.mapped("state")))
        broken = agreements.filtered(lambda agreement: agreement.state == "broken")
        self.assertTrue(broken.installment_ids.filtered(lambda installment: installment.state == "overdue"))
        overview = self.env["cobranza.overview"].with_user(self.env.ref("cobranza_mgmt.user_cobranza_manager_demo")) \
            .with_company(company).get_overview()
        dso = next(card for card in overview["cards"] if card["key"] == "dso")
        self.assertGreaterEqual(len(dso["trend"]), 12)

    def test_demo_logins_have_work(self):
        """The demo manager sees the company's overdue customers in the worklist, the demo collector their
        portfolio (the late and chronic payers)."""
        worklist = self.env.ref("cobranza_mgmt.cobranza_credit_profile_action_worklist")
        domain = ast.literal_eval(worklist.domain)
        manager = self.env.ref("cobranza_mgmt.user_cobranza_manager_demo")
        collector = self.env.ref("cobranza_mgmt.user_cobranza_collector_demo")
        everyone = self.env["cobranza.credit.profile"].with_user(manager).search(domain)
        mine = self.env["cobranza.credit.profile"].with_user(collector).search(domain)
        self.assertTrue(mine)
        self.assertLess(len(mine), len(everyone))
        self.assertEqual(set(mine.mapped("collector_id")), {collector})
        chronic = {self.partners[key] for key, profile in CUSTOMERS.items() if profile == "chronic"}
        self.assertTrue(chronic & set(mine.mapped("partner_id")))
