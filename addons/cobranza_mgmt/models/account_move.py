from contextlib import contextmanager
from contextvars import ContextVar

from odoo import api, fields, models
from odoo.exceptions import UserError

from .cobranza_access import check_collector, check_fields

# Invoices the module itself posts past the credit control (late fees, agreement interest):
# a Python-side flag, so no caller can set it over RPC as it could a context key.
_CREDIT_EXEMPT = ContextVar("cobranza_credit_exempt", default=frozenset())
DISPUTE_FIELDS = ("cobranza_is_disputed", "cobranza_dispute_reason", "cobranza_dispute_user_id",
                  "cobranza_dispute_date")


@contextmanager
def credit_exempt(moves):
    """Post ``moves`` inside this block without the credit control (the module's own documents)."""
    token = _CREDIT_EXEMPT.set(_CREDIT_EXEMPT.get() | frozenset(moves.ids))
    try:
        yield
    finally:
        _CREDIT_EXEMPT.reset(token)

NEAR_LIMIT_SHARE = 0.9


class AccountMove(models.Model):
    _name = "account.move"
    _inherit = ["account.move", "cobranza.credit.control.mixin"]

    cobranza_is_disputed = fields.Boolean(
        string="In Dispute", readonly=True, copy=False, tracking=True,
        help="The customer disputes this invoice: no reminder is sent until the dispute is resolved.",
    )
    cobranza_dispute_reason = fields.Text(string="Dispute Reason", readonly=True, copy=False)
    cobranza_dispute_user_id = fields.Many2one("res.users", string="Dispute Recorded By", readonly=True, copy=False)
    cobranza_dispute_date = fields.Datetime(string="Dispute Recorded On", readonly=True, copy=False)

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

    def write(self, vals):
        if any(name in vals for name in DISPUTE_FIELDS):
            check_fields(self, [name for name in vals if name in DISPUTE_FIELDS], ())
        return super().write(vals)

    def action_cobranza_set_dispute(self, reason):
        """Mark customer invoices as disputed (reason required): dunning skips them."""
        check_collector(self.env)
        if not (reason or "").strip():
            raise UserError(self.env._("Give the reason of the dispute."))
        invoices = self.filtered(lambda m: m.move_type == "out_invoice")
        if invoices != self:
            raise UserError(self.env._("Only customer invoices can be disputed."))
        invoices.check_access("write")
        invoices.sudo().write({
            "cobranza_is_disputed": True, "cobranza_dispute_reason": reason.strip(),
            "cobranza_dispute_user_id": self.env.uid, "cobranza_dispute_date": fields.Datetime.now(),
        })
        for invoice in invoices:
            invoice.message_post(body=self.env._("Dispute recorded by %(user)s: %(reason)s",
                                                 user=self.env.user.name, reason=reason))
        return True

    def action_cobranza_send_reminder_now(self):
        """Remind the customer of this invoice now (what is due, or its last level again)."""
        self.ensure_one()
        check_collector(self.env)
        self.check_access("write")
        if self.move_type != "out_invoice" or self.state != "posted":
            raise UserError(self.env._("Only posted customer invoices can be reminded."))
        self.env["cobranza.dunning"].sudo().with_company(self.company_id)._send_now(
            self.company_id, self.commercial_partner_id, move_ids=self.ids,
        )
        return True

    def action_cobranza_open_dispute_wizard(self):
        check_collector(self.env)
        return {
            "type": "ir.actions.act_window", "name": self.env._("Record a Dispute"),
            "res_model": "cobranza.dispute.wizard", "view_mode": "form", "target": "new",
            "context": {"default_move_ids": self.ids},
        }

    def action_cobranza_resolve_dispute(self):
        check_collector(self.env)
        disputed = self.filtered("cobranza_is_disputed")
        disputed.check_access("write")
        disputed.sudo().write({"cobranza_is_disputed": False})
        for invoice in disputed:
            invoice.message_post(body=self.env._("Dispute resolved by %(user)s.", user=self.env.user.name))
        return True

    def _cobranza_check_credit(self):
        """Refuse to post customer invoices of customers on hold or over their limit.

        Collections managers may post them anyway; the override is logged on the invoice.
        Draft invoices already count in the exposure, so nothing is added for this one.
        """
        exempt = _CREDIT_EXEMPT.get()
        invoices = self.filtered(
            lambda m: m.move_type == "out_invoice" and m.company_id.cobranza_block_posting and m.id not in exempt
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
