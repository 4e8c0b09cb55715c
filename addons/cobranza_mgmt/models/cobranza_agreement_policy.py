from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .cobranza_agreement import INTEREST_METHODS
from .cobranza_credit_profile import SEGMENT_SELECTION


class CobranzaAgreementPolicy(models.Model):
    """What a customer of a segment may ask for in the portal: at most so many installments, at
    least such a down payment, the first installment within so many days, at this interest.

    A collector making an agreement by hand is not bound by it; a customer asking online is, and a
    segment without a policy (or whose policy does not allow online requests) cannot ask."""

    _name = "cobranza.agreement.policy"
    _description = "Payment Agreement Policy"
    _order = "company_id, segment"
    _check_company_auto = True

    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    segment = fields.Selection(SEGMENT_SELECTION, required=True)
    portal_request = fields.Boolean(
        string="Customers Ask Online", default=True,
        help="Customers of this segment may ask for installments in the portal; a collector approves or declines.",
    )
    max_installments = fields.Integer(string="Installments at Most", required=True, default=6)
    min_down_payment_percent = fields.Float(
        string="Down Payment at Least (%)", default=0.0, digits=(5, 2),
        help="Share of the invoices chosen that the customer pays when the agreement starts.",
    )
    max_first_days = fields.Integer(
        string="First Installment Within (days)", required=True, default=30,
        help="How many days after the request the first installment may fall at the latest.",
    )
    interest_rate = fields.Float(string="Annual Interest (%)", digits=(16, 4))
    interest_method = fields.Selection(INTEREST_METHODS, required=True, default="flat")

    _sql_constraints = [
        ("segment_company_unique", "UNIQUE(company_id, segment)",
         "A segment has one agreement policy per company."),
    ]

    @api.depends("segment")
    def _compute_display_name(self):
        labels = dict(self._fields["segment"]._description_selection(self.env))
        for policy in self:
            policy.display_name = self.env._("Segment %(segment)s", segment=labels.get(policy.segment, ""))

    @api.constrains("max_installments", "min_down_payment_percent", "max_first_days", "interest_rate")
    def _check_terms(self):
        for policy in self:
            if policy.max_installments < 1 or policy.max_installments > 120:
                raise ValidationError(self.env._(
                    "%(policy)s: installments at most must be from 1 to 120 (%(value)s).",
                    policy=policy.display_name, value=policy.max_installments,
                ))
            if not 0 <= policy.min_down_payment_percent < 100:
                raise ValidationError(self.env._(
                    "%(policy)s: the down payment share must be at least 0 and less than 100 (%(value)s).",
                    policy=policy.display_name, value=policy.min_down_payment_percent,
                ))
            if not 1 <= policy.max_first_days <= 366:
                raise ValidationError(self.env._(
                    "%(policy)s: the first installment must fall within 1 to 366 days (%(value)s).",
                    policy=policy.display_name, value=policy.max_first_days,
                ))
            if policy.interest_rate < 0:
                raise ValidationError(self.env._(
                    "%(policy)s: the interest rate cannot be negative (%(value)s).",
                    policy=policy.display_name, value=policy.interest_rate,
                ))

    @api.model
    def _for_customer(self, partner, company):
        """The policy a customer's request follows (the segment of its credit profile in ``company``),
        read as superuser: the portal calls it for the customer it authenticated. Empty when none."""
        profile = self.env["cobranza.credit.profile"].sudo().search(
            [("partner_id", "=", partner.commercial_partner_id.id), ("company_id", "=", company.id)], limit=1)
        if not profile.segment:
            return self.sudo().browse()
        return self.sudo().search([("company_id", "=", company.id), ("segment", "=", profile.segment),
                                   ("portal_request", "=", True)], limit=1)

    def _portal_terms(self):
        """The policy's limits as the customer reads them above the request form."""
        self.ensure_one()
        down = f"{self.min_down_payment_percent:g}%"
        rate = f"{self.interest_rate:g}%"
        terms = [self.env._("Ask to pay the invoices chosen in up to %(count)s installments",
                            count=self.max_installments)]
        if self.min_down_payment_percent:
            terms.append(self.env._("with a down payment of at least %(percent)s", percent=down))
        if self.interest_rate:
            terms.append(self.env._("at an interest of %(rate)s a year", rate=rate))
        return ", ".join(terms) + "."
