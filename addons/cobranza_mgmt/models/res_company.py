from odoo import Command, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..logic import interest, scoring


class ResCompany(models.Model):
    _inherit = "res.company"

    # Until a Collections Manager starts collections in a company (cobranza.start.wizard), the policy
    # only watches: no dunning run, no automatic or over-limit holds. Install day is calm.
    cobranza_start_date = fields.Date(
        string="Collections Started On", readonly=True, copy=False,
        help="Day a Collections Manager started collections in this company; empty: the dunning run, "
             "automatic holds and the over-limit block wait.",
    )
    # The collection policy: later capabilities (dunning, agreements) read it from here.
    cobranza_formal_days = fields.Integer(
        string="Formal Collection After (days)", default=1,
        help="Days after the due date when administrative (formal) collection starts.",
    )
    cobranza_judicial_days = fields.Integer(
        string="Judicial Stage After (days)", default=90,
        help="Days after the due date when the judicial or external agency stage starts.",
    )
    cobranza_grace_days = fields.Integer(
        string="Grace Days", default=3,
        help="A payment received within this many days after the due date still counts as on time.",
    )
    cobranza_block_posting = fields.Boolean(
        string="Block Invoices on Hold or Over Limit", default=True,
        help="Refuse to post a customer invoice for a customer on credit hold or over its credit "
        "limit. Collections managers may still post it; their override is logged.",
    )
    cobranza_auto_hold_days = fields.Integer(
        string="Automatic Hold After (days overdue)", default=60,
        help="Put a customer on hold automatically when one of its invoices is overdue more than "
        "this many days. 0 disables the rule.",
    )
    cobranza_auto_hold_over_limit = fields.Boolean(
        string="Automatic Hold Over Credit Limit", default=True,
        help="Put a customer on hold automatically while its exposure exceeds its credit limit.",
    )
    cobranza_late_fee_product_id = fields.Many2one(
        "product.product", string="Late Fee Product",
        help="Product of the late fee invoices that dunning levels with a late fee issue.",
    )
    cobranza_interest_rate = fields.Float(
        string="Late-Payment Interest (% a year)", digits=(16, 4),
        help="Simple interest on what is overdue, per day late after the grace days, billed once a period on one "
             "invoice per customer. A ladder may set its own rate. 0: no interest.",
    )
    cobranza_interest_ceiling = fields.Float(
        string="Legal Ceiling (% a year)", digits=(16, 4),
        help="The highest annual rate the law allows: no rate of the company or of its ladders may exceed it. "
             "0: no ceiling.",
    )
    cobranza_interest_from = fields.Date(
        string="Interest Accrues From",
        help="No day before this one is charged (the day the policy took effect for the customers).",
    )
    cobranza_interest_period = fields.Selection(
        [("monthly", "Monthly"), ("quarterly", "Quarterly")], string="Interest Billed", default="monthly",
        required=True,
    )
    cobranza_interest_product_id = fields.Many2one(
        "product.product", string="Interest Product",
        help="Product of the invoices that bill late-payment interest.",
    )
    cobranza_interest_billed_through = fields.Date(
        string="Interest Billed Through", readonly=True, copy=False,
        help="Last day of the last billing period whose interest was computed.",
    )
    cobranza_ladder_ids = fields.One2many("cobranza.dunning.ladder", "company_id", string="Dunning Ladders")
    cobranza_charges_interest = fields.Boolean(
        string="Charges Late-Payment Interest", compute="_compute_cobranza_charges_interest", store=True,
    )
    cobranza_kpi_report_month = fields.Char(
        string="KPI Report Sent For", readonly=True, copy=False,
        help="Last month (YYYY-MM) whose KPI report was mailed to the Collections managers.",
    )
    cobranza_agreement_interest_product_id = fields.Many2one(
        "product.product", string="Agreement Interest Product",
        help="Product of the invoice that bills a payment agreement's interest when it starts.",
    )
    cobranza_contact_interval_days = fields.Integer(
        string="Days Between Reminders", default=7,
        help="A customer reminded less than this many days ago is not reminded again (items that reached a level "
             "meanwhile wait for the next reminder), unless a level is urgent. 0: no minimum.",
    )
    cobranza_retry_hours = fields.Integer(
        string="Hours of E-mail Retries", default=24,
        help="A reminder e-mail that the mail server refuses for a temporary reason (server unreachable, "
             "timeout, 4xx answer) is retried with growing pauses for this many hours before it is marked failed.",
    )
    cobranza_preventive_apart = fields.Boolean(
        string="Preventive Reminders Apart", default=True,
        help="Reminders before the due date neither wait for nor count as a reminder of the days between reminders.",
    )
    cobranza_promise_max_days = fields.Integer(
        string="Promises Up To (days ahead)", default=60,
        help="How far ahead a promise to pay may be dated.",
    )
    cobranza_portal_link_days = fields.Integer(
        string="Collections Links Last (days)", default=30,
        help="How long a link to a customer's collections page, sent in reminders, opens it without a password.",
    )
    cobranza_portal_promise_min_percent = fields.Float(
        string="Portal Promises: Minimum Share (%)", default=25.0,
        help="A promise a customer makes in the portal covers at least this share of the invoices chosen.",
    )
    cobranza_portal_promise_max_open = fields.Integer(
        string="Portal Promises: Open at Most", default=1,
        help="How many open promises a customer may have when making one in the portal.",
    )
    cobranza_whatsapp_number = fields.Char(
        string="Collections WhatsApp Number",
        help="Where customers can write to the collections team: reminders offer a WhatsApp link to it, with the "
             "reminder's reference already written.",
    )
    cobranza_collector_import = fields.Boolean(
        string="Collectors Import Bank Collections",
        help="Collectors may import bank collection files, for the customers of their own portfolio.",
    )
    cobranza_segment_b_score = fields.Float(string="Segment B From Score", default=25.0)
    cobranza_segment_c_score = fields.Float(string="Segment C From Score", default=50.0)
    cobranza_segment_d_score = fields.Float(string="Segment D From Score", default=75.0)

    @api.constrains(
        "cobranza_formal_days", "cobranza_judicial_days", "cobranza_grace_days", "cobranza_auto_hold_days",
        "cobranza_promise_max_days", "cobranza_contact_interval_days", "cobranza_retry_hours",
        "cobranza_portal_link_days",
    )
    def _check_cobranza_days(self):
        for company in self:
            for field_name in ("cobranza_formal_days", "cobranza_judicial_days", "cobranza_grace_days",
                               "cobranza_auto_hold_days", "cobranza_promise_max_days",
                               "cobranza_contact_interval_days", "cobranza_retry_hours"):
                if company[field_name] < 0:
                    raise ValidationError(self.env._(
                        "%(setting)s of %(company)s cannot be negative (%(value)s).",
                        setting=self._fields[field_name].get_description(self.env)["string"],
                        company=company.name, value=company[field_name],
                    ))
            if not 0 <= company.cobranza_portal_promise_min_percent <= 100 \
                    or company.cobranza_portal_promise_max_open < 0:
                raise ValidationError(self.env._(
                    "Portal promises of %(company)s: the minimum share is a percentage (0-100) and the number of "
                    "open promises cannot be negative.", company=company.name,
                ))
            if not 1 <= company.cobranza_portal_link_days <= 365:
                raise ValidationError(self.env._(
                    "Collections links of %(company)s must last between 1 and 365 days (%(value)s).",
                    company=company.name, value=company.cobranza_portal_link_days,
                ))
            if company.cobranza_judicial_days <= company.cobranza_formal_days:
                raise ValidationError(self.env._(
                    "The judicial stage (%(judicial)s days) must start after formal collection "
                    "(%(formal)s days) for %(company)s.",
                    judicial=company.cobranza_judicial_days, formal=company.cobranza_formal_days,
                    company=company.name,
                ))

    @api.constrains("cobranza_interest_rate", "cobranza_interest_ceiling", "cobranza_interest_from",
                    "cobranza_interest_product_id")
    def _check_cobranza_interest(self):
        for company in self:
            rates = [(company.name, company.cobranza_interest_rate)] + [
                (ladder.name, ladder.interest_rate)
                for ladder in self.env["cobranza.dunning.ladder"].sudo().search(
                    [("company_id", "=", company.id), ("interest_own_rate", "=", True)])
            ]
            for name, rate in rates:
                company._check_cobranza_interest_rate(name, rate)
            company._check_cobranza_interest_setup()

    def _check_cobranza_interest_setup(self):
        """A company that charges interest says from when, and with which product it invoices it."""
        self.ensure_one()
        ready = self.cobranza_interest_from and self.cobranza_interest_product_id
        if self._cobranza_charges_interest() and not ready:
            raise ValidationError(self.env._(
                "%(company)s charges late-payment interest: set the day it accrues from and the interest product.",
                company=self.name,
            ))

    def _check_cobranza_interest_rate(self, name, rate):
        """Refuse the annual rate ``rate`` of ``name`` (the company or a ladder) when negative or above the
        company's legal ceiling."""
        self.ensure_one()
        error = interest.rate_error(rate, self.cobranza_interest_ceiling)
        if error == "negative":
            raise ValidationError(self.env._(
                "The late-payment interest rate of %(name)s and the legal ceiling cannot be negative (%(rate)s).",
                name=name, rate=rate if rate < 0 else self.cobranza_interest_ceiling,
            ))
        if error == "ceiling":
            raise ValidationError(self.env._(
                "The late-payment interest rate of %(name)s (%(rate)s a year) exceeds the legal ceiling of "
                "%(company)s (%(ceiling)s).",
                name=name, rate=rate, company=self.name, ceiling=self.cobranza_interest_ceiling,
            ))

    @api.depends("cobranza_interest_rate", "cobranza_ladder_ids.interest_own_rate",
                 "cobranza_ladder_ids.interest_rate", "cobranza_ladder_ids.active")
    def _compute_cobranza_charges_interest(self):
        for company in self:
            company.cobranza_charges_interest = company.cobranza_interest_rate > 0 or any(
                ladder.interest_own_rate and ladder.interest_rate > 0 for ladder in company.sudo().cobranza_ladder_ids
            )

    def _cobranza_charges_interest(self):
        """Whether the company or one of its ladders sets a late-payment interest rate (stored: every reminder
        asks, and reads it with the company at no cost)."""
        self.ensure_one()
        return self.cobranza_charges_interest

    @api.constrains("cobranza_segment_b_score", "cobranza_segment_c_score", "cobranza_segment_d_score")
    def _check_cobranza_segment_thresholds(self):
        for company in self:
            if not scoring.thresholds_are_ordered(*company._cobranza_segment_thresholds()):
                raise ValidationError(self.env._(
                    "Segment thresholds must be ordered 0 < B < C < D ≤ 100; %(company)s has "
                    "B=%(b)s, C=%(c)s, D=%(d)s.",
                    company=company.name, b=company.cobranza_segment_b_score,
                    c=company.cobranza_segment_c_score, d=company.cobranza_segment_d_score,
                ))

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        companies._cobranza_create_default_dunning_levels()
        return companies

    def _cobranza_create_default_dunning_levels(self):
        """Give companies without dunning ladders a copy of the main company's ladders and their levels."""
        template = self.env.ref("base.main_company", raise_if_not_found=False)
        ladders = self.env["cobranza.dunning.ladder"].sudo().with_context(active_test=False)
        defaults = ladders.search([("company_id", "=", template.id)]) if template else ladders
        for company in self:
            if company == template or ladders.search_count([("company_id", "=", company.id)], limit=1):
                continue
            for ladder in defaults:
                values = ladder.copy_data({"company_id": company.id})[0]
                values["level_ids"] = [Command.create(level.copy_data({
                    "company_id": company.id, "agency_partner_id": False, "agency_handover": False,
                    "source_level_id": level.id,
                })[0]) for level in ladder.level_ids]
                copy = ladders.create(values)
                # copy_data gives the current language only: the copies speak every language the defaults do
                ladder.copy_translations(copy, excluded=("level_ids",))
                for level in copy.level_ids:
                    level.source_level_id.copy_translations(level)

    def _cobranza_today(self):
        """The company's today: the day in its own timezone (its partner's), for every scheduled
        decision of Collections (due, overdue, run date, snapshots); the user's, else UTC, when unset."""
        self.ensure_one()
        tz = self.partner_id.tz or self.env.user.tz or "UTC"
        return fields.Date.context_today(self.with_context(tz=tz))

    def _cobranza_today_sql(self):
        """``_cobranza_today`` as an SQL expression, for a query that should not pay a read of the
        company's partner (the credit check at posting): the same timezones, in the same order."""
        self.ensure_one()
        return SQL(
            """(now() AT TIME ZONE COALESCE(
                   (SELECT partner.tz FROM res_company company
                      JOIN res_partner partner ON partner.id = company.partner_id WHERE company.id = %s),
                   (SELECT partner.tz FROM res_users usr
                      JOIN res_partner partner ON partner.id = usr.partner_id WHERE usr.id = %s),
                   'UTC'))::date""",
            self.id, self.env.uid,
        )

    def _cobranza_segment_thresholds(self):
        self.ensure_one()
        return (self.cobranza_segment_b_score, self.cobranza_segment_c_score, self.cobranza_segment_d_score)
