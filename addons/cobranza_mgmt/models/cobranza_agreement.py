import logging
from datetime import timedelta

from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, format_date

from ..logic import schedule
from .account_move import credit_exempt
from .cobranza_access import check_collector, check_fields, check_portfolio

# What a user writes directly on a draft agreement, and at any time; the rest (state, payments,
# signature, interest invoice) only Collections sets, through the actions below.
DRAFT_FIELDS = (
    "partner_id", "currency_id", "move_ids", "date", "financed_amount", "down_payment", "installment_count",
    "frequency", "first_due_date", "interest_rate", "interest_method", "grace_days", "reminder_days",
    "installment_ids",
)
ANY_STATE_FIELDS = ("note", "user_id")
# The states whose invoices are taken: no other agreement or request may cover them.
COVERING_STATES = ("requested", "proposed", "active")
PORTAL_FREQUENCIES = ("weekly", "biweekly", "monthly")

_logger = logging.getLogger(__name__)

FREQUENCIES = [
    ("weekly", "Weekly"), ("biweekly", "Every Two Weeks"), ("monthly", "Monthly"), ("custom", "Custom Dates"),
]
INTEREST_METHODS = [("flat", "Flat"), ("french", "French (constant installment)")]


class CobranzaAgreement(models.Model):
    """A payment agreement: a customer's overdue invoices repaid by a down payment and installments.

    The financed amount is a snapshot of the invoices' residuals when the agreement is made.
    Payments matched with the covered invoices (and with the interest invoice, if any) are
    allocated to the installments in due-date order. While active, the covered invoices are out
    of dunning; an installment unpaid beyond the grace days breaks the agreement and they go
    back to dunning at the level they had reached.
    """

    _name = "cobranza.agreement"
    _description = "Payment Agreement"
    _inherit = ["portal.mixin", "mail.thread", "mail.activity.mixin"]
    _order = "date desc, id desc"
    _check_company_auto = True

    name = fields.Char(string="Reference", required=True, readonly=True, copy=False, default="/")
    partner_id = fields.Many2one("res.partner", string="Customer", required=True, index=True, tracking=True,
                                 domain="[('parent_id', '=', False)]")
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one("res.currency", required=True, help="The currency of the covered invoices.")
    user_id = fields.Many2one("res.users", string="Responsible", default=lambda self: self.env.user, tracking=True)
    collector_id = fields.Many2one("res.users", index=True,
                                   help="The customer's collector when the agreement was made.")
    move_ids = fields.Many2many(
        "account.move", "cobranza_agreement_move_rel", "agreement_id", "move_id", string="Covered Invoices",
    )
    interest_move_id = fields.Many2one("account.move", string="Interest Invoice", readonly=True, copy=False)
    date = fields.Date(string="Agreement Date", required=True, default=fields.Date.context_today)
    financed_amount = fields.Monetary(
        required=True, help="What the covered invoices still owed when the agreement was made.",
    )
    down_payment = fields.Monetary()
    installment_count = fields.Integer(string="Installments", required=True, default=3)
    frequency = fields.Selection(FREQUENCIES, required=True, default="monthly")
    first_due_date = fields.Date(required=True)
    interest_rate = fields.Float(string="Annual Interest (%)", digits=(16, 4))
    interest_method = fields.Selection(INTEREST_METHODS, required=True, default="flat")
    interest_amount = fields.Monetary(compute="_compute_amounts", store=True)
    total_amount = fields.Monetary(compute="_compute_amounts", store=True, string="Total to Pay")
    paid_amount = fields.Monetary(readonly=True, help="Payments matched with the covered invoices since the agreement.")
    residual_amount = fields.Monetary(compute="_compute_amounts", store=True, string="Left to Pay")
    grace_days = fields.Integer(default=lambda self: self.env.company.cobranza_grace_days,
                                help="Days an installment may be late before the agreement is broken.")
    reminder_days = fields.Integer(default=3, help="Days before each due date the customer is reminded.")
    installment_ids = fields.One2many("cobranza.agreement.installment", "agreement_id", string="Schedule")
    state = fields.Selection(
        [("requested", "Requested"), ("draft", "Draft"), ("proposed", "Proposed"), ("active", "Active"),
         ("completed", "Completed"), ("broken", "Broken"), ("cancelled", "Cancelled"), ("declined", "Declined")],
        default="draft", required=True, index=True, tracking=True, copy=False,
    )
    signed_by = fields.Char(readonly=True, copy=False)
    signed_on = fields.Datetime(readonly=True, copy=False)
    signature = fields.Image(readonly=True, copy=False, attachment=True, max_width=1024, max_height=1024)
    note = fields.Html(string="Conditions", help="Extra conditions printed on the agreement.")
    request_note = fields.Text(string="Customer's Comment", readonly=True, copy=False,
                               help="What the customer wrote when asking for installments in the portal.")
    decline_reason = fields.Text(readonly=True, copy=False, help="Why the customer's request was declined.")

    _sql_constraints = [
        ("installment_count_positive", "CHECK(installment_count > 0)",
         "An agreement needs at least one installment."),
    ]

    # ------------------------------------------------------------------ computes

    @api.depends("installment_ids.amount", "installment_ids.interest", "paid_amount")
    def _compute_amounts(self):
        for agreement in self:
            agreement.interest_amount = sum(agreement.installment_ids.mapped("interest"))
            agreement.total_amount = sum(agreement.installment_ids.mapped("amount"))
            agreement.residual_amount = agreement.total_amount - agreement.paid_amount

    def _compute_access_url(self):  # pylint: disable=missing-return
        super()._compute_access_url()
        for agreement in self:
            agreement.access_url = f"/my/agreements/{agreement.id}"

    @api.depends("name", "partner_id")
    def _compute_display_name(self):
        for agreement in self:
            agreement.display_name = f"{agreement.name} - {agreement.partner_id.name}" \
                if agreement.partner_id else agreement.name

    # ------------------------------------------------------------------ validation

    @api.model
    def _check_moves(self, partner, company, moves):
        """Raise a clear error unless ``moves`` can be covered by a new agreement of ``partner``.

        :return: (their currency, what they still owe)
        """
        if not moves:
            raise ValidationError(self.env._("Choose the invoices the agreement covers."))
        not_receivable = moves.filtered(lambda m: m.move_type != "out_invoice")
        if not_receivable:
            raise ValidationError(self.env._("Only customer invoices can be covered by an agreement: %(moves)s.",
                                    moves=", ".join(not_receivable.mapped("display_name"))))
        unposted = moves.filtered(lambda m: m.state != "posted")
        if unposted:
            raise ValidationError(self.env._("Only posted invoices can be covered by an agreement: %(moves)s.",
                                    moves=", ".join(unposted.mapped("display_name"))))
        foreign = moves.filtered(lambda m: m.commercial_partner_id != partner or m.company_id != company)
        if foreign:
            raise ValidationError(self.env._("Invoices %(moves)s are not of %(partner)s in %(company)s.",
                                    moves=", ".join(foreign.mapped("name")), partner=partner.display_name,
                                    company=company.name))
        paid = moves.filtered(lambda m: m.currency_id.compare_amounts(m.amount_residual, 0) <= 0)
        if paid:
            raise ValidationError(self.env._("Invoices %(moves)s have nothing left to pay.",
                                    moves=", ".join(paid.mapped("name"))))
        if len(moves.currency_id) > 1:
            raise ValidationError(self.env._("The invoices of an agreement must share one currency (%(currencies)s).",
                                    currencies=", ".join(moves.currency_id.mapped("name"))))
        taken = self.sudo().search([("move_ids", "in", moves.ids), ("state", "in", COVERING_STATES),
                                    ("id", "not in", self.ids)])
        if taken:
            raise ValidationError(self.env._(
                "Invoices %(moves)s are already in agreement %(agreement)s.",
                moves=", ".join((moves & taken.move_ids).mapped("name")), agreement=taken[0].name,
            ))
        return moves.currency_id, moves.currency_id.round(sum(moves.mapped("amount_residual")))

    @api.model
    def _check_plan(self, currency, financed, *, down_payment, count, frequency, first_due_date, date,
                    interest_rate, custom_dates=None):
        """Raise a clear error on bad terms; return the installments' due dates."""
        if count <= 0:
            raise ValidationError(self.env._("The number of installments must be positive (%(count)s).", count=count))
        if currency.compare_amounts(down_payment, 0) < 0:
            raise ValidationError(self.env._("The down payment cannot be negative (%(amount)s).",
                                    amount=currency.format(down_payment)))
        if currency.compare_amounts(down_payment, financed) >= 0:
            raise ValidationError(self.env._(
                "The down payment (%(down)s) must be less than the debt (%(debt)s).",
                down=currency.format(down_payment), debt=currency.format(financed),
            ))
        if interest_rate < 0:
            raise ValidationError(self.env._("The interest rate cannot be negative (%(rate)s).", rate=interest_rate))
        if frequency == "custom":
            dates = list(custom_dates or [])
            if len(dates) != count:
                raise ValidationError(self.env._(
                    "Give one date per installment: %(count)s installments, %(dates)s dates.",
                    count=count, dates=len(dates),
                ))
            if not schedule.is_strictly_increasing(dates):
                raise ValidationError(self.env._("The installment dates must be strictly increasing."))
        else:
            if not first_due_date:
                raise ValidationError(self.env._("Set the first due date."))
            dates = schedule.due_dates(first_due_date, count, frequency)
        if dates[0] < date or (currency.compare_amounts(down_payment, 0) > 0 and dates[0] <= date):
            raise ValidationError(self.env._(
                "The first installment (%(first)s) must fall after the agreement date (%(date)s).",
                first=dates[0], date=date,
            ))
        return dates

    @api.model
    def _schedule_rows(self, currency, financed, *, down_payment, dates, date, interest_rate, interest_method,
                       frequency):
        """Installment values: the down payment (on the agreement date) then the schedule."""
        rows = []
        if currency.compare_amounts(down_payment, 0) > 0:
            rows.append({"due_date": date, "principal": down_payment, "interest": 0.0, "amount": down_payment,
                         "is_down_payment": True})
        for row in schedule.build_schedule(financed - down_payment, dates, annual_rate=interest_rate,
                                           method=interest_method, frequency=frequency,
                                           digits=currency.decimal_places):
            rows.append({"due_date": row["date"], "principal": float(row["principal"]),
                         "interest": float(row["interest"]), "amount": float(row["amount"])})
        for sequence, row in enumerate(rows, start=1):
            row["sequence"] = sequence
        return rows

    @api.constrains("installment_ids", "financed_amount", "state")
    def _check_schedule(self):
        for agreement in self.filtered(lambda a: a.state in ("requested", "draft", "proposed", "active")):
            currency = agreement.currency_id
            installments = agreement.installment_ids.sorted("sequence")
            if not installments:
                raise ValidationError(self.env._("Agreement %(name)s has no installments.", name=agreement.name))
            dates = installments.mapped("due_date")
            if not schedule.is_strictly_increasing(dates):
                raise ValidationError(self.env._("The installment dates must be strictly increasing."))
            if currency.compare_amounts(sum(installments.mapped("principal")), agreement.financed_amount):
                raise ValidationError(self.env._(
                    "The installments (%(sum)s) must repay the financed amount (%(financed)s).",
                    sum=currency.format(sum(installments.mapped("principal"))),
                    financed=currency.format(agreement.financed_amount),
                ))
            if any(currency.compare_amounts(i.amount, 0) <= 0 for i in installments):
                raise ValidationError(self.env._("Every installment must be a positive amount."))

    @api.constrains("move_ids", "state")
    def _check_coverage(self):
        """An invoice is in one requested, proposed or active agreement at most, whoever writes the
        agreement (a user, the portal, the module as superuser) and whatever is written (invoices or state)."""
        for agreement in self.filtered(lambda a: a.state in COVERING_STATES):
            taken = self.sudo().search([("move_ids", "in", agreement.move_ids.ids),
                                        ("state", "in", COVERING_STATES), ("id", "!=", agreement.id)])
            if taken:
                raise ValidationError(self.env._(
                    "Invoices %(moves)s are already in agreement %(agreement)s.",
                    moves=", ".join((agreement.move_ids & taken.move_ids).mapped("name")), agreement=taken[0].name,
                ))

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            check_collector(self.env)
            check_portfolio(self.env, self.env["res.partner"].browse([vals["partner_id"] for vals in vals_list
                                                                      if vals.get("partner_id")]))
        for vals in vals_list:
            check_fields(self, vals, ("company_id", "collector_id", *DRAFT_FIELDS, *ANY_STATE_FIELDS))
            if vals.get("name", "/") == "/":
                vals["name"] = self.env["ir.sequence"].next_by_code("cobranza.agreement") or "/"
        agreements = super().create(vals_list)
        agreements._check_financed()
        return agreements

    def write(self, vals):
        if not self.env.su:
            check_fields(self, vals, (*DRAFT_FIELDS, *ANY_STATE_FIELDS))
            if set(vals) & set(DRAFT_FIELDS) and self.filtered(lambda a: a.state != "draft"):
                raise ValidationError(self.env._(
                    "Only a draft agreement can change its invoices, amounts or schedule: cancel it and make a new one."
                ))
        result = super().write(vals)
        if {"partner_id", "move_ids", "financed_amount", "currency_id"} & set(vals):
            self._check_financed()
        return result

    def _check_financed(self):
        """The invoices may be covered (of the customer, open, in no other agreement) and the financed
        amount is what they owe."""
        for agreement in self:
            currency, financed = agreement._check_moves(agreement.partner_id, agreement.company_id, agreement.move_ids)
            if agreement.currency_id != currency or currency.compare_amounts(agreement.financed_amount, financed):
                raise ValidationError(self.env._(
                    "The financed amount (%(amount)s) must be what the invoices owe (%(owed)s).",
                    amount=agreement.currency_id.format(agreement.financed_amount), owed=currency.format(financed),
                ))

    def _set_state(self, state):
        """Change the state after the action's own checks: the user must be allowed to write the agreement."""
        self.check_access("write")
        self.sudo().write({"state": state})

    # ------------------------------------------------------------------ state changes

    def action_propose(self):
        """Propose a draft to the customer, or approve a customer's request: the customer then signs it."""
        for agreement in self:
            if agreement.state not in ("draft", "requested"):
                raise UserError(self.env._("Only a draft agreement or a customer's request can be proposed."))
            if agreement.state == "requested":
                agreement._start_today()
            agreement._check_terms_still_valid()
            agreement._set_state("proposed")
            agreement._close_request(self.env._("Approved."))
            template = self.env.ref("cobranza_mgmt.mail_template_agreement_proposal")
            agreement.message_post_with_source(template, subtype_xmlid="mail.mt_comment")
        return True

    def action_activate(self):
        for agreement in self:
            if agreement.state not in ("draft", "proposed"):
                raise UserError(self.env._("Only a draft or proposed agreement can be activated."))
            agreement._check_terms_still_valid()
            agreement.check_access("write")
            if agreement.currency_id.compare_amounts(agreement.interest_amount, 0) > 0:
                agreement.sudo().interest_move_id = agreement._create_interest_invoice()
            agreement._set_state("active")
            agreement._refresh_payments()
        return True

    def action_cancel(self):
        for agreement in self:
            if agreement.state in ("completed", "cancelled"):
                raise UserError(self.env._("A completed or cancelled agreement cannot be cancelled."))
            agreement._set_state("cancelled")
            agreement.sudo().access_token = False  # links already sent stop working
        return True

    def action_draft(self):
        """Back to draft: a cancelled agreement that never started, or a customer's request whose terms
        the collector will change before proposing them."""
        for agreement in self:
            never_started = agreement.state == "cancelled" and not agreement.interest_move_id
            if agreement.state != "requested" and not never_started:
                raise UserError(self.env._(
                    "Only a customer's request or a cancelled agreement that never started can go back to draft."))
            check_collector(self.env)
            agreement._set_state("draft")
            agreement._close_request(self.env._("Taken over as a draft to change its terms."))
        return True

    def action_decline(self, reason):
        """Decline a customer's request with the reason the customer reads (e-mail and portal)."""
        reason = (reason or "").strip()
        if not reason:
            raise UserError(self.env._("Give the reason for declining: the customer reads it."))
        for agreement in self:
            if agreement.state != "requested":
                raise UserError(self.env._("Only a customer's request can be declined."))
            check_collector(self.env)
            agreement.check_access("write")
            agreement.sudo().write({"state": "declined", "decline_reason": reason})
            agreement._close_request(self.env._("Declined: %(reason)s", reason=reason))
            template = self.env.ref("cobranza_mgmt.mail_template_agreement_declined")
            agreement.message_post_with_source(template, subtype_xmlid="mail.mt_comment")
        return True

    def _start_today(self):
        """A request approved days after it was made starts today: its date and its down payment move
        to today (the installments stay where the customer asked them)."""
        self.ensure_one()
        today = fields.Date.context_today(self)
        if self.date >= today:
            return
        self.check_access("write")
        down = self.installment_ids.filtered("is_down_payment")
        self.sudo().write({"date": today, "installment_ids": [Command.update(i.id, {"due_date": today}) for i in down]})

    def _close_request(self, feedback):
        """Mark done the to-do a customer's request gave its collector."""
        todo = self.env.ref("mail.mail_activity_data_todo")
        self.sudo().activity_ids.filtered(lambda activity: activity.activity_type_id == todo).action_feedback(
            feedback=feedback)

    @api.model
    def _portal_request(self, partner, company, invoices, *, installments, down_payment, frequency, first_due_date,
                        comment=None):
        """A customer asks in the portal to pay ``invoices`` in installments, within the policy of its
        segment (installments at most, down payment at least, first installment within so many days,
        the policy's interest). Checked here, whatever the form sent; the request goes to the
        customer's collector, who approves it (the customer then signs it) or declines it.
        ``partner`` is the customer the caller authenticated (signed in or by its link)."""
        partner = partner.commercial_partner_id
        invoices = invoices._cobranza_portal_open(partner, company)
        if invoices.filtered("cobranza_is_disputed"):
            raise UserError(self.env._("Invoices in dispute cannot be paid in installments until the dispute is "
                                       "resolved."))
        policy = self.env["cobranza.agreement.policy"]._for_customer(partner, company)
        if not policy:
            raise UserError(self.env._("Installments cannot be asked for online for your account: please contact us."))
        if self.sudo().search_count([("partner_id", "=", partner.id), ("company_id", "=", company.id),
                                     ("state", "=", "requested")], limit=1):
            raise UserError(self.env._("You already asked for installments: we will answer that request first."))
        if frequency not in PORTAL_FREQUENCIES:
            raise UserError(self.env._("Choose how often you pay: every week, every two weeks or every month."))
        if not isinstance(installments, int) or not 1 <= installments <= policy.max_installments:
            raise UserError(self.env._("Choose from 1 to %(most)s installments.", most=policy.max_installments))
        today = fields.Date.context_today(self)
        latest = today + timedelta(days=policy.max_first_days)
        if not first_due_date or first_due_date <= today or first_due_date > latest:
            raise UserError(self.env._("Choose the first installment's date from %(first)s to %(last)s.",
                                       first=format_date(self.env, today + timedelta(days=1)),
                                       last=format_date(self.env, latest)))
        currency, financed = self._check_moves(partner, company, invoices)
        least = currency.round(financed * policy.min_down_payment_percent / 100)
        if down_payment is None or currency.compare_amounts(down_payment, least) < 0 \
                or currency.compare_amounts(down_payment, financed) >= 0:
            raise UserError(self.env._("The down payment must be at least %(least)s and less than %(debt)s.",
                                       least=currency.format(least), debt=currency.format(financed)))
        down_payment = currency.round(down_payment)
        dates = self._check_plan(currency, financed, down_payment=down_payment, count=installments,
                                 frequency=frequency, first_due_date=first_due_date, date=today,
                                 interest_rate=policy.interest_rate)
        rows = self._schedule_rows(currency, financed, down_payment=down_payment, dates=dates, date=today,
                                   interest_rate=policy.interest_rate, interest_method=policy.interest_method,
                                   frequency=frequency)
        profile = self.env["cobranza.credit.profile"].sudo()._get_or_create(partner, company)
        collector = profile.collector_id
        agreement = self.sudo().with_company(company).create({
            "partner_id": partner.id, "company_id": company.id, "currency_id": currency.id,
            "user_id": collector.id, "collector_id": collector.id, "move_ids": [Command.set(invoices.ids)],
            "date": today, "financed_amount": financed, "down_payment": down_payment,
            "installment_count": installments, "frequency": frequency, "first_due_date": dates[0],
            "interest_rate": policy.interest_rate, "interest_method": policy.interest_method,
            "installment_ids": [Command.create(row) for row in rows], "state": "requested",
            "request_note": (comment or "").strip()[:2000] or False,
        })
        agreement.message_post(body=self.env._("Requested by the customer in the portal."), author_id=partner.id)
        agreement.activity_schedule(
            "mail.mail_activity_data_todo", date_deadline=today + timedelta(days=2),
            summary=self.env._("Request for installments from the portal"),
            note=self.env._("%(partner)s asks to pay %(debt)s in %(count)s installments (%(invoices)s): approve or "
                            "decline it.", partner=partner.display_name, debt=currency.format(financed),
                            count=installments, invoices=", ".join(invoices.mapped("name"))),
            user_id=(collector or company.partner_id.user_ids[:1] or self.env.ref("base.user_root")).id,
        )
        return agreement

    def action_print(self):
        return self.env.ref("cobranza_mgmt.action_report_cobranza_agreement").report_action(self)

    def _check_terms_still_valid(self):
        """The invoices may have been paid or taken by another agreement since the draft was made,
        and no installment may already be due before the agreement starts."""
        self.ensure_one()
        check_collector(self.env)
        self._check_moves(self.partner_id, self.company_id, self.move_ids)
        today = fields.Date.context_today(self)
        past = self.installment_ids.filtered(lambda i: i.due_date < today).sorted("due_date")
        if past:
            raise ValidationError(self.env._(
                "Installment %(number)s of agreement %(name)s was due on %(date)s, before today: reschedule it.",
                number=past[0].sequence, name=self.name, date=past[0].due_date,
            ))

    def _create_interest_invoice(self):
        self.ensure_one()
        product = self.company_id.cobranza_agreement_interest_product_id
        if not product:
            raise UserError(self.env._("Set the agreement interest product in the Collections settings of "
                                       "%(company)s.", company=self.company_id.name))
        move = self.env["account.move"].create({
            "move_type": "out_invoice",
            "invoice_payment_term_id": False,  # its own due date: no terms, no early-payment incentive
            "partner_id": self.partner_id.id,
            "company_id": self.company_id.id,
            "currency_id": self.currency_id.id,
            "invoice_date": self.date,
            "invoice_date_due": self.installment_ids.sorted("due_date")[-1:].due_date,
            "invoice_origin": self.name,
            "invoice_line_ids": [Command.create({
                "product_id": product.id,
                "name": self.env._("Interest of payment agreement %(name)s", name=self.name),
                "quantity": 1,
                "price_unit": self.interest_amount,
                "tax_ids": [Command.clear()],
            })],
        })
        with credit_exempt(move):
            move.action_post()
        return move

    def _accept(self, name, signature):
        """The customer accepted the proposal online: record the signature and start the agreement."""
        self.ensure_one()
        if self.state != "proposed":
            raise UserError(self.env._("This agreement is not waiting for your acceptance."))
        if not name or not signature:
            raise UserError(self.env._("Sign with your name to accept the agreement."))
        self.sudo().write({"signed_by": name, "signed_on": fields.Datetime.now(), "signature": signature})
        self.action_activate()
        self.message_post(body=self.env._("Accepted online by %(name)s.", name=name))

    # ------------------------------------------------------------------ tracking

    def _covered_moves(self):
        self.ensure_one()
        return self.move_ids | self.interest_move_id

    def _refresh_payments(self, today=None):
        """Allocate what was paid on the covered invoices to the installments, in due-date order."""
        today = today or fields.Date.context_today(self)
        for agreement in self.sudo().filtered(lambda a: a.state in ("active", "completed")):
            currency = agreement.currency_id
            still_owed = sum(agreement._covered_moves().mapped("amount_residual"))
            paid = max(0.0, currency.round(agreement.financed_amount + agreement.interest_amount - still_owed))
            installments = agreement.installment_ids.sorted(lambda i: (i.due_date, i.sequence))
            for installment, allocated in zip(installments, schedule.allocate(installments.mapped("amount"), paid),
                                              strict=True):
                part = float(allocated)
                if currency.compare_amounts(part, installment.amount) >= 0:
                    state = "paid"
                elif installment.due_date < today:
                    state = "overdue"
                elif currency.compare_amounts(part, 0) > 0:
                    state = "partial"
                else:
                    state = "open"
                if installment.paid_amount != part or installment.state != state:
                    installment.write({"paid_amount": part, "state": state})
            if currency.compare_amounts(agreement.paid_amount, paid):
                agreement.paid_amount = paid
            if all(i.state == "paid" for i in installments):
                if agreement.state != "completed":
                    agreement.state = "completed"
                    agreement.message_post(body=self.env._("Every installment is paid: agreement completed."))
            elif agreement.state == "completed":  # a payment was unreconciled: the agreement runs again
                agreement.state = "active"
                agreement.message_post(body=self.env._(
                    "A payment was taken back: installments are due again, agreement active again."))

    @api.model
    def _refresh_for_moves(self, moves):
        """Payments on these invoices changed: refresh the active agreements covering them."""
        if not moves:
            return
        # Only what the query reads: a flush_all here, inside Odoo's reconciliation, made it recompute
        # the residuals of every line early (13 ms on each payment registered).
        self.env["cobranza.agreement"].flush_model(["state", "move_ids", "interest_move_id"])
        self.env.cr.execute(SQL(
            """
            SELECT DISTINCT agreement.id FROM cobranza_agreement agreement
              LEFT JOIN cobranza_agreement_move_rel rel ON rel.agreement_id = agreement.id
             WHERE agreement.state IN ('active', 'completed')
               AND (rel.move_id = ANY(%(moves)s) OR agreement.interest_move_id = ANY(%(moves)s))
            """, moves=moves.ids,
        ))
        ids = [row[0] for row in self.env.cr.fetchall()]
        if ids:
            self.sudo().browse(ids)._refresh_payments()

    # ------------------------------------------------------------------ the daily run

    @api.model
    def _cron_follow_up(self):
        """Daily: refresh payments, remind upcoming installments, notify overdue ones, break agreements
        whose installment is late beyond the grace days. Each agreement in its own savepoint; flags on
        the installments make a second run the same day send nothing again."""
        agreements = self.sudo().search([("state", "=", "active")])
        for agreement in agreements:
            try:
                with self.env.cr.savepoint():
                    agreement._follow_up(agreement.company_id._cobranza_today())
            except Exception as error:  # noqa: BLE001 - one agreement's failure must not stop the others
                _logger.warning("Collections: follow-up of agreement %s failed: %s", agreement.name, error)
        return len(agreements)

    def _follow_up(self, today):
        self.ensure_one()
        self._refresh_payments(today)
        if self.state != "active":
            return
        reminder = self.env.ref("cobranza_mgmt.mail_template_agreement_reminder")
        overdue_notice = self.env.ref("cobranza_mgmt.mail_template_agreement_overdue")
        may_email = self._may_email()
        for installment in self.installment_ids.sorted("due_date"):
            # a customer who must not be contacted, or by e-mail, gets nothing; the reminder counts as done
            if installment.state in ("open", "partial") and not installment.reminder_sent \
                    and installment.due_date - timedelta(days=self.reminder_days) <= today:
                if may_email:
                    reminder.send_mail(installment.id, email_layout_xmlid="mail.mail_notification_light")
                installment.reminder_sent = True
            if installment.state == "overdue" and not installment.overdue_notice_sent:
                if may_email:
                    overdue_notice.send_mail(installment.id, email_layout_xmlid="mail.mail_notification_light")
                installment.overdue_notice_sent = True
        late = self.installment_ids.filtered(
            lambda i: i.state == "overdue" and i.due_date + timedelta(days=self.grace_days) < today
        )
        if late:
            self._break(late.sorted("due_date")[0])

    def _may_email(self):
        """Whether the customer's contact preferences allow the agreement's e-mails."""
        self.ensure_one()
        profile = self.env["cobranza.credit.profile"].sudo().search(
            [("partner_id", "=", self.partner_id.id), ("company_id", "=", self.company_id.id)], limit=1)
        return not (profile.contact_blocked or profile.contact_no_email)

    def _break(self, installment):
        """An installment stayed unpaid beyond the grace days: the invoices go back to dunning."""
        self.ensure_one()
        self.state = "broken"
        if self._may_email():
            template = self.env.ref("cobranza_mgmt.mail_template_agreement_broken")
            template.send_mail(self.id, email_layout_xmlid="mail.mail_notification_light")
        profile = self.env["cobranza.credit.profile"].sudo()._get_or_create(self.partner_id, self.company_id)
        profile.broken_promise_count += 1
        collector = profile.collector_id or self.user_id or self.env.user
        # The activity and its assignment e-mail are the collector's: in the collector's language.
        own = self.with_context(lang=collector.lang or self.env.lang)
        own.activity_schedule(
            "mail.mail_activity_data_call",
            summary=own.env._("Payment agreement broken: call the customer"),
            note=own.env._("Installment %(number)s of %(amount)s due %(date)s is unpaid.",
                           number=installment.sequence, amount=own.currency_id.format(installment.amount),
                           date=format_date(own.env, installment.due_date)),
            user_id=collector.id,
        )
        self.message_post(body=self.env._(
            "Agreement broken: installment %(number)s due %(date)s unpaid after %(days)s days of grace. "
            "Its invoices are back in dunning.",
            number=installment.sequence, date=installment.due_date, days=self.grace_days,
        ))
        profile._refresh_behaviour(companies=self.company_id, partners=self.partner_id)

    # ------------------------------------------------------------------ documents

    def _amount_in_words(self, amount=None):
        """An amount in words in the customer's language (num2words through res.currency)."""
        self.ensure_one()
        lang = self.partner_id.lang or self.env.lang or "en_US"
        return self.currency_id.with_context(lang=lang).amount_to_text(
            self.total_amount if amount is None else amount,
        )

    def _get_report_base_filename(self):
        self.ensure_one()
        return self.env._("Payment Agreement %(name)s", name=self.name)

    def _get_portal_return_action(self):
        return self.env.ref("cobranza_mgmt.cobranza_agreement_action")
