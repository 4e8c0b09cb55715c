from odoo import fields, models


class CobranzaDisputeWizard(models.TransientModel):
    _name = "cobranza.dispute.wizard"
    _description = "Record a Dispute"

    move_ids = fields.Many2many("account.move", string="Invoices", required=True,
                                domain=[("move_type", "=", "out_invoice"), ("state", "=", "posted")])
    reason = fields.Text(required=True)

    def action_confirm(self):
        self.ensure_one()
        self.move_ids._cobranza_set_dispute(self.reason)
        return {"type": "ir.actions.act_window_close"}
