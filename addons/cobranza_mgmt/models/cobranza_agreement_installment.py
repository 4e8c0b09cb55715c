from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .cobranza_access import check_fields


class CobranzaAgreementInstallment(models.Model):
    _name = "cobranza.agreement.installment"
    _description = "Payment Agreement Installment"
    _order = "agreement_id, sequence, id"

    agreement_id = fields.Many2one("cobranza.agreement", required=True, index=True, ondelete="cascade")
    partner_id = fields.Many2one(related="agreement_id.partner_id", store=True, index=True)
    company_id = fields.Many2one(related="agreement_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="agreement_id.currency_id")
    sequence = fields.Integer(string="No.", required=True, default=1)
    is_down_payment = fields.Boolean(string="Down Payment")
    due_date = fields.Date(required=True)
    principal = fields.Monetary(required=True)
    interest = fields.Monetary()
    amount = fields.Monetary(required=True)
    paid_amount = fields.Monetary(readonly=True)
    residual_amount = fields.Monetary(compute="_compute_residual_amount", string="Left to Pay")
    state = fields.Selection(
        [("open", "Open"), ("partial", "Partially Paid"), ("paid", "Paid"), ("overdue", "Overdue")],
        default="open", required=True, readonly=True,
    )
    reminder_sent = fields.Boolean(readonly=True, copy=False)
    overdue_notice_sent = fields.Boolean(readonly=True, copy=False)

    _USER_FIELDS = ("sequence", "is_down_payment", "due_date", "principal", "interest", "amount")

    @api.model_create_multi
    def create(self, vals_list):
        installments = super().create(vals_list)
        if not self.env.su:
            for vals in vals_list:
                check_fields(self, vals, ("agreement_id", *self._USER_FIELDS))
            installments._check_draft()
        return installments

    def write(self, vals):
        if not self.env.su:
            check_fields(self, vals, self._USER_FIELDS)
            self._check_draft()
        return super().write(vals)

    def unlink(self):
        if not self.env.su:
            self._check_draft()
        return super().unlink()

    def _check_draft(self):
        if self.agreement_id.filtered(lambda a: a.state != "draft"):
            raise ValidationError(self.env._("Only the schedule of a draft agreement can be changed."))

    @api.depends("amount", "paid_amount")
    def _compute_residual_amount(self):
        for installment in self:
            installment.residual_amount = installment.amount - installment.paid_amount
