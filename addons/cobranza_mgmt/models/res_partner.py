from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError

from ..logic import aging
from .cobranza_access import check_collector, check_portfolio, compute_can_act, is_manager
from .cobranza_communication import CHANNELS
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
    cobranza_can_act = fields.Boolean(
        string="May Act in Collections", compute="_compute_cobranza_can_act",
        help="Whether this user may act on the customer in Collections: a manager, or the customer's collector.",
    )
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

    # The customer's position at a glance (the tab's second half), read as the user may see it.
    cobranza_open_amount = fields.Monetary(
        string="Open Receivable", compute="_compute_cobranza_position", currency_field="cobranza_currency_id",
    )
    cobranza_level_id = fields.Many2one(
        "cobranza.dunning.level", string="Dunning Level", compute="_compute_cobranza_position",
        help="The furthest dunning level that an open item of the customer has reached.",
    )
    cobranza_last_contact_date = fields.Date(string="Last Contact", compute="_compute_cobranza_position")
    cobranza_last_contact_channel = fields.Selection(
        CHANNELS, string="Last Contact Channel", compute="_compute_cobranza_position",
    )
    cobranza_next_contact = fields.Char(string="Next Contact", compute="_compute_cobranza_position")
    cobranza_open_promise_count = fields.Integer(string="Open Promises", compute="_compute_cobranza_position")
    cobranza_next_promise_date = fields.Date(string="Next Promise Due", compute="_compute_cobranza_position")
    cobranza_broken_promise_count = fields.Integer(string="Broken Promises", compute="_compute_cobranza_position")
    cobranza_agreement_count = fields.Integer(string="Active Agreements", compute="_compute_cobranza_position")

    @api.depends_context("company", "uid")
    def _compute_cobranza_position(self):
        """One grouped read per figure over every partner shown (not one query per partner), for the
        customers whose credit profile the user may see (a collector: their portfolio)."""
        company = self.env.company
        commercial = self.filtered("cobranza_profile_id").commercial_partner_id
        scope = [("partner_id", "in", commercial.ids), ("company_id", "=", company.id)]
        open_items = [*scope, ("account_id.account_type", "=", "asset_receivable"), ("parent_state", "=", "posted"),
                      ("reconciled", "=", False)]
        Line = self.env["account.move.line"]
        open_amount = dict(Line._read_group(open_items, ["partner_id"], ["amount_residual:sum"]))
        furthest = {}
        for partner, level in Line._read_group([*open_items, ("cobranza_level_id", "!=", False)],
                                               ["partner_id", "cobranza_level_id"]):
            if partner not in furthest or (level.offset_days, level.id) > (furthest[partner].offset_days,
                                                                           furthest[partner].id):
                furthest[partner] = level
        Communication = self.env["cobranza.communication"]
        last_ids = [last_id for _partner, last_id in Communication._read_group(
            [*scope, ("state", "=", "sent")], ["partner_id"], ["id:max"])]
        last = {communication.partner_id: communication for communication in Communication.browse(last_ids)}
        Promise = self.env["cobranza.promise"]
        promises = {partner: (count, first) for partner, count, first in Promise._read_group(
            [*scope, ("state", "=", "open")], ["partner_id"], ["__count", "promise_date:min"])}
        broken = dict(Promise._read_group([*scope, ("state", "=", "broken")], ["partner_id"], ["__count"]))
        agreements = dict(self.env["cobranza.agreement"]._read_group(
            [*scope, ("state", "=", "active")], ["partner_id"], ["__count"]))
        for partner in self:
            customer = partner.commercial_partner_id
            communication = last.get(customer, Communication)
            partner.cobranza_open_amount = open_amount.get(customer, 0.0)
            partner.cobranza_level_id = furthest.get(customer, False)
            partner.cobranza_last_contact_date = communication.date
            partner.cobranza_last_contact_channel = communication.channel
            partner.cobranza_next_contact = partner.cobranza_profile_id.next_reminder
            partner.cobranza_open_promise_count, partner.cobranza_next_promise_date = promises.get(customer, (0, False))
            partner.cobranza_broken_promise_count = broken.get(customer, 0)
            partner.cobranza_agreement_count = agreements.get(customer, 0)

    @api.depends_context("uid", "allowed_company_ids")
    @api.depends("commercial_partner_id")
    def _compute_cobranza_can_act(self):
        compute_can_act(self)

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
            partner.cobranza_hold_reason = profile.hold_reason_text
            partner.cobranza_exposure = profile.exposure
            partner.cobranza_available_credit = profile.available_credit
            partner.cobranza_overdue_amount = profile.overdue_amount
            partner.cobranza_max_days_overdue = profile.max_days_overdue

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
        check_portfolio(self.env, self)
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
        items = self.env["cobranza.aging.report"].sudo()._of_customers(partner).search(
            [("partner_id", "=", partner.id), ("company_id", "=", company.id)], order="date_maturity, id",
        )
        labels = dict(self.env["cobranza.aging.report"]._fields["bucket"]._description_selection(self.env))
        # the aging of the statement is net: unapplied payments and credit notes pay the oldest first
        buckets = [
            (code, labels[code], sum(items.filtered(lambda item, c=code: item.bucket == c).mapped("net_residual")))
            for code in aging.BUCKET_KEYS
        ]
        banks = company.partner_id.bank_ids.filtered(lambda bank: bank.allow_out_payment or bank.acc_number)
        return {
            "date": fields.Date.context_today(self),
            "items": items,
            "total": sum(items.mapped("amount_residual")),
            "currency": company.currency_id,
            "buckets": buckets,
            "overdue": sum(amount for code, _label, amount in buckets if code != aging.NOT_DUE),
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
