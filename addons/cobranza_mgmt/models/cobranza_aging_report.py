from odoo import api, fields, models
from odoo.tools import SQL

from .cobranza_credit_profile import SEGMENT_SELECTION


def later_partials_join(day, alias):
    """SQL: LEFT JOIN ``alias`` giving, per journal item ``aml``, what partial reconciliations dated
    after ``day`` took from it (``amount`` in company currency, ``amount_currency`` in the document's).

    An item's residual at the end of ``day`` is its stored residual plus ``alias.amount``: only the
    few partials dated later are read, not the whole reconciliation history.
    """
    return SQL(
        """
        LEFT JOIN (
            SELECT line_id, SUM(amount) AS amount, SUM(amount_currency) AS amount_currency FROM (
                SELECT debit_move_id AS line_id, amount, debit_amount_currency AS amount_currency
                  FROM account_partial_reconcile WHERE max_date > %(day)s
                UNION ALL
                SELECT credit_move_id, -amount, -credit_amount_currency
                  FROM account_partial_reconcile WHERE max_date > %(day)s
            ) partial GROUP BY line_id
        ) %(alias)s ON %(alias)s.line_id = aml.id
        """, day=day, alias=SQL.identifier(alias),
    )


AGING_BUCKETS = [
    ("not_due", "Not Due"), ("1_30", "1-30"), ("31_60", "31-60"), ("61_90", "61-90"), ("over_90", "Over 90"),
]


class CobranzaAgingReport(models.Model):
    """Aging analysis: one row per open receivable item, with its bucket, as of today or of a past date.

    A read-only SQL view (``_auto = False``). ``cobranza_as_of`` in the context (a date) gives the
    receivables as they were at the end of that day: the stored residual plus what partial
    reconciliations dated later took from it.
    """

    _name = "cobranza.aging.report"
    _description = "Aging Analysis"
    _auto = False
    _order = "date_maturity, id"
    _rec_name = "move_name"

    company_id = fields.Many2one("res.company", readonly=True)
    company_currency_id = fields.Many2one("res.currency", readonly=True)
    currency_id = fields.Many2one("res.currency", string="Document Currency", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    collector_id = fields.Many2one("res.users", readonly=True)
    segment = fields.Selection(SEGMENT_SELECTION, readonly=True)
    stage_id = fields.Many2one("cobranza.stage", string="Collection Stage", readonly=True)
    level_id = fields.Many2one("cobranza.dunning.level", string="Dunning Level", readonly=True)
    move_id = fields.Many2one("account.move", string="Document", readonly=True)
    move_name = fields.Char(string="Number", readonly=True)
    line_id = fields.Many2one("account.move.line", string="Journal Item", readonly=True)
    date = fields.Date(readonly=True)
    date_maturity = fields.Date(string="Due Date", readonly=True)
    as_of = fields.Date(readonly=True)
    days_overdue = fields.Integer(readonly=True, aggregator="max")
    bucket = fields.Selection(AGING_BUCKETS, readonly=True)
    amount_residual = fields.Monetary(string="Open Amount", currency_field="company_currency_id", readonly=True)
    amount_residual_currency = fields.Monetary(string="Open Amount in Currency", currency_field="currency_id",
                                               readonly=True)
    not_due = fields.Monetary(currency_field="company_currency_id", readonly=True)
    days_1_30 = fields.Monetary(string="1-30", currency_field="company_currency_id", readonly=True)
    days_31_60 = fields.Monetary(string="31-60", currency_field="company_currency_id", readonly=True)
    days_61_90 = fields.Monetary(string="61-90", currency_field="company_currency_id", readonly=True)
    days_over_90 = fields.Monetary(string="Over 90", currency_field="company_currency_id", readonly=True)

    @property
    def _table_query(self):
        as_of = self.env.context.get("cobranza_as_of")
        as_of = fields.Date.to_date(as_of) if as_of else None
        today = fields.Date.context_today(self)
        day = as_of or today
        if as_of and as_of < today:
            residual = SQL("aml.amount_residual + COALESCE(later.amount, 0)")
            residual_currency = SQL("aml.amount_residual_currency + COALESCE(later.amount_currency, 0)")
            later = later_partials_join(day, "later")
            still_open = SQL("(NOT aml.reconciled OR later.line_id IS NOT NULL) AND aml.date <= %s", day)
        else:
            residual, residual_currency, later = SQL("aml.amount_residual"), SQL("aml.amount_residual_currency"), SQL()
            still_open = SQL("NOT aml.reconciled")
        days = SQL("(%s::date - COALESCE(aml.date_maturity, aml.date))", day)
        return SQL(
            """
            SELECT item.*,
                   CASE WHEN item.bucket = 'not_due' THEN item.amount_residual ELSE 0 END AS not_due,
                   CASE WHEN item.bucket = '1_30' THEN item.amount_residual ELSE 0 END AS days_1_30,
                   CASE WHEN item.bucket = '31_60' THEN item.amount_residual ELSE 0 END AS days_31_60,
                   CASE WHEN item.bucket = '61_90' THEN item.amount_residual ELSE 0 END AS days_61_90,
                   CASE WHEN item.bucket = 'over_90' THEN item.amount_residual ELSE 0 END AS days_over_90
              FROM (
                SELECT aml.id, aml.id AS line_id, aml.company_id, aml.company_currency_id, aml.currency_id,
                       aml.partner_id, profile.collector_id, profile.segment, level.stage_id,
                       aml.cobranza_level_id AS level_id, aml.move_id, aml.move_name, aml.date,
                       COALESCE(aml.date_maturity, aml.date) AS date_maturity, %(day)s::date AS as_of,
                       GREATEST(%(days)s, 0) AS days_overdue,
                       CASE WHEN %(days)s <= 0 THEN 'not_due' WHEN %(days)s <= 30 THEN '1_30'
                            WHEN %(days)s <= 60 THEN '31_60' WHEN %(days)s <= 90 THEN '61_90'
                            ELSE 'over_90' END AS bucket,
                       %(residual)s AS amount_residual,
                       %(residual_currency)s AS amount_residual_currency
                  FROM account_move_line aml
                  JOIN account_account account ON account.id = aml.account_id
                  LEFT JOIN cobranza_credit_profile profile
                         ON profile.partner_id = aml.partner_id AND profile.company_id = aml.company_id
                  LEFT JOIN cobranza_dunning_level level ON level.id = aml.cobranza_level_id
                  %(later)s
                 WHERE account.account_type = 'asset_receivable' AND aml.parent_state = 'posted'
                   AND aml.partner_id IS NOT NULL AND %(still_open)s
              ) item
             WHERE item.amount_residual != 0
            """,
            day=day, days=days, residual=residual, residual_currency=residual_currency, later=later,
            still_open=still_open,
        )

    @api.model
    def action_open_as_of(self, as_of):
        """The aging analysis as it was at the end of ``as_of``."""
        action = self.env["ir.actions.act_window"]._for_xml_id("cobranza_mgmt.action_cobranza_aging_report")
        action["context"] = {"cobranza_as_of": fields.Date.to_string(as_of)}
        action["display_name"] = self.env._("Aging Analysis as of %(date)s", date=as_of)
        return action
