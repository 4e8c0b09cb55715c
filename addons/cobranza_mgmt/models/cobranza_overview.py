from datetime import timedelta

from odoo import api, models

from ..logic import aging
from .cobranza_access import check_collector, is_manager

# The overview's KPI cards: (key of the KPI set, label, unit, whether lower is better)
CARDS = (
    ("dso", "DSO", "days", True),
    ("cei", "CEI", "%", False),
    ("recovery_rate", "Recovery Rate", "%", False),
    ("overdue_share", "Overdue Share", "%", True),
    ("delinquent_accounts", "Delinquent Accounts", "", True),
)
PERIOD_DAYS = 30
TREND_MONTHS = 12
TOP_DEBTORS = 5


class CobranzaOverview(models.AbstractModel):
    """The Collections app's first screen: how collections are doing and what needs doing today.

    Everything comes from what the rest of the module already computes and guards: the KPI set of
    ``cobranza.kpi`` (one pass over the receivables per period), the daily KPI snapshots for the trend,
    and ORM searches under the record rules for the debtors and today's work. A Collections Manager sees
    the company (and its figures by collector and by segment); a collector their own portfolio.
    """

    _name = "cobranza.overview"
    _description = "Collections Overview"

    @api.model
    def get_overview(self):
        """What the overview shows, for the current user and company (see the class)."""
        check_collector(self.env)
        company = self.env.company
        today = company._cobranza_today()
        manager = is_manager(self.env)
        Kpi = self.env["cobranza.kpi"].sudo()  # raw SQL over the company; the scope is applied just below
        current_from, previous_to = today - timedelta(days=PERIOD_DAYS - 1), today - timedelta(days=PERIOD_DAYS)
        previous_from = previous_to - timedelta(days=PERIOD_DAYS - 1)
        current_all = Kpi._compute_all(company, current_from, today, collector=None if manager else self.env.user)
        previous_all = Kpi._compute_all(company, previous_from, previous_to,
                                        collector=None if manager else self.env.user)
        scope = ("company", False) if manager else ("collector", self.env.user.id)
        current = current_all[scope[0]].get(scope[1]) or {}
        previous = previous_all[scope[0]].get(scope[1]) or {}
        trend = self._trend(company, today, scope)
        labels = {
            "DSO": self.env._("DSO"), "CEI": self.env._("CEI"), "Recovery Rate": self.env._("Recovery Rate"),
            "Overdue Share": self.env._("Overdue Share"), "Delinquent Accounts": self.env._("Delinquent Accounts"),
        }
        units = {"days": self.env._("days"), "%": "%", "": ""}
        bucket_labels = dict(self.env["cobranza.aging.report"]._fields["bucket"]._description_selection(self.env))
        return {
            "scope": "company" if manager else "portfolio",
            "company": company.name,
            "currency": {"symbol": company.currency_id.symbol, "position": company.currency_id.position,
                         "digits": company.currency_id.decimal_places},
            "date_from": current_from, "date_to": today,
            "previous_from": previous_from, "previous_to": previous_to,
            "cards": [{
                "key": key, "label": labels[label], "unit": units[unit], "lower_is_better": lower,
                "value": current.get(key), "previous": previous.get(key),
                "trend": [{"month": month, "value": values.get(key)} for month, values in trend],
            } for key, label, unit, lower in CARDS],
            "aging": [{"bucket": bucket, "label": bucket_labels[bucket],
                       "amount": current.get(aging.BUCKET_COLUMNS[bucket], 0.0)} for bucket in aging.BUCKET_KEYS],
            "top_debtors": self._top_debtors(company),
            "work": self._work(company, today, manager),
            "by_collector": self._breakdown(current_all["collector"], "collector") if manager else [],
            "by_segment": self._breakdown(current_all["segment"], "segment") if manager else [],
        }

    @api.model
    def _trend(self, company, today, scope):
        """[(first day of the month, KPI values)] of the last snapshot of each of the last 12 months."""
        dimension, key = scope
        domain = [("company_id", "=", company.id), ("dimension", "=", dimension),
                  ("date", ">=", (today.replace(day=1) - timedelta(days=31 * (TREND_MONTHS - 1))).replace(day=1))]
        if dimension == "collector":
            domain.append(("collector_id", "=", key))
        fields = [name for name, *_rest in CARDS]
        last = {}
        for snapshot in self.env["cobranza.kpi.snapshot"].search_read(domain, ["date", *fields], order="date"):
            last[snapshot["date"].replace(day=1)] = {name: snapshot[name] for name in fields}
        return sorted(last.items())[-TREND_MONTHS:]

    @api.model
    def _top_debtors(self, company):
        profiles = self.env["cobranza.credit.profile"].search(
            [("company_id", "=", company.id), ("overdue_amount", ">", 0)], order="overdue_amount desc, id",
            limit=TOP_DEBTORS,
        )
        return [{"profile_id": profile.id, "partner_id": profile.partner_id.id, "name": profile.partner_id.name,
                 "overdue": profile.overdue_amount, "days": profile.max_days_overdue} for profile in profiles]

    @api.model
    def _breakdown(self, groups, dimension):
        """Rows of the KPI set by collector or segment (those with receivables), largest first."""
        if dimension == "collector":
            names = {user.id: user.name for user in self.env["res.users"].sudo().browse(
                [key for key in groups if key]).exists()}
        else:
            names = dict(self.env["cobranza.credit.profile"]._fields["segment"]._description_selection(self.env))
        rows = [{"key": key, "name": names.get(key) or self.env._("None"),
                 **{name: values.get(name) for name in ("receivables", "overdue", "dso", "cei", "overdue_share")}}
                for key, values in groups.items() if values.get("receivables")]
        return sorted(rows, key=lambda row: -(row["receivables"] or 0.0))

    @api.model
    def _work(self, company, today, manager):
        """Today's work: counts, each with the action that opens the filtered list."""
        yesterday, week_end = today - timedelta(days=1), today + timedelta(days=6)
        # call tasks due: on the customer (reminder levels, promises) or on an agreement (broken)
        calls = self.env["mail.activity"].search([
            ("res_model", "in", ("res.partner", "cobranza.agreement")), ("date_deadline", "<=", today),
            ("activity_type_id", "=", self.env.ref("mail.mail_activity_data_call").id),
            *([] if manager else [("user_id", "=", self.env.uid)]),
        ])
        by_model = calls.grouped("res_model")
        called = set(by_model.get("res.partner", calls.browse()).mapped("res_id"))
        agreements = by_model.get("cobranza.agreement", calls.browse())
        called |= set(self.env["cobranza.agreement"].browse(agreements.mapped("res_id")).exists().partner_id.ids)
        # customers of this company's collections the user may see (record rules), not every call in Odoo
        to_call = self.env["cobranza.credit.profile"].search([
            ("company_id", "=", company.id), ("partner_id", "in", list(called)),
        ]).partner_id
        in_company = [("company_id", "=", company.id)]
        installments = self.env["cobranza.agreement.installment"].search([
            ("agreement_id.company_id", "=", company.id), ("agreement_id.state", "=", "active"),
            ("state", "in", ("open", "partial", "overdue")), ("due_date", ">=", today), ("due_date", "<=", week_end),
        ])

        def item(key, label, model, domain, count=None):
            count = self.env[model].search_count(domain) if count is None else count
            return {"key": key, "label": label, "count": count, "action": {
                "type": "ir.actions.act_window", "name": label, "res_model": model, "domain": domain,
                "views": [[False, "list"], [False, "form"]], "target": "current",
            }}

        reminders = (("queued", self.env._("Reminders queued today")), ("sent", self.env._("Reminders sent today")),
                     ("failed", self.env._("Reminders failed today")))
        return [
            item("calls", self.env._("Customers to call"), "res.partner", [("id", "in", to_call.ids)],
                 count=len(to_call)),
            item("promises_today", self.env._("Promises due today"), "cobranza.promise",
                 [*in_company, ("state", "=", "open"), ("promise_date", "=", today)]),
            item("promises_broken", self.env._("Promises broken yesterday"), "cobranza.promise",
                 [*in_company, ("state", "=", "broken"), ("promise_date", "=", yesterday)]),
            item("installments", self.env._("Agreements with an installment due this week"),
                 "cobranza.agreement",
                 [("id", "in", installments.agreement_id.ids)], count=len(installments.agreement_id)),
            *(item(f"reminders_{state}", label, "cobranza.communication",
                   [*in_company, ("date", "=", today), ("state", "=", state)]) for state, label in reminders),
        ]
