import logging
from collections import defaultdict
from datetime import timedelta

from odoo import Command, api, fields, models
from odoo.tools import SQL

from ..logic import aging, kpi
from . import cobranza_receivable as receivable

_logger = logging.getLogger(__name__)

BUCKETS = tuple(aging.BUCKET_COLUMNS.values())
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
        today = fields.Date.context_today(self)
        digits = company.currency_id.decimal_places  # read now: an ORM read between execute and fetch loses the rows
        self.env.flush_all()
        partner_filter = SQL("AND aml.partner_id = ANY(%s)", list(partner_ids)) if partner_ids is not None else SQL()
        opening_residual, _currency, opening_join, _open = receivable.residual_as_of(opening_day, today, "opening")
        closing_residual, _currency, closing_join, _open = receivable.residual_as_of(date_to, today, "closing")
        # An item paid in full before the period has nothing for it: read only what was open at the
        # opening day (a later partial) or is still open, or was made during the period.
        was_open = SQL("opening.line_id IS NOT NULL") if opening_join else SQL("FALSE")
        sale_journals = self.env["account.journal"].sudo().search(
            [("company_id", "=", company.id), ("type", "=", "sale")]).ids or [0]
        self.env.cr.execute(SQL(
            """
            SELECT item.partner_id, profile.collector_id, profile.segment, item.opening, item.sales, item.closing,
                   item.overdue_opening, item.overdue_opening_left, item.discounts_granted, %(bucket_names)s,
                   item.credits
              FROM (
                SELECT line.partner_id,
                       SUM(line.opening_residual) FILTER (WHERE line.date <= %(opening_day)s) AS opening,
                       SUM(line.balance) FILTER (WHERE line.date >= %(date_from)s AND line.sale) AS sales,
                       SUM(line.closing_residual) AS closing,
                       SUM(line.opening_residual) FILTER (WHERE line.overdue_at_opening) AS overdue_opening,
                       SUM(line.closing_residual) FILTER (WHERE line.overdue_at_opening) AS overdue_opening_left,
                       SUM(line.early) FILTER (WHERE line.date >= %(date_from)s AND line.sale) AS discounts_granted,
                       -- the aging is net (README): debits by bucket here, the credits that pay the
                       -- oldest first are taken off them below (a bucket's items are all older than the next's)
                       %(bucket_sums)s,
                       SUM(line.closing_residual) FILTER (WHERE line.closing_residual < 0) AS credits
                  FROM (%(lines)s) line
                 GROUP BY line.partner_id
              ) item
              LEFT JOIN cobranza_credit_profile profile
                     ON profile.partner_id = item.partner_id AND profile.company_id = %(company)s
            """,
            lines=SQL(
                """
                    SELECT aml.partner_id, aml.date, aml.balance::float8 AS balance,
                           aml.journal_id = ANY(%(sale_journals)s) AS sale,
                           CASE WHEN aml.discount_date IS NOT NULL
                                THEN (aml.balance - aml.discount_balance)::float8 ELSE 0 END AS early,
                           %(opening_residual)s::float8 AS opening_residual,
                           %(closing_residual)s::float8 AS closing_residual,
                           %(date_to)s - %(due)s AS age,
                           aml.date <= %(opening_day)s AND %(due)s < %(opening_day)s AS overdue_at_opening
                      FROM %(receivable)s
                      %(opening_join)s
                      %(closing_join)s
                     WHERE aml.company_id = %(company)s AND %(is_receivable)s
                       AND aml.date <= %(date_to)s
                       AND (NOT aml.reconciled OR aml.date >= %(date_from)s OR %(was_open)s)
                       %(partner_filter)s
                """,
                company=company.id, date_from=date_from, date_to=date_to, opening_day=opening_day,
                opening_residual=opening_residual, opening_join=opening_join,
                closing_residual=closing_residual, closing_join=closing_join, was_open=was_open,
                receivable=receivable.RECEIVABLE_FROM, is_receivable=receivable.IS_RECEIVABLE,
                due=receivable.DUE_DATE, partner_filter=partner_filter,
                sale_journals=sale_journals,
            ),
            company=company.id, date_from=date_from, opening_day=opening_day,
            bucket_sums=receivable.bucket_sums(SQL("GREATEST(line.closing_residual, 0)"), SQL("line.age")),
            bucket_names=SQL(", ").join(SQL("item.%s", SQL.identifier(name)) for name in BUCKETS),
        ))
        names = ("partner_id", "collector_id", "segment", "opening", "sales", "closing",
                 "overdue_opening", "overdue_opening_left", "discounts_granted", *BUCKETS, "credits")
        rows = []
        for values in self.env.cr.fetchall():
            row = dict(zip(names, values, strict=True))
            for name in names[3:]:
                # summed as float8 (numeric sums cost the pass a third more): back to the currency's
                # precision, so a customer whose items cancel out has 0, not 1e-17
                row[name] = round(row[name] or 0.0, digits)
            aging.net_buckets(row, -row.pop("credits"), BUCKETS)
            for name in BUCKETS:
                row[name] = round(row[name], digits)
            row["closing_current"] = row["not_due"]
            rows.append(row)
        return rows

    @api.model
    def _discounts_taken(self, company, date_from, date_to):
        """{customer: early-payment discounts it deducted when paying in the period}: the write-offs Odoo
        books on the company's cash-discount loss account when a payment uses the discount."""
        account = company.account_journal_early_pay_discount_loss_account_id
        if not account:
            return {}
        self.env.cr.execute(SQL(
            """
            SELECT partner_id, SUM(balance)::float8 FROM account_move_line
             WHERE company_id = %s AND account_id = %s AND parent_state = 'posted' AND partner_id IS NOT NULL
               AND date BETWEEN %s AND %s
             GROUP BY partner_id
            """, company.id, account.id, date_from, date_to,
        ))
        return dict(self.env.cr.fetchall())

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
    def _compute_all(self, company, date_from, date_to, *, collector=None):
        """KPIs and aging of ``company`` over [date_from, date_to] for every dimension, from one pass
        over the receivable items: what the snapshot cron, the KPI report and the screens use.

        :param collector: restrict to this collector's portfolio
        :return: {dimension: {group key: {kpi: value, ..., buckets...}}}; the key is False (company),
                 a collector id or a segment code (False: customers without one)
        """
        rows = self._partner_figures(company, date_from, date_to)
        promises, agreements = self._outcome_counts(company, date_from, date_to)
        taken = self._discounts_taken(company, date_from, date_to)
        ladders = self.env["cobranza.dunning.ladder"].sudo()._for_customers(
            company, [row["partner_id"] for row in rows])
        incentive = {partner_id for partner_id, ladder in ladders.items() if ladder.incentive_term_id}
        profiles = {}
        if promises or agreements:
            self.env.cr.execute(SQL(
                "SELECT partner_id, collector_id, segment FROM cobranza_credit_profile WHERE company_id = %s",
                company.id,
            ))
            profiles = {partner: (coll, seg) for partner, coll, seg in self.env.cr.fetchall()}
        empty = {
            "opening": 0.0, "sales": 0.0, "closing": 0.0, "closing_current": 0.0, "overdue_opening": 0.0,
            "overdue_opening_left": 0.0, "promises_kept": 0, "promises_broken": 0, "agreements_kept": 0,
            "agreements_broken": 0, "discounts_granted": 0.0, "discounts_taken": 0.0, "closing_incentive": 0.0,
            "sales_incentive": 0.0, "closing_other": 0.0, "sales_other": 0.0, **dict.fromkeys(BUCKETS, 0.0),
        }
        groups = {dimension: defaultdict(lambda: {**empty, "balances": [], "overdue_balances": []})
                  for dimension, _label in DIMENSIONS}

        def groups_of(collector_id, segment):
            return (groups["company"][False], groups["collector"][collector_id or False],
                    groups["segment"][segment or False])

        for row in rows:
            if collector is not None and row["collector_id"] != collector.id:
                continue
            side = "incentive" if row["partner_id"] in incentive else "other"
            figures = {**row, "discounts_taken": round(taken.get(row["partner_id"], 0.0), 2),
                       f"closing_{side}": row["closing"], f"sales_{side}": row["sales"]}
            for group in groups_of(row["collector_id"], row["segment"]):
                for name in empty:
                    if name in figures:
                        group[name] += figures[name]
                group["balances"].append(row["closing"])
                group["overdue_balances"].append(row["closing"] - row["closing_current"])
        for source, prefix in ((promises, "promises"), (agreements, "agreements")):
            for partner_id, (kept, broken) in source.items():
                collector_id, segment = profiles.get(partner_id, (None, None))
                if collector is not None and collector_id != collector.id:
                    continue
                for group in groups_of(collector_id, segment):
                    group[f"{prefix}_kept"] += kept
                    group[f"{prefix}_broken"] += broken
        days = (date_to - date_from).days + 1
        return {
            dimension: {
                key: {**kpi.compute(figures, days), **{name: round(figures[name], 2) for name in BUCKETS}}
                for key, figures in dimension_groups.items()
            }
            for dimension, dimension_groups in groups.items()
        }

    @api.model
    def _compute(self, company, date_from, date_to, dimension="company", *, collector=None):
        """KPIs and aging of ``company`` over [date_from, date_to] for one ``dimension`` (see ``_compute_all``)."""
        return self._compute_all(company, date_from, date_to, collector=collector)[dimension]

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


