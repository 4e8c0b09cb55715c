import base64
from pathlib import Path
from unittest.mock import patch

from odoo.tests import HttpCase, tagged

from .common import DunningCommon, pdf_text

LOGO = base64.b64encode((Path(__file__).resolve().parent.parent / "static/description/icon.png").read_bytes())


@tagged("post_install", "-at_install")
class TestDunningDocuments(DunningCommon, HttpCase):
    """Letters and agency case files rendered by wkhtmltopdf (the HTTP server serves their assets)."""

    def _dispatch(self):
        self.env["cobranza.communication"].with_context(force_report_rendering=True).sudo()._dispatch_queued()

    def test_dunning_letter_pdf(self):
        invoice = self._invoice(self.customer, 1234.0, days_overdue=61)
        self._run(deliver=False)
        letter = self._comms(channel="letter")
        self._dispatch()
        self.assertEqual(letter.state, "sent")
        self.assertEqual(letter.attachment_id.mimetype, "application/pdf")
        self.assertTrue(letter.attachment_id.raw.startswith(b"%PDF"))
        text = pdf_text(letter.attachment_id.raw)
        for expected in ("Formal notice", invoice.name, "1,234.00", "Total due",
                         "If you have already paid, please ignore this letter"):
            self.assertIn(expected, text)

    def test_letters_many_per_wkhtmltopdf_call_one_pdf_per_customer(self):
        self.env["res.lang"]._activate_lang("es_ES")
        self.env["ir.module.module"]._load_module_terms(["cobranza_mgmt"], ["es_ES"], overwrite=True)
        spanish = self.customer.copy({"name": "Ferretería Tercera", "lang": "es_ES"})
        customers = self.customer | self.other_customer | spanish
        invoices = {customer: self._invoice(customer, 500.0 + index, days_overdue=61)
                    for index, customer in enumerate(customers)}
        self._run(deliver=False)
        letters = self.Communication.search([("company_id", "=", self.company.id), ("channel", "=", "letter")])
        self.assertEqual(len(letters), 3)
        Report = type(self.env["ir.actions.report"])
        with patch.object(Report, "_run_wkhtmltopdf", autospec=True, side_effect=Report._run_wkhtmltopdf) as run:
            letters.with_context(force_report_rendering=True).sudo()._deliver()
        self.assertEqual(run.call_count, 1, "the three letters are rendered by one wkhtmltopdf call")
        for customer, invoice in invoices.items():
            letter = self._comms(customer, channel="letter")
            self.assertEqual(letter.state, "sent")
            text = pdf_text(letter.attachment_id.raw)
            self.assertIn(invoice.name, text)
            if customer == spanish:  # each letter in its customer's language, in the same PDF run
                self.assertIn(f"Nuestra referencia: {letter._document_reference()}", text)
                self.assertIn("Estimado cliente", text)
            else:
                self.assertIn(f"Our reference: {letter._document_reference()}", text)
                self.assertIn("Dear customer", text)
            for other in set(invoices.values()) - {invoice}:
                self.assertNotIn(other.name, text, "each customer's PDF holds only its own letter")

    def test_agency_case_file_pdf(self):
        agency = self.env["res.partner"].create({"name": "Recuperaciones Andinas S.A.", "is_company": True})
        self.levels.filtered(lambda lvl: lvl.offset_days == 90).write(
            {"agency_handover": True, "agency_partner_id": agency.id},
        )
        invoice = self._invoice(self.customer, 800.0, days_overdue=95)
        self._run(deliver=False)
        self._dispatch()
        case_file = self._comms(channel="agency")
        text = pdf_text(case_file.attachment_id.raw)
        for expected in ("Collection case file", "Recuperaciones Andinas", invoice.name, "Communication history",
                         "Hand-over to collection agency"):
            self.assertIn(expected, text)


@tagged("post_install", "-at_install")
class TestDunningLanguages(DunningCommon):

    def test_template_in_spanish_and_english(self):
        self.env["res.lang"]._activate_lang("es_ES")
        self.env["ir.module.module"]._load_module_terms(["cobranza_mgmt"], ["es_ES"], overwrite=True)
        self.customer.lang = "es_ES"
        self.company.logo = LOGO
        self.other_customer.lang = "en_US"
        spanish = self._invoice(self.customer, 100.0, days_overdue=3)
        english = self._invoice(self.other_customer, 100.0, days_overdue=3)
        not_due = self._invoice(self.customer, 80.0, days_overdue=-20)
        # this company's ladder was copied before Spanish was loaded: name its first level in Spanish
        self.level_first.with_context(lang="es_ES").name = "Primer aviso"
        self._run()
        mail_es = self._comms(channel="email").mail_id
        mail_en = self._comms(self.other_customer, channel="email").mail_id
        self.assertIn("recordatorio de pago", mail_es.subject)
        self.assertIn("Si ya ha pagado, por favor ignore este mensaje", mail_es.body_html)
        self.assertIn("Vencimiento", mail_es.body_html)
        self.assertIn(spanish.name, mail_es.body_html)
        others = mail_es.body_html.split("Sus otras facturas pendientes")[1]
        self.assertIn(not_due.name, others)
        self.assertIn("Aún no vencida", others)
        self.assertIn("Primer aviso", mail_es.body_html, "the notice each invoice reached, in Spanish")
        self.assertIn("payment reminder", mail_en.subject)
        self.assertIn("If you have already paid, please ignore this message", mail_en.body_html)
        self.assertIn("Due Date", mail_en.body_html)
        self.assertIn(english.name, mail_en.body_html)
        self.assertIn(f"/logo.png?company={self.company.id}", mail_es.body_html, "the layout shows the company logo")
