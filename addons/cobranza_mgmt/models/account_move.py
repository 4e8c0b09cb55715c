from contextlib import contextmanager
from contextvars import ContextVar

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_date
from odoo.tools.mimetypes import guess_mimetype

from .cobranza_access import check_collector, check_fields, check_manager, check_portfolio, compute_can_act

# Invoices the module itself posts past the credit control (late fees, agreement interest):
# a Python-side flag, so no caller can set it over RPC as it could a context key.
_CREDIT_EXEMPT = ContextVar("cobranza_credit_exempt", default=frozenset())
DISPUTE_FIELDS = ("cobranza_is_disputed", "cobranza_dispute_reason", "cobranza_dispute_user_id",
                  "cobranza_dispute_date")


# What a customer's file may be served as; anything else (HTML, SVG, scripts...) is served as a download.
PORTAL_MIMETYPES = ("application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", "text/plain")


def _portal_mimetype(content):
    mimetype = guess_mimetype(content)
    return mimetype if mimetype in PORTAL_MIMETYPES else "application/octet-stream"


@contextmanager
def credit_exempt(moves):
    """Post ``moves`` inside this block without the credit control (the module's own documents)."""
    token = _CREDIT_EXEMPT.set(_CREDIT_EXEMPT.get() | frozenset(moves.ids))
    try:
        yield
    finally:
        _CREDIT_EXEMPT.reset(token)


class AccountMove(models.Model):
    _inherit = "account.move"

    # Not tracked: recording and resolving a dispute post their own chatter message, and a tracked
    # field costs every write of every journal entry its tracking pass.
    cobranza_can_act = fields.Boolean(
        string="May Act in Collections", compute="_compute_cobranza_can_act",
        help="Whether this user may act on the invoice in Collections: a manager, or the customer's collector.",
    )
    cobranza_is_disputed = fields.Boolean(
        string="In Dispute", readonly=True, copy=False,
        help="The customer disputes this invoice: no reminder is sent until the dispute is resolved.",
    )
    cobranza_dispute_reason = fields.Text(string="Dispute Reason", readonly=True, copy=False)
    cobranza_dispute_user_id = fields.Many2one("res.users", string="Dispute Recorded By", readonly=True, copy=False)
    cobranza_dispute_date = fields.Datetime(string="Dispute Recorded On", readonly=True, copy=False)
    cobranza_interest_line_ids = fields.One2many(
        "cobranza.interest.line", "interest_move_id", string="Interest Charged", readonly=True, copy=False,
    )
    cobranza_interest_reversal_reason = fields.Text(string="Interest Reversed Because", readonly=True, copy=False)

    def _compute_partner_credit_warning(self):  # pylint: disable=missing-return
        """Odoo's own credit warning on draft customer invoices, fed by the credit policy: a hold or a
        policy reason first, then Odoo's over-the-limit text (shown even when the company does not use
        credit limits, since holds do not depend on them)."""
        super()._compute_partner_credit_warning()
        self.env["cobranza.credit.policy"].sudo()._feed_warning(
            self.filtered(lambda m: m.move_type == "out_invoice" and m.partner_id and m.state == "draft"),
        )

    def write(self, vals):
        if any(name in vals for name in DISPUTE_FIELDS):
            check_fields(self, [name for name in vals if name in DISPUTE_FIELDS], ())
        return super().write(vals)

    def _cobranza_set_dispute(self, reason):
        """Mark customer invoices as disputed (reason required): dunning skips them."""
        check_collector(self.env)
        if not (reason or "").strip():
            raise UserError(self.env._("Give the reason of the dispute."))
        invoices = self.filtered(lambda m: m.move_type == "out_invoice")
        if invoices != self:
            raise UserError(self.env._("Only customer invoices can be disputed."))
        invoices.check_access("write")
        check_portfolio(self.env, invoices.commercial_partner_id)
        invoices.sudo().write({
            "cobranza_is_disputed": True, "cobranza_dispute_reason": reason.strip(),
            "cobranza_dispute_user_id": self.env.uid, "cobranza_dispute_date": fields.Datetime.now(),
        })
        for invoice in invoices:
            invoice.message_post(body=self.env._("Dispute recorded by %(user)s: %(reason)s",
                                                 user=self.env.user.name, reason=reason))
        return True

    def _cobranza_portal_open(self, partner, company):
        """These invoices as superuser, when they are all open posted customer invoices of ``partner``
        (the customer the portal authenticated) in ``company``; else a UserError."""
        invoices = self.sudo()
        if not invoices or invoices.filtered(lambda move: (
                move.move_type != "out_invoice" or move.state != "posted" or move.amount_residual <= 0
                or move.commercial_partner_id != partner.commercial_partner_id or move.company_id != company)):
            raise UserError(self.env._("Choose among your open invoices."))
        return invoices

    def _cobranza_portal_dispute(self, partner, company, reason, comment, files):
        """The customer disputes these invoices in the portal: they leave dunning (as a collector's
        dispute), the reason, comment and files (name, content) are on each invoice, and the collector
        gets a task to resolve it. ``partner`` is the customer the caller authenticated."""
        partner = partner.commercial_partner_id
        invoices = self._cobranza_portal_open(partner, company)
        if not reason:
            raise UserError(self.env._("Choose the reason of the dispute."))
        if len(files) > 5 or any(len(content) > 10 * 1024 * 1024 for _name, content in files):
            raise UserError(self.env._("Attach at most 5 files of 10 MB each."))
        text = reason.name + (f": {comment.strip()}" if (comment or "").strip() else "")
        invoices.write({
            "cobranza_is_disputed": True, "cobranza_dispute_reason": text,
            "cobranza_dispute_user_id": False, "cobranza_dispute_date": fields.Datetime.now(),
        })
        profile = self.env["cobranza.credit.profile"].sudo()._get_or_create(partner, company)
        for invoice in invoices:
            # made as a composer's attachments are: message_post then links them to the invoice
            attachments = self.env["ir.attachment"].sudo().create([
                {"name": name, "raw": content, "res_model": "mail.compose.message", "res_id": 0,
                 "mimetype": _portal_mimetype(content)}
                for name, content in files
            ])
            invoice.message_post(
                body=self.env._("Dispute from the customer portal: %(reason)s", reason=text),
                attachment_ids=attachments.ids, author_id=partner.id,
            )
            invoice.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=self.env._("Dispute from the portal: resolve it"),
                # the customer's words, escaped: no live markup, not even a link, in the collector's task
                note=Markup("<p>%s</p>") % text,
                user_id=(profile.collector_id or self.env.ref("base.user_root")).id,
            )
        return True

    def _cobranza_reverse_interest(self, reason):
        """A Collections Manager takes back a late-payment interest invoice: a credit note (reconciled with
        the invoice while nothing is paid on it), the reason on both chatters. The days it charged stay
        charged: the next billing does not charge them again.

        :return: the credit note
        """
        self.ensure_one()
        check_manager(self.env)
        self.check_access("read")
        if not (reason or "").strip():
            raise UserError(self.env._("Give the reason for reversing the interest."))
        lines = self.sudo().cobranza_interest_line_ids
        if self.state != "posted" or not lines or lines.filtered(lambda line: line.state != "billed"):
            raise UserError(self.env._("%(invoice)s is not a posted late-payment interest invoice still charged.",
                                       invoice=self.display_name))
        move = self.sudo()
        today = self.company_id._cobranza_today()
        credit_note = move._reverse_moves(
            [{"ref": self.env._("Interest reversed: %(reason)s", reason=reason.strip()), "invoice_date": today,
              "invoice_payment_term_id": False, "invoice_date_due": today}],
            cancel=move.payment_state == "not_paid",
        )
        if credit_note.state == "draft":
            with credit_exempt(credit_note):
                credit_note.action_post()
        lines.write({"state": "reversed"})
        move.cobranza_interest_reversal_reason = reason.strip()
        body = self.env._("Late-payment interest %(invoice)s reversed by %(user)s (%(credit_note)s): %(reason)s",
                          invoice=self.name, user=self.env.user.name, credit_note=credit_note.name,
                          reason=reason.strip())
        move.message_post(body=body)
        move.commercial_partner_id.message_post(body=body)
        return credit_note

    def action_cobranza_reverse_interest(self):
        self.ensure_one()
        check_manager(self.env)
        return {
            "type": "ir.actions.act_window", "name": self.env._("Reverse Late-Payment Interest"),
            "res_model": "cobranza.interest.reverse", "view_mode": "form", "target": "new",
            "context": {"default_move_id": self.id},
        }

    def action_cobranza_send_reminder_now(self):
        """Remind the customer of this invoice now (what is due, or its last level again)."""
        self.ensure_one()
        check_collector(self.env)
        self.check_access("write")
        check_portfolio(self.env, self.commercial_partner_id)
        if self.move_type != "out_invoice" or self.state != "posted":
            raise UserError(self.env._("Only posted customer invoices can be reminded."))
        self.env["cobranza.dunning"].sudo().with_company(self.company_id)._send_now(
            self.company_id, self.commercial_partner_id, move_ids=self.ids,
        )
        return True

    def action_cobranza_open_dispute_wizard(self):
        check_collector(self.env)
        check_portfolio(self.env, self.commercial_partner_id)
        return {
            "type": "ir.actions.act_window", "name": self.env._("Record a Dispute"),
            "res_model": "cobranza.dispute.wizard", "view_mode": "form", "target": "new",
            "context": {"default_move_ids": self.ids},
        }

    def action_cobranza_resolve_dispute(self):
        check_collector(self.env)
        disputed = self.filtered("cobranza_is_disputed")
        disputed.check_access("write")
        check_portfolio(self.env, disputed.commercial_partner_id)
        disputed.sudo().write({"cobranza_is_disputed": False})
        for invoice in disputed:
            invoice.message_post(body=self.env._("Dispute resolved by %(user)s.", user=self.env.user.name))
        return True

    @api.depends_context("uid", "allowed_company_ids")
    @api.depends("commercial_partner_id")
    def _compute_cobranza_can_act(self):
        compute_can_act(self)

    def _cobranza_ensure_portal_tokens(self):
        """Give these invoices the portal access token their reminders link to, in one UPDATE.

        Odoo's ``_portal_ensure_token`` writes each invoice through the full invoice ``write`` (about
        34 ms each: tracking, recomputations, the invoice's checks) for a field nothing depends on; the
        reminder run gives thousands of invoices their token while it holds their customers. The SQL
        skips that write: no tracking or write date for the token, as Odoo itself never tracks it. The
        token is a random UUID, as Odoo's is."""
        missing = self.filtered(lambda move: not move.access_token)
        if not missing:
            return
        self.env.cr.execute(SQL(
            "UPDATE account_move SET access_token = gen_random_uuid()::text "
            "WHERE id = ANY(%s) AND access_token IS NULL", missing.ids,
        ))
        missing.invalidate_recordset(["access_token"])

    def _cobranza_check_credit(self):
        """Refuse to post customer invoices of customers on hold or whose policy refuses credit now.

        Collections managers may post them anyway; the override is logged on the invoice.
        Draft invoices already count in the exposure, so nothing is added for this one.
        """
        exempt = _CREDIT_EXEMPT.get()
        invoices = self.filtered(
            lambda m: m.move_type == "out_invoice" and m.company_id.cobranza_block_posting and m.id not in exempt
        )
        Policy = self.env["cobranza.credit.policy"]
        for company, moves in invoices.grouped("company_id").items():
            Policy._enforce(moves, company, lambda move, problem: self.env._(
                "Invoice %(invoice)s cannot be posted. %(problem)s Ask a Collections Manager.",
                invoice=move.display_name, problem=problem,
            ))

    @api.depends("partner_id")
    def _compute_invoice_payment_term_id(self):
        """Odoo's terms (the customer's), unless the ladder the customer climbs gives its customers
        early-payment terms (a collection policy incentive): a new customer invoice gets those."""
        result = super()._compute_invoice_payment_term_id()
        invoices = self.filtered(lambda m: m.move_type == "out_invoice" and m.state == "draft"
                                 and m.commercial_partner_id and m.company_id)
        Ladder = self.env["cobranza.dunning.ladder"].sudo()
        for company, moves in invoices.grouped("company_id").items():
            ladders = Ladder._for_customers(company, moves.commercial_partner_id.ids)
            for move in moves:
                term = ladders.get(move.commercial_partner_id.id, Ladder).incentive_term_id
                if term:
                    move.invoice_payment_term_id = term.with_env(self.env)
        return result

    def _cobranza_check_rates(self):
        """Refuse to post a customer document in a foreign currency that has no rate on or before its
        date: Odoo would convert it at 1:1 without a word, and every figure of Collections with it."""
        foreign = self.filtered(lambda m: m.currency_id != m.company_id.currency_id
                                and m.is_sale_document(include_receipts=True))
        for (company, currency), moves in foreign.grouped(lambda m: (m.company_id, m.currency_id)).items():
            first = min(moves.mapped(lambda m: m.invoice_date or m.date or fields.Date.context_today(m)))
            missing = self.env["res.currency"]._cobranza_missing_rates(company, currency, first)
            if missing:
                raise UserError(self.env._(
                    "%(currency)s has no exchange rate on or before %(date)s in %(company)s: record one in "
                    "Accounting > Configuration > Currencies before posting %(documents)s.",
                    currency=currency.name, date=format_date(self.env, first), company=company.name,
                    documents=", ".join(moves.mapped("display_name")),
                ))

    def _post(self, soft=True):
        self._cobranza_check_rates()
        self._cobranza_check_credit()
        posted = super()._post(soft=soft)
        self.env["cobranza.profile.refresh"].sudo()._mark_moves(posted)
        return posted

    def button_draft(self):
        result = super().button_draft()
        self.env["cobranza.profile.refresh"].sudo()._mark_moves(self)
        return result

    def button_cancel(self):
        result = super().button_cancel()
        self.env["cobranza.profile.refresh"].sudo()._mark_moves(self)
        return result
