from datetime import timedelta

from odoo import api, fields, models
from odoo.tools.sql import create_unique_index

from .cobranza_credit_profile import SEGMENT_SELECTION
from .cobranza_kpi import DIMENSIONS


class CobranzaKpiSnapshot(models.Model):
    """One day's KPIs of a company, collector or segment, so graphs show their history."""

    _name = "cobranza.kpi.snapshot"
    _description = "Collection KPI Snapshot"
    _order = "date desc, id desc"

    date = fields.Date(required=True, index=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    dimension = fields.Selection(DIMENSIONS, required=True, default="company", readonly=True)
    collector_id = fields.Many2one("res.users", index=True, readonly=True)
    segment = fields.Selection(SEGMENT_SELECTION, readonly=True)
    receivables = fields.Monetary(readonly=True, aggregator="sum")
    overdue = fields.Monetary(readonly=True, aggregator="sum")
    sales = fields.Monetary(string="Credit Sales (30 days)", readonly=True, aggregator="sum")
    dso = fields.Float(string="DSO", readonly=True, aggregator="avg", digits=(16, 2))
    best_dso = fields.Float(string="Best Possible DSO", readonly=True, aggregator="avg", digits=(16, 2))
    add = fields.Float(string="Average Days Delinquent", readonly=True, aggregator="avg", digits=(16, 2))
    cei = fields.Float(string="CEI (%)", readonly=True, aggregator="avg", digits=(16, 2))
    recovery_rate = fields.Float(string="Recovery Rate (%)", readonly=True, aggregator="avg", digits=(16, 2))
    delinquent_accounts = fields.Integer(readonly=True, aggregator="sum")
    delinquent_share = fields.Float(string="Delinquent Accounts (%)", readonly=True, aggregator="avg",
                                    digits=(16, 2))
    overdue_share = fields.Float(string="Receivables Overdue (%)", readonly=True, aggregator="avg", digits=(16, 2))
    promise_kept_rate = fields.Float(string="Promises Kept (%)", readonly=True, aggregator="avg", digits=(16, 2))
    agreement_compliance_rate = fields.Float(string="Agreement Compliance (%)", readonly=True, aggregator="avg",
                                             digits=(16, 2))
    promise_count = fields.Integer(
        string="Promises Due", readonly=True, aggregator="sum",
        help="Promises kept or broken in the period: with none, the rate of promises kept means nothing.",
    )
    agreement_count = fields.Integer(
        string="Agreements Followed", readonly=True, aggregator="sum",
        help="Agreements active, completed or broken in the period: with none, the compliance rate means nothing.",
    )
    top10_share = fields.Float(string="Top-10 Share (%)", readonly=True, aggregator="avg", digits=(16, 2))
    hhi = fields.Float(string="Herfindahl Index", readonly=True, aggregator="avg", digits=(16, 4))
    discounts_granted = fields.Monetary(
        string="Early-Payment Discounts Offered", readonly=True, aggregator="sum",
        help="What paying early would save on the credit sales of the period (Odoo's early-payment discounts).",
    )
    discounts_taken = fields.Monetary(
        string="Early-Payment Discounts Taken", readonly=True, aggregator="sum",
        help="The early-payment discounts customers deducted when paying in the period.",
    )
    discount_take_rate = fields.Float(string="Discounts Taken (%)", readonly=True, aggregator="avg", digits=(16, 2))
    dso_incentive = fields.Float(
        string="DSO With Incentive", readonly=True, aggregator="avg", digits=(16, 2),
        help="DSO of the customers whose dunning ladder gives early-payment terms.",
    )
    dso_no_incentive = fields.Float(
        string="DSO Without Incentive", readonly=True, aggregator="avg", digits=(16, 2),
        help="DSO of the other customers.",
    )
    not_due = fields.Monetary(readonly=True, aggregator="sum")
    days_1_30 = fields.Monetary(string="1-30", readonly=True, aggregator="sum")
    days_31_60 = fields.Monetary(string="31-60", readonly=True, aggregator="sum")
    days_61_90 = fields.Monetary(string="61-90", readonly=True, aggregator="sum")
    days_over_90 = fields.Monetary(string="Over 90", readonly=True, aggregator="sum")

    def init(self):
        # One snapshot per day, company and group. An expression index, not UNIQUE NULLS NOT DISTINCT,
        # which PostgreSQL before 15 (Odoo 18 supports 12 and later) would not create.
        create_unique_index(self.env.cr, "cobranza_kpi_snapshot_one_per_day_idx", self._table, [
            "date", "company_id", "dimension", "COALESCE(collector_id, 0)", "COALESCE(segment, '')",
        ])

    @api.model
    def _take(self, companies=None, day=None):
        """Store (or refresh) the day's snapshots: rolling 30-day period ending on ``day``."""
        Kpi = self.env["cobranza.kpi"].sudo()
        companies = companies or self.env["res.company"].sudo().search([])  # pylint: disable=no-search-all
        for company in companies:
            company_day = day or company._cobranza_today()
            date_from = company_day - timedelta(days=29)
            values_list = []
            for dimension, groups in Kpi._compute_all(company, date_from, company_day).items():
                for key, values in groups.items():
                    if dimension != "company" and not key:
                        continue
                    values_list.append({
                        **values, "date": company_day, "company_id": company.id, "dimension": dimension,
                        "collector_id": key if dimension == "collector" else False,
                        "segment": key if dimension == "segment" else False,
                    })
            existing = self.sudo().search([("date", "=", company_day), ("company_id", "=", company.id)])
            existing.unlink()  # the same day again: replace, never duplicate
            self.sudo().create(values_list)
        return True

    @api.model
    def _cron_take(self):
        return self._take()
