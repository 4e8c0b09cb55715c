import logging
from collections import defaultdict
from datetime import timedelta

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL
from odoo.tools.sql import create_unique_index

from ..logic import kpi
from .cobranza_access import check_manager
from .cobranza_aging_report import later_partials_join
from .cobranza_credit_profile import SEGMENT_SELECTION

_logger = logging.getLogger(__name__)

BUCKETS = ("not_due", "days_1_30", "days_31_60", "days_61_90", "days_over_90")
DIMENSIONS = [("company", "Company"), ("collector", "Collector"), ("segment", "Segment")]


class CobranzaKpi(models.AbstractModel):
    """Collection KPIs per company, collector and segment over a period (formulas in the README)."""

    _name = "cobranza.kpi"
    _description = "Collection KPIs"

    @api.model
    def _partner_figures(self, company, date_from, date_to, partner_ids=None):
        """One pass over the receivable items: per customer, every amount the KPIs and the aging need.

        :return: list of dicts (partner_id, collector_id, segment, opening, sales, closing, closing_current,
                 overdue_opening, overdue_opening_left, and the aging buckets at ``date_to``)
        """
        opening_day = date_from - timedelta(days=1)
        closing_is_today = date_to >= fields.Date.context_today(self)  # the stored residuals, as they are
        self.env.flush_all()
        partner_filter = SQL("AND aml.partner_id = ANY(%s)", list(partner_ids)) if partner_ids is not None else SQL()
        self.env.cr.execute(SQL(
            """
            SELECT item.partner_id, profile.collector_id, profile.segment, item.opening, item.sales, item.closing,
                   item.closing_current, item.overdue_opening, item.overdue_opening_left,
                   item.days_1_30, item.days_31_60, item.days_61_90, item.days_over_90
              FROM (
                SELECT line.partner_id,
                       SUM(line.opening_residual) FILTER (WHERE line.date <= %(opening_day)s) AS opening,
                       SUM(line.balance) FILTER (WHERE line.date >= %(date_from)s AND line.sale) AS sales,
                       SUM(line.closing_residual) AS closing,
                       SUM(line.closing_residual) FILTER (WHERE line.age <= 0) AS closing_current,
                       SUM(line.opening_residual) FILTER (WHERE line.overdue_at_opening) AS overdue_opening,
                       SUM(line.closing_residual) FILTER (WHERE line.overdue_at_opening) AS overdue_opening_left,
                       SUM(line.closing_residual) FILTER (WHERE line.age BETWEEN 1 AND 30) AS days_1_30,
                       SUM(line.closing_residual) FILTER (WHERE line.age BETWEEN 31 AND 60) AS days_31_60,
                       SUM(line.closing_residual) FILTER (WHERE line.age BETWEEN 61 AND 90) AS days_61_90,
                       SUM(line.closing_residual) FILTER (WHERE line.age > 90) AS days_over_90
                  FROM (
                    SELECT aml.partner_id, aml.date, aml.balance,
                           aml.journal_id = ANY(%(sale_journals)s) AS sale,
                           %(opening_residual)s AS opening_residual,
                           %(closing_residual)s AS closing_residual,
                           %(date_to)s - COALESCE(aml.date_maturity, aml.date) AS age,
                           aml.date <= %(opening_day)s
                               AND COALESCE(aml.date_maturity, aml.date) < %(opening_day)s AS overdue_at_opening
                      FROM account_move_line aml
                      JOIN account_account account ON account.id = aml.account_id
                      %(opening_join)s
                      %(closing_join)s
                     WHERE aml.company_id = %(company)s AND aml.parent_state = 'posted'
                       AND account.account_type = 'asset_receivable' AND aml.partner_id IS NOT NULL
                       AND aml.date <= %(date_to)s
                       AND (NOT aml.reconciled OR aml.date >= %(date_from)s OR opening_later.line_id IS NOT NULL)
                       %(partner_filter)s
                  ) line
                 GROUP BY line.partner_id
              ) item
              LEFT JOIN cobranza_credit_profile profile
                     ON profile.partner_id = item.partner_id AND profile.company_id = %(company)s
            """,
            company=company.id, date_from=date_from, date_to=date_to, opening_day=opening_day,
            opening_residual=SQL("(aml.amount_residual + COALESCE(opening_later.amount, 0))"),
            opening_join=later_partials_join(opening_day, "opening_later"),
            closing_residual=SQL("aml.amount_residual") if closing_is_today
            else SQL("(aml.amount_residual + COALESCE(closing_later.amount, 0))"),
            closing_join=SQL() if closing_is_today else later_partials_join(date_to, "closing_later"),
            partner_filter=partner_filter,
            sale_journals=self.env["account.journal"].sudo().search(
                [("company_id", "=", company.id), ("type", "=", "sale")]).ids or [0],
        ))
        names = ("partner_id", "collector_id", "segment", "opening", "sales", "closing", "closing_current",
                 "overdue_opening", "overdue_opening_left", "days_1_30", "days_31_60", "days_61_90",
                 "days_over_90")
        rows = []
        for values in self.env.cr.fetchall():
            row = dict(zip(names, values, strict=True))
            for name in names[3:]:
                row[name] = float(row[name] or 0.0)
            row["not_due"] = row["closing_current"]
            rows.append(row)
        return rows

    @api.model
    def _outcome_counts(self, company, date_from, date_to):
        """Promises and agreements settled in the period: {(dimension key): counts}, per customer."""
        self.env.cr.execute(SQL(
            """
            SELECT partner_id, SUM((state = 'kept')::int), SUM((state = 'broken')::int)
              FROM cobranza_promise
             WHERE company_id = %s AND promise_date BETWEEN %s AND %s AND state IN ('kept', 'broken')
             GROUP BY partner_id
            """, company.id, date_from, date_to,
        ))
        promises = {partner: (kept, broken) for partner, kept, broken in self.env.cr.fetchall()}
        self.env.cr.execute(SQL(
            """
            SELECT partner_id, SUM((state IN ('active', 'completed'))::int), SUM((state = 'broken')::int)
              FROM cobranza_agreement
             WHERE company_id = %s AND date <= %s AND state IN ('active', 'completed', 'broken')
             GROUP BY partner_id
            """, company.id, date_to,
        ))
        agreements = {partner: (kept, broken) for partner, kept, broken in self.env.cr.fetchall()}
        return promises, agreements

    @api.model
    def _aging_and_kpis(self, company, date_from, date_to):
        """Each customer's aging at ``date_to`` and the company's KPIs, from one pass over the items.

        :return: (rows of ``_partner_figures``, {kpi: value})
        """
        rows = self._partner_figures(company, date_from, date_to)
        return rows, self._compute(company, date_from, date_to, rows=rows).get(False, {})

    @api.model
    def _compute(self, company, date_from, date_to, dimension="company", *, collector=None, rows=None):
        """KPIs and aging of ``company`` over [date_from, date_to], per ``dimension``.

        :param collector: restrict to this collector's portfolio
        :param rows: ``_partner_figures`` already read for this period
        :return: {group key: {kpi: value, ..., buckets...}}; the key is False (company), a collector
                 id or a segment code
        """
        if rows is None:
            rows = self._partner_figures(company, date_from, date_to)
        promises, agreements = self._outcome_counts(company, date_from, date_to)
        profiles = {}
        if promises or agreements:
            self.env.cr.execute(SQL(
                "SELECT partner_id, collector_id, segment FROM cobranza_credit_profile WHERE company_id = %s",
                company.id,
            ))
            profiles = {partner: (coll, seg) for partner, coll, seg in self.env.cr.fetchall()}
        key_of = {
            "company": lambda collector_id, segment: False,
            "collector": lambda collector_id, segment: collector_id or False,
            "segment": lambda collector_id, segment: segment or False,
        }[dimension]
        empty = {
            "opening": 0.0, "sales": 0.0, "closing": 0.0, "closing_current": 0.0, "overdue_opening": 0.0,
            "overdue_opening_left": 0.0, "promises_kept": 0, "promises_broken": 0, "agreements_kept": 0,
            "agreements_broken": 0, **dict.fromkeys(BUCKETS, 0.0),
        }
        groups = defaultdict(lambda: {**empty, "balances": [], "overdue_balances": []})
        for row in rows:
            if collector is not None and row["collector_id"] != collector.id:
                continue
            group = groups[key_of(row["collector_id"], row["segment"])]
            for name in empty:
                if name in row:
                    group[name] += row[name]
            group["balances"].append(row["closing"])
            group["overdue_balances"].append(row["closing"] - row["closing_current"])
        for source, prefix in ((promises, "promises"), (agreements, "agreements")):
            for partner_id, (kept, broken) in source.items():
                collector_id, segment = profiles.get(partner_id, (None, None))
                if collector is not None and collector_id != collector.id:
                    continue
                group = groups[key_of(collector_id, segment)]
                group[f"{prefix}_kept"] += kept
                group[f"{prefix}_broken"] += broken
        days = (date_to - date_from).days + 1
        result = {}
        for key, figures in groups.items():
            result[key] = {**kpi.compute(figures, days), **{name: round(figures[name], 2) for name in BUCKETS}}
        return result

    @api.model
    def _compute_for_user(self, company, date_from, date_to, dimension="company"):
        """What the current user may see: managers every figure, a collector only their portfolio's."""
        if self.env.user.has_group("cobranza_mgmt.cobranza_mgmt_group_manager"):
            return self._compute(company, date_from, date_to, dimension)
        return self._compute(company, date_from, date_to, "collector", collector=self.env.user)

    # ------------------------------------------------------------------ monthly report

    @api.model
    def _previous_month(self, today):
        last = today.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last

    @api.model
    def _cron_mail_monthly_report(self):
        """Monthly: mail last month's KPI report (PDF) to the Collections managers of each company, once.

        The month sent is recorded on the company, so a second run (or a retried one) sends nothing.
        """
        today = fields.Date.context_today(self)
        date_from, date_to = self._previous_month(today)
        month = date_from.strftime("%Y-%m")
        template = self.env.ref("cobranza_mgmt.mail_template_kpi_report")
        managers = self.env.ref("cobranza_mgmt.cobranza_mgmt_group_manager").sudo().users
        for company in self.env["res.company"].sudo().search([]):  # pylint: disable=no-search-all
            if company.cobranza_kpi_report_month == month:
                continue
            recipients = managers.filtered(
                lambda user, c=company: c in user.company_ids and not user.share and user.partner_id.email
            )
            if not recipients:
                continue
            try:
                with self.env.cr.savepoint():
                    company_ctx = company.with_context(cobranza_date_from=date_from, cobranza_date_to=date_to)
                    content, extension = self.env["ir.actions.report"].with_context(
                        cobranza_date_from=date_from, cobranza_date_to=date_to,
                    )._render_qweb_pdf("cobranza_mgmt.action_report_cobranza_kpi", company.ids)
                    attachment = self.env["ir.attachment"].sudo().create({
                        "name": f"{self.env._('Collections KPIs')} {month}.{extension}",
                        "raw": content, "res_model": "res.company", "res_id": company.id,
                        "mimetype": "application/pdf" if extension == "pdf" else "text/html",
                    })
                    template.with_context(cobranza_month=month).send_mail(
                        company_ctx.id, email_layout_xmlid="mail.mail_notification_light",
                        email_values={"recipient_ids": [Command.link(pid) for pid in recipients.partner_id.ids],
                                      "attachment_ids": [Command.link(attachment.id)]},
                    )
                    company.cobranza_kpi_report_month = month
            except Exception as error:  # noqa: BLE001 - one company's failure must not stop the others
                _logger.warning("Collections: KPI report of %s failed: %s", company.name, error)
        return True


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
    top10_share = fields.Float(string="Top-10 Share (%)", readonly=True, aggregator="avg", digits=(16, 2))
    hhi = fields.Float(string="Herfindahl Index", readonly=True, aggregator="avg", digits=(16, 4))
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
            for dimension, _label in DIMENSIONS:
                for key, values in Kpi._compute(company, date_from, company_day, dimension).items():
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


class ReportCobranzaKpi(models.AbstractModel):
    _name = "report.cobranza_mgmt.report_cobranza_kpi"
    _description = "Collections KPI Report"

    @api.model
    def _get_report_values(self, docids, data=None):
        """Company-wide figures are for Collections Managers of those companies; the monthly cron
        renders them as superuser. Checked here, whatever route asked for the report."""
        companies = self.env["res.company"].browse(docids)
        if not self.env.su:
            check_manager(self.env)
            foreign = companies - self.env.user.company_ids
            if foreign:
                raise AccessError(self.env._("You have no access to the collections figures of %(companies)s.",
                                             companies=", ".join(foreign.mapped("name"))))
        context = self.env.context
        Kpi = self.env["cobranza.kpi"]
        today = fields.Date.context_today(self)
        default_from, default_to = Kpi._previous_month(today)
        date_from = fields.Date.to_date(context.get("cobranza_date_from")) or default_from
        date_to = fields.Date.to_date(context.get("cobranza_date_to")) or default_to
        segments = dict(SEGMENT_SELECTION)
        report_kpis = {}
        for company in companies:
            rows = []
            for dimension, _label in DIMENSIONS:
                for key, values in sorted(Kpi.sudo()._compute(company, date_from, date_to, dimension).items(),
                                          key=lambda item: str(item[0])):
                    if dimension == "company":
                        label = self.env._("Whole company")
                    elif dimension == "collector":
                        label = self.env["res.users"].browse(key).name if key else self.env._("No collector")
                    else:
                        label = self.env._("Segment %(segment)s", segment=segments.get(key, key)) if key \
                            else self.env._("No segment")
                    rows.append({"label": label, **values})
            report_kpis[company.id] = rows
        return {"doc_ids": docids, "doc_model": "res.company", "docs": companies, "report_kpis": report_kpis,
                "date_from": date_from, "date_to": date_to}
