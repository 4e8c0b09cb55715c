from odoo import api, fields, models
from odoo.tools import SQL

from ..logic import aging
from ..models import cobranza_receivable as receivable
from ..models.cobranza_credit_profile import SEGMENT_SELECTION

AGING_BUCKETS = list(aging.BUCKET_LABELS.items())


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
    # What the view reads: the ORM flushes these before searching it.
    _depends = {
        "account.move.line": [
            "account_id", "amount_residual", "amount_residual_currency", "company_id", "company_currency_id",
            "currency_id", "date", "date_maturity", "move_id", "move_name", "parent_state", "partner_id",
            "reconciled", "cobranza_level_id",
        ],
        "account.account": ["account_type"],
        "account.partial.reconcile": [
            "amount", "max_date", "debit_move_id", "credit_move_id", "debit_amount_currency", "credit_amount_currency",
        ],
        "cobranza.credit.profile": ["collector_id", "segment", "partner_id", "company_id"],
        "cobranza.dunning.level": ["stage_id"],
    }

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
    net_residual = fields.Monetary(
        string="Net Open Amount", currency_field="company_currency_id", readonly=True,
        help="What is still owed on the item once the customer's unapplied payments and credit notes have paid "
             "its oldest items first; the aging columns add these up.",
    )
    amount_residual_currency = fields.Monetary(string="Open Amount in Currency", currency_field="currency_id",
                                               readonly=True)
    not_due = fields.Monetary(currency_field="company_currency_id", readonly=True)
    days_1_30 = fields.Monetary(string="1-30", currency_field="company_currency_id", readonly=True)
    days_31_60 = fields.Monetary(string="31-60", currency_field="company_currency_id", readonly=True)
    days_61_90 = fields.Monetary(string="61-90", currency_field="company_currency_id", readonly=True)
    days_over_90 = fields.Monetary(string="Over 90", currency_field="company_currency_id", readonly=True)

    # ------------------------------------------------------------------ age order
    # Buckets read from not due to over 90 days, as every aging report does: Odoo orders a selection by its
    # stored key ("1_30" < "31_60" < "61_90" < "not_due" < "over_90"), in groups (pivot, graph, grouped
    # lists and exports) as in sorted lists. Both orders go through these two methods.

    @api.model
    def _bucket_rank(self, expression):
        """SQL: the position of the bucket ``expression`` in age order (1 = not due)."""
        return SQL("array_position(%s::varchar[], %s::varchar)", list(aging.BUCKET_KEYS), expression)

    @api.model
    def _read_group_orderby(self, order, groupby_terms, query):
        if "bucket" in groupby_terms:
            groupby_terms = {**groupby_terms, "bucket": self._bucket_rank(groupby_terms["bucket"])}
        return super()._read_group_orderby(order, groupby_terms, query)

    @api.model
    def _order_field_to_sql(self, alias, field_name, direction, nulls, query):
        if field_name == "bucket":
            return SQL("%s %s %s", self._bucket_rank(self._field_to_sql(alias, field_name, query)), direction, nulls)
        return super()._order_field_to_sql(alias, field_name, direction, nulls, query)

    @property
    def _table_query(self):
        as_of = self.env.context.get("cobranza_as_of")
        as_of = fields.Date.to_date(as_of) if as_of else None
        today = fields.Date.context_today(self)
        day = as_of or today
        residual, residual_currency, later, was_open = receivable.residual_as_of(day, today)
        # what is left of an unapplied credit is the customer's, not overdue: it shows as not due
        days = SQL("(CASE WHEN %s < 0 THEN 0 ELSE %s::date - %s END)", residual, day, receivable.DUE_DATE)
        # One customer's statement or portal page needs its items only: the net allocation is computed
        # for those customers, not the company's (the domain still filters; this only narrows the work).
        customers = self.env.context.get("cobranza_aging_partner_ids")
        only = SQL("AND aml.partner_id = ANY(%s)", [int(pid) for pid in customers]) if customers else SQL()
        items = SQL(
            """
            SELECT aml.id, aml.id AS line_id, aml.company_id, aml.company_currency_id, aml.currency_id,
                   aml.partner_id, profile.collector_id, profile.segment, level.stage_id,
                   aml.cobranza_level_id AS level_id, aml.move_id, aml.move_name, aml.date,
                   %(due)s AS date_maturity, %(due)s AS due, %(day)s::date AS as_of,
                   GREATEST(%(days)s, 0) AS days_overdue,
                   %(bucket)s AS bucket,
                   %(residual)s AS amount_residual, %(residual)s AS residual,
                   %(residual_currency)s AS amount_residual_currency
              FROM %(receivable)s
              LEFT JOIN cobranza_credit_profile profile
                     ON profile.partner_id = aml.partner_id AND profile.company_id = aml.company_id
              LEFT JOIN cobranza_dunning_level level ON level.id = aml.cobranza_level_id
              %(later)s
             WHERE %(is_receivable)s AND %(was_open)s AND %(residual)s != 0 %(only)s
            """, only=only,
            due=receivable.DUE_DATE, day=day, days=days, bucket=receivable.bucket_case(days),
            residual=residual, residual_currency=residual_currency, receivable=receivable.RECEIVABLE_FROM,
            later=later, is_receivable=receivable.IS_RECEIVABLE, was_open=was_open,
        )
        return SQL(
            "SELECT item.*, item.net AS net_residual, %s FROM (%s) item",
            receivable.bucket_columns(SQL("item.net"), SQL("item.bucket")), receivable.with_net(items),
        )

    @api.model
    def _of_customers(self, partners):
        """This report computed for ``partners`` only (their statement, their portal page)."""
        return self.with_context(cobranza_aging_partner_ids=tuple(partners.commercial_partner_id.ids))

    @api.model
    def _open_as_of(self, as_of):
        """The aging analysis as it was at the end of ``as_of``."""
        action = self.env["ir.actions.act_window"]._for_xml_id("cobranza_mgmt.cobranza_aging_report_action")
        action["context"] = {"cobranza_as_of": fields.Date.to_string(as_of)}
        action["display_name"] = self.env._("Aging Analysis as of %(date)s", date=as_of)
        return action
