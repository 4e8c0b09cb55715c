from odoo import models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    def _cobranza_refresh_receivable_partners(self):
        """A payment or its reversal changed these lines: refresh their customers' profiles."""
        lines = self.filtered(lambda line: line.account_type == "asset_receivable" and line.partner_id)
        for company, company_lines in lines.grouped("company_id").items():
            self.env["cobranza.credit.profile"].sudo()._refresh_behaviour(
                companies=company, partners=company_lines.partner_id,
            )
