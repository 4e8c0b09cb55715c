from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import AccessError

from ..models.cobranza_access import check_manager


class CobranzaStartWizard(models.TransientModel):
    """Start collections in a company: the first day after install, without a flood of reminders.

    Until a manager starts them, the dunning run skips the company and the policy sets no
    automatic or over-limit hold. The wizard shows what the first run would send, and by
    default starts *from today*: every open item is recorded at the level it has already
    reached, nothing is sent, and from tomorrow on reminders follow the ladder.
    """

    _name = "cobranza.start.wizard"
    _description = "Start Collections"

    company_id = fields.Many2one("res.company", required=True, readonly=True, default=lambda self: self.env.company)
    mode = fields.Selection(
        [("from_today", "From today: record the level each invoice has reached, send nothing"),
         ("send_due", "Send now what each customer's invoices have reached")],
        required=True, default="from_today",
    )
    line_ids = fields.One2many("cobranza.start.wizard.line", "wizard_id", string="What the First Run Would Send",
                               readonly=True)
    customer_count = fields.Integer(string="Customers the First Run Would Remind", readonly=True)
    hold_count = fields.Integer(
        string="Customers the Policy Would Put on Hold", readonly=True,
        help="Customers with an invoice overdue more than the automatic-hold days, or over their credit limit.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        check_manager(self.env)
        wizards = super().create(vals_list)
        for wizard in wizards:
            wizard._check_company_allowed()
        for wizard in wizards:
            wizard._compute_preview()
        return wizards

    def _check_company_allowed(self):
        """A manager previews and starts collections in their own companies only."""
        if not self.env.su and self.company_id not in self.env.user.company_ids:
            raise AccessError(self.env._("You cannot start collections in %(company)s.", company=self.company_id.name))

    def _compute_preview(self):
        self.ensure_one()
        company = self.company_id
        today = fields.Date.context_today(self)
        plan = self.env["cobranza.dunning"].sudo().with_company(company)._plan(company, today)
        by_level = defaultdict(lambda: [set(), 0])
        for partner_id, levels in plan.items():
            for level_id, line_ids in levels.items():
                by_level[level_id][0].add(partner_id)
                by_level[level_id][1] += len(line_ids)
        levels = self.env["cobranza.dunning.level"].sudo().browse(list(by_level)).sorted("offset_days")
        # Every customer with open receivables counts, not only those whose profile the nightly refresh
        # has made yet: the policy will judge them all once collections start.
        Profile = self.env["cobranza.credit.profile"].sudo()
        rows = Profile._behaviour_rows(company, company._cobranza_today(), None)
        days_overdue = {row[0]: row[4] or 0 for row in rows}
        profiles = Profile.search([("company_id", "=", company.id)])
        held_by_hand = set(profiles.filtered(lambda p: p.hold_type == "manual").partner_id.ids)
        partners = self.env["res.partner"].sudo().browse(sorted(set(days_overdue) | set(profiles.partner_id.ids)))
        Policy = self.env["cobranza.credit.policy"].sudo()
        exposures = Policy._exposure(company, partners)
        holds = partners.filtered(lambda partner: partner.id not in held_by_hand and Policy._policy_reason(
            company, partner, exposures.get(partner.id, 0.0), days_overdue.get(partner.id, 0), before_start=True))
        self.write({
            "customer_count": len(plan),
            "hold_count": len(holds),
            "line_ids": [fields.Command.clear()] + [fields.Command.create({
                "level_id": level.id, "customer_count": len(by_level[level.id][0]),
                "item_count": by_level[level.id][1], "actions": level._actions_label(),
            }) for level in levels],
        })

    def action_start(self):
        """Start collections in the company (Collections Managers only)."""
        self.ensure_one()
        check_manager(self.env)
        self._check_company_allowed()
        company = self.company_id.sudo()
        today = fields.Date.context_today(self)
        engine = self.env["cobranza.dunning"].sudo().with_company(company)
        if self.mode == "from_today":
            rows = engine._candidate_rows(company, today)
            engine._advance_many([(line_id, level_id, today) for line_id, _partner_id, level_id in rows])
        company.cobranza_start_date = today
        company.partner_id._message_log(body=self.env._(
            "Collections started by %(user)s (%(mode)s).", user=self.env.user.name,
            mode=dict(self._fields["mode"]._description_selection(self.env))[self.mode],
        ))
        self.env["cobranza.credit.profile"].sudo()._refresh_behaviour(companies=company)
        return {"type": "ir.actions.act_window_close"}


class CobranzaStartWizardLine(models.TransientModel):
    _name = "cobranza.start.wizard.line"
    _description = "First Dunning Run Preview"
    _order = "id"

    wizard_id = fields.Many2one("cobranza.start.wizard", required=True, ondelete="cascade")
    level_id = fields.Many2one("cobranza.dunning.level", readonly=True)
    customer_count = fields.Integer(string="Customers", readonly=True)
    item_count = fields.Integer(string="Items", readonly=True)
    actions = fields.Char(readonly=True)
