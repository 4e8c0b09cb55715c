import logging
from collections import defaultdict

from psycopg2.extras import execute_values

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

DUNNING_BATCH = 200  # customers per committed batch of the scheduled run


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
    def _candidate_rows(self, company, today, partner_ids=None, move_ids=None):
        """(line id, commercial partner id, next level id) for every open customer-invoice item of
        ``company`` that reached a level above its current one and is not excluded.

        An item that skipped levels (e.g. already 40 days late when first seen) gets the highest
        level it reached, once: customers are not sent every missed letter on the same day.
        """
        filters = [SQL()]
        if partner_ids is not None:
            filters.append(SQL("AND aml.partner_id = ANY(%s)", list(partner_ids)))
        if move_ids is not None:
            filters.append(SQL("AND aml.move_id = ANY(%s)", list(move_ids)))
        self.env.flush_all()
        self.env.cr.execute(SQL(
            """
            SELECT aml.id, aml.partner_id, nxt.id
              FROM account_move_line aml
              JOIN account_account account ON account.id = aml.account_id
              JOIN account_move move ON move.id = aml.move_id
              LEFT JOIN cobranza_dunning_level cur ON cur.id = aml.cobranza_level_id
              LEFT JOIN cobranza_credit_profile profile
                     ON profile.partner_id = aml.partner_id AND profile.company_id = aml.company_id
              CROSS JOIN LATERAL (
                    SELECT level.id
                      FROM cobranza_dunning_level level
                     WHERE level.company_id = aml.company_id AND level.active
                       AND level.offset_days <= %(today)s - aml.date_maturity
                       AND level.offset_days > COALESCE(cur.offset_days, -2147483648)
                     ORDER BY level.offset_days DESC
                     LIMIT 1
              ) nxt
             WHERE aml.company_id = %(company)s
               AND account.account_type = 'asset_receivable'
               AND aml.parent_state = 'posted'
               AND move.move_type = 'out_invoice'
               AND NOT aml.reconciled
               AND aml.amount_residual > 0
               AND aml.partner_id IS NOT NULL
               AND NOT COALESCE(move.cobranza_is_disputed, FALSE)
               AND NOT COALESCE(profile.is_dunning_excluded, FALSE)
               AND NOT EXISTS (
                    SELECT 1 FROM cobranza_promise_move_rel rel
                      JOIN cobranza_promise promise ON promise.id = rel.promise_id
                     WHERE rel.move_id = aml.move_id AND promise.state = 'open'
                       AND promise.promise_date >= %(today)s
               )
               %(exclusions)s
               %(filters)s
             ORDER BY aml.partner_id, aml.id
            """,
            today=today, company=company.id, filters=SQL(" ").join(filters),
            exclusions=self._extra_exclusions(today),
        ))
        return self.env.cr.fetchall()

    @api.model
    def _extra_exclusions(self, today):
        """SQL condition on ``aml``/``move`` that more modules extend (e.g. payment agreements)."""
        return SQL()

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
        today = fields.Date.context_today(self)
        done = remaining = 0
        companies = companies or self.env["res.company"].sudo().search([])  # pylint: disable=no-search-all
        for company in companies:
            if not self.env["cobranza.dunning.level"].sudo().search_count([("company_id", "=", company.id)], limit=1):
                continue
            plan = self.sudo().with_company(company)._plan(company, today)
            partner_ids = sorted(plan)
            batch, rest = partner_ids[:batch_size - done], partner_ids[batch_size - done:]
            remaining += len(rest)
            if batch:
                handled, _communications = self.sudo().with_company(company)._process_partners(
                    company, today, {p: plan[p] for p in batch},
                )
                done += handled
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return done, remaining

    @api.model
    def _lock_partners(self, company, partner_ids):
        """Lock the credit profiles of these customers; return the ids this transaction got."""
        profiles = self.env["cobranza.credit.profile"]._get_or_create(
            self.env["res.partner"].browse(partner_ids), company,
        )
        self.env.flush_all()
        self.env.cr.execute(SQL(
            "SELECT partner_id FROM cobranza_credit_profile WHERE id = ANY(%s) FOR UPDATE SKIP LOCKED", profiles.ids,
        ))
        return {row[0] for row in self.env.cr.fetchall()}

    @api.model
    def _process_partners(self, company, today, plan, *, manual=False):
        """Send what ``plan`` ({partner id: {level id: [line ids]}}) asks.

        :return: (number of customers handled, communications created)
        """
        locked = self._lock_partners(company, list(plan))
        Communication = self.env["cobranza.communication"]
        communications = Communication
        handled = 0
        for partner_id in sorted(locked):
            partner = self.env["res.partner"].browse(partner_id)
            try:
                with self.env.cr.savepoint():
                    for level_id, line_ids in sorted(plan[partner_id].items()):
                        communications |= self._remind(
                            company, today, partner, self.env["cobranza.dunning.level"].browse(level_id),
                            self.env["account.move.line"].browse(line_ids), manual=manual,
                        )
            except Exception as error:  # noqa: BLE001 - one customer's failure must not stop the others
                _logger.warning("Collections: dunning %s failed: %s", partner.display_name, error)
                failed = Communication.create({
                    "partner_id": partner_id, "company_id": company.id, "date": today, "state": "failed",
                    "level_id": max(plan[partner_id]), "failure_reason": str(error), "is_manual": manual,
                    "line_ids": [Command.set([line for lines in plan[partner_id].values() for line in lines])],
                })
                partner.sudo()._message_log(body=self.env._(
                    "Dunning failed (%(communication)s): %(error)s", communication=failed.name, error=error,
                ))
                communications |= failed
            handled += 1
        if communications.filtered(lambda c: c.channel not in ("email", "phone") and c.state == "queued"):
            self.env.ref("cobranza_mgmt.ir_cron_dispatch_queued")._trigger()
        return handled, communications

    @api.model
    def _remind(self, company, today, partner, level, lines, *, manual=False):
        """Execute ``level``'s actions for ``lines`` of ``partner`` and advance them to the level."""
        profile = self.env["cobranza.credit.profile"]._get_or_create(partner, company)
        credits = self.env["account.move.line"].search([
            ("company_id", "=", company.id), ("partner_id", "=", partner.id), ("parent_state", "=", "posted"),
            ("account_type", "=", "asset_receivable"), ("reconciled", "=", False), ("amount_residual", "<", 0),
        ])
        common = {
            "partner_id": partner.id, "company_id": company.id, "level_id": level.id, "date": today,
            "collector_id": profile.collector_id.id, "is_manual": manual,
            "line_ids": [Command.set(lines.ids)], "credit_line_ids": [Command.set(credits.ids)],
            "amount_due": sum(lines.mapped("amount_residual")) + sum(credits.mapped("amount_residual")),
        }
        Communication = self.env["cobranza.communication"]
        communications = Communication
        if level.send_email:
            communication = Communication.create({**common, "channel": "email"})
            mail_id = level.mail_template_id.send_mail(
                communication.id, email_layout_xmlid="mail.mail_notification_light",
            )
            communication.mail_id = mail_id
            communications |= communication
        if level.send_text:
            communication = Communication.create({**common, "channel": level.text_channel})
            communication.text_body = communication._render_text(level)
            communications |= communication
        if level.print_letter:  # rendered by the delivery cron, after this batch is committed
            communications |= Communication.create({**common, "channel": "letter"})
        if level.create_call_activity:
            communication = Communication.create({**common, "channel": "phone", "state": "sent"})
            communication.activity_id = profile.partner_id.activity_schedule(
                "mail.mail_activity_data_call",
                summary=level.activity_summary or level.name,
                note=communication.invoice_table_html,
                user_id=(profile.collector_id or self.env.ref("base.user_admin", False) or self.env.user).id,
            )
            communications |= communication
        if level.agency_handover:
            communications |= Communication.create({**common, "channel": "agency"})
            profile.sudo().write({"agency_partner_id": level.agency_partner_id.id, "agency_date": today})
            communications |= communication
        if level.late_fee_type != "none":
            fee = self._create_late_fee(company, partner, level, sum(lines.mapped("amount_residual")))
            communications.fee_move_id = fee
        if level.set_credit_hold and not profile.is_on_hold:
            profile.sudo().write({
                "is_on_hold": True, "hold_type": "manual", "hold_user_id": self.env.user.id,
                "hold_date": fields.Datetime.now(),
                "hold_reason": self.env._("Dunning level %(level)s reached.", level=level.name),
            })
        self._advance(lines, level, today)
        names = ", ".join(lines.move_id.mapped("name"))
        message = partner.sudo()._message_log(body=self.env._(
            "Dunning level %(level)s (%(channels)s) for %(invoices)s.",
            level=level.name, invoices=names,
            channels=", ".join(communications.mapped(lambda c: dict(
                c._fields["channel"]._description_selection(self.env))[c.channel])) or self.env._("no channel"),
        ))
        communications.message_id = message
        return communications

    @api.model
    def _advance(self, lines, level, today):
        self.env.flush_all()
        execute_values(self.env.cr._obj, """
            UPDATE account_move_line aml SET cobranza_level_id = v.level, cobranza_level_date = v.day
              FROM (VALUES %s) AS v(id, level, day) WHERE aml.id = v.id
        """, [(line_id, level.id, today) for line_id in lines.ids])
        lines.invalidate_recordset(["cobranza_level_id", "cobranza_level_date"])

    @api.model
    def _create_late_fee(self, company, partner, level, overdue_amount):
        product = company.cobranza_late_fee_product_id
        amount = level._late_fee(overdue_amount)
        if not product:
            raise ValueError(self.env._("Set the late fee product in the Collections settings of %(company)s.",
                                        company=company.name))
        fee = self.env["account.move"].with_context(cobranza_skip_credit_check=True).create({
            "move_type": "out_invoice",
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
        fee.with_context(cobranza_skip_credit_check=True).action_post()
        return fee

    @api.model
    def _send_now(self, company, partner, move_ids=None):
        """Manual reminder: what is due now (advancing the items), else the last level reached again.

        :return: the communications created
        """
        today = fields.Date.context_today(self)
        plan = self._plan(company, today, partner_ids=[partner.commercial_partner_id.id], move_ids=move_ids)
        if plan:
            return self._process_partners(company, today, dict(plan), manual=True)[1]
        profile = self.env["cobranza.credit.profile"]._get_or_create(partner, company)
        lines = profile._open_overdue_lines()
        if move_ids is not None:
            lines = lines.filtered(lambda line: line.move_id.id in move_ids)
        lines = lines.filtered(lambda line: not line.move_id.cobranza_is_disputed)
        if not lines:
            raise UserError(self.env._("%(partner)s has nothing overdue to remind.", partner=partner.display_name))
        levels = self.env["cobranza.dunning.level"].search(
            [("company_id", "=", company.id), ("send_email", "=", True)], order="offset_days",
        )
        level = max(lines.cobranza_level_id, key=lambda lvl: lvl.offset_days, default=False) \
            or levels.filtered(lambda lvl: lvl.offset_days > 0)[:1] or levels[:1]
        if not level or not level.mail_template_id:
            raise UserError(self.env._("%(company)s has no dunning level with an e-mail template.",
                                       company=company.name))
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
