import logging
from datetime import timedelta

from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, format_date

from .cobranza_access import check_collector, check_fields, check_portfolio

_logger = logging.getLogger(__name__)


class CobranzaPromise(models.Model):
    """A customer's promise to pay an amount by a date: dunning of its invoices pauses until then.

    The promise is kept when the payments matched with its invoices since it was made reach
    the amount by the date (plus the grace days); otherwise it is broken: the collector gets
    a task and the customer's broken-promise counter, which the risk score uses, rises.
    """

    _name = "cobranza.promise"
    _description = "Promise to Pay"
    _order = "promise_date desc, id desc"
    _check_company_auto = True

    partner_id = fields.Many2one("res.partner", string="Customer", required=True, index=True,
                                 domain="[('parent_id', '=', False)]")
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    move_ids = fields.Many2many(
        "account.move", "cobranza_promise_move_rel", "promise_id", "move_id", string="Invoices", required=True,
        domain="[('move_type', '=', 'out_invoice'), ('state', '=', 'posted'),"
               " ('commercial_partner_id', '=', partner_id), ('payment_state', 'in', ('not_paid', 'partial'))]",
    )
    promise_date = fields.Date(string="Promised For", required=True)
    amount = fields.Monetary(required=True, currency_field="currency_id")
    paid_amount = fields.Monetary(compute="_compute_paid_amount", currency_field="currency_id",
                                  help="Payments matched with the invoices since the promise was made.")
    state = fields.Selection(
        [("open", "Open"), ("kept", "Kept"), ("broken", "Broken")], default="open", required=True, index=True,
        readonly=True, help="Follows the payments: Collections sets it, nobody writes it.",
    )
    user_id = fields.Many2one("res.users", string="Recorded By", default=lambda self: self.env.user, readonly=True)
    collector_id = fields.Many2one(
        "res.users", compute="_compute_collector_id", store=True, index=True,
        help="The customer's collector when the promise was recorded.",
    )
    note = fields.Text()
    from_portal = fields.Boolean(string="From the Portal", readonly=True, copy=False,
                                 help="Made by the customer in the portal.")

    # What a user writes directly while the promise is open; its state follows the payments.
    _USER_FIELDS = ("promise_date", "amount", "move_ids", "note")

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            check_collector(self.env)
            for vals in vals_list:
                check_fields(self, vals, ("partner_id", "company_id", *self._USER_FIELDS))
            check_portfolio(self.env, self.env["res.partner"].browse([vals["partner_id"] for vals in vals_list
                                                                      if vals.get("partner_id")]))
        promises = super().create(vals_list)
        if not self.env.su:
            promises._check_promise_date()
        return promises

    def write(self, vals):
        if not self.env.su:
            check_fields(self, vals, self._USER_FIELDS)
            if self.filtered(lambda p: p.state != "open"):
                raise ValidationError(self.env._("Only an open promise to pay can be changed."))
        result = super().write(vals)
        if "promise_date" in vals and not self.env.su:
            self._check_promise_date()
        return result

    def _check_promise_date(self):
        """A promise a user records is dated from today to the company's furthest promise date."""
        today = fields.Date.context_today(self)
        for promise in self:
            if promise.promise_date < today:
                raise ValidationError(self.env._("A promise to pay cannot be dated in the past (%(date)s).",
                                                 date=promise.promise_date))
            furthest = today + timedelta(days=promise.company_id.cobranza_promise_max_days)
            if promise.promise_date > furthest:
                raise ValidationError(self.env._(
                    "A promise to pay can be dated %(days)s days ahead at most (%(furthest)s), not %(date)s.",
                    days=promise.company_id.cobranza_promise_max_days, furthest=furthest, date=promise.promise_date,
                ))

    @api.constrains("amount", "move_ids", "partner_id")
    def _check_promise(self):
        for promise in self:
            if promise.amount <= 0:
                raise ValidationError(self.env._("The promised amount must be positive (%(amount)s).",
                                                 amount=promise.amount))
            foreign = promise.move_ids.filtered(
                lambda m, p=promise: m.commercial_partner_id != p.partner_id or m.company_id != p.company_id
            )
            if foreign:
                raise ValidationError(self.env._(
                    "Invoices %(invoices)s are not of %(partner)s.",
                    invoices=", ".join(foreign.mapped("name")), partner=promise.partner_id.display_name,
                ))

    @api.depends("partner_id", "company_id")
    def _compute_collector_id(self):
        profiles = self.env["cobranza.credit.profile"].sudo().search([
            ("partner_id", "in", self.partner_id.ids), ("company_id", "in", self.company_id.ids),
        ])
        by_key = {(p.partner_id.id, p.company_id.id): p.collector_id for p in profiles}
        for promise in self:
            promise.collector_id = by_key.get((promise.partner_id.id, promise.company_id.id), False)

    def _paid_since(self):
        """{promise id: amount paid on its invoices since it was made, up to its date + grace}."""
        if not self:
            return {}
        self.env.flush_all()
        self.env.cr.execute(SQL(
            """
            SELECT promise.id, COALESCE(SUM(apr.amount), 0)
              FROM cobranza_promise promise
              JOIN res_company company ON company.id = promise.company_id
              JOIN cobranza_promise_move_rel rel ON rel.promise_id = promise.id
              JOIN account_move_line aml ON aml.move_id = rel.move_id
              JOIN account_partial_reconcile apr ON apr.debit_move_id = aml.id
             WHERE promise.id = ANY(%s)
               AND apr.max_date >= promise.create_date::date
               AND apr.max_date <= promise.promise_date + COALESCE(company.cobranza_grace_days, 0)
             GROUP BY promise.id
            """, self.ids,
        ))
        return dict(self.env.cr.fetchall())

    def _compute_paid_amount(self):
        paid = self._paid_since() if self.ids else {}
        for promise in self:
            promise.paid_amount = paid.get(promise.id, 0.0)

    def _evaluate(self, today):
        """Settle open promises: kept once paid, broken when their date (plus grace) passed unpaid."""
        opened = self.filtered(lambda p: p.state == "open").sudo()
        paid = opened._paid_since()
        for promise in opened:
            try:
                with self.env.cr.savepoint():
                    promise._settle(paid.get(promise.id, 0.0), today)
            except Exception:
                _logger.exception("Collections: settling promise %s of %s failed", promise.id,
                                  promise.partner_id.display_name)

    def _settle(self, paid, today):
        currency = self.currency_id
        if currency.compare_amounts(paid, self.amount) >= 0:
            self.state = "kept"
            self.partner_id._message_log(body=self.env._(
                "Promise to pay %(amount)s by %(date)s kept.",
                amount=currency.format(self.amount), date=self.promise_date,
            ))
        elif self.promise_date + timedelta(days=self.company_id.cobranza_grace_days) < today:
            self._break()

    @api.model
    def _portal_record(self, partner, company, invoices, promise_date, amount):
        """A promise the customer makes in the portal, checked here against the company's limits
        (furthest date, minimum share of the invoices chosen, open promises at most); it pauses the
        dunning of those invoices as a collector's promise does, and the collector gets a task.
        ``partner`` is the customer the caller authenticated (signed in or by its link)."""
        partner = partner.commercial_partner_id
        today = fields.Date.context_today(self)
        invoices = invoices._cobranza_portal_open(partner, company)
        currency = invoices.currency_id
        if len(currency) > 1:
            raise UserError(self.env._("Choose invoices of one currency."))
        furthest = today + timedelta(days=company.cobranza_promise_max_days)
        if not promise_date or promise_date < today or promise_date > furthest:
            raise UserError(self.env._("Choose a date from today to %(furthest)s.", furthest=furthest))
        due = sum(invoices.mapped("amount_residual"))
        least = currency.round(due * company.cobranza_portal_promise_min_percent / 100)
        if not amount or amount <= 0 or currency.compare_amounts(amount, due) > 0 \
                or currency.compare_amounts(amount, least) < 0:
            raise UserError(self.env._("Promise an amount from %(least)s to %(due)s.",
                                       least=currency.format(least), due=currency.format(due)))
        promised = self.sudo().search([("move_ids", "in", invoices.ids), ("state", "=", "open")]).move_ids & invoices
        if promised:
            raise UserError(self.env._("You already promised to pay %(invoices)s.",
                                       invoices=", ".join(promised.mapped("name"))))
        open_count = self.sudo().search_count([("partner_id", "=", partner.id), ("company_id", "=", company.id),
                                               ("state", "=", "open")])
        if open_count >= company.cobranza_portal_promise_max_open:
            raise UserError(self.env._("You already have an open promise to pay: it must be kept before you make "
                                       "another one, or contact us."))
        promise = self.sudo().with_company(company).create({
            "partner_id": partner.id, "company_id": company.id, "move_ids": [Command.set(invoices.ids)],
            "promise_date": promise_date, "amount": amount, "from_portal": True,
            "note": self.env._("Made by the customer in the portal."),
        })
        profile = self.env["cobranza.credit.profile"].sudo()._get_or_create(partner, company)
        partner.sudo().activity_schedule(
            "mail.mail_activity_data_todo", date_deadline=promise_date,
            summary=self.env._("Promise to pay from the portal"),
            note=self.env._("%(partner)s promised %(amount)s by %(date)s for %(invoices)s.",
                            partner=partner.display_name, amount=currency.format(amount), date=promise_date,
                            invoices=", ".join(invoices.mapped("name"))),
            user_id=(profile.collector_id or company.partner_id.user_ids[:1] or self.env.ref("base.user_root")).id,
        )
        return promise

    def _break(self):
        self.ensure_one()
        self.state = "broken"
        profile = self.env["cobranza.credit.profile"].sudo()._get_or_create(self.partner_id, self.company_id)
        profile.broken_promise_count += 1
        collector = profile.collector_id or self.user_id
        # The call task is the collector's: its words, amounts and dates in the collector's language.
        own = self.with_context(lang=collector.lang or self.env.lang)
        self.partner_id.sudo().activity_schedule(
            "mail.mail_activity_data_call",
            summary=own.env._("Broken promise to pay: call the customer"),
            note=own.env._("%(partner)s promised %(amount)s by %(date)s and paid %(paid)s.",
                           partner=self.partner_id.display_name, amount=own.currency_id.format(self.amount),
                           date=format_date(own.env, self.promise_date), paid=own.currency_id.format(self.paid_amount)),
            user_id=collector.id,
        )
        self.partner_id.sudo()._message_log(body=self.env._(
            "Promise to pay %(amount)s by %(date)s broken.",
            amount=self.currency_id.format(self.amount), date=self.promise_date,
        ))
        profile._refresh_behaviour(companies=self.company_id, partners=self.partner_id)

    @api.model
    def _cron_evaluate(self):
        for company, promises in self.sudo().search([("state", "=", "open")]).grouped("company_id").items():
            promises._evaluate(company._cobranza_today())
        return True
