from odoo import fields, models


class CobranzaInterestReverse(models.TransientModel):
    """Reverse a late-payment interest invoice, with the reason kept on its chatter and the customer's."""

    _name = "cobranza.interest.reverse"
    _description = "Reverse Late-Payment Interest"

    move_id = fields.Many2one("account.move", string="Interest Invoice", required=True, readonly=True,
                              ondelete="cascade")
    reason = fields.Text(required=True)

    def action_confirm(self):
        self.ensure_one()
        credit_note = self.move_id._cobranza_reverse_interest(self.reason)
        return {
            "type": "ir.actions.act_window", "res_model": "account.move", "res_id": credit_note.id,
            "view_mode": "form", "views": [(False, "form")],
        }
