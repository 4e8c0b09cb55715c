import json
import logging
import threading

from psycopg2.extras import execute_values

from odoo import api, fields, models

from .cobranza_sms_gateway import GatewayError

_logger = logging.getLogger(__name__)

CHANNELS = [
    ("email", "E-mail"),
    ("sms", "SMS"),
    ("whatsapp", "WhatsApp"),
    ("letter", "Letter"),
    ("phone", "Phone Call"),
    ("agency", "Agency Hand-over"),
]


class CobranzaCommunication(models.Model):
    """One reminder sent (or attempted) to a customer through one channel.

    The dunning run makes one per customer, level and channel, listing every receivable
    item concerned; a failed one keeps the reason and leaves the items where they were.
    """

    _name = "cobranza.communication"
    _description = "Payment Reminder"
    _order = "date desc, id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
    partner_id = fields.Many2one("res.partner", string="Customer", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    collector_id = fields.Many2one("res.users", index=True)
    level_id = fields.Many2one("cobranza.dunning.level", string="Dunning Level", index=True, ondelete="set null")
    stage_id = fields.Many2one(related="level_id.stage_id", store=True)
    channel = fields.Selection(CHANNELS, required=True, default="email")
    date = fields.Date(required=True, default=fields.Date.context_today, index=True)
    state = fields.Selection(
        [("queued", "Queued"), ("sent", "Sent"), ("failed", "Failed")], default="queued", required=True, index=True,
    )
    failure_reason = fields.Text(readonly=True)
    is_manual = fields.Boolean(string="Sent by Hand", help="Sent from the customer or the invoice, not by the run.")
    line_ids = fields.Many2many(
        "account.move.line", "cobranza_communication_line_rel", "communication_id", "line_id",
        string="Overdue Items",
    )
    credit_line_ids = fields.Many2many(
        "account.move.line", "cobranza_communication_credit_rel", "communication_id", "line_id",
        string="Unapplied Credits", help="Payments and credit notes not yet matched, which reduce what is due.",
    )
    move_ids = fields.Many2many("account.move", compute="_compute_move_ids", string="Invoices")
    amount_due = fields.Monetary(currency_field="currency_id", help="Overdue items minus unapplied credits.")
    mail_id = fields.Many2one("mail.mail", string="E-mail", readonly=True, ondelete="set null")
    message_id = fields.Many2one("mail.message", string="Chatter Message", readonly=True, ondelete="set null")
    text_body = fields.Text(string="Text Sent", readonly=True)
    provider_reference = fields.Char(readonly=True, help="Message id given by the SMS/WhatsApp gateway.")
    attachment_id = fields.Many2one("ir.attachment", string="Document", readonly=True)
    activity_id = fields.Many2one("mail.activity", string="Task", readonly=True, ondelete="set null")
    fee_move_id = fields.Many2one("account.move", string="Late Fee", readonly=True)
    previous_levels = fields.Json(
        readonly=True, copy=False,
        help="Level of each item before this reminder ({item id: level id}), restored if its delivery fails.",
    )
    invoice_table_html = fields.Html(
        compute="_compute_invoice_table_html", sanitize=False,
        help="The table of overdue items and credits that the e-mail templates and letters show.",
    )

    @api.depends("partner_id", "level_id", "channel", "date")
    def _compute_name(self):
        channels = dict(self._fields["channel"]._description_selection(self.env))
        for communication in self:
            communication.name = " / ".join(filter(None, [
                communication.level_id.name, communication.partner_id.display_name,
                channels.get(communication.channel), fields.Date.to_string(communication.date),
            ]))

    @api.depends("line_ids")
    def _compute_move_ids(self):
        for communication in self:
            communication.move_ids = communication.line_ids.move_id

    @api.depends("line_ids", "credit_line_ids", "amount_due")
    @api.depends_context("lang")
    def _compute_invoice_table_html(self):
        for communication in self:
            communication.invoice_table_html = self.env["ir.qweb"]._render(
                "cobranza_mgmt.communication_invoice_table",
                {"communication": communication, "data": communication._lines_data()},
            )

    def _lines_data(self):
        """Rows of the invoice table: one per overdue item, then unapplied credits."""
        self.ensure_one()
        today = self.date
        rows = []
        for line in self.line_ids.sorted(lambda item: (item.date_maturity, item.move_name or "")):
            move = line.move_id
            rows.append({
                "number": move.name,
                "due_date": line.date_maturity,
                "days_late": (today - line.date_maturity).days,
                "residual": line.amount_residual_currency if line.currency_id else line.amount_residual,
                "currency": line.currency_id or self.currency_id,
                "total": move.amount_total,
                "pay_url": move.get_base_url() + move.get_portal_url(),
            })
        credits = [{
            "number": line.move_id.name,
            "date": line.date,
            "residual": line.amount_residual_currency if line.currency_id else line.amount_residual,
            "currency": line.currency_id or self.currency_id,
        } for line in self.credit_line_ids]
        return {"items": rows, "credits": credits}

    def _render_text(self, level):
        """The level's SMS/WhatsApp text rendered for this communication, in the customer's language."""
        self.ensure_one()
        source = level.with_context(lang=self.partner_id.lang or self.env.lang).text_body
        rendered = self.env["mail.template"].with_context(lang=self.partner_id.lang)._render_template(
            source, self._name, self.ids, engine="inline_template",
        )
        return rendered[self.id]

    def _attach_report(self, report_xmlid):
        """Render a report of this communication and keep it as its document."""
        self.ensure_one()
        report = self.env["ir.actions.report"]._get_report(report_xmlid)
        content, extension = report._render_qweb_pdf(report_xmlid, res_ids=self.ids)
        self.attachment_id = self.env["ir.attachment"].create({
            "name": f"{self.name}.{extension}",
            "raw": content,
            "res_model": self._name,
            "res_id": self.id,
            "mimetype": "application/pdf" if extension == "pdf" else "text/html",
        })

    @api.model
    def _bulk_create(self, vals_list):
        """Insert queued communications in a few statements (the dunning run makes thousands).

        ``vals_list`` items hold plain ids: partner_id, company_id, level_id, collector_id, date,
        channel, is_manual, amount_due, previous_levels, message_id, and lists line_ids / credit_line_ids.
        :return: the communications, in the order of ``vals_list``
        """
        if not vals_list:
            return self.browse()
        self.env.flush_all()
        levels = self.env["cobranza.dunning.level"].browse({vals["level_id"] for vals in vals_list})
        level_data = {level.id: (level.name, level.stage_id.id) for level in levels}
        partners = self.env["res.partner"].browse({vals["partner_id"] for vals in vals_list})
        partner_names = {partner.id: partner.display_name for partner in partners}
        channels = dict(self._fields["channel"]._description_selection(self.env))
        rows = []
        for vals in vals_list:
            level_name, stage_id = level_data[vals["level_id"]]
            name = " / ".join([level_name, partner_names[vals["partner_id"]], channels[vals["channel"]],
                               fields.Date.to_string(vals["date"])])
            rows.append((
                name, vals["partner_id"], vals["company_id"], vals.get("collector_id") or None, vals["level_id"],
                stage_id, vals["channel"], vals["date"], vals.get("is_manual", False), vals.get("amount_due", 0.0),
                json.dumps(vals.get("previous_levels") or {}), vals.get("message_id") or None, self.env.uid,
            ))
        ids = [row[0] for row in execute_values(self.env.cr._obj, """
            INSERT INTO cobranza_communication
                   (name, partner_id, company_id, collector_id, level_id, stage_id, channel, date, state, is_manual,
                    amount_due, previous_levels, message_id, create_uid, write_uid, create_date, write_date)
            SELECT v.name, v.partner_id, v.company_id, v.collector_id, v.level_id, v.stage_id, v.channel, v.day,
                   'queued', v.manual, v.amount, v.previous::jsonb, v.message, v.uid, v.uid,
                   now() at time zone 'UTC', now() at time zone 'UTC'
              FROM (VALUES %s) AS v(name, partner_id, company_id, collector_id, level_id, stage_id, channel, day,
                                    manual, amount, previous, message, uid)
            RETURNING id
        """, rows, template="(%s, %s, %s, %s::int, %s, %s, %s, %s::date, %s, %s::numeric, %s, %s::int, %s)",
            page_size=1000, fetch=True)]
        for query, key in (
            ("INSERT INTO cobranza_communication_line_rel (communication_id, line_id) VALUES %s", "line_ids"),
            ("INSERT INTO cobranza_communication_credit_rel (communication_id, line_id) VALUES %s", "credit_line_ids"),
        ):
            pairs = [(communication_id, line_id)
                     for communication_id, vals in zip(ids, vals_list, strict=True) for line_id in vals.get(key, [])]
            if pairs:
                execute_values(self.env.cr._obj, query, pairs, page_size=5000)
        return self.browse(ids)

    @api.model
    def _dispatch_queued(self, limit=500):
        """Cron: deliver what the dunning run queued (e-mails, texts, letters, case files, call tasks)."""
        queued = self.sudo().search([("state", "=", "queued"), ("mail_id", "=", False)], limit=limit, order="id")
        queued._deliver()
        return len(queued)

    def _deliver(self):
        """Render and send these queued communications, each channel its own way.

        E-mails are rendered in one batch per template into Odoo's mail queue (one by one only
        when the batch fails, to find the culprit); a communication that cannot be delivered
        is marked failed with the reason and its items go back to their previous level, so that
        the next run reminds them again.
        """
        queued = self.filtered(lambda c: c.state == "queued" and not c.mail_id)
        emails = queued.filtered(lambda c: c.channel == "email")
        for template, batch in emails.grouped(lambda c: c.level_id.mail_template_id).items():
            batch._deliver_emails(template)
        for communication in (queued - emails).filtered(lambda c: c.state == "queued"):
            if communication.channel in ("letter", "agency"):
                communication._deliver_document()
            elif communication.channel == "phone":
                communication._deliver_call()
        (queued - emails).filtered(lambda c: c.state == "queued" and c.channel in ("sms", "whatsapp"))._deliver_texts()

    def _deliver_emails(self, template):
        if not template:
            self._fail(self.env._("The dunning level has no e-mail template."))
            return
        try:
            with self.env.cr.savepoint():
                mails = template.send_mail_batch(self.ids, email_layout_xmlid="mail.mail_notification_light")
        except Exception:  # noqa: BLE001 - fall back to one by one to find the culprit
            for communication in self:
                try:
                    with self.env.cr.savepoint():
                        communication.mail_id = template.send_mail(
                            communication.id, email_layout_xmlid="mail.mail_notification_light",
                        )
                except Exception as error:  # noqa: BLE001 - one customer's failure must not stop the others
                    communication._fail(str(error))
            return
        by_res_id = {mail.res_id: mail for mail in mails}
        for communication in self:
            communication.mail_id = by_res_id.get(communication.id)

    def _deliver_document(self):
        reports = {"letter": "cobranza_mgmt.action_report_dunning_letter",
                   "agency": "cobranza_mgmt.action_report_agency_case_file"}
        try:
            with self.env.cr.savepoint():
                self._attach_report(reports[self.channel])
                self.state = "sent"
        except Exception as error:  # noqa: BLE001 - one document's failure must not stop the others
            self._fail(str(error))

    def _deliver_call(self):
        profile = self.env["cobranza.credit.profile"]._get_or_create(self.partner_id, self.company_id)
        user = profile.collector_id or self.collector_id or self.env.ref("base.user_admin", False) or self.env.user
        self.write({
            "state": "sent",
            "activity_id": self.partner_id.sudo().activity_schedule(
                "mail.mail_activity_data_call",
                summary=self.level_id.activity_summary or self.level_id.name,
                note=self.invoice_table_html, user_id=user.id,
            ).id,
        })

    def _deliver_texts(self):
        """Send texts through their company's gateway.

        Each text is committed as soon as the gateway took it, so a crash resends at most the
        one in flight (the gateway receives the communication's reference as idempotency key).
        """
        for communication in self:
            gateway = self.env["cobranza.sms.gateway"].sudo().search([
                ("company_id", "=", communication.company_id.id), ("channel", "=", communication.channel),
            ], limit=1)
            number = communication.partner_id.mobile or communication.partner_id.phone
            try:
                if not communication.text_body:
                    communication.text_body = communication._render_text(communication.level_id)
                if not gateway:
                    raise GatewayError(self.env._("No %(channel)s gateway configured for %(company)s.",
                                                  channel=communication.channel, company=communication.company_id.name))
                if not number:
                    raise GatewayError(self.env._("%(partner)s has no mobile or phone number.",
                                                  partner=communication.partner_id.display_name))
                reference = gateway._send(number, communication.text_body or "", f"cobranza-{communication.id}")
            except GatewayError as error:
                communication.write({"state": "failed", "failure_reason": str(error)})
            else:
                communication.write({"state": "sent", "provider_reference": reference})
            if not getattr(threading.current_thread(), "testing", False):
                # a text sent is a fact: keep its state whatever follows
                self.env.cr.commit()  # pylint: disable=invalid-commit

    def _fail(self, reason):
        """Mark these communications failed and give their items back their previous level.

        The other queued communications of the same reminder are dropped with them, so that
        the next run sends the whole reminder again, once.
        """
        siblings = self.search([
            ("state", "=", "queued"), ("mail_id", "=", False), ("id", "not in", self.ids),
            ("partner_id", "in", self.partner_id.ids), ("level_id", "in", self.level_id.ids),
            ("date", "in", list(set(self.mapped("date")))),
        ]).filtered(lambda c: any((c.partner_id, c.level_id, c.date) == (f.partner_id, f.level_id, f.date)
                                  for f in self))
        (self | siblings).write({"state": "failed", "failure_reason": reason})
        restore = []
        for communication in self:
            lines = communication.line_ids.filtered(lambda item, c=communication: item.cobranza_level_id == c.level_id)
            for line in lines:
                previous = (communication.previous_levels or {}).get(str(line.id)) or None
                restore.append((line.id, previous))
        if restore:
            self.env.flush_all()
            for line_id, previous in restore:
                self.env.cr.execute(
                    "UPDATE account_move_line SET cobranza_level_id = %s WHERE id = %s", [previous, line_id],
                )
            lines = self.env["account.move.line"].browse([row[0] for row in restore])
            lines.invalidate_recordset(["cobranza_level_id"])
        for communication in self:
            _logger.warning("Collections: reminder %s failed: %s", communication.name, reason)
            communication.partner_id.sudo()._message_log(body=self.env._(
                "Dunning failed (%(communication)s): %(error)s", communication=communication.name, error=reason,
            ))

    def _history(self):
        """Every communication with this customer in this company, oldest first (agency case file)."""
        self.ensure_one()
        return self.search([("partner_id", "=", self.partner_id.id), ("company_id", "=", self.company_id.id)],
                           order="date, id")

    def action_view_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("account.action_move_out_invoice_type")
        action["domain"] = [("id", "in", self.move_ids.ids)]
        action["context"] = {"create": False}
        return action
