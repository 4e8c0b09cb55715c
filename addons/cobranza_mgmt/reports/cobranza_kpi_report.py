from odoo import api, fields, models
from odoo.exceptions import AccessError

from ..models.cobranza_access import check_manager
from ..models.cobranza_credit_profile import SEGMENT_SELECTION
from ..models.cobranza_kpi import DIMENSIONS


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
            computed = Kpi.sudo()._compute_all(company, date_from, date_to)
            for dimension, _label in DIMENSIONS:
                for key, values in sorted(computed[dimension].items(), key=lambda item: str(item[0])):
                    if dimension == "company":
                        label = self.env._("Whole company")
                    elif dimension == "collector":
                        label = self.env["res.users"].browse(key).name if key else self.env._("No collector")
                    else:
                        label = self.env._("Segment %(segment)s", segment=segments.get(key, key)) if key \
                            else self.env._("No segment")
                    rows.append({"label": label, **values, "shown": self._shown(values)})
            report_kpis[company.id] = rows
        return {"doc_ids": docids, "doc_model": "res.company", "docs": companies, "report_kpis": report_kpis,
                "date_from": date_from, "date_to": date_to}

    @api.model
    def _shown(self, values):
        """The KPI figures as the report prints them: "No data" where nothing could be measured
        (no sales, nothing overdue, no promise or agreement due), never a misleading 0 %."""
        no_data = self.env._("No data")
        return {
            name: no_data if values[name] is None else f"{values[name]:.{4 if name == 'hhi' else 1}f}"
            for name in ("dso", "best_dso", "add", "cei", "recovery_rate", "promise_kept_rate",
                         "agreement_compliance_rate", "top10_share", "hhi")
        }
