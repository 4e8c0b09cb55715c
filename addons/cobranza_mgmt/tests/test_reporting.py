import io
import json
import zipfile
from datetime import date, timedelta

from odoo import http
from odoo.tests import HttpCase, tagged

from .common import Q1, ReportingCommon, pdf_text


@tagged("post_install", "-at_install")
class TestKpiWorkedExample(ReportingCommon):

    def test_readme_worked_example(self):
        result = self.env["cobranza.kpi"]._compute(self.company, *Q1)[False]
        self.assertEqual(result["receivables"], 2900.0)
        self.assertEqual(result["overdue"], 2400.0)
        self.assertEqual(result["sales"], 4000.0)
        self.assertEqual(result["dso"], 65.25)
        self.assertEqual(result["best_dso"], 11.25)
        self.assertEqual(result["add"], 54.0)
        self.assertEqual(result["cei"], 46.6667)
        self.assertEqual(result["recovery_rate"], 60.0)
        self.assertEqual(result["delinquent_accounts"], 2)
        self.assertEqual(result["delinquent_share"], 66.6667)
        self.assertEqual(result["overdue_share"], 82.7586)
        self.assertEqual(result["promise_kept_rate"], 50.0)
        self.assertEqual(result["agreement_compliance_rate"], 50.0)
        self.assertEqual(result["top10_share"], 100.0)
        self.assertAlmostEqual(result["hhi"], 0.524376, places=6)
        self.assertEqual((result["not_due"], result["days_1_30"], result["days_31_60"], result["days_61_90"],
                          result["days_over_90"]), (500.0, 2000.0, 0.0, 0.0, 400.0))

    def test_per_collector_and_segment(self):
        by_collector = self.env["cobranza.kpi"]._compute(self.company, *Q1, dimension="collector")
        self.assertEqual(by_collector[self.collector.id]["receivables"], 400.0)
        self.assertEqual(by_collector[self.collector_2.id]["receivables"], 2000.0)
        self.assertEqual(by_collector[False]["receivables"], 500.0)
        self.assertEqual(by_collector[self.collector_2.id]["promise_kept_rate"], 50.0)
        by_segment = self.env["cobranza.kpi"]._compute(self.company, *Q1, dimension="segment")
        self.assertAlmostEqual(sum(values["receivables"] for values in by_segment.values()), 2900.0)

    def test_collectors_see_only_their_portfolio(self):
        mine = self.env["cobranza.kpi"].with_user(self.collector)._compute_for_user(self.company, *Q1)
        self.assertEqual(list(mine), [self.collector.id])
        self.assertEqual(mine[self.collector.id]["receivables"], 400.0)
        managers = self.env["cobranza.kpi"].with_user(self.manager)._compute_for_user(self.company, *Q1)
        self.assertEqual(managers[False]["receivables"], 2900.0)
        aging = self.env["cobranza.aging.report"]
        self.assertEqual(set(aging.with_user(self.collector).search([]).partner_id.ids), {self.customer.id})
        self.assertEqual(set(aging.with_user(self.collector_2).search([]).partner_id.ids), {self.customer_b.id})
        self.assertGreaterEqual(len(aging.with_user(self.manager).search([]).partner_id), 4)


@tagged("post_install", "-at_install")
class TestAgingAnalysis(ReportingCommon):

    def _aging(self, as_of=None, **domain):
        # the rows of an as-of date are other values of the same ids: read them afresh, as a new request would
        self.env["cobranza.aging.report"].invalidate_model()
        Aging = self.env["cobranza.aging.report"].with_context(cobranza_as_of=as_of) if as_of \
            else self.env["cobranza.aging.report"]
        return Aging.search([("company_id", "=", self.company.id)]
                            + [(name, "=", value) for name, value in domain.items()])

    def test_as_of_a_past_month_end(self):
        items = self._aging(as_of=date(2026, 3, 31))
        self.assertEqual(round(sum(items.mapped("amount_residual")), 2), 2900.0)
        self.assertEqual(self._aging(as_of=date(2026, 3, 31), partner_id=self.customer_b.id).amount_residual, 2000.0)
        self.assertEqual(self._aging(as_of=date(2026, 3, 31), partner_id=self.customer.id).bucket, "over_90")
        self.assertFalse(self._aging(as_of=date(2026, 3, 31), partner_id=self.late_customer.id))
        # at the opening of the year only the first invoice was open, in full
        opening = self._aging(as_of=date(2025, 12, 31))
        self.assertEqual(opening.mapped("amount_residual"), [1000.0])
        # today: the stored residuals
        self.assertEqual(self._aging(partner_id=self.customer_b.id).amount_residual, 1500.0)

    def test_bucket_boundaries(self):
        today = self.today
        for days, bucket in ((0, "not_due"), (1, "1_30"), (30, "1_30"), (31, "31_60"), (60, "31_60"),
                             (61, "61_90"), (90, "61_90"), (91, "over_90")):
            with self.subTest(days=days):
                invoice = self._dated_invoice(self.customer_c, 10.0 + days, today - timedelta(days=days + 30),
                                              today - timedelta(days=days))
                item = self._aging(move_id=invoice.id)
                self.assertEqual((item.bucket, item.days_overdue), (bucket, days))
                self.assertEqual(item[f"days_{bucket}" if bucket != "not_due" else "not_due"], 10.0 + days)

    def test_buckets_in_age_order(self):
        """Not due, 1-30, 31-60, 61-90, over 90: in groups (pivot, graph, grouped list and export) and in
        a list sorted by bucket, either way up."""
        customer = self.env["res.partner"].create({"name": "Cliente por antigüedad"})
        for days in (0, 95, 45, 10, 75):
            self._dated_invoice(customer, 100.0, self.today - timedelta(days=days + 30),
                                self.today - timedelta(days=days))
        Aging = self.env["cobranza.aging.report"]
        domain = [("company_id", "=", self.company.id), ("partner_id", "=", customer.id)]
        in_order = ["not_due", "1_30", "31_60", "61_90", "over_90"]
        pivot = Aging.read_group(domain, ["amount_residual:sum"], ["bucket", "partner_id"], lazy=False)
        self.assertEqual([group["bucket"] for group in pivot], in_order)
        graph = Aging.web_read_group(domain, ["amount_residual:sum"], ["bucket"])["groups"]
        self.assertEqual([group["bucket"] for group in graph], in_order)
        self.assertEqual([bucket for bucket, _total in Aging._read_group(domain, ["bucket"], ["amount_residual:sum"])],
                         in_order)
        descending = Aging.read_group(domain, ["amount_residual:sum"], ["bucket"], orderby="bucket desc")
        self.assertEqual([group["bucket"] for group in descending], in_order[::-1])
        self.assertEqual(Aging.search(domain, order="bucket").mapped("bucket"), in_order)
        self.assertEqual(Aging.search(domain, order="bucket desc, id").mapped("bucket"), in_order[::-1])

    def test_multi_currency_totals(self):
        eur = self.setup_other_currency("EUR")
        invoice = self._dated_invoice(self.customer_c, 1000.0, self.today - timedelta(days=40),
                                      self.today - timedelta(days=10), currency=eur)
        item = self._aging(move_id=invoice.id)
        self.assertEqual(item.currency_id, eur)
        self.assertEqual(item.amount_residual_currency, 1000.0)
        self.assertEqual(item.amount_residual, 500.0)  # company currency at the rate of 2
        groups = self.env["cobranza.aging.report"].read_group(
            [("company_id", "=", self.company.id), ("partner_id", "=", self.customer_c.id)],
            ["amount_residual:sum"], ["currency_id"],
        )
        by_currency = {group["currency_id"][0]: group["amount_residual"] for group in groups}
        self.assertEqual(by_currency[eur.id], 500.0)
        self.assertEqual(by_currency[self.company.currency_id.id], 500.0)

    def test_as_of_wizard_opens_the_report(self):
        wizard = self.env["cobranza.aging.as.of"].create({})
        self.assertEqual(wizard.as_of, self.today.replace(day=1) - timedelta(days=1))
        action = wizard.action_open()
        self.assertEqual(action["res_model"], "cobranza.aging.report")
        self.assertEqual(action["context"]["cobranza_as_of"], str(wizard.as_of))


@tagged("post_install", "-at_install")
class TestKpiSnapshotsAndMail(ReportingCommon):

    def test_snapshot_idempotent_per_day(self):
        cron = self.env.ref("cobranza_mgmt.ir_cron_kpi_snapshot").sudo()
        cron.method_direct_trigger()
        Snapshot = self.env["cobranza.kpi.snapshot"].sudo()
        first = Snapshot.search([("company_id", "=", self.company.id), ("date", "=", self.today)])
        self.assertEqual(len(first.filtered(lambda s: s.dimension == "company")), 1)
        self.assertTrue(first.filtered(lambda s: s.dimension == "collector" and s.collector_id == self.collector))
        cron.method_direct_trigger()
        again = Snapshot.search([("company_id", "=", self.company.id), ("date", "=", self.today)])
        self.assertEqual(len(again), len(first))
        company_row = again.filtered(lambda s: s.dimension == "company")
        self.assertEqual(company_row.receivables, 2900.0 - 500.0 + 700.0)  # today: B paid 500, D invoiced 700
        # a collector reads only their own snapshot rows
        mine = self.env["cobranza.kpi.snapshot"].with_user(self.collector).search([])
        self.assertEqual(mine.collector_id, self.collector)
        self.assertEqual(set(mine.mapped("dimension")), {"collector"})

    def test_kpi_mail_once_a_month(self):
        self.manager.email = "gerente@example.com"
        cron = self.env.ref("cobranza_mgmt.ir_cron_kpi_report").sudo()
        Mail = self.env["mail.mail"].sudo()
        before = Mail.search_count([("model", "=", "res.company")])
        cron.method_direct_trigger()
        mails = Mail.search([("model", "=", "res.company"), ("res_id", "=", self.company.id)])
        self.assertEqual(len(mails), 1)
        self.assertIn(self.manager.partner_id, mails.recipient_ids)
        self.assertTrue(mails.attachment_ids)
        previous = (self.today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
        self.assertEqual(self.company.cobranza_kpi_report_month, previous)
        self.assertIn(previous, mails.subject)
        cron.method_direct_trigger()  # the same month again: nothing more
        self.assertEqual(len(Mail.search([("model", "=", "res.company"), ("res_id", "=", self.company.id)])), 1)
        self.assertGreaterEqual(Mail.search_count([("model", "=", "res.company")]), before + 1)


@tagged("post_install", "-at_install")
class TestReportingDocuments(ReportingCommon, HttpCase):

    def test_statement_pdf(self):
        report = self.env["ir.actions.report"].with_context(force_report_rendering=True)
        content, kind = report._render_qweb_pdf("cobranza_mgmt.action_report_cobranza_statement",
                                                self.customer_b.ids)
        self.assertEqual(kind, "pdf")
        text = pdf_text(content)
        for expected in ("Statement of Account", self.customer_b.name, self.b1.name, "1,500.00",
                         "Total due", "Aging summary", "How to pay"):
            self.assertIn(expected, text)

    def test_kpi_report_pdf(self):
        report = self.env["ir.actions.report"].with_context(
            force_report_rendering=True, cobranza_date_from=Q1[0], cobranza_date_to=Q1[1],
        )
        content, _kind = report._render_qweb_pdf("cobranza_mgmt.action_report_cobranza_kpi", self.company.ids)
        text = pdf_text(content)
        for expected in ("Collections KPIs", "Whole company", "65.2", "46.7", "0.5244", self.collector.name):
            self.assertIn(expected, text)

    def test_send_statement_from_the_partner(self):
        action = self.customer_b.action_cobranza_send_statement()
        composer = self.env["mail.compose.message"].with_context(**action["context"]).create({})
        composer._action_send_mail()
        message = self.customer_b.message_ids[0]
        self.assertIn("statement of account", message.body)
        self.assertTrue(any(a.mimetype in ("application/pdf", "text/html") for a in message.attachment_ids))

    def test_aging_exports_to_excel(self):
        self.authenticate(self.manager.login, self.manager.login)
        response = self.url_open("/web/export/xlsx", data={"data": json.dumps({
            "model": "cobranza.aging.report", "fields": [
                {"name": "partner_id", "label": "Customer", "type": "many2one"},
                {"name": "amount_residual", "label": "Open Amount", "type": "monetary"},
            ], "ids": False, "domain": [("partner_id", "=", self.customer_b.id)], "groupby": [],
            "context": {}, "import_compat": False,
        }), "csrf_token": http.Request.csrf_token(self)})
        self.assertEqual(response.status_code, 200, response.text[:500])
        with zipfile.ZipFile(io.BytesIO(response.content)) as book:
            strings = book.read("xl/sharedStrings.xml").decode()
        self.assertIn(self.customer_b.name, strings)

