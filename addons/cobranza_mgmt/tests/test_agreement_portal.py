import json

from odoo.tests import HttpCase, new_test_user, tagged

from .common import AgreementCommon, pdf_text


@tagged("post_install", "-at_install")
class TestAgreementDocumentAndPortal(AgreementCommon, HttpCase):
    """The printed agreement (wkhtmltopdf) and acceptance in the customer portal."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._speak_spanish(cls.customer)
        cls.portal_user = new_test_user(cls.env, login="rio_bravo_portal", groups="base.group_portal",
                                        partner_id=cls.customer_contact.id, password="rio_bravo_portal")
        other_contact = cls.env["res.partner"].create({"name": "Pedro Sol", "parent_id": cls.other_customer.id})
        cls.other_portal_user = new_test_user(cls.env, login="el_sol_portal", groups="base.group_portal",
                                              partner_id=other_contact.id, password="el_sol_portal")

    def _proposed(self):
        invoice = self._invoice(self.customer, 1234.0, days_overdue=40)
        agreement = self._agreement(invoice, down_payment=234.0, installment_count=4)
        agreement.action_propose()
        return invoice, agreement

    PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

    def _accept(self, agreement, name="Lucía Pérez"):
        response = self.url_open(
            f"/my/agreements/{agreement.id}/accept",
            data=json.dumps({"jsonrpc": "2.0", "method": "call", "id": 1, "params": {
                "name": name, "signature": self.PIXEL,
            }}),
            headers={"Content-Type": "application/json"},
        )
        self.assertEqual(response.status_code, 200)
        return response.json()["result"]

    def test_printed_agreement_pdf_with_amount_in_spanish_words(self):
        invoice, agreement = self._proposed()
        report = self.env["ir.actions.report"].with_context(force_report_rendering=True)
        content, kind = report._render_qweb_pdf("cobranza_mgmt.action_report_cobranza_agreement", agreement.ids)
        self.assertEqual(kind, "pdf")
        self.assertTrue(content.startswith(b"%PDF"))
        text = pdf_text(content)
        for expected in ("Convenio de pago", agreement.name, invoice.name, self.customer.name,
                         "El deudor reconoce adeudar", "1.234,00", "Mil Doscientos Treinta Y Cuatro",
                         "Calendario de pagos", "(pago inicial)", "250,00"):
            self.assertIn(expected, text)
        self.assertIn("mil doscientos treinta y cuatro", agreement._amount_in_words().lower())

    def test_portal_lists_and_the_customer_accepts(self):
        _invoice, agreement = self._proposed()
        self.authenticate("rio_bravo_portal", "rio_bravo_portal")
        listing = self.url_open("/my/agreements")
        self.assertEqual(listing.status_code, 200)
        self.assertIn(agreement.name, listing.text)
        page = self.url_open(f"/my/agreements/{agreement.id}")
        self.assertEqual(page.status_code, 200)
        self.assertIn("o_cobranza_agreement_schedule", page.text)
        self.assertIn("o_cobranza_agreement_accept", page.text)  # the signature form of a proposal
        result = self._accept(agreement)
        self.assertNotIn("error", result)
        self.assertEqual(agreement.state, "active")
        self.assertEqual(agreement.signed_by, "Lucía Pérez")
        self.assertTrue(agreement.signature)
        self.assertTrue(any("Aceptado en línea" in (m.body or "") or "Accepted online" in (m.body or "")
                            for m in agreement.message_ids))
        self.assertIn("error", self._accept(agreement), "accepting twice is refused")

    def test_another_customer_cannot_see_or_accept(self):
        _invoice, agreement = self._proposed()
        self.authenticate("el_sol_portal", "el_sol_portal")
        self.assertNotIn(agreement.name, self.url_open("/my/agreements").text)
        page = self.url_open(f"/my/agreements/{agreement.id}", allow_redirects=False)
        self.assertIn(page.status_code, (302, 303))
        self.assertIn("error", self._accept(agreement))
        self.assertEqual(agreement.state, "proposed")
        self.assertFalse(agreement.signed_by)
        # and through the ORM, a portal user reads only its own company's agreements
        self.assertFalse(self.env["cobranza.agreement"].with_user(self.other_portal_user).search([]))
        self.assertEqual(self.env["cobranza.agreement"].with_user(self.portal_user).search([]), agreement)

    def test_draft_is_not_shown_in_the_portal(self):
        invoice = self._invoice(self.customer, 300.0, days_overdue=40)
        draft = self._agreement(invoice)
        self.assertFalse(self.env["cobranza.agreement"].with_user(self.portal_user).search([("id", "=", draft.id)]))


@tagged("post_install", "-at_install")
class TestReportUrls(AgreementCommon, HttpCase):
    """The report URLs check who asks, as the report code does (issue #17: a portal user read the KPIs)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_user = new_test_user(cls.env, login="kpi_portal", groups="base.group_portal",
                                        partner_id=cls.customer_contact.id, password="kpi_portal")
        cls.employee = new_test_user(cls.env, login="kpi_employee", groups="base.group_user", password="kpi_employee",
                                     company_id=cls.company.id, company_ids=[(6, 0, cls.company.ids)])
        cls.manager.password = "kpi_manager"

    def _get(self, login, url):
        password = "kpi_manager" if login == self.manager.login else login
        self.authenticate(login, password)
        return self.url_open(url)

    def test_kpi_and_statement_urls(self):
        self._invoice(self.customer, 100.0, days_overdue=20)
        kpi = f"/report/html/cobranza_mgmt.report_cobranza_kpi/{self.company.id}"
        statement = f"/report/html/cobranza_mgmt.report_cobranza_statement/{self.customer.id}"
        for login in ("kpi_portal", "kpi_employee"):
            for url in (kpi, statement):
                with self.subTest(login=login, url=url):
                    response = self._get(login, url)
                    self.assertNotEqual(response.status_code, 200)
                    self.assertNotIn(b"Whole company", response.content)
                    self.assertNotIn(b"Statement of Account", response.content)
        response = self._get(self.manager.login, kpi)
        self.assertEqual(response.status_code, 200)
        self.assertIn(b"Collections KPIs", response.content)
        response = self._get(self.manager.login, statement)
        self.assertEqual(response.status_code, 200)
        self.assertIn(b"Statement of Account", response.content)
