from datetime import date, timedelta

from odoo.tests import tagged

from .common import DunningCommon, ReportingCommon


@tagged("post_install", "-at_install")
class TestDeferredRefresh(DunningCommon):
    """Posting and paying only queue the customer; a triggered job refreshes the profiles in batches."""

    def _queued(self):
        return self.env["cobranza.profile.refresh"].sudo().search([("company_id", "=", self.company.id)])

    def test_posting_queues_the_customer_and_triggers_the_job(self):
        cron = self.env.ref("cobranza_mgmt.ir_cron_refresh_dirty_profiles")
        Trigger = self.env["ir.cron.trigger"].sudo()
        Trigger.search([("cron_id", "=", cron.id)]).unlink()  # as after the job's last run
        self._invoice(self.customer_contact, 300.0, days_overdue=10)  # a contact: its company is queued
        self.assertEqual(self._queued().partner_id, self.customer)
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), 1, "triggered for the workers' next look")
        self._invoice(self.customer, 100.0, days_overdue=10)
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), 1, "a pending trigger is enough")
        self.assertEqual(self.profile.overdue_amount, 0.0, "nothing refreshed on the spot")
        self._refresh_dirty()
        self.assertFalse(self._queued())
        self.assertRecordValues(self.profile, [{"overdue_amount": 400.0, "max_days_overdue": 10}])

    def test_payment_that_clears_the_cause_lifts_the_policy_hold_once_the_job_ran(self):
        self.company.cobranza_auto_hold_days = 30
        invoice = self._invoice(self.customer, 500.0, days_overdue=40)
        self._refresh_dirty()
        self.assertRecordValues(self.profile, [{"is_on_hold": True, "hold_type": "policy"}])
        self._pay(invoice, days_after_due=40)
        self.assertEqual(self._queued().partner_id, self.customer, "the reconciliation queued the customer")
        self._refresh_dirty()
        self.assertRecordValues(self.profile, [{"is_on_hold": False, "hold_type": False}])

    def _refresh_cost(self):
        """The queries of one run of the deferred refresh (whatever they are: the test compares runs)."""
        self.env.flush_all()
        start = self.env.cr.sql_log_count
        self.env["cobranza.profile.refresh"].sudo()._cron_refresh()
        return self.env.cr.sql_log_count - start

    def test_one_refresh_batch_costs_the_same_for_one_or_many_customers(self):
        """New customers (their profiles made too), then customers whose invoices changed: one customer
        costs the statements twenty do."""
        self._invoice(self.env["res.partner"].create({"name": "Cliente de prueba", "is_company": True}), 10.0, 5)
        self._refresh_cost()  # a first run reads what every later one finds cached
        costs = {}
        for count in (1, 20):
            customers = self.env["res.partner"].create([{"name": f"Cliente {count}-{n}", "is_company": True}
                                                        for n in range(count)])
            for customer in customers:
                self._invoice(customer, 100.0, days_overdue=5)
            costs[count] = self._refresh_cost()
            self.assertEqual(len(self.Profile.sudo().search([("partner_id", "in", customers.ids)])), count)
        self.assertEqual(costs[1], costs[20], "new customers")
        changed_costs = {}
        for changed in (customers[:1], customers):  # one customer, then twenty
            for customer in changed:
                self._invoice(customer, 100.0, days_overdue=5)
            changed_costs[len(changed)] = self._refresh_cost()
        self.assertEqual(changed_costs[1], changed_costs[20], "changed customers")
        self.assertEqual(self.Profile.sudo().search([("partner_id", "=", customers[-1].id)]).overdue_amount, 200.0)


@tagged("post_install", "-at_install")
class TestQueryCounts(DunningCommon):
    """The hot paths are set-based: what one batch costs does not grow with the customers in it."""

    def test_one_dunning_batch(self):
        customers = self.env["res.partner"].create([
            {"name": f"Deudor {n}", "is_company": True, "email": f"deudor{n}@example.com"} for n in range(10)
        ])
        for customer in customers:
            self._invoice(customer, 100.0, days_overdue=3)
        self.env["cobranza.profile.refresh"].sudo()._cron_refresh()
        self.env.flush_all()
        engine = self.env["cobranza.dunning"].with_context(cobranza_dunning_batch=1000)
        with self.assertQueryCount(43):  # 40, + the day's move to other ladders (savepoint, UPDATE, release)
            engine._cron_run(companies=self.company)
        self.assertEqual(len(self.Communication.search([("partner_id", "in", customers.ids)])), 10)

    def test_one_kpi_pass(self):
        self._invoice(self.customer, 100.0, days_overdue=3)
        self.env.flush_all()
        with self.assertQueryCount(6):  # the pass, promises, agreements, discounts taken, customers' ladders
            result = self.env["cobranza.kpi"]._compute_all(self.company, self.today - timedelta(days=29), self.today)
        self.assertEqual(set(result), {"company", "collector", "segment"})


@tagged("post_install", "-at_install")
class TestCurrencyWithoutRate(DunningCommon):

    def test_dunning_fails_the_customer_with_the_reason_and_carries_on(self):
        currency = self.env["res.currency"].create({"name": "XTR", "symbol": "T", "rounding": 0.01})
        self.env["res.currency.rate"].create({"currency_id": currency.id, "name": self.today - timedelta(days=60),
                                              "rate": 2.0, "company_id": self.company.id})
        self._invoice(self.customer, 100.0, days_overdue=3, currency=currency)
        self._invoice(self.other_customer, 100.0, days_overdue=3)
        self.env["res.currency.rate"].search([("currency_id", "=", currency.id)]).unlink()  # the rate was removed
        self._run(deliver=False)
        failed = self._comms()
        self.assertEqual(set(failed.mapped("state")), {"failed"})
        self.assertIn("XTR has no exchange rate on or before", failed[0].failure_reason)
        self.assertEqual(self._comms(self.other_customer).state, "queued", "the other customer is reminded")
        line = self.env["account.move.line"].search([("partner_id", "=", self.customer.id),
                                                     ("account_type", "=", "asset_receivable")])
        self.assertFalse(line.cobranza_level_id, "the item stays where it was")


@tagged("post_install", "-at_install")
class TestCustomerLanguage(DunningCommon):
    """What a Spanish-speaking customer or collector reads carries no English fragment."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._speak_spanish(cls.customer, cls.collector.partner_id)

    def test_mail_header_shows_the_reference_not_english_words(self):
        self._invoice(self.customer, 100.0, days_overdue=3)
        self._run()
        communication = self._comms(channel="email")
        self.assertEqual(communication.display_name, f"REM-{communication.id:06d}")
        mail = communication.mail_id  # a message of the customer's chatter (replies land there)
        self.assertIn(f"REM-{communication.id:06d}", mail.body_html)
        self.assertNotIn("E-mail", mail.body_html)
        self.assertNotIn("Reminder", mail.body_html)

    def test_hold_reason_in_the_collectors_language(self):
        self.level_first.set_credit_hold = True
        self._invoice(self.customer, 100.0, days_overdue=3)
        self._run(deliver=False)
        self.assertRecordValues(self.profile, [{"is_on_hold": True, "hold_type": "dunning"}])
        self.assertIn("Se alcanzó el nivel de reclamación", self.profile.hold_reason)
        self.company.cobranza_auto_hold_days = 1
        self.profile.with_user(self.manager).action_lift_hold()
        self._run_cron()  # the nightly refresh: the policy holds it again, in the collector's words
        self.assertEqual(self.profile.hold_type, "policy")
        self.assertIn("días vencida", self.profile.hold_reason)


    def test_the_runs_chatter_note_is_in_the_companys_language(self):
        """Whoever runs the dunning (OdooBot's cron, an English-speaking manager), its note on the customer
        is written in the company's language."""
        self.company.partner_id.lang = "es_ES"
        self._invoice(self.customer, 100.0, days_overdue=3)
        self.env["cobranza.dunning"].with_user(self.manager).with_context(lang="en_US").with_company(
            self.company)._cron_run(companies=self.company)
        note = self.customer.message_ids.filtered(lambda message: "Nivel de reclamación" in (message.body or ""))
        self.assertTrue(note, self.customer.message_ids.mapped("body"))
        self.assertNotIn("Dunning level", note.body)
        self.assertIn(self.level_first.with_context(lang="es_ES").name, note.body)

    def test_hold_reason_reads_in_the_readers_language(self):
        """The cause is kept as values: an English reader and a Spanish one each read the same hold in
        their language, the level's name included (the company's levels speak Spanish too)."""
        self.level_first.set_credit_hold = True
        self._invoice(self.customer, 100.0, days_overdue=3)
        self._run(deliver=False)
        english = self.profile.with_context(lang="en_US").hold_reason_text
        spanish = self.profile.with_context(lang="es_ES").hold_reason_text
        self.assertEqual(english, f"Dunning level {self.level_first.with_context(lang='en_US').name} reached.")
        self.assertIn("Se alcanzó el nivel de reclamación", spanish)
        self.assertIn(self.level_first.with_context(lang="es_ES").name, spanish)
        self.assertNotEqual(self.level_first.with_context(lang="es_ES").name,
                            self.level_first.with_context(lang="en_US").name, "the copied level speaks Spanish")
        partner = self.customer.with_context(lang="es_ES").with_company(self.company)
        self.assertEqual(partner.cobranza_hold_reason, spanish)


@tagged("post_install", "-at_install")
class TestLevelCopiesLearnLanguagesLoadedLater(ReportingCommon):

    def test_a_company_made_before_spanish_gets_spanish_level_names_when_it_is_loaded(self):
        Level = self.env["cobranza.dunning.level"].sudo()
        main_levels = Level.search([("company_id", "=", self.env.ref("base.main_company").id)])
        # as in a database where Spanish is not loaded yet: the copies hold English only
        self.env.cr.execute("UPDATE cobranza_dunning_level SET name = jsonb_build_object('en_US', name->>'en_US') "
                            "WHERE company_id = %s", [self.company.id])
        self.env["cobranza.dunning.level"].invalidate_model(["name"])
        copies = Level.search([("company_id", "=", self.company.id)])
        self.assertTrue(copies.source_level_id and copies.source_level_id <= main_levels)
        renamed = copies[0]
        renamed.with_context(lang="en_US").name = "Our own first letter"
        self._speak_spanish()
        for copy in copies - renamed:
            spanish = copy.source_level_id.with_context(lang="es_ES").name
            self.assertEqual(copy.with_context(lang="es_ES").name, spanish)
            self.assertNotEqual(spanish, copy.source_level_id.with_context(lang="en_US").name)
        self.assertEqual(renamed.with_context(lang="es_ES").name, "Our own first letter", "a renamed level is its own")


@tagged("post_install", "-at_install")
class TestNoDataIsNotZero(ReportingCommon):

    def test_kpi_report_says_no_data_where_nothing_was_due(self):
        self.env["cobranza.promise"].sudo().search([]).unlink()
        html = self.env["ir.actions.report"].with_context(
            cobranza_date_from=date(2026, 1, 1), cobranza_date_to=date(2026, 3, 31),
        )._render_qweb_html("cobranza_mgmt.action_report_cobranza_kpi", self.company.ids)[0].decode()
        self.assertIn("No data", html)
        values = self.env["cobranza.kpi"]._compute(self.company, date(2026, 1, 1), date(2026, 3, 31))[False]
        self.assertIsNone(values["promise_kept_rate"])
        self.assertEqual(values["promise_count"], 0)
