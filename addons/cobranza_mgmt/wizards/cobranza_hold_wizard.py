from odoo import fields, models


class CobranzaHoldWizard(models.TransientModel):
    _name = "cobranza.hold.wizard"
    _description = "Set a Credit Hold"

    profile_id = fields.Many2one("cobranza.credit.profile", string="Customer", required=True)
    reason = fields.Text(required=True)

    def action_confirm(self):
        self.ensure_one()
        self.profile_id._hold_by_hand(self.reason)
        return {"type": "ir.actions.act_window_close"}
