from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    cobranza_formal_days = fields.Integer(related="company_id.cobranza_formal_days", readonly=False)
    cobranza_judicial_days = fields.Integer(related="company_id.cobranza_judicial_days", readonly=False)
    cobranza_grace_days = fields.Integer(related="company_id.cobranza_grace_days", readonly=False)
    cobranza_collector_import = fields.Boolean(related="company_id.cobranza_collector_import", readonly=False)
    cobranza_portal_link_days = fields.Integer(related="company_id.cobranza_portal_link_days", readonly=False)
    cobranza_whatsapp_number = fields.Char(related="company_id.cobranza_whatsapp_number", readonly=False)
    cobranza_portal_promise_min_percent = fields.Float(related="company_id.cobranza_portal_promise_min_percent",
                                                       readonly=False)
    cobranza_portal_promise_max_open = fields.Integer(related="company_id.cobranza_portal_promise_max_open",
                                                      readonly=False)
    cobranza_block_posting = fields.Boolean(related="company_id.cobranza_block_posting", readonly=False)
    cobranza_auto_hold_days = fields.Integer(related="company_id.cobranza_auto_hold_days", readonly=False)
    cobranza_auto_hold_over_limit = fields.Boolean(
        related="company_id.cobranza_auto_hold_over_limit", readonly=False,
    )
    cobranza_promise_max_days = fields.Integer(related="company_id.cobranza_promise_max_days", readonly=False)
    cobranza_contact_interval_days = fields.Integer(
        related="company_id.cobranza_contact_interval_days", readonly=False,
    )
    cobranza_preventive_apart = fields.Boolean(related="company_id.cobranza_preventive_apart", readonly=False)
    cobranza_retry_hours = fields.Integer(related="company_id.cobranza_retry_hours", readonly=False)
    cobranza_late_fee_product_id = fields.Many2one(related="company_id.cobranza_late_fee_product_id", readonly=False)
    cobranza_agreement_interest_product_id = fields.Many2one(
        related="company_id.cobranza_agreement_interest_product_id", readonly=False,
    )
    cobranza_interest_rate = fields.Float(related="company_id.cobranza_interest_rate", readonly=False)
    cobranza_interest_ceiling = fields.Float(related="company_id.cobranza_interest_ceiling", readonly=False)
    cobranza_interest_from = fields.Date(related="company_id.cobranza_interest_from", readonly=False)
    cobranza_interest_period = fields.Selection(related="company_id.cobranza_interest_period", readonly=False)
    cobranza_interest_product_id = fields.Many2one(related="company_id.cobranza_interest_product_id", readonly=False)
    cobranza_interest_billed_through = fields.Date(related="company_id.cobranza_interest_billed_through")
    cobranza_segment_b_score = fields.Float(related="company_id.cobranza_segment_b_score", readonly=False)
    cobranza_segment_c_score = fields.Float(related="company_id.cobranza_segment_c_score", readonly=False)
    cobranza_segment_d_score = fields.Float(related="company_id.cobranza_segment_d_score", readonly=False)
