from odoo import api, fields, models

from ..models.cobranza_access import check_collector, is_manager


class CobranzaDunningDryRun(models.TransientModel):
    """What today's dunning run would do, computed without sending or changing anything: each
    customer's next reminder, today's and those waiting for the days between reminders."""

    _name = "cobranza.dunning.dry.run"
    _description = "Dunning Dry Run"

    date = fields.Date(default=fields.Date.context_today, required=True)
    line_ids = fields.One2many("cobranza.dunning.dry.run.line", "wizard_id", string="Planned Reminders")

    @api.model
    def default_get(self, fields_list):
        """The form opens on today's plan: the lines come with the defaults, before anything is saved."""
        values = super().default_get(fields_list)
        if "line_ids" in fields_list:
            day = values.get("date") or fields.Date.context_today(self)
            values["line_ids"] = [fields.Command.create(line) for line in self._plan_lines(day)]
        return values

    @api.model_create_multi
    def create(self, vals_list):
        wizards = super().create(vals_list)
        for wizard in wizards:
            wizard._compute_plan()
        return wizards

    def _compute_plan(self):
        """Replace the wizard's lines by the plan of its date. The lines are this user's own
        transient records, so they are dropped as superuser: nobody needs the right to delete them."""
        self.ensure_one()
        values = self._plan_lines(self.date)
        self.line_ids.sudo().unlink()
        self.line_ids = [fields.Command.create(v) for v in values]

    @api.model
    def _plan_lines(self, day):
        """The lines of the plan for ``day``: one per customer, at its highest level."""
        company = self.env.company
        check_collector(self.env)
        engine = self.env["cobranza.dunning"].sudo().with_company(company)
        plan = engine._plan(company, day)
        waiting = engine._split_contact_window(company, day, plan)[1]
        if not is_manager(self.env):  # a collector sees the plan of their own portfolio only
            mine = self.env["cobranza.credit.profile"].search([
                ("company_id", "=", company.id), ("partner_id", "in", list(plan)),
            ]).partner_id.ids
            plan = {partner_id: plan[partner_id] for partner_id in mine}
        levels = self.env["cobranza.dunning.level"].sudo().browse({lvl for by in plan.values() for lvl in by})
        lines = self.env["account.move.line"].sudo()
        values = []
        for partner_id, by_level in plan.items():  # one reminder per customer, at its highest level
            reached = levels.browse(list(by_level)).sorted(lambda level: (level.offset_days, level.id))
            items = lines.browse([line_id for line_ids in by_level.values() for line_id in line_ids])
            by_line = {line_id: level for level in reached for line_id in by_level[level.id]}
            values.append({
                "partner_id": partner_id, "level_id": reached[-1].id, "invoice_count": len(items.move_id),
                "amount": sum(items.mapped("amount_residual")),
                "next_date": waiting.get(partner_id, day),
                "waiting": partner_id in waiting,
                "invoices": ", ".join(f"{item.move_name} ({by_line[item.id].name})"
                                      for item in items.sorted(lambda line: (line.date_maturity, line.id))),
                "actions": ", ".join(dict.fromkeys(label for level in reached for label in
                                                   level._actions_label().split(", ") if label)),
            })
        return values

    def action_refresh(self):
        self._compute_plan()
        return {"type": "ir.actions.act_window", "res_model": self._name, "res_id": self.id,
                "view_mode": "form", "target": "new"}


class CobranzaDunningDryRunLine(models.TransientModel):
    _name = "cobranza.dunning.dry.run.line"
    _description = "Planned Reminder"
    _order = "partner_id, level_id"

    wizard_id = fields.Many2one("cobranza.dunning.dry.run", required=True, ondelete="cascade")
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    level_id = fields.Many2one("cobranza.dunning.level", readonly=True)
    invoice_count = fields.Integer(string="Invoices", readonly=True)
    currency_id = fields.Many2one(related="level_id.company_id.currency_id")
    amount = fields.Monetary(string="Overdue", readonly=True, currency_field="currency_id")
    actions = fields.Char(readonly=True)
    invoices = fields.Char(
        string="Lists", readonly=True, help="What the reminder will list, each invoice with the notice it reached.",
    )
    waiting = fields.Boolean(
        string="Waits", readonly=True,
        help="Reminded less than the days between reminders ago: these invoices go out with the next reminder.",
    )
    next_date = fields.Date(string="Goes Out On", readonly=True)
