from odoo import api, fields, models
from odoo.exceptions import AccessError

from ..models.cobranza_access import check_manager
from ..models.res_company import ResCompany

# The company's collections policy, as Collections › Configuration › Settings edits it. Each is a
# field of res.company; the screen holds a copy and saves them all in one write, so the company's
# constraints judge the final policy (interest rate, ceiling, start day and product together), never
# a half-saved one.
POLICY_FIELDS = (
    "cobranza_grace_days", "cobranza_promise_max_days", "cobranza_contact_interval_days",
    "cobranza_preventive_apart", "cobranza_retry_hours", "cobranza_formal_days", "cobranza_judicial_days",
    "cobranza_block_posting", "cobranza_auto_hold_days", "cobranza_auto_hold_over_limit",
    "cobranza_collector_import", "cobranza_portal_link_days", "cobranza_whatsapp_number",
    "cobranza_portal_promise_min_percent", "cobranza_portal_promise_max_open", "cobranza_late_fee_product_id",
    "cobranza_interest_rate", "cobranza_interest_ceiling", "cobranza_interest_from", "cobranza_interest_period",
    "cobranza_interest_product_id", "cobranza_agreement_interest_product_id",
    "cobranza_segment_b_score", "cobranza_segment_c_score", "cobranza_segment_d_score",
)
_COPIED = ("comodel_name", "string", "help", "selection", "digits", "size")


def _copy_of(name):
    """A plain field like the company's (same type, label, help and choices), without its storage."""
    company_field = getattr(ResCompany, name)
    return type(company_field)(**{key: value for key, value in company_field.args.items() if key in _COPIED})


class CobranzaSettings(models.TransientModel):
    """Collections › Configuration › Settings: the collections policy of the current company, for a
    Collections Manager (Odoo's Settings screen needs a Settings administrator)."""

    _name = "cobranza.settings"
    _description = "Collections Settings"

    company_id = fields.Many2one("res.company", required=True, readonly=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    cobranza_interest_billed_through = fields.Date(related="company_id.cobranza_interest_billed_through")
    locals().update({name: _copy_of(name) for name in POLICY_FIELDS})

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        check_manager(self.env)
        company = self.env.company
        for name in POLICY_FIELDS:
            if name in fields_list:
                values[name] = company._fields[name].convert_to_write(company[name], company)
        return values

    def action_save(self):
        """Write the policy to the company in one go; the company's constraints check it whole."""
        self.ensure_one()
        check_manager(self.env)
        company = self.company_id
        if company not in self.env.user.company_ids:
            raise AccessError(self.env._("You cannot change the collections settings of %(company)s.",
                                         company=company.name))
        changes = {}
        for name in POLICY_FIELDS:
            value = self._fields[name].convert_to_write(self[name], self)
            if value != company._fields[name].convert_to_write(company[name], company):
                changes[name] = value
        if changes:
            company.sudo().write(changes)  # managers may set the policy; the checks above are theirs
        return {"type": "ir.actions.client", "tag": "soft_reload"}
