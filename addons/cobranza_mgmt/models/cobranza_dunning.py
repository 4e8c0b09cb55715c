import logging
from collections import defaultdict
from datetime import timedelta

import psycopg2
from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_date
from odoo.tools.mail import generate_tracking_message_id

from . import cobranza_receivable as receivable
from .account_move import credit_exempt

_logger = logging.getLogger(__name__)

DUNNING_BATCH = 200  # customers per committed batch of the scheduled run
FILL_LOCK = 0x636F62  # advisory lock class of the day's queue fill ("cob"), one lock per company


def claim_rows(cr, query):
    """Run ``query`` (a claim on shared rows: ``… FOR UPDATE SKIP LOCKED``, ``INSERT … ON CONFLICT``,
    ``DELETE``) in a savepoint and return its rows, or None when another worker changed those rows
    after this transaction's snapshot was taken.

    Odoo's cursors are REPEATABLE READ: locking or writing a row that a concurrent worker changed
    and committed since this transaction began raises a serialization failure, even with
    ``SKIP LOCKED``. That row was that worker's, so the claim is given up quietly (nothing is
    logged) and the caller tries again in its next batch, with a fresh snapshot.
    """
    try:
        with cr.savepoint(flush=False):
            cr.execute(query, log_exceptions=False)
            return cr.fetchall() if cr.description else []
    except psycopg2.errors.SerializationFailure:
        return None


class CobranzaDunning(models.AbstractModel):
    """The dunning engine: which receivable items reach which level today, and what follows.

    The scheduled run takes a bounded batch of customers at a time, locks their credit
    profiles (``FOR UPDATE SKIP LOCKED``, so several cron workers can share the work),
    processes each customer inside a savepoint and reports progress to the cron, which
    commits the batch and calls again while customers remain. An item advances in the same
    transaction as the communication that announces it, so a killed run leaves no customer
    half-done and a second run the same day finds nothing more to send.
    """

    _name = "cobranza.dunning"
    _description = "Collections dunning engine"

    # ------------------------------------------------------------------ candidates

    @api.model
    def _candidate_query(self, company, today, partner_ids=None, move_ids=None):
        """SQL selecting (line id, commercial partner id, next level id) of every open customer-invoice
        item of ``company`` that reached a level above its current one and is not excluded.

        An item that skipped levels (e.g. already 40 days late when first seen) gets the highest
        level it reached, once: customers are not sent every missed letter on the same day. Each
        level owns the band of days late from its offset to the next level's, so finding an item's
        level is a range join against a handful of rows, not a sub-query per item.
        """
        filters = [SQL()]
        if partner_ids is not None:
            filters.append(SQL("AND aml.partner_id = ANY(%s)", list(partner_ids)))
        if move_ids is not None:
            filters.append(SQL("AND aml.move_id = ANY(%s)", list(move_ids)))
        Ladder = self.env["cobranza.dunning.ladder"]
        return SQL(
            """
            WITH %(ladder_ctes)s,
            band AS (
                SELECT id, ladder_id, offset_days AS low,
                       LEAD(offset_days) OVER (PARTITION BY ladder_id ORDER BY offset_days, id) AS high
                  FROM cobranza_dunning_level
                 WHERE company_id = %(company)s AND active
            )
            SELECT aml.id AS line_id, aml.partner_id, band.id AS level_id
              FROM %(receivable)s
              JOIN account_move move ON move.id = aml.move_id
              LEFT JOIN cobranza_dunning_level cur ON cur.id = aml.cobranza_level_id
              LEFT JOIN cobranza_credit_profile profile
                     ON profile.partner_id = aml.partner_id AND profile.company_id = %(company)s
              %(ladder_join)s
              JOIN band ON band.ladder_id = %(ladder)s
                       AND %(today)s - aml.date_maturity >= band.low
                       AND (band.high IS NULL OR %(today)s - aml.date_maturity < band.high)
             WHERE aml.company_id = %(company)s
               AND %(is_open_debit)s
               AND move.move_type = 'out_invoice'
               AND band.low > COALESCE(cur.offset_days, -2147483648)
               AND NOT COALESCE(move.cobranza_is_disputed, FALSE)
               AND aml.partner_id NOT IN (  -- a hashed set, whatever the statistics of the profiles say
                    SELECT partner_id FROM cobranza_credit_profile
                     WHERE company_id = %(company)s AND (is_dunning_excluded OR contact_blocked)
                       AND partner_id IS NOT NULL
               )
               AND aml.partner_id NOT IN (  -- handed over: the agency collects from here on, Collections writes no more
                    SELECT handed.partner_id
                      FROM account_move_line handed
                      JOIN cobranza_dunning_level handed_level ON handed_level.id = handed.cobranza_level_id
                      JOIN cobranza_stage handed_stage ON handed_stage.id = handed_level.stage_id
                     WHERE handed_level.company_id = %(company)s AND handed_stage.stage_type = 'agency'
                       AND NOT handed.reconciled AND handed.amount_residual > 0 AND handed.partner_id IS NOT NULL
               )
               AND NOT EXISTS (
                    SELECT 1 FROM cobranza_promise_move_rel rel
                      JOIN cobranza_promise promise ON promise.id = rel.promise_id
                     WHERE rel.move_id = aml.move_id AND promise.state = 'open'
                       AND promise.promise_date >= %(today)s
               )
               %(exclusions)s
               %(filters)s
            """,
            today=today, company=company.id, filters=SQL(" ").join(filters),
            exclusions=self._extra_exclusions(today), receivable=receivable.RECEIVABLE_FROM,
            is_open_debit=receivable.IS_OPEN_DEBIT, ladder_ctes=Ladder._ladder_ctes(company),
            ladder_join=Ladder._ladder_join("profile"), ladder=Ladder._ladder_expression("profile"),
        )

    @api.model
    def _move_to_ladder(self, company, partner_ids=None):
        """Put the open items of customers now on another ladder (their segment or own ladder changed, a
        ladder's segments changed) at the equivalent level of their new ladder: its highest level that is
        neither later nor firmer (stage) than the one they reached. Nothing already sent is sent again;
        a firmer notice of the new ladder that they never got comes at the next run.

        Raw SQL, one statement: the items' level is written without the ORM's write (no computes,
        tracking or rules depend on it; ``check_fields`` keeps it for Collections only). It runs as a
        claim (``claim_rows``): items a concurrent worker changed since this transaction began are left
        to the next call.
        :return: ids of the items moved
        """
        Ladder = self.env["cobranza.dunning.ladder"]
        self.env.flush_all()
        partner_filter = SQL("AND aml.partner_id = ANY(%s)", list(partner_ids)) if partner_ids is not None else SQL()
        rows = claim_rows(self.env.cr, SQL(
            """
            WITH %(ladder_ctes)s,
            target AS (
                SELECT aml.id,
                       (SELECT level.id FROM cobranza_dunning_level level
                          JOIN cobranza_stage stage ON stage.id = level.stage_id
                         WHERE level.ladder_id = %(ladder)s AND level.active
                           AND level.offset_days <= cur.offset_days AND stage.sequence <= cur_stage.sequence
                         ORDER BY level.offset_days DESC, level.id DESC LIMIT 1) AS level_id
                  FROM %(receivable)s
                  JOIN cobranza_dunning_level cur ON cur.id = aml.cobranza_level_id
                  JOIN cobranza_stage cur_stage ON cur_stage.id = cur.stage_id
                  LEFT JOIN cobranza_credit_profile profile
                         ON profile.partner_id = aml.partner_id AND profile.company_id = %(company)s
                  %(ladder_join)s
                 WHERE aml.company_id = %(company)s AND %(is_open_debit)s
                   AND cur.ladder_id IS DISTINCT FROM %(ladder)s
                   %(partner_filter)s
            )
            UPDATE account_move_line aml SET cobranza_level_id = target.level_id
              FROM target WHERE aml.id = target.id
            RETURNING aml.id
            """,
            company=company.id, ladder_ctes=Ladder._ladder_ctes(company), ladder_join=Ladder._ladder_join("profile"),
            ladder=Ladder._ladder_expression("profile"), receivable=receivable.RECEIVABLE_FROM,
            is_open_debit=receivable.IS_OPEN_DEBIT, partner_filter=partner_filter,
        ))
        moved = [row[0] for row in rows or []]
        if moved:
            self.env["account.move.line"].browse(moved).invalidate_recordset(["cobranza_level_id"])
        return moved

    @api.model
    def _candidate_rows(self, company, today, partner_ids=None, move_ids=None):
        """(line id, commercial partner id, next level id) of what is due today (see ``_candidate_query``)."""
        self.env.flush_all()
        self.env.cr.execute(SQL(
            "SELECT line_id, partner_id, level_id FROM (%s) candidate ORDER BY partner_id, line_id",
            self._candidate_query(company, today, partner_ids, move_ids),
        ))
        return self.env.cr.fetchall()

    @api.model
    def _extra_exclusions(self, today):
        """SQL condition on ``aml``/``move`` that more modules extend. Invoices under an active payment
        agreement are followed by the agreement, not by dunning."""
        return SQL(
            """AND NOT EXISTS (
                   SELECT 1 FROM cobranza_agreement_move_rel agreement_rel
                     JOIN cobranza_agreement agreement ON agreement.id = agreement_rel.agreement_id
                    WHERE agreement_rel.move_id = aml.move_id AND agreement.state = 'active'
               )""",
        )

    @api.model
    def _within_contact_window(self, company, today, plan):
        """``plan`` less the customers reminded within the company's days between reminders
        (see ``_split_contact_window``)."""
        return self._split_contact_window(company, today, plan)[0]

    @api.model
    def _split_contact_window(self, company, today, plan):
        """``plan`` split into what goes out today and what waits for the days between reminders.

        A customer reminded less than the company's days between reminders ago waits: its items
        stay at their level and are included in its next reminder, unless a level reached is
        urgent. With preventive reminders apart, a plan of preventive levels only is sent anyway
        and preventive reminders do not count as the last reminder. A reminder that failed never
        reached the customer and does not count either.

        :return: (plan of today, {partner id: the day its next reminder may go out})
        """
        interval = company.cobranza_contact_interval_days
        if interval <= 0 or not plan:
            return plan, {}
        apart = company.cobranza_preventive_apart
        self.env.flush_all()
        self.env.cr.execute(SQL(
            """
            SELECT communication.partner_id, max(communication.date)
              FROM cobranza_communication communication
              JOIN cobranza_dunning_level level ON level.id = communication.level_id
              JOIN cobranza_stage stage ON stage.id = level.stage_id
             WHERE communication.company_id = %(company)s AND communication.partner_id = ANY(%(partners)s)
               AND communication.state NOT IN ('cancelled', 'failed') AND communication.date > %(since)s
               AND (NOT %(apart)s OR stage.stage_type != 'preventive')
             GROUP BY communication.partner_id
            """,
            company=company.id, partners=list(plan), since=today - timedelta(days=interval), apart=apart,
        ))
        recent = dict(self.env.cr.fetchall())
        Level = self.env["cobranza.dunning.level"]
        kept, waiting = {}, {}
        for partner_id, by_level in plan.items():
            levels = Level.browse(list(by_level))
            if partner_id in recent and not any(levels.mapped("is_urgent")) \
                    and not (apart and all(level.stage_id.stage_type == "preventive" for level in levels)):
                waiting[partner_id] = recent[partner_id] + timedelta(days=interval)
                continue
            kept[partner_id] = by_level
        return kept, waiting

    @api.model
    def _plan(self, company, today, partner_ids=None, move_ids=None):
        """{commercial partner id: {level id: [line ids]}} of what is due today."""
        plan = defaultdict(lambda: defaultdict(list))
        for line_id, partner_id, level_id in self._candidate_rows(company, today, partner_ids, move_ids):
            plan[partner_id][level_id].append(line_id)
        return plan

    # ------------------------------------------------------------------ the run

    @api.model
    def _cron_run(self, companies=None):
        """One batch of the daily run over every company (or ``companies``).

        Reports progress to the cron, which commits the batch and calls again while customers remain.
        :return: (customers handled, customers remaining)
        """
        batch_size = self.env.context.get("cobranza_dunning_batch", DUNNING_BATCH)
        done = remaining = 0
        companies = companies or self.env["res.company"].sudo().search([])  # pylint: disable=no-search-all
        for company in companies:
            today = company._cobranza_today()
            if not company.cobranza_start_date:
                continue  # collections not started there yet: a manager starts them (cobranza.start.wizard)
            if not self.env["cobranza.dunning.level"].sudo().search_count([("company_id", "=", company.id)], limit=1):
                continue
            engine = self.sudo().with_company(company)
            if not engine._fill_queue(company, today):
                remaining += 1  # being filled by another worker: call again to find it
            if done < batch_size:
                partner_ids = engine._pop_queue(company, today, batch_size - done)
                if partner_ids:
                    plan = engine._within_contact_window(company, today, engine._plan(company, today,
                                                                                          partner_ids=partner_ids))
                    handled = engine._process_partners(company, today, dict(plan))[0] if plan else []
                    done += len(partner_ids)
                    # a customer locked by a reminder sent by hand at this very moment: next batch
                    engine._requeue(company, today, set(plan) - set(handled))
            remaining += engine._queue_size(company, today)
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return done, remaining

    # ------------------------------------------------------------------ the day's queue

    @api.model
    def _fill_queue(self, company, today):
        """Queue today's customers with something due, once: one scan of the open items per day,
        then every batch takes its customers from the queue (``FOR UPDATE SKIP LOCKED``, so
        several cron workers share it) and plans only their items.

        Workers that start together fill it once: the others skip while one holds the fill lock,
        and a fill that collides with one just committed gives way (``claim_rows``).

        :return: False when another worker's fill is not visible to this transaction yet
        """
        cr = self.env.cr
        cr.execute(SQL("SELECT 1 FROM cobranza_dunning_queue WHERE company_id = %s AND date = %s LIMIT 1",
                       company.id, today))
        if cr.fetchone():
            return True
        cr.execute(SQL("SELECT pg_try_advisory_xact_lock(%s, %s)", FILL_LOCK, company.id))
        if not cr.fetchone()[0]:
            return False  # another worker is filling it: the next batch finds it filled
        self._move_to_ladder(company)  # before the day's scan: customers whose segment or ladder changed
        self.env.flush_all()
        return claim_rows(cr, SQL(
            """
            WITH old AS (DELETE FROM cobranza_dunning_queue WHERE company_id = %(company)s AND date < %(today)s)
            INSERT INTO cobranza_dunning_queue (company_id, partner_id, date)
            SELECT DISTINCT %(company)s, candidate.partner_id, %(today)s::date FROM (%(candidates)s) candidate
            ON CONFLICT DO NOTHING
            """,
            company=company.id, today=today, candidates=self._candidate_query(company, today),
        )) is not None

    @api.model
    def _pop_queue(self, company, today, limit):
        """Take (and remove) up to ``limit`` queued customers no other worker holds.

        The claim is materialized: as ``DELETE … WHERE id IN (SELECT … LIMIT … SKIP LOCKED)`` the
        planner may rescan the sub-query per row, each rescan skipping the rows just deleted, and
        take the whole queue in one batch.
        """
        rows = claim_rows(self.env.cr, SQL(
            """
            WITH claimed AS MATERIALIZED (
                SELECT id FROM cobranza_dunning_queue WHERE company_id = %s AND date = %s
                 ORDER BY partner_id LIMIT %s FOR UPDATE SKIP LOCKED
            )
            DELETE FROM cobranza_dunning_queue queue USING claimed WHERE queue.id = claimed.id
            RETURNING queue.partner_id
            """, company.id, today, limit,
        ))
        return sorted(row[0] for row in rows or [])

    @api.model
    def _requeue(self, company, today, partner_ids):
        if partner_ids:
            claim_rows(self.env.cr, SQL(
                """
                INSERT INTO cobranza_dunning_queue (company_id, partner_id, date)
                SELECT %s, unnest(%s::int[]), %s::date ON CONFLICT DO NOTHING
                """, company.id, sorted(partner_ids), today,
            ))

    @api.model
    def _queue_size(self, company, today):
        self.env.cr.execute(SQL("SELECT count(*) FROM cobranza_dunning_queue WHERE company_id = %s AND date = %s",
                                company.id, today))
        return self.env.cr.fetchone()[0]

    @api.model
    def _lock_partners(self, company, partner_ids):
        """Lock the credit profiles of these customers; return the ids this transaction got."""
        profiles = self.env["cobranza.credit.profile"]._get_or_create(
            self.env["res.partner"].browse(partner_ids), company,
        )
        self.env.flush_all()
        rows = claim_rows(self.env.cr, SQL(
            "SELECT partner_id FROM cobranza_credit_profile WHERE id = ANY(%s) FOR UPDATE SKIP LOCKED", profiles.ids,
        ))
        return {row[0] for row in rows or []}

    @api.model
    def _process_partners(self, company, today, plan, *, manual=False):
        """Record what ``plan`` ({partner id: {level id: [line ids]}}) asks, for a whole batch at once.

        The run plans and records; it sends nothing itself. Communications are created in one
        batch (queued), the items advanced in one statement and the customers' chatter written
        in one batch; the delivery cron renders and sends them after the batch is committed.
        Late fees, credit holds and agency hand-overs are done per customer in a savepoint: a
        customer whose action fails gets failed communications with the reason, keeps its items
        where they were, and the others carry on.

        :return: (ids of the customers handled, communications created)
        """
        locked = sorted(self._lock_partners(company, list(plan)))
        if not locked:
            return [], self.env["cobranza.communication"]
        now = fields.Datetime.now()
        Level = self.env["cobranza.dunning.level"]
        profiles = {
            profile.partner_id.id: profile
            for profile in self.env["cobranza.credit.profile"]._get_or_create(
                self.env["res.partner"].browse(locked), company,
            )
        }
        credits = self._unapplied_credits(company, locked)
        all_line_ids = [line_id for partner_id in locked for ids in plan[partner_id].values() for line_id in ids]
        credit_ids = [line_id for ids in credits.values() for line_id in ids]
        residual = self._item_facts(all_line_ids + credit_ids)
        # The reminders link each invoice to its portal page; its token is made now, while this run
        # holds the customer, so deliveries rendering them in other workers never write the invoice.
        self.env["account.move"].browse(sorted({
            residual[line_id]["move_id"] for line_id in all_line_ids if not residual[line_id]["token"]
        }))._cobranza_ensure_portal_tokens()
        credit_amounts = {line_id: residual[line_id]["amount_residual"] for line_id in credit_ids}
        unrated = self.env["res.currency"]._cobranza_missing_rates(
            company, self.env["res.currency"].browse({facts["currency_id"] for facts in residual.values()}), today,
        )

        events, vals_list = [], []
        # Overdue is net: a customer whose unapplied payments and credit notes cover all it owes is not
        # reminded (its items wait at their level until the payment is applied to them).
        for partner_id in self._owing(company, locked):
            # One contact per customer: its items of every level reached, in the tone of the highest.
            reached = sorted(((Level.browse(level_id), line_ids) for level_id, line_ids in plan[partner_id].items()),
                             key=lambda item: (item[0].offset_days, item[0].id))
            top = reached[-1][0]
            line_ids = [line_id for _level, ids in reached for line_id in ids]
            partner_credits = credits.get(partner_id, [])
            common = {
                "partner_id": partner_id, "company_id": company.id, "level_id": top.id, "date": today,
                "collector_id": profiles[partner_id].collector_id.id, "is_manual": manual,
                "line_ids": line_ids, "credit_line_ids": partner_credits,
                "amount_due": sum(residual[line_id]["amount_residual"] for line_id in line_ids)
                + sum(credit_amounts[line_id] for line_id in partner_credits),
                "previous_levels": {
                    str(line_id): residual[line_id]["cobranza_level_id"] or None for line_id in line_ids
                },
            }
            channels = self._contact_plan(profiles[partner_id], reached, now)
            events.append((partner_id, reached, len(vals_list), len(channels)))
            vals_list += [{**common, "channel": channel, "not_before": not_before} for channel, not_before in channels]
        # One chatter note per customer, written before the communications so they can point to it;
        # a customer whose side action fails below gets its note rewritten.
        notes = self._log_notes(self._event_logs(company, events, residual))
        for vals in vals_list:
            vals["message_id"] = notes.get(vals["partner_id"])
        communications = self.env["cobranza.communication"]._bulk_create(vals_list)

        advanced, failed, holds = [], {}, defaultdict(list)
        for index, (partner_id, reached, first, count) in enumerate(events):
            event_communications = communications[first:first + count]
            try:
                self._check_rates(company, today, [line_id for _level, ids in reached for line_id in ids], residual,
                                  unrated)
                if any(level._may_fail() for level, _ids in reached):  # a savepoint only where something can fail
                    with self.env.cr.savepoint():
                        self._apply_reached(company, today, profiles[partner_id], reached,
                                            communications=event_communications, residual=residual)
                else:
                    self._apply_reached(company, today, profiles[partner_id], reached,
                                        communications=event_communications, residual=residual)
            except Exception as error:  # noqa: BLE001 - one customer's failure must not stop the others
                _logger.warning("Collections: dunning %s failed: %s", profiles[partner_id].partner_id.display_name,
                                error)
                event_communications.write({"state": "failed", "failure_reason": str(error)})
                failed[index] = error
                continue
            advanced += [(line_id, level.id, today) for level, ids in reached for line_id in ids]
            for level, _ids in reached:
                if level.set_credit_hold and not profiles[partner_id].is_on_hold:
                    holds[level].append(profiles[partner_id].id)
        self._advance_many(advanced)
        self._set_holds(holds)
        if failed:
            self._rewrite_failed_notes(events, failed, notes, residual)
        if communications and len(failed) < len(events):
            self.env.ref("cobranza_mgmt.ir_cron_dispatch_queued")._trigger()
        return locked, communications

    @api.model
    def _contact_plan(self, profile, reached, now):
        """[(channel, not before)] of one customer's reminder: the channels of the levels reached, as its
        contact preferences allow (``_contact_channels``); texts and calls wait for its days and hours."""
        channels = profile._contact_channels(
            list(dict.fromkeys(channel for level, _ids in reached for channel in level._channels())))
        timed = {"sms", "whatsapp", "phone"}
        window = profile._contact_window_start(now) if timed & set(channels) else now
        return [(channel, window if channel in timed and window > now else None) for channel in channels]

    @api.model
    def _check_rates(self, company, today, line_ids, residual, unrated):
        """Refuse to remind items in a currency without a rate on or before today (``unrated``): their
        amounts in company currency would be converted at a rate nobody recorded."""
        currency_ids = {residual[line_id]["currency_id"] for line_id in line_ids}
        bad = unrated.filtered(lambda currency: currency.id in currency_ids)
        if bad:
            raise UserError(self.env._(
                "%(currency)s has no exchange rate on or before %(date)s in %(company)s: record one in "
                "Accounting > Configuration > Currencies; these invoices are not reminded until then.",
                currency=", ".join(bad.mapped("name")), date=format_date(self.env, today), company=company.name,
            ))

    @api.model
    def _apply_reached(self, company, today, profile, reached, *, communications, residual):
        """The side actions of every level the customer's items reached (each once)."""
        for level, line_ids in reached:
            if level._has_side_actions():
                self._apply_side_actions(company, today, profile, level, line_ids,
                                         communications=communications, residual=residual)

    @api.model
    def _item_facts(self, line_ids):
        """{line id: {amount_residual, cobranza_level_id, move_name, move_id, token}} of these items.

        Read in SQL: the ORM's read() of thousands of items per batch (access checks, formatting,
        cache) cost a tenth of the run, and the run already works as superuser on items it selected.
        ``token``: whether the invoice has its portal access token.
        """
        self.env.flush_all()
        self.env.cr.execute(SQL(
            """
            SELECT aml.id, aml.amount_residual, aml.cobranza_level_id, aml.move_name, aml.move_id,
                   move.access_token IS NOT NULL, aml.currency_id
              FROM account_move_line aml JOIN account_move move ON move.id = aml.move_id
             WHERE aml.id = ANY(%s)
            """, list(line_ids),
        ))
        return {row[0]: {"amount_residual": float(row[1]), "cobranza_level_id": row[2], "move_name": row[3],
                         "move_id": row[4], "token": row[5], "currency_id": row[6]}
                for row in self.env.cr.fetchall()}

    @api.model
    def _rewrite_failed_notes(self, events, failed, notes, residual):
        """Say in the chatter note of each customer with a failed event ({event index: error}) what failed."""
        texts = {}
        for index, error in failed.items():
            partner_id, reached, _first, _count = events[index]
            texts[partner_id] = [
                self.env._("Dunning level %(level)s failed: %(error)s", level=level.name, error=error)
                for level, _ids in reached
            ]
        for partner_id, partner_texts in texts.items():
            self.env["mail.message"].sudo().browse(notes[partner_id]).body = Markup("<br/>").join(partner_texts)

    @api.model
    def _event_logs(self, company, events, residual):
        """{partner id: [chatter lines]} of a batch's events. The notes are the company's people's: in the
        company's language, whoever runs the dunning."""
        own = self.with_context(lang=company.partner_id.lang or self.env.lang)
        labels = {level: level.with_env(own.env)._actions_label() for level in {
            level for _partner, reached, _first, _count in events for level, _ids in reached}}
        return {partner_id: [own._event_text(level.with_env(own.env), ids, residual, labels[level])
                             for level, ids in reached]
                for partner_id, reached, _first, _count in events}

    @api.model
    def _event_text(self, level, line_ids, residual, label):
        """The chatter line of one dunning event (``label``: the level's actions in words)."""
        return self.env._(
            "Dunning level %(level)s (%(channels)s) for %(invoices)s.",
            level=level.name, channels=label or self.env._("no channel"),
            invoices=", ".join(sorted({residual[line_id]["move_name"] for line_id in line_ids})),
        )

    @api.model
    def _log_notes(self, texts):
        """Log one internal note per customer in a single statement: ``texts`` is {partner id: [lines]}.

        What ``mail.thread._message_log_batch`` stores, without its per-message ORM work (the run
        writes thousands of notes): same author, subtype, type, reply-to and tracking message id.
        :return: {partner id: mail.message id}
        """
        if not texts:
            return {}
        Thread = self.env["res.partner"].sudo()
        author_id, email_from = Thread._message_compute_author(None, None, raise_on_email=False)
        reply_to = self.env["mail.thread"]._notify_get_reply_to(default=email_from)[False]
        subtype_id = self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_note")
        self.env.flush_all()
        rows = [(
            partner_id, str(Markup("<br/>").join(lines)),
            generate_tracking_message_id("message-notify"), subtype_id, author_id or None, email_from or None,
            reply_to or None, self.env.uid,
        ) for partner_id, lines in texts.items()]
        result = self.env.cr.execute_values("""
            INSERT INTO mail_message (model, res_id, body, message_id, message_type, subtype_id, is_internal,
                                      author_id, email_from, reply_to, email_add_signature, date,
                                      create_uid, write_uid, create_date, write_date)
            SELECT 'res.partner', v.res_id, v.body, v.message_id, 'notification', v.subtype_id, TRUE,
                   v.author_id, v.email_from, v.reply_to, FALSE, now() at time zone 'UTC',
                   v.uid, v.uid, now() at time zone 'UTC', now() at time zone 'UTC'
              FROM (VALUES %s) AS v(res_id, body, message_id, subtype_id, author_id, email_from, reply_to, uid)
            RETURNING res_id, id
        """, rows, template="(%s, %s, %s, %s, %s::int, %s, %s, %s)", page_size=1000, fetch=True)
        Thread.browse(list(texts)).invalidate_recordset(["message_ids"])
        return dict(result)

    @api.model
    def _owing(self, company, partner_ids):
        """Those of ``partner_ids`` that owe something net (in their order)."""
        balances = self._net_balances(company, partner_ids)
        return [partner_id for partner_id in partner_ids
                if company.currency_id.compare_amounts(balances.get(partner_id, 0.0), 0) > 0]

    @api.model
    def _net_balances(self, company, partner_ids):
        """{commercial partner id: what it owes net, all its open receivable items together}."""
        self.env.flush_all()
        self.env.cr.execute(SQL(
            """
            SELECT aml.partner_id, SUM(aml.amount_residual)
              FROM %s
             WHERE aml.company_id = %s AND aml.partner_id = ANY(%s) AND %s
             GROUP BY aml.partner_id
            """, receivable.RECEIVABLE_FROM, company.id, list(partner_ids), receivable.IS_OPEN,
        ))
        return {partner_id: float(amount) for partner_id, amount in self.env.cr.fetchall()}

    @api.model
    def _unapplied_credits(self, company, partner_ids):
        """{commercial partner id: [ids of its posted receivable items with a negative residual]}."""
        self.env.flush_all()
        self.env.cr.execute(SQL(
            """
            SELECT aml.partner_id, array_agg(aml.id ORDER BY aml.id)
              FROM %s
             WHERE aml.company_id = %s AND aml.partner_id = ANY(%s) AND %s
             GROUP BY aml.partner_id
            """, receivable.RECEIVABLE_FROM, company.id, list(partner_ids), receivable.IS_OPEN_CREDIT,
        ))
        return dict(self.env.cr.fetchall())

    @api.model
    def _apply_side_actions(self, company, today, profile, level, line_ids, *, communications, residual):
        """What a level does besides communicating, per customer: late fee, agency hand-over (the
        credit holds of a batch are set together afterwards, ``_set_holds``)."""
        if level.late_fee_type != "none":
            overdue = sum(residual[line_id]["amount_residual"] for line_id in line_ids)
            communications.fee_move_id = self._create_late_fee(company, profile.partner_id, level, overdue)
        if level.agency_handover:
            profile.sudo().write({"agency_partner_id": level.agency_partner_id.id, "agency_date": today})

    @api.model
    def _set_holds(self, holds):
        """Put on hold the customers whose items reached a level that holds: {level: [profile ids]}
        (the customers of a batch whose side actions succeeded), through the credit policy."""
        Policy = self.env["cobranza.credit.policy"]
        for level, profile_ids in holds.items():
            Policy._hold_for_dunning(self.env["cobranza.credit.profile"].browse(profile_ids), level)

    @api.model
    def _advance_many(self, rows):
        """Move items to their new level: rows of (line id, level id, date), level and date may be None.

        One UPDATE instead of account.move.line's write(), which runs the accounting's checks and
        recomputations per line: these two fields are the module's own, nothing depends on them, and
        the cache is invalidated after.
        """
        if not rows:
            return
        self.env.flush_all()
        ids, levels, days = zip(*rows, strict=True)
        self.env.cr.execute(SQL(
            """
            UPDATE account_move_line aml SET cobranza_level_id = v.level, cobranza_level_date = v.day
              FROM unnest(%s::int[], %s::int[], %s::date[]) AS v(id, level, day) WHERE aml.id = v.id
            """, list(ids), list(levels), list(days),
        ))
        self.env["account.move.line"].browse([row[0] for row in rows]).invalidate_recordset(
            ["cobranza_level_id", "cobranza_level_date"],
        )

    @api.model
    def _create_late_fee(self, company, partner, level, overdue_amount):
        product = company.cobranza_late_fee_product_id
        amount = level._late_fee(overdue_amount)
        if not product:
            raise ValueError(self.env._("Set the late fee product in the Collections settings of %(company)s.",
                                        company=company.name))
        fee = self.env["account.move"].create({
            "move_type": "out_invoice",
            "invoice_payment_term_id": False,  # its own due date: no terms, no early-payment incentive
            "partner_id": partner.id,
            "company_id": company.id,
            "invoice_date": fields.Date.context_today(self),
            "invoice_line_ids": [Command.create({
                "product_id": product.id,
                "name": self.env._("Late fee: %(level)s", level=level.name),
                "quantity": 1,
                "price_unit": amount,
                "tax_ids": [Command.set(product.taxes_id.filtered(lambda t: t.company_id == company).ids)],
            })],
        })
        with credit_exempt(fee):
            fee.action_post()
        return fee

    @api.model
    def _send_now(self, company, partner, move_ids=None):
        """Manual reminder: what is due now (advancing the items), else the last level reached again.

        :return: the communications created
        """
        today = company._cobranza_today()
        plan = self._plan(company, today, partner_ids=[partner.commercial_partner_id.id], move_ids=move_ids)
        if plan:
            communications = self._process_partners(company, today, dict(plan), manual=True)[1]
            if not communications and not self._owing(company, [partner.commercial_partner_id.id]):
                raise UserError(self.env._(
                    "%(partner)s owes nothing net: its unapplied payments and credit notes cover its invoices. "
                    "Reconcile them instead of reminding.", partner=partner.display_name))
            communications._deliver()
            return communications
        profile = self.env["cobranza.credit.profile"]._get_or_create(partner, company)
        lines = profile._open_overdue_lines()
        if move_ids is not None:
            lines = lines.filtered(lambda line: line.move_id.id in move_ids)
        lines = lines.filtered(lambda line: not line.move_id.cobranza_is_disputed)
        profile._check_may_contact("email")
        if not lines:
            raise UserError(self.env._("%(partner)s has nothing overdue to remind.", partner=partner.display_name))
        customer = partner.commercial_partner_id.id
        ladder = self.env["cobranza.dunning.ladder"].sudo()._for_customers(company, [customer])[customer]
        levels = self.env["cobranza.dunning.level"].search(
            [("ladder_id", "=", ladder.id), ("send_email", "=", True)], order="offset_days",
        )
        level = max(lines.cobranza_level_id, key=lambda lvl: lvl.offset_days, default=False) \
            or levels.filtered(lambda lvl: lvl.offset_days > 0)[:1] or levels[:1]
        if not level or not level.mail_template_id:
            raise UserError(self.env._("%(company)s has no dunning level with an e-mail template.",
                                       company=company.name))
        lines.move_id._cobranza_ensure_portal_tokens()
        communication = self.env["cobranza.communication"].create({
            "partner_id": partner.id, "company_id": company.id, "level_id": level.id, "channel": "email",
            "collector_id": profile.collector_id.id, "is_manual": True, "date": today,
            "line_ids": [Command.set(lines.ids)], "amount_due": sum(lines.mapped("amount_residual")),
        })
        communication.mail_id = level.mail_template_id.send_mail(
            communication.id, email_layout_xmlid="mail.mail_notification_light",
        )
        communication.message_id = partner.sudo()._message_log(body=self.env._(
            "Reminder sent by hand (%(level)s) for %(invoices)s.",
            level=level.name, invoices=", ".join(lines.move_id.mapped("name")),
        ))
        return communication
