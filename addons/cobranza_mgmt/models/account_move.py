from odoo import api, fields, models

NEAR_LIMIT_SHARE = 0.9


class AccountMove(models.Model):
    _name = "account.move"
    _inherit = ["account.move", "cobranza.credit.control.mixin"]

    cobranza_credit_banner = fields.Char(
        string="Credit Warning", compute="_compute_cobranza_credit_banner",
        help="Warning shown on a customer invoice whose customer is on credit hold or near its limit.",
    )

    @api.depends("partner_id", "move_type", "state", "amount_total_signed", "company_id")
    def _compute_cobranza_credit_banner(self):
        self.cobranza_credit_banner = False
        invoices = self.filtered(lambda m: m.move_type == "out_invoice" and m.partner_id and m.state == "draft")
        for company, moves in invoices.grouped("company_id").items():
            partners = moves.partner_id.commercial_partner_id
            problems = partners._cobranza_credit_problems(company)
            exposures = partners._cobranza_exposure(company)
            for move in moves:
                partner = move.partner_id.commercial_partner_id
                limit = partner.with_company(company).credit_limit
                exposure = exposures.get(partner.id, 0.0)
                if partner.id in problems:
                    move.cobranza_credit_banner = problems[partner.id]
                elif company.account_use_credit_limit and limit and exposure >= NEAR_LIMIT_SHARE * limit:
                    move.cobranza_credit_banner = self.env._(
                        "%(partner)s is near its credit limit: exposure %(exposure)s of %(limit)s.",
                        partner=partner.name, exposure=company.currency_id.format(exposure),
                        limit=company.currency_id.format(limit),
                    )

    def _cobranza_check_credit(self):
        """Refuse to post customer invoices of customers on hold or over their limit.

        Collections managers may post them anyway; the override is logged on the invoice.
        Draft invoices already count in the exposure, so nothing is added for this one.
        """
        invoices = self.filtered(
            lambda m: m.move_type == "out_invoice" and m.company_id.cobranza_block_posting
        )
        for company, moves in invoices.grouped("company_id").items():
            moves._cobranza_enforce_credit(company, lambda move, problem: self.env._(
                "Invoice %(invoice)s cannot be posted. %(problem)s Ask a Collections Manager.",
                invoice=move.display_name, problem=problem,
            ))

    def _post(self, soft=True):
        self._cobranza_check_credit()
        posted = super()._post(soft=soft)
        posted._cobranza_refresh_partners()
        return posted

    def button_draft(self):
        result = super().button_draft()
        self._cobranza_refresh_partners()
        return result

    def button_cancel(self):
        result = super().button_cancel()
        self._cobranza_refresh_partners()
        return result

    def _cobranza_refresh_partners(self):
        """Refresh the credit profiles of the customers whose picture these moves change."""
        receivable = self.filtered(lambda m: m.is_sale_document(include_receipts=True))
        for company, moves in receivable.grouped("company_id").items():
            self.env["cobranza.credit.profile"].sudo()._refresh_behaviour(
                companies=company, partners=moves.partner_id.commercial_partner_id,
            )
