import functools
import logging

from dateutil.relativedelta import relativedelta

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_date, formatLang, get_lang

from ..logic import interest
from . import cobranza_receivable as receivable
from .account_move import credit_exempt
from .cobranza_access import check_manager

_logger = logging.getLogger(__name__)

BILL_LOCK = 0x636F6269  # advisory lock key (with the company id): one interest billing per company at a time
INTEREST_BATCH = 200  # customers invoiced per committed batch
PAYMENTS_LOOKBACK_DAYS = 366  # items paid before this many days ahead of the period end are not revisited
INTEREST_DUE_DAYS = 30


class CobranzaInterestLine(models.Model):
    """What late-payment interest charged, or left out, for one overdue item over some days.

    The lines of an item never overlap: each billing starts the day after the last day any earlier line
    covered (billed, reversed or left out), so no day is charged twice, however many times the billing
    runs and whether or not a manager reversed an earlier charge. Lines are written only by the billing
    (``_bill``) and the reversal (``account.move._cobranza_reverse_interest``).
    """

    _name = "cobranza.interest.line"
    _description = "Late-Payment Interest Line"
    _order = "date_to desc, partner_id, id"
    _rec_name = "source_move_id"

    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    partner_id = fields.Many2one("res.partner", string="Customer", required=True, readonly=True, index=True)
    collector_id = fields.Many2one("res.users", readonly=True, index=True)
    source_line_id = fields.Many2one("account.move.line", string="Overdue Item", required=True, readonly=True,
                                     index=True, ondelete="cascade")
    source_move_id = fields.Many2one("account.move", string="Overdue Invoice", required=True, readonly=True,
                                     ondelete="cascade")
    interest_move_id = fields.Many2one("account.move", string="Interest Invoice", readonly=True, index=True,
                                       ondelete="restrict")
    date_from = fields.Date(string="From", required=True, readonly=True)
    date_to = fields.Date(string="To", required=True, readonly=True)
    days = fields.Integer(readonly=True)
    average_balance = fields.Monetary(readonly=True,
                                      help="What was left to pay on the average day of the period charged.")
    rate = fields.Float(string="Annual Rate (%)", readonly=True, digits=(16, 4))
    amount = fields.Monetary(readonly=True, aggregator="sum")
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    state = fields.Selection(
        [("pending", "To Invoice"), ("billed", "Invoiced"), ("reversed", "Reversed"), ("excluded", "Not Charged")],
        required=True, readonly=True, index=True,
    )
    exclusion = fields.Selection(
        [("dispute", "Invoice in dispute"), ("agreement", "Invoice in a payment agreement"),
         ("promise", "Promise to pay kept")],
        string="Not Charged Because", readonly=True,
    )

    _sql_constraints = [
        ("source_period_uniq", "unique(source_line_id, date_from)",
         "The days of an overdue item are charged once."),
    ]

    # ------------------------------------------------------------------ what accrues (SQL in one place)

    @api.model
    def _accrual_query(self, company, end, partner_ids=None):
        """Per overdue customer invoice item of ``company``, the interest of its days not charged yet, up to
        ``end``: (line_id, move_id, partner_id, collector_id, date_from, date_to, days, balance_days, rate,
        amount, exclusion, deferred).

        ``balance_days`` adds up what was left to pay on each day (the stored residual, plus the partial
        reconciliations dated after that day, as ``cobranza_receivable.later_partials_join`` reads them).
        Items paid in full before their first uncharged day are not returned; neither are interest invoices
        (no interest on interest). ``exclusion``: the invoice is in dispute, in an active or completed
        payment agreement, or covered by a promise kept; ``deferred``: covered by an open promise (charged
        if it is broken, not if it is kept).

        Raw SQL: one set-based pass over every item (see the module's benchmark), reading the receivable
        predicates of ``cobranza_receivable`` and the ladder of each customer (``cobranza.dunning.ladder``);
        the ORM adds no computed value or rule to what is read here, and callers check access first.
        """
        Ladder = self.env["cobranza.dunning.ladder"]
        ceiling = company.cobranza_interest_ceiling or None
        since = max(company.cobranza_interest_from, end - relativedelta(days=PAYMENTS_LOOKBACK_DAYS))
        partner_filter = SQL("AND aml.partner_id = ANY(%s)", list(partner_ids)) if partner_ids is not None else SQL()
        return SQL(
            """
            WITH %(ladder_ctes)s,
            charged AS (
                SELECT source_line_id, MAX(date_to) AS through FROM cobranza_interest_line
                 WHERE company_id = %(company)s GROUP BY source_line_id
            ),
            item AS (
                SELECT aml.id AS line_id, aml.move_id, aml.partner_id, profile.collector_id,
                       aml.amount_residual AS residual, move.cobranza_is_disputed AS disputed,
                       GREATEST(%(due)s + %(grace)s + 1, %(interest_from)s::date, charged.through + 1) AS date_from,
                       LEAST(CASE WHEN ladder.interest_own_rate THEN ladder.interest_rate ELSE %(rate)s END,
                             COALESCE(%(ceiling)s, 'Infinity'::float)) AS rate
                  FROM %(receivable)s
                  JOIN account_move move ON move.id = aml.move_id
                  LEFT JOIN charged ON charged.source_line_id = aml.id
                  LEFT JOIN cobranza_credit_profile profile
                         ON profile.partner_id = aml.partner_id AND profile.company_id = %(company)s
                  %(ladder_join)s
                  LEFT JOIN cobranza_dunning_ladder ladder ON ladder.id = %(ladder)s
                 WHERE aml.company_id = %(company)s AND %(is_receivable)s
                   AND move.move_type = 'out_invoice' AND aml.balance > 0
                   AND %(due)s + %(grace)s < %(end)s
                   AND (NOT aml.reconciled OR aml.id IN (
                        SELECT debit_move_id FROM account_partial_reconcile
                         WHERE company_id = %(company)s AND max_date > %(since)s))
                   -- no interest on interest. NOT IN (a subquery hashed once) rather than NOT EXISTS: on
                   -- a company's first billing the table looks empty to the planner, which then rescans
                   -- it per item while _accrue's INSERT grows it (quadratic: 30 s for 87,000 items)
                   AND aml.move_id NOT IN (SELECT interest_move_id FROM cobranza_interest_line
                                            WHERE company_id = %(company)s AND interest_move_id IS NOT NULL)
                   %(partner_filter)s
            ),
            span AS (
                SELECT item.*, %(end)s::date - item.date_from + 1 AS days,
                       item.residual * (%(end)s::date - item.date_from + 1) + COALESCE((
                           SELECT SUM(partial.amount
                                      * GREATEST(0, LEAST(%(end)s::date, partial.max_date - 1) - item.date_from + 1))
                             FROM account_partial_reconcile partial
                            WHERE partial.debit_move_id = item.line_id AND partial.max_date > item.date_from
                       ), 0) AS balance_days
                  FROM item
                 WHERE item.date_from <= %(end)s AND item.rate > 0
            )
            SELECT line_id, move_id, partner_id, collector_id, date_from, %(end)s::date AS date_to, days, balance_days,
                   rate, ROUND((balance_days * rate / 36500.0)::numeric, %(digits)s) AS amount,
                   CASE WHEN COALESCE(disputed, FALSE) THEN 'dispute'
                        WHEN EXISTS (SELECT 1 FROM cobranza_agreement_move_rel rel
                                       JOIN cobranza_agreement agreement ON agreement.id = rel.agreement_id
                                      WHERE rel.move_id = span.move_id
                                        AND agreement.state IN ('active', 'completed')) THEN 'agreement'
                        WHEN EXISTS (SELECT 1 FROM cobranza_promise_move_rel rel
                                       JOIN cobranza_promise promise ON promise.id = rel.promise_id
                                      WHERE rel.move_id = span.move_id AND promise.state = 'kept') THEN 'promise'
                   END AS exclusion,
                   EXISTS (SELECT 1 FROM cobranza_promise_move_rel rel
                             JOIN cobranza_promise promise ON promise.id = rel.promise_id
                            WHERE rel.move_id = span.move_id AND promise.state = 'open') AS deferred
              FROM span
             WHERE balance_days > 0
            """,
            ladder_ctes=Ladder._ladder_ctes(company), ladder_join=Ladder._ladder_join("profile"),
            ladder=Ladder._ladder_expression("profile"), receivable=receivable.RECEIVABLE_FROM,
            is_receivable=receivable.IS_RECEIVABLE, due=receivable.DUE_DATE, company=company.id,
            grace=company.cobranza_grace_days, interest_from=company.cobranza_interest_from,
            rate=company.cobranza_interest_rate, ceiling=ceiling, end=end, since=since,
            digits=company.currency_id.decimal_places, partner_filter=partner_filter,
        )

    @api.model
    def _accrued(self, company, partner_ids, day):
        """{customer id: interest accrued up to ``day`` and not billed yet} (customers with none left out),
        as the next billing would charge it: left-out invoices and open promises not counted."""
        if not company._cobranza_charges_interest() or not partner_ids:
            return {}
        self.env.flush_all()
        self.env.cr.execute(SQL(
            "SELECT partner_id, SUM(amount) FROM (%s) accrual WHERE exclusion IS NULL AND NOT deferred "
            "GROUP BY partner_id HAVING SUM(amount) > 0",
            self._accrual_query(company, day, partner_ids),
        ))
        return {partner_id: float(amount) for partner_id, amount in self.env.cr.fetchall()}

    # ------------------------------------------------------------------ billing

    @api.model
    def _cron_bill(self, companies=None):
        """One batch of the interest billing over every company that charges interest (or ``companies``):
        once a billing period is over, its accrual pass, then its invoices, one committed batch of customers
        per call (the cron calls again while customers remain).

        :return: (customers invoiced, customers remaining)
        """
        done = remaining = 0
        companies = companies or self.env["res.company"].sudo().search([])  # pylint: disable=no-search-all
        for company in companies:
            if not company.cobranza_start_date or not company._cobranza_charges_interest():
                continue
            billing = self.sudo().with_company(company)
            cr = self.env.cr
            cr.execute(SQL("SELECT pg_try_advisory_xact_lock(%s, %s)", BILL_LOCK, company.id))
            if not cr.fetchone()[0]:
                remaining += 1  # another worker is billing this company
                continue
            end = interest.period_end(company._cobranza_today(), company.cobranza_interest_period)
            if not company.cobranza_interest_billed_through or company.cobranza_interest_billed_through < end:
                billing._accrue(company, end)
            handled, left = billing._invoice_pending(company, max(INTEREST_BATCH - done, 1))
            done += handled
            remaining += left
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return done, remaining

    @api.model
    def _accrue(self, company, end):
        """Record what interest accrued up to ``end`` on every item of ``company``: lines to invoice, and
        the days left out (disputes, agreements, kept promises) so that they are never charged later.
        Items under an open promise wait for it to be kept or broken.

        Raw SQL: one INSERT from the accrual query instead of one ORM create per item (hundreds of
        thousands); no computed field, tracking or rule applies to these rows.
        """
        self.env.flush_all()
        cr = self.env.cr
        cr.execute(SQL("DELETE FROM cobranza_interest_line WHERE company_id = %s AND state = 'pending'", company.id))
        cr.execute(SQL(
            """
            INSERT INTO cobranza_interest_line (company_id, partner_id, collector_id, source_line_id, source_move_id,
                        date_from, date_to, days, average_balance, rate, amount, currency_id, state, exclusion,
                        create_uid, create_date, write_uid, write_date)
            SELECT %(company)s, partner_id, collector_id, line_id, move_id, date_from, date_to, days,
                   ROUND((balance_days / days)::numeric, %(digits)s), rate,
                   CASE WHEN exclusion IS NULL THEN amount ELSE 0 END, %(currency)s,
                   CASE WHEN exclusion IS NULL THEN 'pending' ELSE 'excluded' END, exclusion,
                   %(uid)s, NOW() AT TIME ZONE 'UTC', %(uid)s, NOW() AT TIME ZONE 'UTC'
              FROM (%(accrual)s) accrual
             WHERE NOT deferred AND (exclusion IS NOT NULL OR amount > 0)
            """,
            company=company.id, digits=company.currency_id.decimal_places, currency=company.currency_id.id,
            uid=self.env.uid, accrual=self._accrual_query(company, end),
        ))
        company.sudo().cobranza_interest_billed_through = end
        self.invalidate_model()

    @api.model
    def _invoice_pending(self, company, limit):
        """Invoice the pending lines of up to ``limit`` customers of ``company``: one interest invoice per
        customer, posted. A customer whose invoice fails is logged, its pending lines dropped (its days
        are charged by the next billing), and the others carry on.

        :return: (customers invoiced, customers still pending)
        """
        cr = self.env.cr
        cr.execute(SQL(
            "SELECT partner_id, array_agg(id ORDER BY id) FROM cobranza_interest_line "
            "WHERE company_id = %s AND state = 'pending' GROUP BY partner_id ORDER BY partner_id",
            company.id,
        ))
        rows = cr.fetchall()
        batch, left = rows[:limit], len(rows[limit:])
        if not batch:
            return 0, 0
        product = company.cobranza_interest_product_id
        if not product:
            _logger.error("Late-payment interest of %s not invoiced: no interest product set.", company.name)
            return 0, 0
        prefetch = self.browse([line_id for _partner_id, ids in batch for line_id in ids])._prefetch_ids
        lines_by_partner = {partner_id: self.browse(ids).with_prefetch(prefetch) for partner_id, ids in batch}
        try:
            with cr.savepoint():
                self._create_invoices(company, product, lines_by_partner)
        except Exception:  # noqa: BLE001  one customer's failure must not stop the others: retried one by one
            self.env.invalidate_all()  # the savepoint rolled back what the cache still holds
            for partner_id, lines in lines_by_partner.items():
                try:
                    with cr.savepoint():
                        self._create_invoices(company, product, {partner_id: lines})
                except Exception as error:
                    _logger.exception("Late-payment interest of customer %s in %s not invoiced", partner_id,
                                      company.name)
                    self.env.invalidate_all()
                    lines.unlink()  # left to the next billing, which charges the same days
                    self.env["res.partner"].browse(partner_id).message_post(body=self.env._(
                        "Late-payment interest not invoiced: %(error)s", error=str(error),
                    ))
        return len(batch), left

    @api.model
    def _create_invoices(self, company, product, lines_by_partner):
        """One posted interest invoice per customer of ``lines_by_partner`` (its pending lines).

        An interest product without taxes (interest on late payment is outside VAT in most of our
        customers' countries) gets its invoices with their two journal items already balanced, the
        income and the receivable due in ``INTEREST_DUE_DAYS``, and Odoo's ``skip_invoice_sync``, as Odoo
        does when it writes complete entries itself (reversals): that skips Odoo's recomputation of
        taxes, payment terms, cash rounding and early-payment discounts, none of which applies here,
        and halves the cost of each invoice. A taxed product goes through Odoo's full invoice sync,
        which computes its tax lines.
        """
        partners = self.env["res.partner"].browse(list(lines_by_partner))
        today = company._cobranza_today()
        due = today + relativedelta(days=INTEREST_DUE_DAYS)
        taxes = product.taxes_id.filtered(lambda tax: tax.company_id == company)
        currency = company.currency_id
        vals_list = []
        for partner in partners:
            lines = lines_by_partner[partner.id]
            amount = currency.round(sum(lines.mapped("amount")))
            product_line = {
                "product_id": product.id,
                "name": lines._label(partner.lang),
                "quantity": 1,
                "price_unit": amount,
                "tax_ids": [Command.set(taxes.ids)],
            }
            vals = {
                "move_type": "out_invoice",
                "invoice_payment_term_id": False,  # its own due date: no terms, no early-payment incentive
                "partner_id": partner.id,
                "company_id": company.id,
                "currency_id": currency.id,
                "invoice_date": today,
                "invoice_date_due": due,
            }
            if taxes:
                vals["invoice_line_ids"] = [Command.create(product_line)]
            else:
                vals["line_ids"] = [
                    Command.create({**product_line, "display_type": "product", "balance": -amount,
                                    "amount_currency": -amount}),
                    Command.create({"display_type": "payment_term", "name": "", "balance": amount,
                                    "amount_currency": amount, "date_maturity": due}),
                ]
            vals_list.append(vals)
        # the invoices are logged below with what they charge, instead of Odoo's "Invoice created"
        moves = self.env["account.move"].with_context(skip_invoice_sync=not taxes, mail_create_nolog=True) \
            .create(vals_list).with_context(mail_create_nolog=False)
        with credit_exempt(moves):
            moves.action_post()
        moves = moves.with_context(skip_invoice_sync=False)
        moves._message_log_batch(bodies={move.id: self.env._(
            "Late-payment interest billed by Collections on %(count)s overdue invoices.",
            count=len(lines_by_partner[move.partner_id.id]),
        ) for move in moves})
        self.env.flush_all()
        self.env.cr.execute(SQL(
            """UPDATE cobranza_interest_line line SET interest_move_id = v.move_id, state = 'billed'
                 FROM unnest(%s::int[], %s::int[]) AS v(partner_id, move_id)
                WHERE line.partner_id = v.partner_id AND line.company_id = %s AND line.state = 'pending'""",
            partners.ids, [move.id for move in moves], company.id,
        ))
        self.invalidate_model(["interest_move_id", "state"])
        return moves

    def _label(self, lang):
        """The interest invoice's line: the period, the rate and, per overdue invoice, its days and interest.

        Odoo's ``format_amount`` looks the language up again on each call; a billing formats two amounts
        per overdue invoice, so the language, the format and the currency's symbol are taken once here and
        each amount formatted as ``format_amount`` does.
        """
        env = self.with_context(lang=lang).env
        currency = self[:1].currency_id
        res_lang = env["res.lang"].browse(get_lang(env, lang).id)
        number_format = f"%.{currency.decimal_places}f"
        symbol = currency.symbol or ""
        before, after = (symbol + "\N{NO-BREAK SPACE}", "") if currency.position == "before" else \
            ("", "\N{NO-BREAK SPACE}" + symbol)

        def money(amount):  # format_amount(env, amount, currency, lang)
            number = res_lang.format(number_format, currency.round(amount), grouping=True)
            return before + number.replace(" ", "\N{NO-BREAK SPACE}").replace(
                "-", "-\N{ZERO WIDTH NO-BREAK SPACE}") + after

        @functools.cache
        def day(value):  # a billing's lines share a few dates
            return format_date(env, value, lang_code=lang)

        @functools.cache
        def percent(rate):
            return formatLang(env, rate, digits=2) + " %"  # Odoo's term extraction skips f-strings in _()

        header = env._("Late-payment interest from %(start)s to %(end)s:",
                       start=day(min(self.mapped("date_from"))), end=day(max(self.mapped("date_to"))))
        row = env._("%(invoice)s: %(days)s days (%(start)s to %(end)s) on an average %(balance)s at %(rate)s a "
                    "year: %(amount)s")  # translated once, filled per overdue invoice
        rows = [row % {
            "invoice": line.source_move_id.name, "days": line.days, "start": day(line.date_from),
            "end": day(line.date_to), "balance": money(line.average_balance), "rate": percent(line.rate),
            "amount": money(line.amount),
        } for line in self.sorted(lambda line: (line.source_move_id.name or "", line.id))]
        return "\n".join([header, *rows])

    # ------------------------------------------------------------------ screens

    @api.model
    def action_bill_now(self):
        """Button of the interest list: bill the last completed period now. The billing runs as the
        scheduled job (in batches, committed as it goes), started here at once: a web request would
        reach its time limit on a large portfolio."""
        check_manager(self.env)
        company = self.env.company
        if not company.cobranza_start_date:
            raise UserError(self.env._(
                "Collections are not started in %(company)s: start them (Collections › Configuration › Start "
                "Collections) before billing interest.", company=company.name))
        if not company._cobranza_charges_interest():
            raise UserError(self.env._("%(company)s charges no late-payment interest: set a rate first.",
                                       company=company.name))
        if not company.cobranza_interest_product_id:
            raise UserError(self.env._("Set the late-payment interest product in the Collections settings of "
                                       "%(company)s.", company=company.name))
        self.env.ref("cobranza_mgmt.ir_cron_interest_bill").sudo()._trigger()
        return {
            "type": "ir.actions.client", "tag": "display_notification",
            "params": {"type": "info", "sticky": False, "message": self.env._(
                "The interest of the last period is being billed in the background: its invoices appear in this "
                "list within a few minutes.")},
        }
