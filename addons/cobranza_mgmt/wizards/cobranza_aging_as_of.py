from datetime import timedelta

from odoo import fields, models


class CobranzaAgingAsOf(models.TransientModel):
    _name = "cobranza.aging.as.of"
    _description = "Aging Analysis as of a Date"

    def _default_as_of(self):
        today = fields.Date.context_today(self)
        return today.replace(day=1) - timedelta(days=1)  # the last month end

    as_of = fields.Date(required=True, default=lambda self: self._default_as_of())

    def action_open(self):
        self.ensure_one()
        return self.env["cobranza.aging.report"]._open_as_of(self.as_of)
