from odoo import api, fields, models

from .cobranza_access import check_fields

LEVEL_FIELDS = ("cobranza_level_id", "cobranza_level_date")


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    cobranza_level_id = fields.Many2one(
        "cobranza.dunning.level", string="Dunning Level", readonly=True, copy=False, index="btree_not_null",
        ondelete="restrict",
        help="The last dunning level this receivable item reached.",
    )
    cobranza_level_date = fields.Date(string="Dunning Level Date", readonly=True, copy=False)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if any(vals.get(name) for name in LEVEL_FIELDS):
                check_fields(self, [name for name in LEVEL_FIELDS if vals.get(name)], ())
        return super().create(vals_list)

    def write(self, vals):
        if any(name in vals for name in LEVEL_FIELDS):
            check_fields(self, [name for name in LEVEL_FIELDS if name in vals], ())
        return super().write(vals)
