from odoo import api, models


class AccountPartialReconcile(models.Model):
    _inherit = "account.partial.reconcile"

    @api.model_create_multi
    def create(self, vals_list):
        partials = super().create(vals_list)
        self.env["cobranza.profile.refresh"].sudo()._mark_lines(partials.debit_move_id)
        self.env["cobranza.agreement"]._refresh_for_moves(partials.debit_move_id.move_id)
        return partials

    def unlink(self):
        lines = self.debit_move_id
        result = super().unlink()
        lines = lines.exists()
        self.env["cobranza.profile.refresh"].sudo()._mark_lines(lines)
        self.env["cobranza.agreement"]._refresh_for_moves(lines.move_id)
        return result
