"""Demo portfolio: invoices and payments generated relative to the install day.

Each demo customer (``demo/cobranza_demo.xml``) follows a payment profile. A profile
lists invoices by their due date relative to today and how they were paid, so that a
fresh demo database always has open items in every aging bucket and a payment
history that tells the customers apart.
"""
from collections import defaultdict
from datetime import timedelta

from odoo import Command, api, fields, models

# (days from today to the due date, payment term in days, amount, payment)
# payment: None (open), ("paid", days after due), ("partial", share, days after due)
# The oldest entries (over 200 days back) give the overview and the KPI graphs a year of history.
PROFILES = {
    "punctual": [
        (-330, 30, 1100.0, ("paid", -2)),
        (-270, 30, 1000.0, ("paid", 0)),
        (-210, 30, 1300.0, ("paid", -1)),
        (-150, 30, 1200.0, ("paid", -3)),
        (-90, 30, 950.0, ("paid", 0)),
        (-40, 30, 1500.0, ("paid", -5)),
        (20, 30, 1800.0, None),
    ],
    "late": [
        (-340, 30, 1500.0, ("paid", 10)),
        (-280, 30, 1700.0, ("paid", 15)),
        (-220, 30, 1800.0, ("paid", 9)),
        (-160, 30, 2100.0, ("paid", 8)),
        (-100, 30, 1600.0, ("paid", 12)),
        (-75, 30, 1200.0, ("paid", 30)),  # overdue when the previous 30 days began, paid within them
        (-55, 30, 1900.0, ("paid", 5)),
        (-45, 30, 1100.0, ("paid", 20)),  # overdue when the last 30 days began, paid within them
        (-12, 30, 2300.0, ("partial", 0.4, 2)),
        (10, 30, 1400.0, None),
    ],
    "chronic": [
        (-350, 30, 2400.0, ("paid", 60)),
        (-300, 30, 2700.0, ("paid", 75)),
        (-250, 30, 2300.0, ("paid", 50)),
        (-200, 30, 3000.0, ("paid", 70)),
        (-150, 30, 2600.0, ("paid", 45)),
        (-120, 30, 2800.0, ("partial", 0.25, 10)),
        (-75, 30, 2200.0, None),
        (-45, 30, 2500.0, None),
        (-20, 30, 1900.0, None),
    ],
    "disputing": [
        (-300, 30, 1500.0, ("paid", 3)),
        (-220, 30, 1600.0, ("paid", 1)),
        (-130, 30, 1700.0, ("paid", 2)),
        (-70, 30, 5400.0, None),
        (15, 30, 1300.0, None),
    ],
    "large_debtor": [
        (-360, 30, 11000.0, ("paid", 20)),
        (-270, 30, 12500.0, ("paid", 10)),
        (-180, 30, 12000.0, ("paid", 15)),
        (-95, 60, 14000.0, None),
        (-50, 60, 15000.0, None),
        (-5, 60, 13000.0, None),
        (25, 60, 12500.0, None),
    ],
    "new": [
        (5, 30, 1100.0, None),
        (28, 30, 900.0, None),
    ],
}
LARGE_DEBTOR_CREDIT_LIMIT = 60000.0
DISPUTE_NOTE = (
    "The customer disputes this invoice: they report that part of the goods arrived "
    "damaged and ask for a credit note before paying."
)

# demo customer XML id (without the res_partner_ prefix and _demo suffix) -> profile
CUSTOMERS = {
    "ferreteria_el_martillo": "punctual",
    "distribuidora_andina": "punctual",
    "panaderia_la_espiga": "punctual",
    "comercial_del_pacifico": "punctual",
    "libreria_cervantes": "punctual",
    "agroinsumos_del_bajio": "punctual",
    "clinica_santa_lucia": "punctual",
    "vinos_del_duero": "punctual",
    "textiles_la_pampa": "punctual",
    "farmacia_san_rafael": "punctual",
    "transportes_rapidos_del_sur": "late",
    "constructora_los_alamos": "late",
    "muebles_artesanales_oaxaca": "late",
    "cafe_de_altura": "late",
    "papeleria_el_estudiante": "late",
    "restaurante_el_fogon": "late",
    "hotel_mirador_del_lago": "late",
    "talleres_mecanicos_garcia": "late",
    "supermercados_la_familia": "late",
    "importadora_del_caribe": "chronic",
    "confecciones_maria_jose": "chronic",
    "electrodomesticos_el_rayo": "chronic",
    "gimnasio_fuerza_total": "chronic",
    "imprenta_gutenberg": "chronic",
    "floreria_las_camelias": "chronic",
    "autopartes_del_norte": "chronic",
    "ceramicas_talavera": "chronic",
    "servicios_medicos_integrales": "disputing",
    "grupo_industrial_montes": "large_debtor",
    "cooperativa_agricola_valle": "new",
}


class CobranzaDemo(models.AbstractModel):
    _name = "cobranza.demo"
    _description = "Collections demo data generator"

    @api.model
    def _load_demo_portfolio(self):
        company = self.env.ref("base.main_company")
        env = self.with_company(company).env
        sale_journal = env["account.journal"].search(
            [*env["account.journal"]._check_company_domain(company), ("type", "=", "sale")],
            limit=1,
        )
        bank_journal = env["account.journal"].search(
            [*env["account.journal"]._check_company_domain(company), ("type", "=", "bank")],
            limit=1,
        )
        if not sale_journal or not bank_journal:
            # No chart of accounts on the demo company: nothing to invoice with.
            return
        eur = env.ref("base.EUR")
        today = fields.Date.context_today(self)

        planned = []  # (invoice values, payment, profile, partner)
        for index, (key, profile) in enumerate(CUSTOMERS.items()):
            partner = env.ref(f"cobranza_mgmt.res_partner_{key}_demo")
            currency = eur if partner.country_id.code == "ES" else company.currency_id
            # Vary amounts between customers, except the one sized against its limit.
            scale = 1.0 if profile == "large_debtor" else 1 + (index % 5) * 0.13
            for due_in, term, amount, payment in PROFILES[profile]:
                due_date = today + timedelta(days=due_in)
                invoice_date = due_date - timedelta(days=term)
                planned.append((
                    {
                        "move_type": "out_invoice",
                        "partner_id": partner.id,
                        "journal_id": sale_journal.id,
                        "currency_id": currency.id,
                        "invoice_date": invoice_date,
                        "invoice_date_due": due_date,
                        "invoice_line_ids": [Command.create({
                            "name": "Suministro de mercadería",
                            "quantity": 1,
                            "price_unit": round(amount * scale, 2),
                            "tax_ids": [Command.clear()],
                        })],
                    },
                    payment,
                    profile,
                    partner,
                ))
            if profile == "large_debtor":
                partner.write({"credit_limit": LARGE_DEBTOR_CREDIT_LIMIT, "use_partner_credit_limit": True})

        # Post in date order so that invoice numbers follow the invoice dates.
        planned.sort(key=lambda plan: plan[0]["invoice_date"])
        moves = env["account.move"].create([values for values, _payment, _profile, _partner in planned])
        for move in moves:
            move.action_post()

        for move, (_values, payment, profile, _partner) in zip(moves, planned, strict=True):
            if profile == "disputing" and move.invoice_date_due < today and not payment:
                move._cobranza_set_dispute(DISPUTE_NOTE)
            if not payment:
                continue
            share = 1.0 if payment[0] == "paid" else payment[1]
            payment_date = min(move.invoice_date_due + timedelta(days=payment[-1]), today)
            env["account.payment.register"].with_context(
                active_model="account.move", active_ids=move.ids,
            ).create({
                "payment_date": payment_date,
                "journal_id": bank_journal.id,
                "amount": move.currency_id.round(move.amount_total * share),
            })._create_payments()
        self._demo_collector(company)

    @api.model
    def _demo_collector(self, company):
        """The demo collector, given the late and chronic payers as portfolio (before anything is made for
        them: their reminders, tasks and agreements are the collector's, as in a real database)."""
        env = self.with_company(company).env
        collector = env.ref("cobranza_mgmt.user_cobranza_collector_demo", raise_if_not_found=False)
        partners = [env.ref(f"cobranza_mgmt.res_partner_{key}_demo", raise_if_not_found=False)
                    for key, profile in CUSTOMERS.items() if profile in ("late", "chronic")]
        if collector and all(partners):
            env["cobranza.credit.profile"].sudo()._get_or_create(
                env["res.partner"].union(*partners), company).collector_id = collector
        return collector

    @api.model
    def _load_demo_agreements(self):
        """A proposed and an active payment agreement for two chronic debtors, made by their collector,
        and today's KPI snapshot."""
        company = self.env.ref("base.main_company")
        collector = self._demo_collector(company)
        env = self.with_company(company).env
        today = fields.Date.context_today(self)
        for key, propose_only in (("imprenta_gutenberg", True), ("gimnasio_fuerza_total", False)):
            partner = env.ref(f"cobranza_mgmt.res_partner_{key}_demo", raise_if_not_found=False)
            if not partner:
                continue
            overdue = env["account.move"].search([
                ("commercial_partner_id", "=", partner.id), ("company_id", "=", company.id),
                ("move_type", "=", "out_invoice"), ("state", "=", "posted"),
                ("payment_state", "in", ("not_paid", "partial")), ("invoice_date_due", "<", today),
            ])
            if not overdue or len(overdue.currency_id) > 1:
                continue
            debt = sum(overdue.mapped("amount_residual"))
            wizard = env["cobranza.agreement.wizard"].create({
                "partner_id": partner.id, "company_id": company.id, "move_ids": [Command.set(overdue.ids)],
                "down_payment": overdue.currency_id.round(debt * 0.2), "installment_count": 4,
                "frequency": "monthly", "first_due_date": today + timedelta(days=15),
            })
            agreement = env["cobranza.agreement"].browse(wizard.action_confirm()["res_id"])
            if collector:
                agreement.user_id = collector
            agreement.action_propose()
            if not propose_only:
                agreement.action_activate()
        env["cobranza.kpi.snapshot"]._take(companies=company)

    @api.model
    def _load_demo_history(self):
        """A year behind the demo: the demo collector's portfolio, the reminders each late invoice got on its
        way (dated as the ladder would have sent them), promises kept and broken, and a KPI snapshot at the
        end of each of the last 12 months, computed from these dated documents by the snapshot cron's code."""
        company = self.env.ref("base.main_company")
        env = self.with_company(company).env
        today = fields.Date.context_today(self)
        self._demo_collector(company)
        partners = {key: env.ref(f"cobranza_mgmt.res_partner_{key}_demo", raise_if_not_found=False)
                    for key in CUSTOMERS}
        if not all(partners.values()):
            return
        invoices = env["account.move"].search([
            ("partner_id", "in", [partner.id for partner in partners.values()]), ("company_id", "=", company.id),
            ("move_type", "=", "out_invoice"), ("state", "=", "posted"),
        ], order="invoice_date_due, id")
        levels = env["cobranza.dunning.level"].sudo().search([
            ("company_id", "=", company.id), ("ladder_id.is_default", "=", True), ("send_email", "=", True),
            ("offset_days", ">", 0),
        ])
        profile_of = {partners[key]: profile for key, profile in CUSTOMERS.items()}
        due_reminders = defaultdict(lambda: defaultdict(list))  # customer -> day -> [(level, item)]
        promises = []
        for invoice in invoices:
            receivable = invoice.line_ids.filtered(lambda line: line.account_type == "asset_receivable")
            paid_on = max(receivable.matched_credit_ids.mapped("max_date"), default=None)
            late_until = (paid_on if invoice.payment_state in ("paid", "in_payment") else today) - timedelta(days=1)
            for level in levels:
                sent_on = invoice.invoice_date_due + timedelta(days=level.offset_days)
                if sent_on <= min(late_until, today - timedelta(days=1)) and not invoice.cobranza_is_disputed:
                    due_reminders[invoice.partner_id][sent_on].append((level, receivable))
            profile = profile_of.get(invoice.partner_id)
            due = invoice.invoice_date_due
            if profile == "late" and paid_on and paid_on > due:  # promised a few days after due, and kept
                promises.append({"partner_id": invoice.partner_id.id, "company_id": company.id,
                                 "move_ids": [Command.set(invoice.ids)], "amount": invoice.amount_total,
                                 "promise_date": paid_on, "state": "kept"})
            elif profile == "chronic" and due < today - timedelta(days=40) and invoice.payment_state != "paid":
                promises.append({"partner_id": invoice.partner_id.id, "company_id": company.id,
                                 "move_ids": [Command.set(invoice.ids)], "amount": invoice.amount_residual,
                                 "promise_date": due + timedelta(days=20), "state": "broken"})
        reminders = self._demo_reminders(company, due_reminders)
        env["cobranza.communication"].sudo().create(reminders)
        # each item stands at the level of the last reminder that listed it, as the run would have left it
        reached = {}
        for reminder in reminders:  # in date order per customer
            for line_id in reminder["line_ids"][0][2]:
                reached[line_id] = (line_id, reminder["level_id"], reminder["date"])
        env["cobranza.dunning"].sudo()._advance_many(list(reached.values()))
        env["cobranza.promise"].sudo().create(promises)
        self._load_demo_past_agreements(company, partners, today)
        Snapshot = env["cobranza.kpi.snapshot"].sudo()
        month_end = today.replace(day=1) - timedelta(days=1)
        for _month in range(12):
            Snapshot._take(companies=company, day=month_end)
            month_end = month_end.replace(day=1) - timedelta(days=1)

    @api.model
    def _demo_reminders(self, company, due_reminders):
        """The reminders the daily run would have sent for what reached a level on each day: one per customer
        and day, in the tone of the highest level, none within the days between reminders (what reached a
        level meanwhile goes with the next one, unless urgent), and none after the agency hand-over."""
        interval = timedelta(days=company.cobranza_contact_interval_days)
        reminders = []
        for partner, by_day in due_reminders.items():
            last, waiting = None, []
            for day in sorted(by_day):
                reached = waiting + by_day[day]
                urgent = any(level.is_urgent for level, _item in by_day[day])
                if last and day - last < interval and not urgent:
                    waiting = reached
                    continue
                top = max((level for level, _item in reached), key=lambda level: level.offset_days)
                items = self.env["account.move.line"].union(*(item for _level, item in reached))
                reminders.append({"partner_id": partner.id, "company_id": company.id, "level_id": top.id,
                                  "channel": "email", "date": day, "state": "sent",
                                  "line_ids": [Command.set(items.ids)]})
                last, waiting = day, []
                if top.stage_id.stage_type == "agency":
                    break  # the agency collects from here on: Collections writes no more (as the run does)
        return reminders

    @api.model
    def _load_demo_past_agreements(self, company, partners, today):
        """A completed agreement (a late payer who paid its installments) and a broken one (a chronic payer
        who missed an installment), each through the agreement's own code."""
        env = self.with_company(company).env
        bank_journal = env["account.journal"].search(
            [*env["account.journal"]._check_company_domain(company), ("type", "=", "bank")], limit=1)

        def overdue_of(partner):
            return env["account.move"].search([
                ("commercial_partner_id", "=", partner.id), ("company_id", "=", company.id),
                ("move_type", "=", "out_invoice"), ("state", "=", "posted"),
                ("payment_state", "in", ("not_paid", "partial")), ("invoice_date_due", "<", today),
                ("cobranza_is_disputed", "=", False),
            ])

        def agreement_for(moves, date, first_due_date):
            wizard = env["cobranza.agreement.wizard"].create({
                "partner_id": moves.commercial_partner_id.id, "company_id": company.id,
                "move_ids": [Command.set(moves.ids)], "installment_count": 2, "frequency": "monthly",
                "date": date, "first_due_date": first_due_date,
            })
            return env["cobranza.agreement"].browse(wizard.action_confirm()["res_id"])

        # completed: agreed ten days ago on the overdue invoice, then paid in full today
        moves = overdue_of(partners["transportes_rapidos_del_sur"])
        if moves and len(moves.currency_id) == 1 and bank_journal:
            completed = agreement_for(moves, today - timedelta(days=10), today + timedelta(days=20))
            completed.action_activate()
            env["account.payment.register"].with_context(active_model="account.move", active_ids=moves.ids).create(
                {"payment_date": today, "journal_id": bank_journal.id, "group_payment": True})._create_payments()
        # broken: agreed three months ago, active since, its first installment never paid
        moves = overdue_of(partners["electrodomesticos_el_rayo"])
        if moves and len(moves.currency_id) == 1:
            broken = agreement_for(moves, today - timedelta(days=90), today - timedelta(days=75))
            broken.sudo()._set_state("active")  # activated back then: its installments were not due yet
            broken._follow_up(today)
