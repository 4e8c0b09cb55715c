from odoo import fields, models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    cobranza_level_id = fields.Many2one(
        "cobranza.dunning.level", string="Dunning Level", readonly=True, copy=False, index="btree_not_null",
        help="The last dunning level this receivable item reached.",
    )
    cobranza_level_date = fields.Date(string="Dunning Level Date", readonly=True, copy=False)

    def _cobranza_refresh_receivable_partners(self):
        """A payment or its reversal changed these lines: refresh their customers' profiles."""
        lines = self.filtered(lambda line: line.account_type == "asset_receivable" and line.partner_id)
        for company, company_lines in lines.grouped("company_id").items():
            self.env["cobranza.credit.profile"].sudo()._refresh_behaviour(
                companies=company, partners=company_lines.partner_id,
            )
