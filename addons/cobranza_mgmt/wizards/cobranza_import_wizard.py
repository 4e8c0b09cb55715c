import base64

from odoo import api, fields, models
from odoo.exceptions import UserError


class CobranzaImportWizard(models.TransientModel):
    """Upload a bank collection file: it is read (at once, or in the background when large),
    matched, and opened as an import in preview; nothing is posted until the user confirms."""

    _name = "cobranza.import.wizard"
    _description = "Import Bank Collections"
    _check_company_auto = True

    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    profile_id = fields.Many2one("cobranza.import.profile", string="File Profile", required=True, check_company=True,
                                 default=lambda self: self._default_profile())
    journal_id = fields.Many2one("account.journal", string="Bank Journal", required=True, check_company=True,
                                 domain="[('type', 'in', ('bank', 'cash'))]")
    file = fields.Binary(required=True, attachment=False)
    file_name = fields.Char()

    def _default_profile(self):
        journal_id = self.env.context.get("default_journal_id")
        domain = [("company_id", "=", self.env.company.id)]
        if journal_id:
            profile = self.env["cobranza.import.profile"].search([*domain, ("journal_id", "=", journal_id)], limit=1)
            if profile:
                return profile
        return self.env["cobranza.import.profile"].search(domain, limit=1)

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if self.env.context.get("active_model") == "account.journal" and self.env.context.get("active_id"):
            journal = self.env["account.journal"].browse(self.env.context["active_id"])
            if journal.type in ("bank", "cash"):
                values["journal_id"] = journal.id
        return values

    @api.onchange("profile_id")
    def _onchange_profile_id(self):
        if self.profile_id.journal_id and not self.journal_id:
            self.journal_id = self.profile_id.journal_id

    def action_import(self):
        self.ensure_one()
        if not self.file:
            raise UserError(self.env._("Choose the file to import."))
        batch = self.env["cobranza.import.batch"]._start(
            self.profile_id, self.journal_id, base64.b64decode(self.file), self.file_name,
        )
        return {
            "type": "ir.actions.act_window", "res_model": "cobranza.import.batch", "res_id": batch.id,
            "view_mode": "form", "target": "current",
        }
