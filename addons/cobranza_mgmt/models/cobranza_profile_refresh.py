import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from .cobranza_dunning import claim_rows

_logger = logging.getLogger(__name__)

REFRESH_BATCH = 500  # customers per committed batch of the deferred refresh
TRIGGERED = "cobranza_mgmt.profile_refresh_triggered"  # precommit data key: the job is triggered once per transaction


class CobranzaProfileRefresh(models.Model):
    """Customers whose credit profile is out of date ("dirty"): an invoice of theirs was posted,
    reset or cancelled, or a payment reconciled or unreconciled with it.

    Everyday invoicing only marks them (one INSERT); a triggered job refreshes them in batches
    (behaviour, score, segment and the policy's holds), so posting and paying cost what they cost
    without the module. The credit check at posting does not read the profile: it reads live
    figures (``cobranza.credit.policy``), so it is exact whatever the queue holds.
    """

    _name = "cobranza.profile.refresh"
    _description = "Credit Profiles to Refresh"
    _log_access = False

    company_id = fields.Many2one("res.company", required=True, ondelete="cascade")
    partner_id = fields.Many2one("res.partner", required=True, ondelete="cascade")

    @api.model
    def _mark(self, pairs):
        """Queue (company id, commercial partner id) pairs and make sure the job runs soon.

        One plain INSERT (no ORM create: nothing computes or tracks on these rows, and a post must
        not pay for it). A customer may be queued twice: without a unique key, two users posting for
        the same customer at once never conflict (under REPEATABLE READ a conflicting insert fails
        the transaction); the job takes each customer once. The job is triggered once per transaction.
        """
        pairs = sorted({(company_id, partner_id) for company_id, partner_id in pairs if company_id and partner_id})
        if not pairs:
            return
        companies, partners = zip(*pairs, strict=True)
        cron_id = self.env["ir.model.data"]._xmlid_to_res_id("cobranza_mgmt.ir_cron_refresh_dirty_profiles")
        # One statement queues the customers and tells whether the job is already triggered (a trigger
        # not yet run): then nothing more to do, which is the case of most posts on a busy day.
        self.env.cr.execute(SQL(
            """
            WITH queued AS (
                INSERT INTO cobranza_profile_refresh (company_id, partner_id)
                SELECT unnest(%s::int[]), unnest(%s::int[])
            )
            SELECT EXISTS (SELECT 1 FROM ir_cron_trigger WHERE cron_id = %s)
            """, list(companies), list(partners), cron_id,
        ))
        triggered = self.env.cr.fetchone()[0]
        data = self.env.cr.precommit.data
        if not triggered and not data.get(TRIGGERED):
            data[TRIGGERED] = True
            # For the cron workers' next wake-up (they look every minute), not at once: waking them now
            # means Odoo opens a connection to the "postgres" database after the commit (pg_notify),
            # 5 ms on every post and payment, a fifth of what posting costs.
            self.env["ir.cron"].sudo().browse(cron_id)._trigger(fields.Datetime.now() + timedelta(seconds=1))

    @api.model
    def _mark_moves(self, moves):
        """Queue the customers of these customer documents."""
        self._mark((move.company_id.id, move.commercial_partner_id.id)
                   for move in moves if move.is_sale_document(include_receipts=True))

    @api.model
    def _mark_lines(self, lines):
        """Queue the customers of these receivable journal items."""
        self._mark((line.company_id.id, line.partner_id.commercial_partner_id.id)
                   for line in lines if line.account_type == "asset_receivable" and line.partner_id)

    @api.model
    def _pop(self, limit):
        """Take (and remove) up to ``limit`` queued customers no other worker holds: {company id: [partner ids]}."""
        rows = claim_rows(self.env.cr, SQL(
            """
            WITH claimed AS MATERIALIZED (
                SELECT id FROM cobranza_profile_refresh ORDER BY company_id, partner_id
                 LIMIT %s FOR UPDATE SKIP LOCKED
            )
            DELETE FROM cobranza_profile_refresh queue USING claimed WHERE queue.id = claimed.id
            RETURNING queue.company_id, queue.partner_id
            """, limit,
        ))
        batch = {}
        for company_id, partner_id in rows or []:
            batch.setdefault(company_id, set()).add(partner_id)
        return {company_id: sorted(partner_ids) for company_id, partner_ids in batch.items()}

    @api.model
    def _cron_refresh(self):
        """One batch of dirty customers, per company in a savepoint; progress to the cron, which
        commits and calls again at once while customers remain. A company whose refresh fails is
        logged and its customers are left to the nightly full refresh (queued again, a lasting
        failure would call the job again and again); the others carry on."""
        batch = self._pop(REFRESH_BATCH)
        Profile = self.env["cobranza.credit.profile"].sudo()
        done = 0
        for company_id, partner_ids in batch.items():
            company = self.env["res.company"].browse(company_id)
            try:
                with self.env.cr.savepoint():
                    Profile._refresh_behaviour(companies=company, partners=self.env["res.partner"].browse(partner_ids))
                done += len(partner_ids)
            except Exception:  # one company's failure must not stop the others
                _logger.exception("Collections: refreshing %s credit profiles of %s failed; the nightly refresh "
                                  "will take them", len(partner_ids), company.name)
        self.env.cr.execute("SELECT count(*) FROM cobranza_profile_refresh")
        remaining = self.env.cr.fetchone()[0]
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return done, remaining
