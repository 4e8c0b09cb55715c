import io
import json
import logging
import re
import sys
import threading
from collections import defaultdict
from datetime import timedelta

import lxml.html
from werkzeug.urls import url_encode

from odoo import Command, api, fields, models
from odoo.tools import SQL, config, format_amount, format_date
from odoo.tools.pdf import PdfReader, PdfWriter
from odoo.tools.rendering_tools import parse_inline_template

from . import cobranza_receivable as receivable
from .cobranza_access import check_collector
from .cobranza_dunning import claim_rows
from .cobranza_dunning_level import TEXT_PLACEHOLDERS
from .cobranza_sms_gateway import GatewayError
from .mail_mail import retry_pause

_logger = logging.getLogger(__name__)

DOCUMENT_BATCH = 50  # letters or case files per wkhtmltopdf call
DOCUMENT_REFERENCE = re.compile(r"#(REM-\d{6,})$")  # the link of a document's reference
DOCUMENT_REPORTS = {"letter": "cobranza_mgmt.action_report_dunning_letter",
                    "agency": "cobranza_mgmt.action_report_agency_case_file"}

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
    not_before = fields.Datetime(
        readonly=True, copy=False,
        help="The customer's next preferred day and hour: a text waits in the queue until then, a call task is due "
             "that day.",
    )
    date = fields.Date(required=True, default=fields.Date.context_today, index=True)
    state = fields.Selection(
        [("queued", "Queued"), ("sent", "Sent"), ("failed", "Failed"), ("cancelled", "Not Needed")],
        default="queued", required=True, index=True,
    )
    failure_reason = fields.Text(readonly=True)
    delivery_attempts = fields.Integer(
        readonly=True, copy=False, help="Times the mail server refused this reminder for a temporary reason.",
    )
    retry_since = fields.Datetime(
        readonly=True, copy=False,
        help="When the mail server first refused this reminder for a temporary reason: it is retried for the "
             "company's hours of e-mail retries from then.",
    )
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
    amount_due = fields.Monetary(
        string="Amount Due (Company Currency)", currency_field="currency_id",
        help="Overdue items minus unapplied credits, in the company's currency.",
    )
    amount_due_text = fields.Char(
        compute="_compute_amount_due_text",
        help="What is due in each currency of the items, as the customer reads it (e.g. '$ 100.00 + 50.00 €').",
    )
    mail_id = fields.Many2one("mail.mail", string="E-mail", readonly=True, ondelete="set null")
    message_id = fields.Many2one("mail.message", string="Chatter Message", readonly=True, ondelete="set null")
    text_body = fields.Text(string="Text Sent", readonly=True)
    provider_reference = fields.Char(readonly=True, help="Message id given by the SMS/WhatsApp gateway.")
    attachment_id = fields.Many2one("ir.attachment", string="Document", readonly=True)
    activity_id = fields.Many2one("mail.activity", string="Task", readonly=True, ondelete="set null")
    fee_move_id = fields.Many2one("account.move", string="Late Fee", readonly=True)
    previous_levels = fields.Json(
        readonly=True, copy=False,
        help="Level of each item before this reminder ({item id: level id}): where the items go back to when "
             "the reminder could not be delivered and nothing else of that level happened.",
    )
    invoice_table_html = fields.Html(
        compute="_compute_invoice_table_html", sanitize=False,
        help="The table of overdue items and credits that the e-mail templates and letters show.",
    )
    collections_url = fields.Char(
        string="Account Statement Link", compute="_compute_collections_url",
        help="The link, in the reminders, that opens the customer's account statement page without a password.",
    )

    whatsapp_url = fields.Char(
        string="WhatsApp Link", compute="_compute_whatsapp_url",
        help="Click-to-chat with the company's collections number, the reminder's reference written.",
    )

    @api.depends("company_id.cobranza_whatsapp_number")
    def _compute_whatsapp_url(self):
        for communication in self:
            number = re.sub(r"\D", "", communication.company_id.cobranza_whatsapp_number or "")
            communication.whatsapp_url = "https://wa.me/{}?{}".format(number, url_encode({
                "text": self.env._("About %(reference)s: ", reference=communication._document_reference()),
            })) if number and communication.id else False

    @api.depends("partner_id", "company_id")
    def _compute_collections_url(self):
        """The customer's link (made once and reused while it lasts). Links are issued by the delivery
        only, which renders as superuser after its own checks; a user reading a saved reminder they may
        read sees the link it was sent with, and a form that is not saved (an onchange) gets none."""
        self.collections_url = False
        saved = self.filtered(lambda communication: communication.partner_id and isinstance(communication.id, int))
        if not self.env.su:
            if not self.env.user.has_group("cobranza_mgmt.cobranza_mgmt_group_collector"):
                return
            saved = saved._filtered_access("read")
        # a delivery batch renders many reminders: their links in one search (and one create) per company
        Token = self.env["cobranza.portal.token"]
        for company, communications in saved.grouped("company_id").items():
            if self.env.su:
                links = Token._issue_many(communications.partner_id, company)
            else:
                links = Token._valid_many(communications.partner_id, company)
            for communication in communications:
                link = links.get(communication.partner_id.commercial_partner_id.id)
                communication.collections_url = link._url() if link else False

    @api.depends("partner_id", "level_id", "channel", "date")
    def _compute_name(self):
        channels = dict(self._fields["channel"]._description_selection(self.env))
        for communication in self:
            communication.name = " / ".join(filter(None, [
                communication.level_id.name, communication.partner_id.display_name,
                channels.get(communication.channel), fields.Date.to_string(communication.date),
            ]))

    def _compute_display_name(self):
        """The reference printed on the reminder (REM-000123): e-mails show it in their header, in any
        language, where the stored name (level, customer, channel, date) is in the words of whoever
        ran the dunning."""
        for communication in self:
            communication.display_name = communication._document_reference() if communication.id else communication.name

    @api.depends("line_ids", "credit_line_ids", "partner_id.lang")
    def _compute_amount_due_text(self):
        for communication in self:
            communication.amount_due_text = " + ".join(
                format_amount(self.env, amount, currency, lang_code=communication.partner_id.lang)
                for currency, amount in communication._lines_data()["totals"]
            )

    def mail_allowed_qweb_expressions(self):
        return super().mail_allowed_qweb_expressions() + TEXT_PLACEHOLDERS

    @api.depends("line_ids")
    def _compute_move_ids(self):
        for communication in self:
            communication.move_ids = communication.line_ids.move_id

    @api.depends("line_ids", "credit_line_ids", "amount_due")
    @api.depends_context("lang")
    def _compute_invoice_table_html(self):
        others = self._other_open_items()
        for communication in self:
            communication.invoice_table_html = self.env["ir.qweb"]._render(
                "cobranza_mgmt.communication_invoice_table",
                {"communication": communication, "data": communication._lines_data(others.get(communication.id))},
            )

    def _other_open_items(self):
        """{communication id: the customer's other open invoice items}, for context: those already
        reminded that reached no new level, and those not due yet. One query for all."""
        if not self.ids:
            return {}
        lines = self.env["account.move.line"].search([
            ("partner_id", "in", self.partner_id.ids), ("company_id", "in", self.company_id.ids),
            ("move_id.move_type", "=", "out_invoice"), *receivable.open_debit_domain(),
        ], order="date_maturity, id")
        by_customer = lines.grouped(lambda line: (line.partner_id.id, line.company_id.id))
        return {
            communication.id: by_customer.get((communication.partner_id.id, communication.company_id.id),
                                              lines.browse()) - communication.line_ids
            for communication in self
        }

    def _lines_data(self, others=None):
        """Rows of the invoice table: one per item of the reminder (with the level it reached), then
        unapplied credits, then (``others``) the customer's other open items for context.

        Amounts and dates are formatted here, in the customer's language: QWeb widgets cost ten
        times more, and the run's delivery renders thousands of these tables.
        """
        self.ensure_one()
        today = self.date
        lang = self.partner_id.lang or self.env.lang
        def currency_of(line):
            return line.currency_id or self.currency_id

        def residual_of(line):
            return line.amount_residual_currency if line.currency_id else line.amount_residual

        def money(amount, currency):
            return format_amount(self.env, amount, currency, lang_code=lang)

        rows = []
        customer = self.with_context(lang=lang)
        for line in self.line_ids.sorted(lambda item: (item.date_maturity, item.move_name or "")):
            move = line.move_id
            currency = currency_of(line)
            early = ""
            if line.discount_date and line.discount_date >= today and line.discount_amount_currency \
                    and currency.compare_amounts(residual_of(line), line.amount_currency) == 0:
                # Odoo's early-payment discount, still open and nothing paid yet: say what it is worth
                early = customer.env._(
                    "Pay %(amount)s by %(date)s and save %(saving)s.",
                    amount=money(line.discount_amount_currency, currency),
                    date=format_date(self.env, line.discount_date, lang_code=lang),
                    saving=money(line.amount_currency - line.discount_amount_currency, currency),
                )
            rows.append({
                "early_payment": early,
                "number": move.name,
                "due_date": line.date_maturity,
                "due_date_text": format_date(self.env, line.date_maturity, lang_code=lang),
                "days_late": (today - line.date_maturity).days,
                "level": line.cobranza_level_id.with_context(lang=lang).name or "",
                "residual": residual_of(line),
                "currency": currency_of(line),
                "total": move.amount_total,
                "residual_text": money(residual_of(line), currency_of(line)),
                "total_text": money(move.amount_total, currency_of(line)),
                # the token the run gave the invoice; reading a reminder never writes one (read-only requests)
                "pay_url": move.get_base_url() + move.access_url + (
                    f"?{url_encode({'access_token': move.access_token})}" if move.access_token else ""),
            })
        credits = [{
            "number": line.move_id.name,
            "date": line.date,
            "residual": residual_of(line),
            "currency": currency_of(line),
            "residual_text": money(residual_of(line), currency_of(line)),
        } for line in self.credit_line_ids]
        # One total per currency: items and credits in different currencies are never added up.
        totals = defaultdict(float)
        for row in rows + credits:
            totals[row["currency"]] += row["residual"]
        accrued = self.env["cobranza.interest.line"].sudo()._accrued(
            self.company_id, [self.partner_id.commercial_partner_id.id], today,
        ).get(self.partner_id.commercial_partner_id.id)
        interest_text = customer.env._(
            "Late-payment interest accrued up to %(date)s, not invoiced yet: %(amount)s.",
            date=format_date(self.env, today, lang_code=lang), amount=money(accrued, self.company_id.currency_id),
        ) if accrued else ""
        return {
            "items": rows, "credits": credits, "interest": interest_text,
            "totals": [(currency, currency.round(amount))
                       for currency, amount in sorted(totals.items(), key=lambda item: item[0].name)],
            "totals_text": [money(currency.round(amount), currency)
                            for currency, amount in sorted(totals.items(), key=lambda item: item[0].name)],
            "others": [{
                "number": line.move_id.name,
                "due_date_text": format_date(self.env, line.date_maturity, lang_code=lang),
                "days_late": max((today - line.date_maturity).days, 0),
                "residual_text": money(residual_of(line), currency_of(line)),
            } for line in (others or [])],
        }

    def _render_text(self, level):
        """The level's SMS/WhatsApp text rendered for this communication, in the customer's language.

        Texts are written by Collections managers: they are rendered in mail.render.mixin's static
        mode (placeholders replaced by field values, nothing evaluated), never with the template
        engine, so a text cannot run code whoever renders it (the delivery job runs as superuser).
        A placeholder outside TEXT_PLACEHOLDERS raises, and the communication fails with the reason.
        """
        self.ensure_one()
        source = level.with_context(lang=self.partner_id.lang or self.env.lang).text_body or ""
        for _string, expression, _default in parse_inline_template(source):
            if expression and expression.strip() not in TEXT_PLACEHOLDERS:
                raise GatewayError(self.env._(
                    "The text of %(level)s uses {{ %(expression)s }}, which is not a placeholder: not sent.",
                    level=level.name, expression=expression.strip(),
                ))
        rendered = self.env["mail.render.mixin"].with_context(lang=self.partner_id.lang)
        return rendered._render_template_inline_template_regex(source, self._name, self.ids)[self.id]

    @api.model
    def _bulk_create(self, vals_list):
        """Insert queued communications in a few statements (the dunning run makes thousands).

        ``vals_list`` items hold plain ids: partner_id, company_id, level_id, collector_id, date,
        channel, is_manual, amount_due, previous_levels, message_id, and lists line_ids / credit_line_ids.
        Skips the ORM's create: defaults, access rules and the ``name`` compute (done here as
        ``_compute_name`` does); the run calls it as superuser after its own checks, on values it made.
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
                vals.get("not_before"),
            ))
        ids = [row[0] for row in self.env.cr.execute_values("""
            INSERT INTO cobranza_communication
                   (name, partner_id, company_id, collector_id, level_id, stage_id, channel, date, state, is_manual,
                    amount_due, previous_levels, message_id, create_uid, write_uid, create_date, write_date, not_before)
            SELECT v.name, v.partner_id, v.company_id, v.collector_id, v.level_id, v.stage_id, v.channel, v.day,
                   'queued', v.manual, v.amount, v.previous::jsonb, v.message, v.uid, v.uid,
                   now() at time zone 'UTC', now() at time zone 'UTC', v.not_before
              FROM (VALUES %s) AS v(name, partner_id, company_id, collector_id, level_id, stage_id, channel, day,
                                    manual, amount, previous, message, uid, not_before)
            RETURNING id
        """, rows,
            template="(%s, %s, %s, %s::int, %s, %s, %s, %s::date, %s, %s::numeric, %s, %s::int, %s, %s::timestamp)",
            page_size=1000, fetch=True)]
        for table, key in (("cobranza_communication_line_rel", "line_ids"),
                           ("cobranza_communication_credit_rel", "credit_line_ids")):
            pairs = [(communication_id, line_id)
                     for communication_id, vals in zip(ids, vals_list, strict=True) for line_id in vals.get(key, [])]
            if pairs:
                communication_ids, line_ids = zip(*pairs, strict=True)
                self.env.cr.execute(SQL(
                    "INSERT INTO %s (communication_id, line_id) SELECT unnest(%s::int[]), unnest(%s::int[])",
                    SQL.identifier(table), list(communication_ids), list(line_ids),
                ))
        return self.browse(ids)

    @api.model
    def _dispatch_queued(self, limit=500):
        """Cron: deliver what the dunning run queued (e-mails, texts, letters, case files, call tasks).

        One committed batch per call; the progress it reports makes the cron call again at once
        while communications remain, so a large run is delivered in one triggered job, not one
        batch every ten minutes. Several workers share the queue: each claims its batch with
        ``FOR UPDATE SKIP LOCKED`` (``claim_rows``). Every communication of a batch leaves the queue (sent, in the mail
        queue, failed or not needed), so the job always moves on.
        """
        self.env.flush_all()
        rows = claim_rows(self.env.cr, SQL(
            """
            SELECT id FROM cobranza_communication
             WHERE state = 'queued' AND mail_id IS NULL
               AND (not_before IS NULL OR not_before <= %s OR channel NOT IN ('sms', 'whatsapp'))
             ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED
            """, fields.Datetime.now(), limit,
        ))
        queued = self.sudo().browse([row[0] for row in rows or []])
        delivered = queued._deliver(commit=True)
        self.env.cr.execute(SQL(  # what waits for a customer's contact hours is for a later call of the job
            "SELECT count(*) FROM cobranza_communication WHERE state = 'queued' AND mail_id IS NULL"
            " AND (not_before IS NULL OR not_before <= %s OR channel NOT IN ('sms', 'whatsapp'))",
            fields.Datetime.now()))
        remaining = self.env.cr.fetchone()[0]
        if rows is None:  # the claim gave way to another worker: there is work left, call again
            remaining = max(remaining, 1)
        self.env["ir.cron"]._notify_progress(done=len(delivered), remaining=remaining)
        return len(delivered)

    def _deliver(self, commit=False):
        """Render and send these queued communications, each channel its own way, in batches.

        E-mails are rendered in one batch per template into Odoo's mail queue (one by one only
        when the batch fails, to find the culprit); letters and case files many per wkhtmltopdf
        call, split per customer; call tasks created together; texts one by one (each is a call
        to the gateway). Every error is caught per communication: the communication is marked
        failed with the reason, which a Collections user can retry (``action_retry``) once the
        cause is fixed. A failed delivery never moves the items back to an earlier level: the
        level's side effects (late fee, hold, hand-over) and the other channels of the same
        reminder already happened and are not replayed.

        :param commit: the delivery job commits after each batch (a text sent is a fact), and
                       claims the rest of its communications again after each commit, since the
                       commit released them to the other workers; a user's "send now" stays in
                       its own transaction
        :return: the communications this call took out of the queue (sent, in the mail queue, failed
                 or not needed any more)
        """
        now = fields.Datetime.now()
        candidates = self.filtered(lambda c: c.state == "queued" and not c.mail_id and not (
            c.channel in ("sms", "whatsapp") and c.not_before and c.not_before > now))  # a text waits for its hours
        queued = candidates._drop_settled_items()
        groups = [("_deliver_emails", batch) for batch in queued.filtered(lambda c: c.channel == "email")
                  .grouped(lambda c: c.level_id.mail_template_id).values()]
        for channel in ("letter", "agency"):  # one company per wkhtmltopdf call: its letterhead
            for documents in queued.filtered(lambda c, channel=channel: c.channel == channel) \
                    .grouped("company_id").values():
                groups += [("_deliver_documents", documents[index:index + DOCUMENT_BATCH])
                           for index in range(0, len(documents), DOCUMENT_BATCH)]
        groups.append(("_deliver_calls", queued.filtered(lambda c: c.channel == "phone")))
        groups += [("_deliver_text_guarded", text)
                   for text in queued.filtered(lambda c: c.channel in ("sms", "whatsapp"))]
        claimed, delivered = True, candidates - queued
        for method, group in groups:
            batch = group._reclaim() if commit and not claimed and group else group
            if batch:
                getattr(batch, method)()
                delivered |= batch
                claimed = not batch._commit_delivery(commit)
        return delivered

    def _reclaim(self):
        """Those of these communications still queued that no other worker holds, locked again."""
        rows = claim_rows(self.env.cr, SQL(
            """
            SELECT id FROM cobranza_communication WHERE id = ANY(%s) AND state = 'queued' AND mail_id IS NULL
               FOR UPDATE SKIP LOCKED
            """, self.ids,
        ))
        self.invalidate_recordset()
        return self.browse([row[0] for row in rows or []])

    def _drop_settled_items(self):
        """What changed since the run queued these: items paid or disputed meanwhile leave the reminder,
        credits used meanwhile too; a reminder left with nothing due is not sent.

        :return: the communications still to deliver
        """
        for communication in self:
            settled = communication.line_ids.filtered(
                lambda line: line.reconciled or line.company_currency_id.is_zero(line.amount_residual)
                or line.move_id.cobranza_is_disputed
            )
            used = communication.credit_line_ids.filtered("reconciled")
            if not settled and not used:
                continue
            remaining = communication.line_ids - settled
            vals = {
                "line_ids": [Command.unlink(line.id) for line in settled],
                "credit_line_ids": [Command.unlink(line.id) for line in used],
                "amount_due": sum(remaining.mapped("amount_residual"))
                + sum((communication.credit_line_ids - used).mapped("amount_residual")),
            }
            if not remaining:
                vals.update(state="cancelled", failure_reason=self.env._(
                    "Paid or disputed before it went out: not sent."))
            communication.write(vals)
        return self.filtered(lambda c: c.state == "queued")

    def _commit_delivery(self, commit):
        """Keep what was delivered whatever follows (the delivery job only, outside tests)."""
        if commit and not getattr(threading.current_thread(), "testing", False):
            self.env.cr.commit()  # pylint: disable=invalid-commit
            return True
        return False

    def _deliver_emails(self):
        template = self.level_id.mail_template_id[:1]
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
            self._thread_on_customers()
            return
        by_res_id = {mail.res_id: mail for mail in mails}
        for communication in self:
            communication.mail_id = by_res_id.get(communication.id)
        self._thread_on_customers()

    def _thread_on_customers(self):
        """Each reminder e-mail is a message of its customer's chatter, so the customer's reply (Odoo's
        mail gateway routes it by the In-Reply-To of the reply) lands there for the collector.

        One UPDATE for the whole batch: the ORM's write of ``mail.message`` made two queries per customer
        (a fifth of the delivery's queries) and does nothing else for these fields than check that the
        caller is an administrator (the delivery job runs as superuser) and invalidate the documents'
        caches, which is done here around the statement."""
        rows = [(communication.mail_id.mail_message_id.id, communication.partner_id.commercial_partner_id.id)
                for communication in self.filtered(lambda c: c.mail_id.mail_message_id)]
        if not rows:
            return
        messages = self.env["mail.message"].sudo().browse([message_id for message_id, _partner in rows])
        messages._invalidate_documents()
        messages.flush_recordset(["model", "res_id"])
        self.env.cr.execute_values(
            "UPDATE mail_message message SET model = 'res.partner', res_id = v.res_id"
            "  FROM (VALUES %s) AS v(id, res_id) WHERE message.id = v.id", rows)
        messages.invalidate_recordset(["model", "res_id"])
        self.mail_id.invalidate_recordset(["model", "res_id"])  # the e-mails' own (inherited) copies of them
        messages._invalidate_documents()

    def _deliver_documents(self):
        """Letters or case files (one channel, one company): many per wkhtmltopdf call, one PDF each."""
        report_ref = DOCUMENT_REPORTS[self[:1].channel]
        try:
            with self.env.cr.savepoint():
                Report = self.env["ir.actions.report"]
                # under test Odoo renders reports as HTML unless asked for PDFs: so do we
                pdf = not (config["test_enable"] or config["test_file"]) \
                    or self.env.context.get("force_report_rendering")
                contents = self._render_documents_at_once(report_ref) if len(self) > 1 and pdf else None
                self._store_documents(contents or {
                    communication.id: Report._render_qweb_pdf(report_ref, res_ids=communication.ids)
                    for communication in self
                })
        except Exception:  # noqa: BLE001 - one by one, to fail only the culprit
            if len(self) == 1:
                self._fail_with_exception()
                return
            for communication in self:
                communication._deliver_documents()

    def _render_documents_at_once(self, report_ref):
        """These communications' documents rendered by one wkhtmltopdf call and split per communication.

        Odoo's report engine passes one HTML body per record to wkhtmltopdf and splits the PDF by
        its outlines; the wkhtmltopdf of most Linux distributions (built on an unpatched Qt) takes
        only one body and writes no outlines. So the bodies are joined into one, each document
        starting on a new page, and the PDF is split at the page that holds each document's
        reference, a link (``_document_link``) printed on its first page: reading a page's links
        is cheap, reading its text is not.

        :return: {communication id: (pdf bytes, "pdf")}, or None when the pages cannot be told
                 apart (the caller then renders them one by one)
        """
        Report = self.env["ir.actions.report"].with_context(webp_as_jpg=True, debug=False)
        report = Report._get_report(report_ref)
        html = Report._render_qweb_html(report_ref, self.ids, data={"debug": False})[0]
        bodies, _res_ids, header, footer, paperformat_args = report.with_context(debug=False)._prepare_html(
            html, report_model=report.model)
        documents = [lxml.html.document_fromstring(body) for body in bodies]
        merged = documents[0].body
        for document in documents[1:]:
            merged.append(lxml.html.fromstring('<div style="page-break-before: always;"></div>'))
            merged.extend(list(document.body))
        pdf = Report._run_wkhtmltopdf(
            [lxml.html.tostring(documents[0], encoding="unicode", doctype="<!DOCTYPE html>")],
            report_ref=report_ref, header=header, footer=footer, specific_paperformat_args=paperformat_args,
        )
        reader = PdfReader(io.BytesIO(pdf))
        references = {communication._document_reference(): communication.id for communication in self}
        pages, current = defaultdict(list), None
        for page in reader.pages:
            links = page.get("/Annots")
            uris = [(link.get_object().get("/A") or {}).get("/URI") or "" for link in
                    (links.get_object() if links else [])]
            found = [references[match.group(1)] for match in map(DOCUMENT_REFERENCE.search, uris)
                     if match and match.group(1) in references]
            current = found[0] if found else current
            if current is None or len(set(found)) > 1:
                return None
            pages[current].append(page)
        if set(pages) != set(self.ids):
            return None
        contents = {}
        for communication_id, document_pages in pages.items():
            writer = PdfWriter()
            for page in document_pages:
                writer.add_page(page)
            stream = io.BytesIO()
            writer.write(stream)
            contents[communication_id] = (stream.getvalue(), "pdf")
        return contents

    def _document_reference(self):
        """The reference printed on the first page of this reminder's letter or case file."""
        self.ensure_one()
        return f"REM-{self.id:06d}"

    def _document_link(self):
        """Where the reference printed on a letter leads: the customer's invoices on the portal."""
        self.ensure_one()
        return f"{self.get_base_url()}/my/invoices#{self._document_reference()}"

    def _document_file_name(self, extension):
        """The file of this reminder's document: its level in the customer's language and its reference."""
        self.ensure_one()
        level = self.level_id.with_context(lang=self.partner_id.lang).name
        return f"{level} {self._document_reference()}.{extension}"

    def _store_documents(self, contents):
        """Attach each communication its rendered document: ``contents`` is {id: (content, extension)}."""
        attachments = self.env["ir.attachment"].create([{
            "name": communication._document_file_name(contents[communication.id][1]),
            "raw": contents[communication.id][0],
            "res_model": self._name,
            "res_id": communication.id,
            "mimetype": "application/pdf" if contents[communication.id][1] == "pdf" else "text/html",
        } for communication in self])
        for communication, attachment in zip(self, attachments, strict=True):
            communication.write({"attachment_id": attachment.id, "state": "sent"})

    def _deliver_calls(self):
        """One call task per communication for the customer's collector, created together
        (one by one only when that fails, to fail only the culprit)."""
        try:
            with self.env.cr.savepoint():
                self._create_call_tasks()
        except Exception:  # noqa: BLE001 - one customer's failure must not stop the others
            if len(self) == 1:
                self._fail_with_exception()
                return
            for communication in self:
                communication._deliver_calls()

    def _create_call_tasks(self):
        Profile = self.env["cobranza.credit.profile"]
        collectors = {}
        for company, communications in self.grouped("company_id").items():
            for profile in Profile._get_or_create(communications.partner_id, company):
                collectors[profile.partner_id.id, company.id] = profile.collector_id
        call = self.env.ref("mail.mail_activity_data_call")
        fallback = self.env.ref("base.user_admin", False) or self.env.user
        model_id = self.env["ir.model"]._get("res.partner").id
        today = fields.Date.context_today(self)
        # no "you have been assigned" e-mail per task (Odoo's quick-update mode): a collector would get
        # one per customer every morning; the tasks are in their activities and the worklist
        activities = self.env["mail.activity"].sudo().with_context(mail_activity_quick_update=True).create([{
            "activity_type_id": call.id, "automated": True, "res_model_id": model_id,
            "res_id": communication.partner_id.id,
            "date_deadline": communication.not_before.date() if communication.not_before else today,
            "summary": communication.level_id.activity_summary or communication.level_id.name,
            "note": communication.invoice_table_html,
            "user_id": (collectors.get((communication.partner_id.id, communication.company_id.id))
                        or communication.collector_id or fallback).id,
        } for communication in self])
        for communication, activity in zip(self, activities, strict=True):
            communication.write({"state": "sent", "activity_id": activity.id})

    def _deliver_text_guarded(self):
        try:
            with self.env.cr.savepoint():
                self._deliver_text()
        except Exception:  # noqa: BLE001 - one communication's failure must not stop the others
            self._fail_with_exception()

    def _fail_with_exception(self):
        self._fail(str(sys.exc_info()[1]))

    def _deliver_text(self):
        """Send this text through its company's gateway (the reference is the idempotency key)."""
        gateway = self.env["cobranza.sms.gateway"].sudo().search([
            ("company_id", "=", self.company_id.id), ("channel", "=", self.channel),
        ], limit=1)
        number = self.partner_id.mobile or self.partner_id.phone
        if not self.text_body:
            self.text_body = self._render_text(self.level_id)
        if not gateway:
            raise GatewayError(self.env._("No %(channel)s gateway configured for %(company)s.",
                                          channel=self.channel, company=self.company_id.name))
        if not number:
            raise GatewayError(self.env._("%(partner)s has no mobile or phone number.",
                                          partner=self.partner_id.display_name))
        reference = gateway._send(number, self.text_body or "", self._idempotency_key())
        self.write({"state": "sent", "provider_reference": reference})

    def _idempotency_key(self):
        """Unique across databases: a restored copy never reuses the original's keys."""
        self.ensure_one()
        database = self.env["ir.config_parameter"].sudo().get_param("database.uuid", "")
        return f"cobranza-{database}-{self.id}"

    def _fail(self, reason):
        """Mark these communications failed with the reason, and say so in the customer's chatter.

        Only the delivery failed: the items keep the level they reached, and the level's side
        effects and the reminder's other channels stay as they are. ``action_retry`` sends it again.
        """
        self.write({"state": "failed", "failure_reason": reason})
        for communication in self:
            _logger.warning("Collections: reminder %s failed: %s", communication.name, reason)
            communication.partner_id.sudo()._message_log(body=self.env._(
                "Dunning failed (%(communication)s): %(error)s", communication=communication.name, error=reason,
            ))

    def _invalid_address_reason(self):
        self.ensure_one()
        address = self.partner_id.email
        if not address:
            return self.env._("%(customer)s has no e-mail address.", customer=self.partner_id.display_name)
        return self.env._("%(address)s is not a valid e-mail address.", address=address)

    def _retry_at(self, reason):
        """When to send this e-mail again after a temporary failure (``reason``), or None once the
        company's hours of retries since the first failure are over."""
        self.ensure_one()
        now = fields.Datetime.now()
        since = self.retry_since or now
        if now >= since + timedelta(hours=self.company_id.cobranza_retry_hours):
            return None
        attempts = self.delivery_attempts + 1
        self.write({"delivery_attempts": attempts, "retry_since": since, "failure_reason": self.env._(
            "Temporary failure, sent again later (attempt %(attempt)s): %(reason)s", attempt=attempts, reason=reason,
        )})
        return now + retry_pause(attempts)

    def _give_up(self, reason):
        """This e-mail will not be delivered: fail it, and put its items back at their previous level
        when nothing else of the reminder happened, so that the next run reminds them again.

        When the level did something besides communicating (late fee, hold, hand-over) or another
        channel of the same reminder reached the customer, the items keep their level: going back
        would do those again (the communication itself can still be retried, ``action_retry``).
        """
        self._fail(reason)
        for communication in self:
            siblings = self.search([
                ("partner_id", "=", communication.partner_id.id), ("company_id", "=", communication.company_id.id),
                ("date", "=", communication.date), ("message_id", "=", communication.message_id.id),
                ("id", "!=", communication.id), ("state", "not in", ("failed", "cancelled")),
            ], limit=1) if communication.message_id else self.browse()
            items = communication.line_ids.filtered(
                lambda line, c=communication: line.cobranza_level_date == c.date
                and str(line.id) in (c.previous_levels or {})
            )
            if siblings or communication.fee_move_id or any(items.cobranza_level_id.mapped(
                    lambda level: level._has_side_actions())):
                continue
            self.env["cobranza.dunning"]._advance_many([
                (line.id, communication.previous_levels[str(line.id)], None) for line in items
            ])
            if items:
                communication.partner_id.sudo()._message_log(body=self.env._(
                    "%(communication)s could not be delivered: %(invoices)s are back at their previous dunning "
                    "level and will be reminded in the next run.",
                    communication=communication.name, invoices=", ".join(items.mapped("move_name")),
                ))

    def action_retry(self):
        """Send failed communications again (after their cause was fixed): queued for the delivery job."""
        check_collector(self.env)
        failed = self.filtered(lambda c: c.state == "failed")
        failed.check_access("read")  # a collector retries the reminders of their portfolio
        failed.sudo().write({"state": "queued", "failure_reason": False, "mail_id": False, "text_body": False,
                             "delivery_attempts": 0, "retry_since": False})
        if failed:
            self.env.ref("cobranza_mgmt.ir_cron_dispatch_queued").sudo()._trigger()
        return True

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
