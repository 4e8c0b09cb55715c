from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.exceptions import ValidationError

from ..models.cobranza_agreement import FREQUENCIES, INTEREST_METHODS


class CobranzaAgreementWizard(models.TransientModel):
    """Set up a payment agreement: pick the invoices, see the schedule, confirm."""

    _name = "cobranza.agreement.wizard"
    _description = "New Payment Agreement"

    partner_id = fields.Many2one("res.partner", string="Customer",
                                 domain="[('parent_id', '=', False)]")
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    move_ids = fields.Many2many(
        "account.move", string="Invoices",
        domain="[('move_type', '=', 'out_invoice'), ('state', '=', 'posted'), ('company_id', '=', company_id),"
               " ('commercial_partner_id', '=', partner_id), ('payment_state', 'in', ('not_paid', 'partial'))]",
    )
    currency_id = fields.Many2one("res.currency", compute="_compute_financed")
    financed_amount = fields.Monetary(compute="_compute_financed", string="Debt")
    date = fields.Date(string="Agreement Date", required=True, default=fields.Date.context_today)
    down_payment = fields.Monetary()
    installment_count = fields.Integer(string="Installments", required=True, default=3)
    frequency = fields.Selection(FREQUENCIES, required=True, default="monthly")
    first_due_date = fields.Date()
    custom_date_ids = fields.One2many("cobranza.agreement.wizard.date", "wizard_id", string="Due Dates")
    interest_rate = fields.Float(string="Annual Interest (%)", digits=(16, 4))
    interest_method = fields.Selection(INTEREST_METHODS, required=True, default="flat")
    grace_days = fields.Integer(default=lambda self: self.env.company.cobranza_grace_days)
    reminder_days = fields.Integer(default=3)
    preview_html = fields.Html(compute="_compute_preview_html", sanitize=False, string="Schedule")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        context = self.env.context
        moves = self.env["account.move"]
        if context.get("active_model") == "account.move" and context.get("active_ids"):
            moves = self.env["account.move"].browse(context["active_ids"])
            values["partner_id"] = moves[:1].commercial_partner_id.id
            values["company_id"] = moves[:1].company_id.id
        elif context.get("active_model") in ("res.partner", "cobranza.credit.profile") and context.get("active_id"):
            record = self.env[context["active_model"]].browse(context["active_id"])
            partner = (record.partner_id if record._name == "cobranza.credit.profile" else record)
            values["partner_id"] = partner.commercial_partner_id.id
            moves = self.env["account.move"].search([
                ("commercial_partner_id", "=", partner.commercial_partner_id.id),
                ("company_id", "=", self.env.company.id), ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"), ("payment_state", "in", ("not_paid", "partial")),
                ("invoice_date_due", "<", fields.Date.context_today(self)),
            ])
        if moves and "move_ids" in fields_list:
            values["move_ids"] = [Command.set(moves.ids)]
        today = fields.Date.context_today(self)
        values.setdefault("first_due_date", fields.Date.add(today, months=1))
        return values

    @api.depends("move_ids")
    def _compute_financed(self):
        for wizard in self:
            wizard.currency_id = wizard.move_ids.currency_id[:1] or wizard.company_id.currency_id
            wizard.financed_amount = sum(wizard.move_ids.mapped("amount_residual")) \
                if len(wizard.move_ids.currency_id) <= 1 else 0.0

    def _terms(self):
        """Validated terms: (currency, financed amount, installment values)."""
        self.ensure_one()
        Agreement = self.env["cobranza.agreement"]
        currency, financed = Agreement._check_moves(self.partner_id, self.company_id, self.move_ids)
        dates = Agreement._check_plan(
            currency, financed, down_payment=self.down_payment, count=self.installment_count,
            frequency=self.frequency, first_due_date=self.first_due_date, date=self.date,
            interest_rate=self.interest_rate, custom_dates=self.custom_date_ids.sorted("sequence").mapped("due_date"),
        )
        rows = Agreement._schedule_rows(
            currency, financed, down_payment=self.down_payment, dates=dates, date=self.date,
            interest_rate=self.interest_rate, interest_method=self.interest_method, frequency=self.frequency,
        )
        return currency, financed, rows

    @api.depends("move_ids", "down_payment", "installment_count", "frequency", "first_due_date",
                 "custom_date_ids.due_date", "interest_rate", "interest_method", "date")
    def _compute_preview_html(self):
        for wizard in self:
            try:
                currency, financed, rows = wizard._terms()
            except ValidationError as error:
                wizard.preview_html = Markup('<div class="alert alert-warning">%s</div>') % error.args[0]
                continue
            wizard.preview_html = self.env["ir.qweb"]._render("cobranza_mgmt.agreement_schedule_preview", {
                "rows": rows, "currency": currency, "financed": financed,
                "total": sum(row["amount"] for row in rows),
            })

    def action_confirm(self):
        self.ensure_one()
        currency, financed, rows = self._terms()
        profile = self.env["cobranza.credit.profile"].sudo()._get_or_create(self.partner_id, self.company_id)
        agreement = self.env["cobranza.agreement"].create({
            "partner_id": self.partner_id.id,
            "company_id": self.company_id.id,
            "currency_id": currency.id,
            "collector_id": profile.collector_id.id,
            "move_ids": [Command.set(self.move_ids.ids)],
            "date": self.date,
            "financed_amount": financed,
            "down_payment": self.down_payment,
            "installment_count": self.installment_count,
            "frequency": self.frequency,
            "first_due_date": rows[-self.installment_count]["due_date"],
            "interest_rate": self.interest_rate,
            "interest_method": self.interest_method,
            "grace_days": self.grace_days,
            "reminder_days": self.reminder_days,
            "installment_ids": [Command.create(row) for row in rows],
        })
        return {
            "type": "ir.actions.act_window",
            "res_model": "cobranza.agreement",
            "res_id": agreement.id,
            "view_mode": "form",
        }


class CobranzaAgreementWizardDate(models.TransientModel):
    _name = "cobranza.agreement.wizard.date"
    _description = "Installment Date of a New Payment Agreement"
    _order = "sequence, id"

    wizard_id = fields.Many2one("cobranza.agreement.wizard", required=True, ondelete="cascade")
    sequence = fields.Integer(default=10)
    due_date = fields.Date(required=True)
