from odoo import api, models


class ReportCobranzaStatement(models.AbstractModel):
    _name = "report.cobranza_mgmt.report_cobranza_statement"
    _description = "Statement of Account"

    @api.model
    def _get_report_values(self, docids, data=None):
        partners = self.env["res.partner"].browse(docids)
        partners._cobranza_check_statement_access()
        return {"doc_ids": docids, "doc_model": "res.partner", "docs": partners}
