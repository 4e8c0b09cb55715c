from odoo import fields, models


class CobranzaDisputeReason(models.Model):
    """Why a customer disputes an invoice, as the customer chooses it in the portal."""

    _name = "cobranza.dispute.reason"
    _description = "Dispute Reason"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
