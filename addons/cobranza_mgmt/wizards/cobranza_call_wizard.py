from odoo import Command, fields, models

OUTCOMES = [
    ("reached", "Reached, will pay"),
    ("promise", "Promised to pay"),
    ("dispute", "Disputes the debt"),
    ("no_answer", "No answer"),
    ("wrong_number", "Wrong number"),
]


class CobranzaCallWizard(models.TransientModel):
    """Log a collection call and its outcome on the customer."""

    _name = "cobranza.call.wizard"
    _description = "Log a Collection Call"

    profile_id = fields.Many2one("cobranza.credit.profile", string="Customer", required=True)
    outcome = fields.Selection(OUTCOMES, required=True, default="reached")
    note = fields.Text()

    def action_confirm(self):
        self.ensure_one()
        profile = self.profile_id
        profile.check_access("write")
        outcome = dict(self._fields["outcome"]._description_selection(self.env))[self.outcome]
        communication = self.env["cobranza.communication"].sudo().create({
            "partner_id": profile.partner_id.id, "company_id": profile.company_id.id, "channel": "phone",
            "state": "sent", "is_manual": True, "collector_id": profile.collector_id.id or self.env.uid,
            "failure_reason": False, "text_body": f"{outcome}\n{self.note or ''}".strip(),
            "line_ids": [Command.set(profile._open_overdue_lines().ids)],
        })
        profile.partner_id.sudo()._message_log(body=self.env._(
            "Call by %(user)s: %(outcome)s. %(note)s", user=self.env.user.name, outcome=outcome, note=self.note or "",
        ))
        calls = profile.partner_id.activity_ids.filtered(
            lambda a: a.activity_type_id == self.env.ref("mail.mail_activity_data_call")
        )
        calls.action_feedback(feedback=outcome)
        if self.outcome == "promise":
            return profile.action_record_promise()
        return {"type": "ir.actions.act_window_close", "infos": {"communication": communication.id}}
