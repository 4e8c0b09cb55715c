from odoo import fields, models


class CobranzaAgreementDecline(models.TransientModel):
    """Decline a customer's request for installments, with the reason the customer reads."""

    _name = "cobranza.agreement.decline"
    _description = "Decline a Request for Installments"

    agreement_id = fields.Many2one("cobranza.agreement", required=True, readonly=True, ondelete="cascade")
    reason = fields.Text(required=True)

    def action_confirm(self):
        self.ensure_one()
        self.agreement_id.action_decline(self.reason)
        return {"type": "ir.actions.act_window_close"}
