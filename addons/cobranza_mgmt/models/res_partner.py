from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import SQL

from .cobranza_access import check_collector, is_manager
from .cobranza_credit_profile import SEGMENT_SELECTION


class ResPartner(models.Model):
    _inherit = "res.partner"

    CREDIT_FIELDS = ("credit_limit", "use_partner_credit_limit")

    @api.model_create_multi
    def create(self, vals_list):
        if any(vals.get(name) for vals in vals_list for name in self.CREDIT_FIELDS):
            self._cobranza_check_credit_writer()
        return super().create(vals_list)

    def write(self, vals):
        if any(name in vals for name in self.CREDIT_FIELDS):
            self._cobranza_check_credit_writer()
        return super().write(vals)

    def _cobranza_check_credit_writer(self):
        """Credit limits are the credit policy: Collections Managers set them, not whoever invoices."""
        if not is_manager(self.env):
            raise AccessError(self.env._("Only a Collections Manager can change a customer's credit limit."))

    @api.constrains("credit_limit")
    def _check_cobranza_credit_limit(self):
        for partner in self:
            if partner.credit_limit < 0:
                raise ValidationError(self.env._(
                    "The credit limit of %(partner)s cannot be negative (%(limit)s).",
                    partner=partner.display_name, limit=partner.credit_limit,
                ))

    # The Collections tab shows the credit profile of the commercial partner in the current
    # company, when the user may see it (record rules: a collector sees their portfolio).
    cobranza_profile_id = fields.Many2one(
        "cobranza.credit.profile", string="Credit Profile", compute="_compute_cobranza_profile",
    )
    cobranza_currency_id = fields.Many2one(
        "res.currency", string="Collections Currency", compute="_compute_cobranza_profile",
    )
    cobranza_collector_id = fields.Many2one("res.users", string="Collector", compute="_compute_cobranza_profile")
    cobranza_segment = fields.Selection(SEGMENT_SELECTION, string="Segment", compute="_compute_cobranza_profile")
    cobranza_risk_score = fields.Float(string="Risk Score", compute="_compute_cobranza_profile")
    cobranza_is_on_hold = fields.Boolean(string="On Credit Hold", compute="_compute_cobranza_profile")
    cobranza_hold_reason = fields.Text(string="Hold Reason", compute="_compute_cobranza_profile")
    cobranza_exposure = fields.Monetary(
        string="Exposure", compute="_compute_cobranza_profile", currency_field="cobranza_currency_id",
    )
    cobranza_available_credit = fields.Monetary(
        string="Available Credit", compute="_compute_cobranza_profile", currency_field="cobranza_currency_id",
    )
    cobranza_overdue_amount = fields.Monetary(
        string="Overdue Amount", compute="_compute_cobranza_profile", currency_field="cobranza_currency_id",
    )
    cobranza_max_days_overdue = fields.Integer(string="Max Days Overdue", compute="_compute_cobranza_profile")

    @api.depends_context("company", "uid")
    def _compute_cobranza_profile(self):
        profiles = self.env["cobranza.credit.profile"].search([
            ("partner_id", "in", self.commercial_partner_id.ids), ("company_id", "=", self.env.company.id),
        ])
        by_partner = {profile.partner_id.id: profile for profile in profiles}
        for partner in self:
            profile = by_partner.get(partner.commercial_partner_id.id, profiles.browse())
            partner.cobranza_profile_id = profile
            partner.cobranza_currency_id = profile.currency_id or self.env.company.currency_id
            partner.cobranza_collector_id = profile.collector_id
            partner.cobranza_segment = profile.segment
            partner.cobranza_risk_score = profile.risk_score
            partner.cobranza_is_on_hold = profile.is_on_hold
            partner.cobranza_hold_reason = profile.hold_reason
            partner.cobranza_exposure = profile.exposure
            partner.cobranza_available_credit = profile.available_credit
            partner.cobranza_overdue_amount = profile.overdue_amount
            partner.cobranza_max_days_overdue = profile.max_days_overdue

    def _cobranza_exposure(self, company):
        """Exposure per commercial partner id, in ``company``'s currency: open receivable,
        plus draft customer invoices, plus what Sales still has to invoice."""
        commercial = self.commercial_partner_id
        if not commercial:
            return {}
        self.env.flush_all()
        self.env.cr.execute(SQL(
            """
            SELECT partner_id, SUM(amount) FROM (
                SELECT aml.partner_id, aml.amount_residual AS amount
                  FROM account_move_line aml
                  JOIN account_account account ON account.id = aml.account_id
                 WHERE aml.company_id = %(company)s AND account.account_type = 'asset_receivable'
                   AND aml.parent_state = 'posted' AND NOT aml.reconciled
                   AND aml.partner_id = ANY(%(partners)s)
                UNION ALL
                SELECT move.commercial_partner_id, move.amount_total_signed
                  FROM account_move move
                 WHERE move.company_id = %(company)s AND move.state = 'draft'
                   AND move.move_type = 'out_invoice'
                   AND move.commercial_partner_id = ANY(%(partners)s)
            ) exposure GROUP BY partner_id
            """,
            company=company.id, partners=commercial.ids,
        ))
        exposures = dict(self.env.cr.fetchall())
        # credit_to_invoice is 0 in Invoicing; Sales fills it with confirmed orders not invoiced yet.
        # Computed without dependencies: drop what an earlier call cached.
        commercial.invalidate_recordset(["credit_to_invoice"])
        to_invoice = {partner.id: partner.credit_to_invoice
                      for partner in commercial.with_company(company).sudo() if partner.credit_to_invoice}
        if to_invoice:
            # A draft invoice of a confirmed order is in both figures: take its order's share out of
            # credit_to_invoice, as Odoo's own credit warning does (_get_partner_credit_warning_exclude_amount).
            drafts = self.env["account.move"].sudo().search([
                ("company_id", "=", company.id), ("state", "=", "draft"), ("move_type", "=", "out_invoice"),
                ("commercial_partner_id", "in", list(to_invoice)),
            ])
            for draft in drafts:
                partner_id = draft.commercial_partner_id.id
                to_invoice[partner_id] -= draft._get_partner_credit_warning_exclude_amount()
            for partner_id, amount in to_invoice.items():
                exposures[partner_id] = exposures.get(partner_id, 0.0) + max(amount, 0.0)
        return {partner_id: float(amount) for partner_id, amount in exposures.items()}

    def _cobranza_credit_problems(self, company, extra_amounts=None):
        """Why each commercial partner may not get more credit in ``company``, by partner id.

        A partner is refused while on credit hold, or when its exposure plus
        ``extra_amounts[partner_id]`` (a document not yet in the exposure, in company
        currency) exceeds its credit limit (when the company uses credit limits).
        """
        extra_amounts = extra_amounts or {}
        partners = self.commercial_partner_id
        held = {
            profile.partner_id.id: profile
            for profile in self.env["cobranza.credit.profile"].sudo().search([
                ("partner_id", "in", partners.ids), ("company_id", "=", company.id), ("is_on_hold", "=", True),
            ])
        }
        exposures = partners._cobranza_exposure(company)
        currency = company.currency_id
        problems = {}
        for partner in partners:
            exposure = exposures.get(partner.id, 0.0) + extra_amounts.get(partner.id, 0.0)
            limit = partner.with_company(company).credit_limit
            if partner.id in held:
                problems[partner.id] = self.env._(
                    "%(partner)s is on credit hold (%(reason)s); exposure %(exposure)s.",
                    partner=partner.name, reason=held[partner.id].hold_reason,
                    exposure=currency.format(exposure),
                )
            elif company.cobranza_start_date and company.account_use_credit_limit and limit \
                    and currency.compare_amounts(exposure, limit) > 0:
                problems[partner.id] = self.env._(
                    "%(partner)s would exceed its credit limit: exposure %(exposure)s, limit %(limit)s.",
                    partner=partner.name, exposure=currency.format(exposure), limit=currency.format(limit),
                )
        return problems

    def action_cobranza_open_overdue_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("cobranza_mgmt.account_move_action_overdue")
        action["domain"] = [
            ("move_type", "=", "out_invoice"), ("commercial_partner_id", "=", self.commercial_partner_id.id),
            ("company_id", "=", self.env.company.id),
        ]
        return action

    def action_cobranza_open_profile(self):
        self.ensure_one()
        profile = self.cobranza_profile_id or self.env["cobranza.credit.profile"]._get_or_create(
            self, self.env.company,
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "cobranza.credit.profile",
            "res_id": profile.id,
            "view_mode": "form",
        }

    # ------------------------------------------------------------------ statement of account

    def _cobranza_check_statement_access(self):
        """A statement is for Collections users who may see these customers: managers any customer of
        their companies, a collector the customers of their portfolio (the record rules decide)."""
        if self.env.su:
            return
        check_collector(self.env)
        self.check_access("read")
        if is_manager(self.env):
            return
        partners = self.commercial_partner_id
        visible = self.env["cobranza.credit.profile"].search([
            ("partner_id", "in", partners.ids), ("company_id", "=", self.env.company.id),
        ]).partner_id
        if partners - visible:
            raise AccessError(self.env._("%(partners)s are not in your collections portfolio.",
                                         partners=", ".join((partners - visible).mapped("display_name"))))

    def _cobranza_statement_data(self):
        """Open items of the customer in the current company, aging summary and how to pay."""
        self.ensure_one()
        company = self.env.company
        partner = self.commercial_partner_id
        items = self.env["cobranza.aging.report"].sudo().search(
            [("partner_id", "=", partner.id), ("company_id", "=", company.id)], order="date_maturity, id",
        )
        labels = dict(self.env["cobranza.aging.report"]._fields["bucket"]._description_selection(self.env))
        buckets = [
            (code, labels[code], sum(items.filtered(lambda item, c=code: item.bucket == c).mapped("amount_residual")))
            for code in ("not_due", "1_30", "31_60", "61_90", "over_90")
        ]
        banks = company.partner_id.bank_ids.filtered(lambda bank: bank.allow_out_payment or bank.acc_number)
        return {
            "date": fields.Date.context_today(self),
            "items": items,
            "total": sum(items.mapped("amount_residual")),
            "currency": company.currency_id,
            "buckets": buckets,
            "portal_url": f"{partner.get_base_url()}/my/invoices",
            "banks": ", ".join(f"{bank.bank_id.name or ''} {bank.acc_number}".strip() for bank in banks),
        }

    def action_cobranza_send_statement(self):
        """Open the mail composer with the statement of account attached."""
        self.ensure_one()
        self._cobranza_check_statement_access()
        template = self.env.ref("cobranza_mgmt.mail_template_cobranza_statement")
        return {
            "type": "ir.actions.act_window",
            "res_model": "mail.compose.message",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_model": "res.partner",
                "default_res_ids": self.ids,
                "default_template_id": template.id,
                "default_composition_mode": "comment",
                "default_email_layout_xmlid": "mail.mail_notification_light",
            },
        }


class ReportCobranzaStatement(models.AbstractModel):
    _name = "report.cobranza_mgmt.report_cobranza_statement"
    _description = "Statement of Account"

    @api.model
    def _get_report_values(self, docids, data=None):
        partners = self.env["res.partner"].browse(docids)
        partners._cobranza_check_statement_access()
        return {"doc_ids": docids, "doc_model": "res.partner", "docs": partners}
