import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, format_date

from ..logic import contact, scoring
from . import cobranza_receivable as receivable
from .cobranza_access import GROUP_COLLECTOR, check_collector, check_fields, is_manager
from .cobranza_credit_policy import HOLD_TYPES

_logger = logging.getLogger(__name__)

SEGMENT_SELECTION = [
    ("A", "A - Punctual"),
    ("B", "B - Occasional delay"),
    ("C", "C - Chronic delay"),
    ("D", "D - High risk"),
]
BEHAVIOUR_MONTHS = 12
UPSERT_PAGE = 1000


class CobranzaCreditProfile(models.Model):
    """Collections data of one commercial partner in one company.

    Holds the collector, the credit hold and the stored payment behaviour (refreshed
    set-based by ``_refresh_behaviour``). Record rules give collectors their own
    portfolio and managers every profile of their companies.
    """

    _name = "cobranza.credit.profile"
    _description = "Customer Credit Profile"
    _order = "risk_score desc, id"
    _rec_name = "partner_id"
    _check_company_auto = True

    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, ondelete="cascade",
        domain="[('parent_id', '=', False)]",
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company,
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    collector_id = fields.Many2one(
        "res.users", index=True,
        domain=lambda self: [("groups_id", "in", self.env.ref(GROUP_COLLECTOR).id)],
    )

    is_on_hold = fields.Boolean(string="On Credit Hold", readonly=True)
    hold_type = fields.Selection(
        HOLD_TYPES, readonly=True,
        help="Manual holds stay until a Collections Manager lifts them; credit policy and dunning holds also "
             "lift by themselves once their cause is gone (nothing overdue any more, for a dunning hold).",
    )
    hold_reason = fields.Text(
        string="Hold Reason (as written)", readonly=True,
        help="A manual hold's reason as its author wrote it; for an automatic hold, its reason as it read in "
             "the company's language when set.",
    )
    # An automatic hold's cause as values ({"code": "days_overdue", "days": 75, "limit": 60}, ...): its reason
    # is worded from them in the reader's language (``cobranza.credit.policy._hold_text``).
    hold_cause = fields.Json(readonly=True, copy=False)
    hold_reason_text = fields.Text(string="Hold Reason", compute="_compute_hold_reason_text")
    hold_user_id = fields.Many2one("res.users", string="Held By", readonly=True)
    hold_date = fields.Datetime(string="Held On", readonly=True)

    avg_days_late = fields.Float(
        string="Average Days Late", readonly=True, digits=(16, 1), aggregator="avg",
        help="Amount-weighted average days between due date and payment, last 12 months.",
    )
    on_time_share = fields.Float(
        string="Paid on Time (%)", readonly=True, digits=(16, 1), aggregator="avg",
        help="Share of the installments paid in the last 12 months that were paid by their due "
        "date plus the grace days.",
    )
    max_days_overdue = fields.Integer(readonly=True, aggregator="max")
    overdue_amount = fields.Monetary(readonly=True, currency_field="currency_id")
    broken_promise_count = fields.Integer(string="Broken Promises", readonly=True)
    risk_score = fields.Float(readonly=True, digits=(16, 1), aggregator="avg")
    segment = fields.Selection(SEGMENT_SELECTION, readonly=True, index=True)
    behaviour_date = fields.Date(string="Behaviour Updated On", readonly=True)
    priority = fields.Float(
        readonly=True, digits=(16, 1), index=True,
        help="Worklist order: overdue amount × (1 + max days overdue / 30) × (1 + risk score / 100).",
    )

    ladder_id = fields.Many2one(
        "cobranza.dunning.ladder", string="Own Dunning Ladder", index="btree_not_null", ondelete="restrict",
        domain="[('company_id', '=', company_id)]",
        help="The ladder this customer climbs whatever its segment. Empty: the ladder of its segment, else the "
             "company's default ladder.",
    )
    portal_pending = fields.Integer(
        string="From the Portal", compute="_compute_portal_pending", search="_search_portal_pending",
        help="What the customer did in the portal that waits for the collector: open promises, unresolved "
             "disputes and requests for installments.",
    )
    next_reminder = fields.Char(
        compute="_compute_next_reminder",
        help="What the customer's next reminder will hold (its notice and the items that reached a level) "
             "and when it goes out: today, or after the days between reminders.",
    )

    is_dunning_excluded = fields.Boolean(string="Excluded From Dunning", help="No reminder is sent to this customer.")
    dunning_exclusion_reason = fields.Char(string="Exclusion Reason")
    agency_partner_id = fields.Many2one("res.partner", string="Collection Agency", readonly=True)
    agency_date = fields.Date(string="Handed Over On", readonly=True)
    communication_ids = fields.One2many(
        "cobranza.communication", compute="_compute_communication_ids", string="Communications",
    )
    promise_ids = fields.One2many("cobranza.promise", compute="_compute_promise_ids", string="Promises to Pay")

    credit_limit = fields.Monetary(compute="_compute_credit_figures", currency_field="currency_id")
    exposure = fields.Monetary(
        compute="_compute_credit_figures", currency_field="currency_id",
        help="Open receivable plus draft customer invoices (plus confirmed sales not yet "
        "invoiced when Sales is installed), in company currency.",
    )
    available_credit = fields.Monetary(compute="_compute_credit_figures", currency_field="currency_id")

    _sql_constraints = [
        ("partner_company_uniq", "unique(partner_id, company_id)",
         "A customer has one credit profile per company."),
    ]

    # ------------------------------------------------------------------ computes

    @api.depends("partner_id", "company_id")
    def _compute_credit_figures(self):
        for company, profiles in self.grouped("company_id").items():
            exposures = self.env["cobranza.credit.policy"].sudo()._exposure(company, profiles.partner_id)
            for profile in profiles:
                limit = profile.partner_id.with_company(company).credit_limit
                profile.credit_limit = limit
                profile.exposure = exposures.get(profile.partner_id.id, 0.0)
                profile.available_credit = limit - profile.exposure if limit else 0.0

    def _portal_pending_counts(self, partner_ids=None):
        """{(commercial partner id, company id): number of portal items waiting for the collector}, in
        the user's companies. Counted as superuser (three grouped counts, whatever the number of
        customers): the caller already reads the profiles whose counts it shows."""
        companies = self.env.companies.ids
        partner_domain = [] if partner_ids is None else [("partner_id", "in", partner_ids)]
        counts = {}
        sources = [
            (self.env["cobranza.agreement"], "partner_id",
             [("state", "=", "requested"), *partner_domain]),
            (self.env["cobranza.promise"], "partner_id",
             [("from_portal", "=", True), ("state", "=", "open"), *partner_domain]),
            (self.env["account.move"], "commercial_partner_id",
             [("move_type", "=", "out_invoice"), ("state", "=", "posted"), ("cobranza_is_disputed", "=", True),
              ("cobranza_dispute_user_id", "=", False), ("amount_residual", ">", 0),
              *([("commercial_partner_id", "in", partner_ids)] if partner_ids is not None else [])]),
        ]
        for model, partner_field, domain in sources:
            for partner, company, count in model.sudo()._read_group(
                    [("company_id", "in", companies), *domain], [partner_field, "company_id"], ["__count"]):
                key = (partner.id, company.id)
                counts[key] = counts.get(key, 0) + count
        return counts

    @api.depends_context("allowed_company_ids")
    def _compute_portal_pending(self):
        counts = self._portal_pending_counts(self.partner_id.ids) if self else {}
        for profile in self:
            profile.portal_pending = counts.get((profile.partner_id.id, profile.company_id.id), 0)

    def _search_portal_pending(self, operator, value):
        if operator not in (">", "!=", "=") or value not in (0, False):
            raise UserError(self.env._("Search customers with or without something from the portal."))
        pairs = set(self._portal_pending_counts())
        profiles = self.search([("partner_id", "in", list({partner for partner, _company in pairs}))]) if pairs \
            else self.browse()
        ids = [p.id for p in profiles if (p.partner_id.id, p.company_id.id) in pairs]
        return [("id", "not in" if operator == "=" else "in", ids)]

    def _compute_next_reminder(self):
        """One plan of the page's customers per company (two queries), as the daily run would make it."""
        self.next_reminder = False
        engine = self.env["cobranza.dunning"].sudo()
        Level = self.env["cobranza.dunning.level"].sudo()
        for company, profiles in self.filtered("partner_id").grouped("company_id").items():
            if not company.cobranza_start_date:
                continue
            today = company._cobranza_today()
            plan = engine.with_company(company)._plan(company, today, partner_ids=profiles.partner_id.ids)
            waiting = engine._split_contact_window(company, today, plan)[1]
            for profile in profiles:
                by_level = plan.get(profile.partner_id.id)
                if not by_level:
                    continue
                top = max(Level.browse(list(by_level)), key=lambda level: (level.offset_days, level.id))
                day = waiting.get(profile.partner_id.id)
                profile.next_reminder = self.env._(
                    "%(level)s, %(count)s item(s), %(when)s", level=top.name,
                    count=sum(len(line_ids) for line_ids in by_level.values()),
                    when=format_date(self.env, day) if day else self.env._("today"),
                )

    def _compute_communication_ids(self):
        for profile in self:
            profile.communication_ids = self.env["cobranza.communication"].search([
                ("partner_id", "=", profile.partner_id.id), ("company_id", "=", profile.company_id.id),
            ])

    def _compute_promise_ids(self):
        for profile in self:
            profile.promise_ids = self.env["cobranza.promise"].search([
                ("partner_id", "=", profile.partner_id.id), ("company_id", "=", profile.company_id.id),
            ])

    @api.depends("partner_id", "company_id")
    def _compute_display_name(self):
        for profile in self:
            profile.display_name = profile.partner_id.display_name

    # --------------------------------------------------------------- constraints

    @api.constrains("collector_id", "company_id")
    def _check_collector(self):
        collector_group = self.env.ref(GROUP_COLLECTOR)
        for profile in self.filtered("collector_id"):
            user = profile.collector_id
            if collector_group not in user.groups_id:
                raise ValidationError(self.env._(
                    "%(user)s cannot collect %(partner)s: the user is not in the Collector group.",
                    user=user.name, partner=profile.partner_id.display_name,
                ))
            if profile.company_id not in user.company_ids:
                raise ValidationError(self.env._(
                    "%(user)s cannot collect %(partner)s: the user has no access to %(company)s.",
                    user=user.name, partner=profile.partner_id.display_name,
                    company=profile.company_id.name,
                ))

    @api.constrains("partner_id")
    def _check_commercial_partner(self):
        for profile in self:
            if profile.partner_id != profile.partner_id.commercial_partner_id:
                raise ValidationError(self.env._(
                    "Credit profiles belong to the company, not to its contact %(contact)s.",
                    contact=profile.partner_id.display_name,
                ))

    # What a user writes directly; holds, behaviour and hand-overs go through the actions below.
    _USER_FIELDS = ("collector_id", "is_dunning_excluded", "dunning_exclusion_reason", "ladder_id", "contact_lang",
                    *contact.PREFERENCE_FIELDS)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            check_fields(self, vals, ("partner_id", "company_id", *self._USER_FIELDS))
            if vals.get("collector_id") and not is_manager(self.env):
                raise AccessError(self.env._("Only a Collections Manager can assign collectors."))
        return super().create(vals_list)

    def write(self, vals):
        check_fields(self, vals, self._USER_FIELDS)
        if "collector_id" in vals and not is_manager(self.env):
            raise AccessError(self.env._("Only a Collections Manager can assign collectors."))
        if "ladder_id" in vals and not is_manager(self.env):
            raise AccessError(self.env._("Only a Collections Manager can choose a customer's dunning ladder."))
        result = super().write(vals)
        if "ladder_id" in vals:
            for company, profiles in self.grouped("company_id").items():
                self.env["cobranza.dunning"]._move_to_ladder(company, profiles.partner_id.ids)
        return result

    @api.constrains("ladder_id", "company_id")
    def _check_ladder(self):
        for profile in self.filtered("ladder_id"):
            if profile.ladder_id.company_id != profile.company_id or not profile.ladder_id.active:
                raise ValidationError(self.env._(
                    "%(customer)s can only follow an active dunning ladder of %(company)s.",
                    customer=profile.partner_id.display_name, company=profile.company_id.name,
                ))

    # --------------------------------------------------------------------- holds

    def _hold_by_hand(self, reason):
        """Put the customers on hold by hand (collectors and managers); the reason is required."""
        check_collector(self.env)
        self.env["cobranza.credit.policy"]._hold_by_hand(self, reason)

    def action_lift_hold(self):
        """Lift holds by hand: Collections Managers only, whatever set the hold (the policy, a
        dunning level or a person); policy and dunning holds also lift by themselves when the cause is gone."""
        self.env["cobranza.credit.policy"]._lift_by_hand(self)
        return True

    def action_open_hold_wizard(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Set Credit Hold"),
            "res_model": "cobranza.hold.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_profile_id": self.id},
        }

    def action_open_overdue_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("cobranza_mgmt.account_move_action_overdue")
        action["domain"] = [
            ("move_type", "=", "out_invoice"),
            ("commercial_partner_id", "=", self.partner_id.id),
            ("company_id", "=", self.company_id.id),
        ]
        return action

    def _open_overdue_lines(self):
        """Open receivable items of the customer past their due date."""
        self.ensure_one()
        return self.env["account.move.line"].sudo().search([
            ("company_id", "=", self.company_id.id), ("partner_id", "=", self.partner_id.id),
            ("date_maturity", "<", fields.Date.context_today(self)), *receivable.open_debit_domain(),
        ])

    def action_record_promise(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Promise to Pay"),
            "res_model": "cobranza.promise",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_partner_id": self.partner_id.id, "default_company_id": self.company_id.id,
                "default_move_ids": self._open_overdue_lines().move_id.ids,
                "default_amount": self.overdue_amount,
            },
        }

    def action_log_call(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window", "name": self.env._("Log a Call"), "res_model": "cobranza.call.wizard",
            "view_mode": "form", "target": "new", "context": {"default_profile_id": self.id},
        }

    def action_mark_dispute(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window", "name": self.env._("Record a Dispute"),
            "res_model": "cobranza.dispute.wizard", "view_mode": "form", "target": "new",
            "context": {"default_move_ids": self._open_overdue_lines().move_id.ids},
        }

    def action_send_reminder_now(self):
        """Send what is due for this customer now, or repeat its last reminder by e-mail."""
        self.ensure_one()
        check_collector(self.env)
        self.check_access("write")
        self.env["cobranza.dunning"].sudo().with_company(self.company_id)._send_now(self.company_id, self.partner_id)
        return {"type": "ir.actions.client", "tag": "display_notification", "params": {
            "type": "success", "message": self.env._("Reminder sent to %(partner)s.", partner=self.partner_id.name),
            "next": {"type": "ir.actions.act_window_close"},
        }}

    def action_view_communications(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("cobranza_mgmt.cobranza_communication_action")
        action["domain"] = [("partner_id", "=", self.partner_id.id), ("company_id", "=", self.company_id.id)]
        return action

    # ------------------------------------------------------------ behaviour

    @api.model
    def _get_or_create(self, partners, company):
        """Profiles of these commercial partners in ``company``, created when missing."""
        partners = partners.commercial_partner_id
        profiles = self.sudo().search([("partner_id", "in", partners.ids), ("company_id", "=", company.id)])
        missing = partners - profiles.partner_id
        if missing:
            profiles |= self.sudo().create([{"partner_id": p.id, "company_id": company.id} for p in missing])
        return profiles

    @api.depends("hold_reason", "hold_cause")
    @api.depends_context("lang")
    def _compute_hold_reason_text(self):
        Policy = self.env["cobranza.credit.policy"]
        for profile in self:
            profile.hold_reason_text = Policy._hold_text(profile.hold_cause, profile.company_id) \
                if profile.hold_cause else profile.hold_reason

    @api.model
    def _behaviour_rows(self, company, today, partner_ids=None):
        """Aggregates per commercial partner, in one query: weighted days late, installments
        paid (on time / total) and the open overdue position."""
        since = today - timedelta(days=365 * BEHAVIOUR_MONTHS // 12)
        partner_filter = SQL("AND aml.partner_id = ANY(%s)", partner_ids) if partner_ids is not None else SQL()
        query = SQL(
            """
            WITH receivable AS (
                SELECT aml.id, aml.partner_id, aml.date_maturity, aml.reconciled, aml.amount_residual
                  FROM %(receivable)s
                  JOIN account_move move ON move.id = aml.move_id
                 WHERE aml.company_id = %(company)s AND %(is_receivable)s
                   AND move.move_type = 'out_invoice'
                   %(partner_filter)s
            ),
            payments AS (
                SELECT r.id, r.partner_id, r.date_maturity, r.reconciled,
                       apr.amount, apr.max_date
                  FROM receivable r
                  JOIN account_partial_reconcile apr ON apr.debit_move_id = r.id
            ),
            late AS (
                SELECT partner_id,
                       SUM(amount * GREATEST(max_date - date_maturity, 0)) / NULLIF(SUM(amount), 0) AS avg_late
                  FROM payments
                 WHERE max_date >= %(since)s
                 GROUP BY partner_id
            ),
            paid AS (
                SELECT partner_id,
                       COUNT(*) FILTER (WHERE paid_on <= date_maturity + %(grace)s) AS on_time,
                       COUNT(*) AS total
                  FROM (SELECT id, partner_id, date_maturity, MAX(max_date) AS paid_on
                          FROM payments WHERE reconciled GROUP BY id, partner_id, date_maturity) x
                 WHERE paid_on >= %(since)s
                 GROUP BY partner_id
            ),
            open_items AS (  -- overdue is net: unapplied payments and credit notes pay the oldest first
                SELECT partner_id,
                       MAX(%(today)s - due) FILTER (WHERE due < %(today)s AND net > 0) AS max_overdue,
                       SUM(net) FILTER (WHERE due < %(today)s AND residual > 0) AS overdue
                  FROM (%(net_items)s) net_item
                 GROUP BY partner_id
            ),
            partners AS (
                SELECT partner_id FROM late UNION SELECT partner_id FROM paid
                 UNION SELECT partner_id FROM open_items
            )
            SELECT p.partner_id, COALESCE(late.avg_late, 0), paid.on_time, paid.total,
                   COALESCE(open_items.max_overdue, 0), COALESCE(open_items.overdue, 0)
              FROM partners p
              LEFT JOIN late ON late.partner_id = p.partner_id
              LEFT JOIN paid ON paid.partner_id = p.partner_id
              LEFT JOIN open_items ON open_items.partner_id = p.partner_id
            """,
            company=company.id, since=since, today=today, grace=company.cobranza_grace_days,
            partner_filter=partner_filter, receivable=receivable.RECEIVABLE_FROM,
            is_receivable=receivable.IS_RECEIVABLE, net_items=receivable.net_open_items(company.id, partner_ids),
        )
        self.env.cr.execute(query)
        return self.env.cr.fetchall()

    @api.model
    def _refresh_behaviour(self, companies=None, partners=None):
        """Recompute the stored behaviour, score and segment, set-based.

        One aggregate query per company, the scores in Python (``logic.scoring``), then
        pages of one INSERT ... ON CONFLICT DO UPDATE; policy holds follow (``cobranza.credit.policy``).
        The upsert skips the ORM's create/write (defaults, access rules, constraints): the stored
        behaviour fields are read-only, computed here, with no constraint or dependant; the model's
        cache is invalidated after. ``partners`` limits the work to those commercial partners (the
        deferred refresh of customers whose invoices or payments changed).
        """
        self.env.flush_all()
        companies = companies or self.env["res.company"].sudo().search([])  # pylint: disable=no-search-all
        partner_ids = None
        if partners is not None:
            # a fresh browse prefetches all of them at once
            partner_ids = self.env["res.partner"].browse(partners.ids).commercial_partner_id.ids
        for company in companies:
            today = company._cobranza_today()
            rows = {row[0]: row for row in self._behaviour_rows(company, today, partner_ids)}
            domain = [("company_id", "=", company.id)]
            if partner_ids is not None:
                domain.append(("partner_id", "in", partner_ids))
            existing = {
                partner.id: broken
                for partner, broken in self.sudo()._read_group(domain, ["partner_id"], ["broken_promise_count:max"])
            }
            thresholds = company._cobranza_segment_thresholds()
            values = []
            for partner_id in set(rows) | set(existing):
                _pid, avg_late, on_time, total, max_overdue, overdue = rows.get(
                    partner_id, (partner_id, 0.0, None, None, 0, 0.0),
                )
                share = (on_time / total) if total else None
                broken = existing.get(partner_id, 0)
                score = scoring.risk_score(float(avg_late), share, max_overdue, broken)
                values.append((
                    partner_id, company.id, round(float(avg_late), 1),
                    round(100.0 * share, 1) if share is not None else 100.0,
                    max_overdue, float(overdue), score, scoring.segment_for_score(score, thresholds),
                    scoring.worklist_priority(float(overdue), max_overdue, score), today, self.env.uid,
                ))
            for start in range(0, len(values), UPSERT_PAGE):
                self.env.cr.execute_values("""
                    INSERT INTO cobranza_credit_profile AS p
                           (partner_id, company_id, avg_days_late, on_time_share, max_days_overdue,
                            overdue_amount, risk_score, segment, priority, behaviour_date,
                            create_uid, write_uid, create_date, write_date, is_on_hold,
                            broken_promise_count, is_dunning_excluded)
                    SELECT v.partner_id, v.company_id, v.avg_late, v.share, v.max_overdue, v.overdue,
                           v.score, v.segment, v.priority, v.day, v.uid, v.uid, now() at time zone 'UTC',
                           now() at time zone 'UTC', false, 0, false
                      FROM (VALUES %s) AS v(partner_id, company_id, avg_late, share, max_overdue, overdue,
                                            score, segment, priority, day, uid)
                    ON CONFLICT (partner_id, company_id) DO UPDATE SET
                           avg_days_late = EXCLUDED.avg_days_late,
                           on_time_share = EXCLUDED.on_time_share,
                           max_days_overdue = EXCLUDED.max_days_overdue,
                           overdue_amount = EXCLUDED.overdue_amount,
                           risk_score = EXCLUDED.risk_score,
                           segment = EXCLUDED.segment,
                           priority = EXCLUDED.priority,
                           behaviour_date = EXCLUDED.behaviour_date,
                           write_uid = EXCLUDED.write_uid,
                           write_date = EXCLUDED.write_date
                """, values[start:start + UPSERT_PAGE], template=(
                    "(%s, %s, %s::numeric, %s::numeric, %s, %s::numeric, %s::numeric, %s, %s::numeric, %s::date, %s)"
                ), page_size=UPSERT_PAGE)
            self.invalidate_model()
            self.env["cobranza.credit.policy"].sudo()._apply_policy(self.sudo().search(domain))
        return True

    @api.model
    def _cron_refresh_behaviour(self):
        for company in self.env["res.company"].sudo().search([]):  # pylint: disable=no-search-all
            try:
                with self.env.cr.savepoint():
                    self._refresh_behaviour(companies=company)
            except Exception:  # one company's failure must not stop the others
                _logger.exception("Collections: refreshing the credit profiles of %s failed", company.name)
        return True
