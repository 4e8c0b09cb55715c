import json
from datetime import timedelta
from unittest.mock import patch

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import ChromeBrowser
from odoo.tools import float_round

from .common import GROUP_MANAGER, AgreementCommon
from .test_portal_tours import _with_screenshots

CARDS = ("dso", "cei", "recovery_rate", "overdue_share", "delinquent_accounts")


class OverviewCommon(AgreementCommon):
    """Two portfolios (the collector's customer, the second collector's), invoices in the last 30 days and the
    30 before, a dunning run today, a promise due today, one broken yesterday, an installment due this week."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Overview = cls.env["cobranza.overview"]
        cls.other_profile = cls.Profile._get_or_create(cls.other_customer, cls.company)
        cls.other_profile.collector_id = cls.collector_2
        cls.mine_late = cls._invoice(cls.customer, 400.0, days_overdue=45)
        cls.mine_recent = cls._invoice(cls.customer, 250.0, days_overdue=3)
        cls._invoice(cls.customer, 150.0, days_overdue=-10)
        cls.theirs = cls._invoice(cls.other_customer, 900.0, days_overdue=100)
        cls._invoice(cls.other_customer, 300.0, days_overdue=20)
        cls.env["cobranza.profile.refresh"].sudo()._cron_refresh()

    def _kpis(self, date_from, date_to, collector=None):
        """The KPI model's figures for the same period and scope, computed apart from the overview."""
        Kpi = self.env["cobranza.kpi"].sudo()
        if collector:
            return Kpi._compute(self.company, date_from, date_to, "collector",
                                collector=collector).get(collector.id, {})
        return Kpi._compute(self.company, date_from, date_to).get(False, {})

    def _periods(self):
        return (self.today - timedelta(days=29), self.today), (self.today - timedelta(days=59),
                                                               self.today - timedelta(days=30))


@tagged("post_install", "-at_install")
class TestOverview(OverviewCommon):

    def test_manager_sees_the_company(self):
        overview = self.Overview.with_user(self.manager).get_overview()
        (current_from, current_to), (previous_from, previous_to) = self._periods()
        current, previous = self._kpis(current_from, current_to), self._kpis(previous_from, previous_to)
        self.assertEqual(overview["scope"], "company")
        self.assertEqual((overview["date_from"], overview["date_to"]), (current_from, current_to))
        cards = {card["key"]: card for card in overview["cards"]}
        self.assertEqual(list(cards), list(CARDS))
        for key in CARDS:
            self.assertEqual((cards[key]["value"], cards[key]["previous"]), (current.get(key), previous.get(key)), key)
        self.assertEqual([bucket["bucket"] for bucket in overview["aging"]],
                         ["not_due", "1_30", "31_60", "61_90", "over_90"])
        self.assertEqual([bucket["amount"] for bucket in overview["aging"]], [150.0, 550.0, 400.0, 0.0, 900.0])
        self.assertEqual([debtor["name"] for debtor in overview["top_debtors"]],
                         [self.other_customer.name, self.customer.name])
        self.assertEqual({row["name"] for row in overview["by_collector"]},
                         {self.collector.name, self.collector_2.name})
        self.assertTrue(overview["by_segment"])

    def test_collector_sees_their_portfolio(self):
        overview = self.Overview.with_user(self.collector).get_overview()
        (current_from, current_to), _previous = self._periods()
        current = self._kpis(current_from, current_to, collector=self.collector)
        self.assertEqual(overview["scope"], "portfolio")
        self.assertEqual({card["key"]: card["value"] for card in overview["cards"]},
                         {key: current.get(key) for key in CARDS})
        self.assertEqual([bucket["amount"] for bucket in overview["aging"]], [150.0, 250.0, 400.0, 0.0, 0.0])
        self.assertEqual([debtor["name"] for debtor in overview["top_debtors"]], [self.customer.name])
        self.assertEqual((overview["by_collector"], overview["by_segment"]), ([], []))

    def test_trend_from_the_monthly_snapshots(self):
        Snapshot = self.env["cobranza.kpi.snapshot"].sudo()
        self._invoice(self.customer, 50.0, days_overdue=480)  # receivables in every month of the last 15
        for months_ago in range(14, -1, -1):
            Snapshot._take(companies=self.company, day=self.today - timedelta(days=30 * months_ago))
        overview = self.Overview.with_user(self.manager).get_overview()
        dso = next(card for card in overview["cards"] if card["key"] == "dso")
        self.assertEqual(len(dso["trend"]), 12, "the last 12 months")
        last = Snapshot.search([("company_id", "=", self.company.id), ("dimension", "=", "company")], limit=1)
        self.assertEqual(dso["trend"][-1]["value"], last.dso)
        months = [point["month"] for point in dso["trend"]]
        self.assertEqual(months, sorted(months))
        mine = self.Overview.with_user(self.collector).get_overview()
        mine_dso = next(card for card in mine["cards"] if card["key"] == "dso")
        own = Snapshot.search([("company_id", "=", self.company.id), ("collector_id", "=", self.collector.id)],
                              limit=1)
        self.assertEqual(mine_dso["trend"][-1]["value"], own.dso, "a collector's trend is their portfolio's")

    def test_todays_work(self):
        Promise = self.env["cobranza.promise"].sudo()
        Promise.create({"partner_id": self.customer.id, "move_ids": [(6, 0, self.mine_late.ids)], "amount": 100.0,
                        "promise_date": self.today})
        Promise.create({"partner_id": self.other_customer.id, "move_ids": [(6, 0, self.theirs.ids)],
                        "amount": 100.0, "promise_date": self.today - timedelta(days=1), "state": "broken"})
        self._agreement(self.mine_recent, first_due_date=self.today + timedelta(days=3)).action_activate()
        self.env["mail.activity"].create({
            "res_model_id": self.env["ir.model"]._get("res.partner").id, "res_id": self.customer.id,
            "activity_type_id": self.env.ref("mail.mail_activity_data_call").id, "user_id": self.collector.id,
            "date_deadline": self.today,
        })
        self._run()
        sent = self.env["cobranza.communication"].sudo().search_count([
            ("company_id", "=", self.company.id), ("date", "=", self.today), ("state", "=", "sent")])
        self.assertTrue(sent)

        def counts(user):
            return {item["key"]: item["count"] for item in self.Overview.with_user(user).get_overview()["work"]}

        manager = counts(self.manager)
        self.assertEqual({key: manager[key] for key in ("promises_today", "promises_broken", "installments")},
                         {"promises_today": 1, "promises_broken": 1, "installments": 1})
        self.assertEqual(manager["reminders_sent"], sent)
        self.assertGreaterEqual(manager["calls"], 1)
        # a broken agreement's call task (on the agreement) counts its customer too
        broken = self._agreement(self.theirs, first_due_date=self.today + timedelta(days=5))
        broken.activity_schedule("mail.mail_activity_data_call", user_id=self.collector_2.id)
        calls_2 = next(item for item in self.Overview.with_user(self.collector_2).get_overview()["work"]
                       if item["key"] == "calls")
        self.assertIn(self.other_customer.id, calls_2["action"]["domain"][0][2])
        collector = counts(self.collector)
        self.assertEqual((collector["promises_today"], collector["promises_broken"], collector["installments"]),
                         (1, 0, 1), "the broken promise is the other collector's customer's")
        calls_2 = next(item for item in self.Overview.with_user(self.collector_2).get_overview()["work"]
                       if item["key"] == "calls")
        self.assertNotIn(self.customer.id, calls_2["action"]["domain"][0][2], "another collector's call")
        # each count opens the list it counts, under the user's rules
        for item in self.Overview.with_user(self.collector).get_overview()["work"]:
            action = item["action"]
            self.assertEqual(self.env[action["res_model"]].with_user(self.collector).search_count(action["domain"]),
                             item["count"], item["key"])

    def test_call_tasks_on_agreements_only(self):
        """A collector whose only call task sits on an agreement: its customer, and nothing else, to call."""
        agreement = self._agreement(self.theirs, first_due_date=self.today + timedelta(days=5))
        agreement.activity_schedule("mail.mail_activity_data_call", user_id=self.collector_2.id)
        calls = next(item for item in self.Overview.with_user(self.collector_2).get_overview()["work"]
                     if item["key"] == "calls")
        self.assertEqual((calls["count"], calls["action"]["domain"]), (1, [("id", "in", self.other_customer.ids)]))

    def test_who_may_open_it(self):
        employee = new_test_user(self.env, login="overview_employee", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.Overview.with_user(employee).get_overview()
        portal = new_test_user(self.env, login="overview_portal", groups="base.group_portal")
        with self.assertRaises(AccessError):
            self.Overview.with_user(portal).get_overview()
        other = self.setup_other_company(name="Cobranzas del Oeste S.A.")["company"]
        outsider = new_test_user(self.env, login="overview_other_manager", groups=f"base.group_user,{GROUP_MANAGER}",
                                 company_id=other.id, company_ids=[(6, 0, other.ids)])
        overview = self.Overview.with_user(outsider).get_overview()
        self.assertFalse(overview["top_debtors"], "nothing of another company")
        self.assertEqual(sum(bucket["amount"] for bucket in overview["aging"]), 0.0)


@tagged("post_install", "-at_install")
class TestOverviewTours(OverviewCommon, HttpCase):
    """The overview in headless Chromium, as a manager and as a collector: what it shows is the KPI model's
    figures for the same period, formatted as the screen formats them (en_US)."""

    @staticmethod
    def _text(value, key):
        if value is None or value is False:
            return "—"
        digits = 0 if key == "delinquent_accounts" else 1
        return f"{float_round(value, precision_digits=digits):,.{digits}f}"  # half up, as the web client rounds

    def _tour(self, user, collector=None, scope=""):
        (current_from, current_to), (previous_from, previous_to) = self._periods()
        current = self._kpis(current_from, current_to, collector)
        previous = self._kpis(previous_from, previous_to, collector)
        debtors = self.Profile.with_user(user).search(
            [("company_id", "=", self.company.id), ("overdue_amount", ">", 0)], order="overdue_amount desc, id")
        expected = {
            "scope": scope,
            "cards": {key: self._text(current.get(key), key) for key in CARDS},
            "previous": {key: self._text(previous.get(key), key) for key in CARDS},
            "debtors": debtors.partner_id.mapped("name")[:5],
        }
        expected["shot"] = f"overview_{'collector' if collector else 'manager'}"
        code = (f"sessionStorage.setItem('cobranza_overview_expected', {json.dumps(json.dumps(expected))}); "
                "odoo.startTour('cobranza_mgmt_overview_tour', {stepDelay: 0, keepWatchBrowser: false})")
        with patch.object(ChromeBrowser, "_handle_console", _with_screenshots(ChromeBrowser._handle_console)):
            self.start_tour("/odoo/collections-overview", "cobranza_mgmt_overview_tour", login=user.login,
                            code=code)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._invoice(cls.customer, 50.0, days_overdue=420)  # a year of history: the cards draw their trend
        for months_ago in range(12, -1, -1):
            cls.env["cobranza.kpi.snapshot"].sudo()._take(companies=cls.company,
                                                          day=cls.today - timedelta(days=30 * months_ago))

    def test_manager_tour(self):
        self._tour(self.manager, scope=self.company.name)

    def test_collector_tour(self):
        self._tour(self.collector, collector=self.collector, scope="My portfolio")
