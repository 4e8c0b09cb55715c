import json

from odoo import api, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from . import cobranza_receivable as receivable
from .cobranza_access import is_manager

HOLD_TYPES = [("manual", "Manual"), ("policy", "Credit Policy"), ("dunning", "Dunning Level")]
HOLD_FIELDS = ("is_on_hold", "hold_type", "hold_reason", "hold_cause", "hold_user_id", "hold_date")
HOLD_PAGE = 1000


class CobranzaCreditPolicy(models.AbstractModel):
    """The credit decision, in one place: a customer's exposure, why it may not get more credit,
    and its credit hold (the only writer of the hold fields of ``cobranza.credit.profile``).

    A hold is ``manual`` (a collector or manager set it, with a reason), ``policy`` (the company's
    policy: an invoice overdue more than the automatic-hold days, or exposure over the credit limit)
    or ``dunning`` (a dunning level that holds was reached). Policy and dunning holds lift by
    themselves when their cause is gone; only a Collections Manager lifts a hold by hand or posts
    over one. The check at posting and confirmation reads live figures, not the stored profile,
    so it is exact even before the profile's deferred refresh ran.
    """

    _name = "cobranza.credit.policy"
    _description = "Collections credit policy"

    # ------------------------------------------------------------------ figures

    @api.model
    def _live_figures(self, company, partners, *, decision=True):
        """{commercial partner id: (open receivable, draft invoices, max days overdue, hold reason or None)}
        in ``company``, amounts in company currency, read in one query (the check at posting runs it
        once per post).

        :param decision: False: only the amounts (the exposure of stored profiles, whose days overdue
                         and holds are known): no join to the invoices, 30 % faster on 10,000 customers
        """
        partner_ids = partners.commercial_partner_id.ids
        if not partner_ids:
            return {}
        # What the query reads, not flush_all: at posting, a full flush would make Odoo recompute early.
        self.env["account.move.line"].flush_model([
            "account_id", "amount_residual", "company_id", "date", "date_maturity", "move_id", "parent_state",
            "partner_id", "reconciled",
        ])
        self.env["account.move"].flush_model(["amount_total_signed", "commercial_partner_id", "company_id",
                                              "move_type", "state"])
        self.env["cobranza.credit.profile"].flush_model(["company_id", "hold_reason", "is_on_hold", "partner_id"])
        if decision:
            days = SQL("CASE WHEN aml.amount_residual > 0 AND move.move_type = 'out_invoice' THEN %s - %s END",
                       company._cobranza_today_sql(), receivable.DUE_DATE)
            move_join = SQL("JOIN account_move move ON move.id = aml.move_id")
            holds = SQL(
                """UNION ALL
                SELECT partner_id, 0, 0, NULL, COALESCE(hold_reason, '')
                  FROM cobranza_credit_profile
                 WHERE company_id = %s AND is_on_hold AND partner_id = ANY(%s)""", company.id, partner_ids,
            )
        else:
            days, move_join, holds = SQL("NULL::int"), SQL(), SQL()
        self.env.cr.execute(SQL(
            """
            SELECT partner_id, SUM(receivable), SUM(draft), MAX(days_overdue), MAX(hold_reason) FROM (
                SELECT aml.partner_id, aml.amount_residual AS receivable, 0 AS draft, %(days)s AS days_overdue,
                       NULL AS hold_reason
                  FROM %(receivable)s
                  %(move_join)s
                 WHERE aml.company_id = %(company)s AND %(is_open)s AND aml.partner_id = ANY(%(partners)s)
                UNION ALL
                SELECT move.commercial_partner_id, 0, move.amount_total_signed, NULL, NULL
                  FROM account_move move
                 WHERE move.company_id = %(company)s AND move.state = 'draft' AND move.move_type = 'out_invoice'
                   AND move.commercial_partner_id = ANY(%(partners)s)
                %(holds)s
            ) figures GROUP BY partner_id
            """,
            company=company.id, partners=partner_ids, days=days, move_join=move_join, holds=holds,
            receivable=receivable.RECEIVABLE_FROM, is_open=receivable.IS_OPEN,
        ))
        return {partner_id: (float(open_amount or 0.0), float(draft or 0.0), max(days or 0, 0), hold)
                for partner_id, open_amount, draft, days, hold in self.env.cr.fetchall()}

    @api.model
    def _to_invoice(self, company, partners):
        """{commercial partner id: what Sales still has to invoice} (0 without Sales): confirmed orders
        not invoiced yet, less the order share of their draft invoices, as Odoo's own credit warning
        counts it (``_get_partner_credit_warning_exclude_amount``)."""
        if "sale.order" not in self.env:
            return {}  # Invoicing alone: credit_to_invoice is always 0, and reading it costs a query
        commercial = partners.commercial_partner_id
        # credit_to_invoice is computed without dependencies: drop what an earlier call cached.
        commercial.invalidate_recordset(["credit_to_invoice"])
        to_invoice = {partner.id: partner.credit_to_invoice
                      for partner in commercial.with_company(company).sudo() if partner.credit_to_invoice}
        if to_invoice:
            drafts = self.env["account.move"].sudo().search([
                ("company_id", "=", company.id), ("state", "=", "draft"), ("move_type", "=", "out_invoice"),
                ("commercial_partner_id", "in", list(to_invoice)),
            ])
            for draft in drafts:
                to_invoice[draft.commercial_partner_id.id] -= draft._get_partner_credit_warning_exclude_amount()
        return {partner_id: max(amount, 0.0) for partner_id, amount in to_invoice.items()}

    @api.model
    def _exposure(self, company, partners, figures=None):
        """Exposure per commercial partner id, in ``company``'s currency: open receivable, plus draft
        customer invoices, plus what Sales still has to invoice."""
        figures = figures if figures is not None else self._live_figures(company, partners, decision=False)
        exposures = {partner_id: figure[0] + figure[1] for partner_id, figure in figures.items()}
        for partner_id, amount in self._to_invoice(company, partners).items():
            exposures[partner_id] = exposures.get(partner_id, 0.0) + amount
        return exposures

    # ------------------------------------------------------------------ the decision

    @api.model
    def _policy_cause(self, company, partner, exposure, days_overdue, *, holding=True, before_start=False,
                      limit=None):
        """Why the company's policy holds ``partner`` now, as values (``_hold_text`` words them), or None.

        :param limit: ``partner``'s credit limit in ``company``, when the caller read those of many at once
        :param holding: the reason to hold the customer; False: the reason to refuse one more document
                        (over the limit refuses a document whether or not the policy also holds)
        :param before_start: what the policy would say once collections start (the start wizard's preview)
        """
        if not company.cobranza_start_date and not before_start:
            return None  # the policy acts once a manager started collections in the company
        if company.cobranza_auto_hold_days and days_overdue > company.cobranza_auto_hold_days:
            return {"code": "days_overdue", "days": days_overdue, "limit": company.cobranza_auto_hold_days}
        if not company.account_use_credit_limit or (holding and not company.cobranza_auto_hold_over_limit):
            return None
        if limit is None:
            limit = partner.with_company(company).credit_limit
        if limit and company.currency_id.compare_amounts(exposure, limit) > 0:
            return {"code": "over_limit", "exposure": company.currency_id.round(exposure), "limit": limit}
        return None

    @api.model
    def _policy_reason(self, company, partner, exposure, days_overdue, **options):
        """``_policy_cause`` worded in the current language, or ''."""
        cause = self._policy_cause(company, partner, exposure, days_overdue, **options)
        return self._hold_text(cause, company) if cause else ""

    @api.model
    def _hold_text(self, cause, company):
        """An automatic hold's cause (``_policy_cause``, or a dunning level reached) in the current language."""
        currency = company.currency_id
        if cause["code"] == "days_overdue":
            return self.env._("An invoice is %(days)s days overdue (policy: hold after %(limit)s days).",
                              days=cause["days"], limit=cause["limit"])
        if cause["code"] == "over_limit":
            return self.env._("Exposure %(exposure)s exceeds the credit limit %(limit)s.",
                              exposure=currency.format(cause["exposure"]), limit=currency.format(cause["limit"]))
        level = self.env["cobranza.dunning.level"].sudo().browse(cause["level_id"]).exists()
        return self.env._("Dunning level %(level)s reached.", level=level.name or "?")

    @api.model
    def _problems(self, company, partners, extra_amounts=None):
        """Why each commercial partner may not get more credit in ``company`` now, by partner id.

        Refused: a stored hold of any type; the policy's reasons read live (days overdue beyond the
        automatic-hold days, exposure plus ``extra_amounts[partner id]`` over the credit limit), so a
        profile not refreshed yet, or a policy hold lifted while its cause remains, changes nothing.
        """
        extra_amounts = extra_amounts or {}
        partners = partners.commercial_partner_id
        if not partners:
            return {}
        figures = self._live_figures(company, partners)
        exposures = self._exposure(company, partners, figures)
        currency = company.currency_id
        on_hold = [partner_id for partner_id, figure in figures.items() if figure[3] is not None]
        # the holds' reasons in the reader's language (one query, only when someone is on hold)
        held = {profile.partner_id.id: profile.hold_reason_text for profile in self.env["cobranza.credit.profile"]
                .sudo().search([("company_id", "=", company.id), ("partner_id", "in", on_hold)])} if on_hold else {}
        problems = {}
        for partner in partners:
            exposure = exposures.get(partner.id, 0.0) + extra_amounts.get(partner.id, 0.0)
            _open, _draft, days_overdue, hold_reason = figures.get(partner.id, (0.0, 0.0, 0, None))
            if hold_reason is not None:
                hold_reason = held.get(partner.id, hold_reason)
                problems[partner.id] = self.env._(
                    "%(partner)s is on credit hold (%(reason)s); exposure %(exposure)s.",
                    partner=partner.name, reason=hold_reason, exposure=currency.format(exposure),
                )
                continue
            reason = self._policy_reason(company, partner, exposure, days_overdue, holding=False)
            if reason:
                problems[partner.id] = self.env._("%(partner)s: %(reason)s", partner=partner.name, reason=reason)
        return problems

    @api.model
    def _enforce(self, documents, company, refusal, extra_amounts=None):
        """Refuse ``documents`` (invoices to post, orders to confirm) of customers with a credit problem,
        or log the override of a Collections Manager, the only users who may go past the policy.

        :param refusal: function (document, problem) -> the error message
        :param extra_amounts: {commercial partner id: amount of these documents not yet in the exposure}
        """
        problems = self._problems(company, documents.partner_id, extra_amounts)
        if not problems:
            return
        manager = is_manager(self.env)
        for document in documents:
            problem = problems.get(document.partner_id.commercial_partner_id.id)
            if not problem:
                continue
            if not manager:
                raise UserError(refusal(document, problem))
            document.message_post(body=self.env._(
                "%(user)s overrode the credit control: %(problem)s", user=self.env.user.name, problem=problem,
            ))

    @api.model
    def _feed_warning(self, documents):
        """Put the credit problem of each document's customer in front of Odoo's own credit warning
        (``partner_credit_warning`` of draft invoices and quotations): one banner, Odoo's."""
        for company, company_documents in documents.grouped("company_id").items():
            problems = self._problems(company, company_documents.partner_id)
            for document in company_documents:
                problem = problems.get(document.partner_id.commercial_partner_id.id)
                if problem:
                    document.partner_credit_warning = "\n".join(filter(None, [problem,
                                                                               document.partner_credit_warning]))

    # ------------------------------------------------------------------ holds (the only writer)

    def _hold_envs(self, profiles):
        """{profile id: this model in the language its hold reasons are written in}: the customer's
        collector's, else the company's people's (one environment per language)."""
        envs, by_lang = {}, {}
        for profile in profiles:
            lang = profile.collector_id.lang or profile.company_id.partner_id.lang or self.env.lang
            envs[profile.id] = by_lang.get(lang) or by_lang.setdefault(lang, self.with_context(lang=lang))
        return envs

    @api.model
    def _set_hold(self, profiles, hold_type, reasons, user=None, log=True):
        """Put ``profiles`` on hold: ``reasons`` is {profile id: text} (or one text for all).

        :param log: False when the caller's own chatter note says it (the dunning run's note names
                    the level and its actions, "Put on Credit Hold" among them)

        Written with one UPDATE per page: the first policy pass on a large database holds thousands,
        and the hold fields have no stored dependants, tracking or constraints for the ORM to run
        (what an ORM write would add); the cache is invalidated and the chatter written in one batch.
        """
        profiles = profiles.sudo()
        if not profiles:
            return
        if isinstance(reasons, str):
            reasons = dict.fromkeys(profiles.ids, reasons)
        causes, reasons = self._worded(profiles, reasons)
        self.env.flush_all()
        self.env.cr.execute_values("""
            UPDATE cobranza_credit_profile p
               SET is_on_hold = true, hold_type = v.kind, hold_reason = v.reason, hold_cause = v.cause,
                   hold_user_id = v.uid, hold_date = now() at time zone 'UTC', write_date = now() at time zone 'UTC'
              FROM (VALUES %s) AS v(id, kind, reason, cause, uid) WHERE p.id = v.id
        """, [(profile.id, hold_type, reasons[profile.id], causes.get(profile.id), user.id if user else None)
              for profile in profiles], template="(%s, %s, %s, %s::jsonb, %s::int)", page_size=HOLD_PAGE)
        profiles.invalidate_recordset(list(HOLD_FIELDS))
        if not log:
            return
        if hold_type == "manual":
            logs = {profile.partner_id.id: self.env._("Credit hold set by %(user)s: %(reason)s",
                                                      user=(user or self.env.user).name, reason=reasons[profile.id])
                    for profile in profiles}
        else:  # in the language the reason was worded in
            envs = self._hold_envs(profiles)
            logs = {profile.partner_id.id: envs[profile.id].env._("Credit hold set automatically: %(reason)s",
                                                                  reason=reasons[profile.id]) for profile in profiles}
        self.env["res.partner"].browse(list(logs)).sudo()._message_log_batch(bodies=logs)

    @api.model
    def _worded(self, profiles, reasons):
        """({profile id: cause as JSON}, {profile id: text}) from ``reasons`` ({profile id: text, or an
        automatic hold's cause}): a cause is kept as values and worded in the language its profile's
        holds are written in (``_hold_envs``), for the chatter and whoever reads the stored text."""
        envs = self._hold_envs(profiles.filtered(lambda profile: isinstance(reasons[profile.id], dict)))
        causes, texts = {}, {}
        for profile in profiles:
            reason = reasons[profile.id]
            if isinstance(reason, dict):
                causes[profile.id] = json.dumps(reason)
                texts[profile.id] = envs[profile.id]._hold_text(reason, profile.company_id)
            else:
                texts[profile.id] = reason
        return causes, texts

    @api.model
    def _set_reason(self, reasons):
        """Update the cause of policy holds whose cause changed ({profile id: cause})."""
        if reasons:
            profiles = self.env["cobranza.credit.profile"].sudo().browse(list(reasons))
            causes, texts = self._worded(profiles, reasons)
            self.env.cr.execute_values("""
                UPDATE cobranza_credit_profile p SET hold_reason = v.reason, hold_cause = v.cause
                  FROM (VALUES %s) AS v(id, reason, cause) WHERE p.id = v.id
            """, [(profile_id, texts[profile_id], causes.get(profile_id)) for profile_id in reasons],
                template="(%s, %s, %s::jsonb)", page_size=HOLD_PAGE)
            profiles.invalidate_recordset(["hold_reason", "hold_cause"])

    @api.model
    def _lift_hold(self, profiles, notes):
        """Lift the holds of ``profiles``; ``notes`` is {profile id: chatter text} (or one text)."""
        profiles = profiles.sudo().filtered("is_on_hold")
        if not profiles:
            return
        if isinstance(notes, str):
            notes = dict.fromkeys(profiles.ids, notes)
        self.env.flush_all()
        self.env.cr.execute(SQL(
            """UPDATE cobranza_credit_profile
                  SET is_on_hold = false, hold_type = NULL, hold_reason = NULL, hold_cause = NULL, hold_user_id = NULL,
                      hold_date = NULL, write_date = now() at time zone 'UTC'
                WHERE id = ANY(%s)""", profiles.ids,
        ))
        profiles.invalidate_recordset(list(HOLD_FIELDS))
        self.env["res.partner"].browse(profiles.partner_id.ids).sudo()._message_log_batch(
            bodies={profile.partner_id.id: notes[profile.id] for profile in profiles},
        )

    # ------------------------------------------------------------------ what users and jobs call

    @api.model
    def _hold_by_hand(self, profiles, reason):
        """A collector or manager puts customers on hold; the reason is required."""
        if not (reason or "").strip():
            raise UserError(self.env._("Give the reason for the credit hold."))
        profiles.check_access("write")
        self._set_hold(profiles, "manual", reason.strip(), user=self.env.user)

    @api.model
    def _lift_by_hand(self, profiles):
        """Lift holds by hand: Collections Managers only, whatever set the hold."""
        if not is_manager(self.env):
            raise AccessError(self.env._("Only a Collections Manager can lift a credit hold."))
        profiles.check_access("write")
        self._lift_hold(profiles, self.env._("Credit hold lifted by %(user)s.", user=self.env.user.name))

    @api.model
    def _hold_for_dunning(self, profiles, level):
        """A dunning level that holds was reached by these customers' items."""
        profiles = profiles.sudo().filtered(lambda profile: not profile.is_on_hold)
        cause = {"code": "dunning_level", "level_id": level.id}
        self._set_hold(profiles, "dunning", {profile.id: cause for profile in profiles}, log=False)

    @api.model
    def _apply_policy(self, profiles):
        """Set, update or lift the policy and dunning holds of ``profiles`` from their stored behaviour
        (manual holds are left alone): decided here, written by ``_set_hold``/``_lift_hold``."""
        for company, company_profiles in profiles.sudo().grouped("company_id").items():
            if not company.cobranza_start_date:
                continue
            automatic = company_profiles.filtered(lambda p: p.hold_type != "manual")
            if not automatic:
                continue
            exposures, limits = {}, {}
            if company.account_use_credit_limit and company.cobranza_auto_hold_over_limit:  # else days only
                exposures = self._exposure(company, automatic.partner_id)
                # one column, not the whole partner record the ORM would prefetch for a field access
                limits = {row["id"]: row["credit_limit"]
                          for row in automatic.partner_id.with_company(company).read(["credit_limit"])}
            envs = self._hold_envs(automatic)
            held, reasons, lifted = {}, {}, {}
            for profile in automatic:
                own = envs[profile.id]
                if profile.hold_type == "dunning":
                    if profile.max_days_overdue <= 0:
                        lifted[profile.id] = own.env._("Dunning credit hold lifted: nothing is overdue.")
                    continue
                reason = own._policy_cause(company, profile.partner_id, exposures.get(profile.partner_id.id, 0.0),
                                           profile.max_days_overdue, limit=limits.get(profile.partner_id.id, 0.0))
                if reason and not profile.is_on_hold:
                    held[profile.id] = reason
                elif reason and profile.hold_cause != reason:
                    reasons[profile.id] = reason
                elif not reason and profile.is_on_hold:
                    lifted[profile.id] = own.env._("Automatic credit hold lifted: its cause is gone.")
            Profile = self.env["cobranza.credit.profile"].sudo()
            self._set_hold(Profile.browse(list(held)), "policy", held)
            self._set_reason(reasons)
            self._lift_hold(Profile.browse(list(lifted)), lifted)
