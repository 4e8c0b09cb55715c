from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools.rendering_tools import parse_inline_template

# What a level's SMS/WhatsApp text may use: plain field reads of the communication, rendered
# without evaluating anything (mail.render.mixin's static mode), whoever wrote the text.
TEXT_PLACEHOLDERS = (
    "object.partner_id.name",
    "object.company_id.name",
    "object.level_id.name",
    "object.amount_due_text",
    "object.date",
)


class CobranzaDunningLevel(models.Model):
    """A step of the dunning ladder: what happens ``offset_days`` after an item's due date.

    Negative offsets are preventive reminders before the due date. Each receivable item
    climbs the ladder on its own (one item per due date of a payment term).
    """

    _name = "cobranza.dunning.level"
    _description = "Dunning Level"
    _order = "company_id, offset_days, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    source_level_id = fields.Many2one(
        "cobranza.dunning.level", string="Copied From", readonly=True, copy=False, index="btree_not_null",
        help="The default level this one was copied from for its company: a language loaded later gives it "
             "the default's words, unless they were changed.",
    )
    offset_days = fields.Integer(
        string="Days From Due Date", required=True,
        help="Days after the due date when the level applies; negative for a reminder before it.",
    )
    stage_id = fields.Many2one("cobranza.stage", required=True, ondelete="restrict")
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    ladder_id = fields.Many2one(
        "cobranza.dunning.ladder", required=True, index=True, ondelete="restrict",
        default=lambda self: self.env["cobranza.dunning.ladder"].search(
            [("company_id", "=", self.env.company.id), ("is_default", "=", True)], limit=1),
        domain="[('company_id', '=', company_id)]",
    )
    active = fields.Boolean(default=True)

    send_email = fields.Boolean(string="E-mail")
    mail_template_id = fields.Many2one(
        "mail.template", string="E-mail Template", domain=[("model", "=", "cobranza.communication")],
    )
    send_text = fields.Boolean(string="Text Message")
    text_channel = fields.Selection([("sms", "SMS"), ("whatsapp", "WhatsApp")], default="sms")
    text_body = fields.Text(
        string="Text", translate=True,
        help="Text of the message. Placeholders: {{ object.partner_id.name }}, {{ object.company_id.name }}, "
             "{{ object.level_id.name }}, {{ object.amount_due_text }} (the amount due with its currency), "
             "{{ object.date }}. Nothing else is evaluated.",
    )
    print_letter = fields.Boolean(string="Printed Letter")
    create_call_activity = fields.Boolean(string="Phone Call Task")
    activity_summary = fields.Char(translate=True)
    late_fee_type = fields.Selection(
        [("none", "No Late Fee"), ("fixed", "Fixed Amount"), ("percentage", "Percentage of Overdue")],
        default="none", required=True,
    )
    late_fee_amount = fields.Float(string="Late Fee", digits="Account")
    set_credit_hold = fields.Boolean(string="Put on Credit Hold")
    is_urgent = fields.Boolean(
        string="Urgent",
        help="Sent as soon as an item reaches it, even when the customer was reminded within the company's "
             "days between reminders.",
    )
    agency_handover = fields.Boolean(string="Hand Over to Agency")
    agency_partner_id = fields.Many2one("res.partner", string="Collection Agency")

    _sql_constraints = [
        ("offset_company_uniq", "unique(ladder_id, offset_days)",
         "Two dunning levels of a ladder cannot have the same number of days."),
    ]

    @api.constrains("active", "ladder_id")
    def _check_ladder_keeps_levels(self):
        """A ladder that serves customers keeps at least one active level (archiving or moving levels)."""
        self.with_context(active_test=False).ladder_id._check_claims()

    @api.ondelete(at_uninstall=False)
    def _unlink_except_last_level(self):
        for ladder in self.ladder_id.filtered(lambda ladder: ladder.is_default or ladder._segments()):
            if not (ladder.level_ids.filtered("active") - self):
                raise UserError(self.env._(
                    "Dunning ladder %(ladder)s serves customers: it keeps at least one level.", ladder=ladder.name,
                ))

    @api.constrains("ladder_id", "company_id")
    def _check_ladder_company(self):
        for level in self:
            if level.ladder_id.company_id != level.company_id:
                raise ValidationError(self.env._(
                    "Dunning level %(level)s belongs to %(company)s: choose a ladder of that company.",
                    level=level.name, company=level.company_id.name,
                ))

    @api.constrains("send_email", "mail_template_id", "send_text", "text_body", "late_fee_type", "late_fee_amount",
                    "agency_handover", "agency_partner_id")
    def _check_actions(self):
        for level in self:
            if level.send_email and not level.mail_template_id:
                raise ValidationError(self.env._("Dunning level %(level)s sends e-mails: choose its template.",
                                                 level=level.name))
            if level.send_text and not (level.text_body or "").strip():
                raise ValidationError(self.env._("Dunning level %(level)s sends texts: write the text.",
                                                 level=level.name))
            level._check_text_placeholders(level.text_body)
            if level.late_fee_type != "none" and level.late_fee_amount <= 0:
                raise ValidationError(self.env._(
                    "The late fee of dunning level %(level)s must be positive (%(amount)s).",
                    level=level.name, amount=level.late_fee_amount,
                ))
            if level.late_fee_type == "percentage" and level.late_fee_amount > 100:
                raise ValidationError(self.env._(
                    "The late fee of dunning level %(level)s cannot exceed 100%% (%(amount)s).",
                    level=level.name, amount=level.late_fee_amount,
                ))
            if level.agency_handover and not level.agency_partner_id:
                raise ValidationError(self.env._(
                    "Dunning level %(level)s hands debts over: choose the collection agency.", level=level.name,
                ))

    def _in_use(self):
        """The levels some receivable item reached (the ladder's history points at them)."""
        if not self.ids:
            return self.browse()
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT DISTINCT cobranza_level_id FROM account_move_line WHERE cobranza_level_id = ANY(%s)",
            [self.ids],
        )
        return self.browse([row[0] for row in self.env.cr.fetchall()])

    def write(self, vals):
        if "offset_days" in vals:
            moved = self.filtered(lambda level: level.offset_days != vals["offset_days"])._in_use()
            if moved:
                raise UserError(self.env._(
                    "Dunning level %(level)s was already reached by open items: changing its days would send them "
                    "a lower level after a higher one. Archive it and create a new level instead.",
                    level=moved[0].name,
                ))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_in_use(self):
        used = self._in_use()
        if used:
            raise UserError(self.env._(
                "Dunning level %(level)s was reached by receivable items and cannot be deleted: archive it instead.",
                level=used[0].name,
            ))

    def _check_text_placeholders(self, text):
        """Refuse a text with anything but the placeholders of TEXT_PLACEHOLDERS (code included)."""
        self.ensure_one()
        for _string, expression, _default in parse_inline_template(text or ""):
            if expression and expression.strip() not in TEXT_PLACEHOLDERS:
                raise ValidationError(self.env._(
                    "The text of dunning level %(level)s uses {{ %(expression)s }}. Texts may only use these "
                    "placeholders: %(placeholders)s.",
                    level=self.name, expression=expression.strip(),
                    placeholders=", ".join(f"{{{{ {name} }}}}" for name in TEXT_PLACEHOLDERS),
                ))

    def _update_field_translations(self, fname, translations, digest=None, source_lang=None):
        result = super()._update_field_translations(fname, translations, digest=digest, source_lang=source_lang)
        if fname == "text_body":
            for lang in translations:
                for level in self.with_context(lang=lang):
                    level._check_text_placeholders(level.text_body)
        return result

    def _late_fee(self, overdue_amount):
        """Fee of this level for an overdue amount, in company currency."""
        self.ensure_one()
        if self.late_fee_type == "fixed":
            return self.late_fee_amount
        if self.late_fee_type == "percentage":
            return self.company_id.currency_id.round(overdue_amount * self.late_fee_amount / 100.0)
        return 0.0

    def _has_side_actions(self):
        """Whether the level does more than communicate (late fee, credit hold, agency hand-over)."""
        self.ensure_one()
        return self.late_fee_type != "none" or self.set_credit_hold or self.agency_handover

    def _may_fail(self):
        """Whether the level's side actions can fail for one customer (a late fee invoice can)."""
        self.ensure_one()
        return self.late_fee_type != "none"

    def _channels(self):
        """The communications one event of this level makes, in order."""
        self.ensure_one()
        channels = []
        if self.send_email:
            channels.append("email")
        if self.send_text:
            channels.append(self.text_channel or "sms")
        if self.print_letter:
            channels.append("letter")
        if self.create_call_activity:
            channels.append("phone")
        if self.agency_handover:
            channels.append("agency")
        return channels

    def _actions_label(self):
        """The level's actions in words, e.g. "E-mail, Phone Call Task"."""
        self.ensure_one()
        names = [self._fields[name].get_description(self.env)["string"] for name in (
            "send_email", "send_text", "print_letter", "create_call_activity", "set_credit_hold", "agency_handover",
        ) if self[name]]
        if self.late_fee_type != "none":
            names.append(self._fields["late_fee_amount"].get_description(self.env)["string"])
        return ", ".join(names)
