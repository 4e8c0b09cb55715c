import base64
import importlib.util
import io
from datetime import date, timedelta
from pathlib import Path

from freezegun import freeze_time
from PyPDF2 import PdfReader

from odoo import Command, fields
from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.tests import new_test_user
from odoo.tests.common import TransactionCase

GROUP_COLLECTOR = "cobranza_mgmt.cobranza_mgmt_group_collector"
GROUP_MANAGER = "cobranza_mgmt.cobranza_mgmt_group_manager"
GROUP_INVOICING = "account.group_account_invoice"


class CobranzaCommon(TransactionCase):
    """Users of each collections role, in the main company."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.collector = new_test_user(
            cls.env, login="cobranza_collector", groups=f"base.group_user,{GROUP_COLLECTOR}",
            name="Carla Cobradora",
        )
        cls.manager = new_test_user(
            cls.env, login="cobranza_manager", groups=f"base.group_user,{GROUP_MANAGER}",
            name="Manuel Gerente",
        )
        cls.invoicing_user = new_test_user(
            cls.env, login="cobranza_billing", groups=f"base.group_user,{GROUP_INVOICING}",
            name="Fabiola Facturación",
        )


def load_migration(version, script):
    """The module's migration script ``migrations/<version>/<script>.py``, loaded as a module."""
    path = Path(__file__).resolve().parent.parent / "migrations" / version / f"{script}.py"
    spec = importlib.util.spec_from_file_location(f"cobranza_migration_{version.replace('.', '_')}", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    return migration


class CobranzaAccountCommon(AccountTestInvoicingCommon):
    """An accounting company of its own, its collections users, and invoice helpers.

    The default test user (``accountman``) is an accounting administrator, hence a
    Collections Manager.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data["company"]
        cls.company.account_use_credit_limit = True
        cls.company.cobranza_start_date = fields.Date.today()  # collections started (install day is calm)
        # Scheduled jobs run as OdooBot: its "today" must be the tests' today whatever the hour
        # (OdooBot is in Europe/Brussels, the test user in UTC: they differ from 22:00 or 23:00 UTC).
        cls.env.ref("base.user_root").tz = cls.env.user.tz or "UTC"
        cls.today = fields.Date.context_today(cls.env.user)
        cls.Profile = cls.env["cobranza.credit.profile"]
        user_values = {"company_id": cls.company.id, "company_ids": [Command.set(cls.company.ids)]}
        cls.billing_user = new_test_user(
            cls.env, login="cobranza_billing_acc", groups=f"base.group_user,{GROUP_INVOICING}", **user_values,
        )
        cls.collector = new_test_user(
            cls.env, login="cobranza_collector_acc", groups=f"base.group_user,{GROUP_COLLECTOR}", **user_values,
        )
        cls.collector_2 = new_test_user(
            cls.env, login="cobranza_collector2_acc", groups=f"base.group_user,{GROUP_COLLECTOR}", **user_values,
        )
        cls.manager = new_test_user(
            cls.env, login="cobranza_manager_acc", groups=f"base.group_user,{GROUP_MANAGER}", **user_values,
        )
        cls.customer = cls.env["res.partner"].create({"name": "Comercializadora Río Bravo S.A.", "is_company": True})
        cls.customer_contact = cls.env["res.partner"].create({
            "name": "Lucía Pérez", "parent_id": cls.customer.id, "type": "invoice",
        })
        cls.other_customer = cls.env["res.partner"].create({"name": "Almacenes El Sol", "is_company": True})

    @classmethod
    def _invoice(cls, partner, amount, days_overdue=0, *, currency=None, post=True, term_days=30):
        """A customer invoice of ``amount`` due ``days_overdue`` days ago (negative: due later)."""
        due = cls.today - timedelta(days=days_overdue)
        move = cls.env["account.move"].create({
            "move_type": "out_invoice",
            "partner_id": partner.id,
            "invoice_date": due - timedelta(days=term_days),
            "invoice_date_due": due,
            "currency_id": (currency or cls.company.currency_id).id,
            "invoice_line_ids": [Command.create({
                "name": "Servicio de consultoría", "quantity": 1, "price_unit": amount, "tax_ids": [Command.clear()],
            })],
        })
        if post:
            move.action_post()
        return move

    @classmethod
    def _pay(cls, invoice, amount=None, days_after_due=0):
        """Register a payment of ``amount`` (default: the residual) ``days_after_due`` days after the due date."""
        return cls.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids,
        ).create({
            "payment_date": invoice.invoice_date_due + timedelta(days=days_after_due),
            "amount": amount if amount is not None else invoice.amount_residual,
        })._create_payments()

    def _profile(self, partner=None):
        return self.Profile.sudo().search([
            ("partner_id", "=", (partner or self.customer).id), ("company_id", "=", self.company.id),
        ])

    def _run_cron(self):
        """Run the nightly refresh the way the scheduler does."""
        self.env.ref("cobranza_mgmt.ir_cron_refresh_credit_profiles").sudo().method_direct_trigger()

    @classmethod
    def _speak_spanish(cls, *partners):
        """Spanish loaded with the module's translations, and spoken by ``partners``."""
        cls.env["res.lang"]._activate_lang("es_ES")
        cls.env["ir.module.module"]._load_module_terms(["cobranza_mgmt"], ["es_ES"], overwrite=True)
        for partner in partners:
            partner.lang = "es_ES"

    def _refresh_dirty(self):
        """Run the deferred refresh of the customers whose invoices or payments changed, as the
        scheduler does when posting or reconciling triggers it."""
        self.env.ref("cobranza_mgmt.ir_cron_refresh_dirty_profiles").sudo().method_direct_trigger()


class DunningCommon(CobranzaAccountCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Level = cls.env["cobranza.dunning.level"]
        cls.levels = cls.Level.search([("company_id", "=", cls.company.id), ("ladder_id.is_default", "=", True)])
        cls.level_first = cls.levels.filtered(lambda lvl: lvl.offset_days == 1)
        cls.level_second = cls.levels.filtered(lambda lvl: lvl.offset_days == 15)
        cls.level_final = cls.levels.filtered(lambda lvl: lvl.offset_days == 30)
        cls.level_formal = cls.levels.filtered(lambda lvl: lvl.offset_days == 60)
        cls.customer.email = "pagos@riobravo.example.com"
        cls.other_customer.email = "tesoreria@elsol.example.com"
        cls.profile = cls.Profile._get_or_create(cls.customer, cls.company)
        cls.profile.collector_id = cls.collector
        cls.Communication = cls.env["cobranza.communication"].sudo()

    def _run(self, batch=1000, deliver=True):
        """Run the scheduled job the way the cron does, one batch per call, until nothing remains;
        then, unless told not to, the delivery job that the run triggers."""
        engine = self.env["cobranza.dunning"].with_context(cobranza_dunning_batch=batch)
        calls = 0
        while True:
            calls += 1
            _done, remaining = engine._cron_run(companies=self.company)
            if not remaining or calls > 50:
                break
        if deliver:
            self.env["cobranza.communication"].sudo()._dispatch_queued()
        return calls

    def _comms(self, partner=None, **filters):
        domain = [("partner_id", "=", (partner or self.customer).id), ("company_id", "=", self.company.id)]
        domain += [(key, "=", value) for key, value in filters.items()]
        return self.Communication.search(domain)


class AgreementCommon(DunningCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Agreement = cls.env["cobranza.agreement"]
        cls.company.cobranza_agreement_interest_product_id = cls.product_a
        cls.company.cobranza_grace_days = 5

    def _wizard(self, moves, **values):
        values.setdefault("installment_count", 3)
        values.setdefault("first_due_date", self.today + timedelta(days=30))
        custom = values.pop("custom_dates", None)
        wizard = self.env["cobranza.agreement.wizard"].with_context(
            active_model="account.move", active_ids=moves.ids,
        ).create(values)
        if custom is not None:
            wizard.custom_date_ids = [Command.create({"sequence": index, "due_date": day})
                                      for index, day in enumerate(custom)]
        return wizard

    def _agreement(self, moves, **values):
        action = self._wizard(moves, **values).action_confirm()
        return self.Agreement.browse(action["res_id"])

    def _past_agreement(self, amount=300.0, days_ago=40, **values):
        """An active agreement made ``days_ago`` days ago: 3 monthly installments of amount / 3 from 10 days later."""
        invoice = self._invoice(self.customer, amount, days_overdue=days_ago + 20)
        start = self.today - timedelta(days=days_ago)
        with freeze_time(start):  # made and started back then: its installments were not due yet
            agreement = self._agreement(invoice, date=start, first_due_date=start + timedelta(days=10), **values)
            agreement.action_activate()
        return invoice, agreement


Q1 = (date(2026, 1, 1), date(2026, 3, 31))


class ReportingCommon(AgreementCommon):
    """The README's worked example: three customers over the first quarter of 2026."""

    @classmethod
    def _dated_invoice(cls, partner, amount, invoice_date, due, currency=None):
        move = cls.env["account.move"].create({
            "move_type": "out_invoice", "partner_id": partner.id, "invoice_date": invoice_date,
            "invoice_date_due": due, "currency_id": (currency or cls.company.currency_id).id,
            "invoice_line_ids": [Command.create({"name": "Servicio", "quantity": 1, "price_unit": amount,
                                                 "tax_ids": [Command.clear()]})],
        })
        move.action_post()
        return move

    @classmethod
    def _dated_payment(cls, invoice, amount, day):
        return cls.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids,
        ).create({"payment_date": day, "amount": amount})._create_payments()

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer_b = cls.other_customer
        cls.customer_c = cls.env["res.partner"].create({"name": "Distribuidora Andes", "is_company": True})
        cls.late_customer = cls.env["res.partner"].create({"name": "Comercial Futuro", "is_company": True})
        a1 = cls._dated_invoice(cls.customer, 1000.0, date(2025, 11, 15), date(2025, 12, 15))
        cls._dated_payment(a1, 600.0, date(2026, 2, 15))
        a2 = cls._dated_invoice(cls.customer, 1500.0, date(2026, 1, 10), date(2026, 2, 9))
        cls._dated_payment(a2, 1500.0, date(2026, 2, 20))
        cls.b1 = cls._dated_invoice(cls.customer_b, 2000.0, date(2026, 2, 1), date(2026, 3, 3))
        cls._dated_payment(cls.b1, 500.0, date(2026, 4, 10))  # after the period: not in its figures
        cls.c1 = cls._dated_invoice(cls.customer_c, 500.0, date(2026, 3, 15), date(2026, 4, 14))
        cls._dated_invoice(cls.late_customer, 700.0, date(2026, 5, 1), date(2026, 5, 31))  # after the period
        Promise = cls.env["cobranza.promise"].sudo()  # dated in the past: as the module records history
        for state in ("kept", "broken"):
            Promise.create({"partner_id": cls.customer_b.id, "move_ids": [Command.set(cls.b1.ids)],
                            "promise_date": date(2026, 3, 10), "amount": 100.0}).state = state
        kept = cls.Agreement.create({
            "partner_id": cls.customer_b.id, "currency_id": cls.b1.currency_id.id,
            "move_ids": [Command.set(cls.b1.ids)], "financed_amount": cls.b1.amount_residual,
            "date": date(2026, 3, 20), "first_due_date": date(2026, 4, 20),
            "installment_ids": [Command.create({"due_date": date(2026, 4, 20), "principal": 1500.0,
                                                "amount": 1500.0})],
        })
        kept.sudo().state = "active"  # history: set as the module does
        broken = cls.Agreement.create({
            "partner_id": cls.customer_c.id, "currency_id": cls.c1.currency_id.id,
            "move_ids": [Command.set(cls.c1.ids)], "financed_amount": 500.0,
            "date": date(2026, 3, 20), "first_due_date": date(2026, 4, 20),
            "installment_ids": [Command.create({"due_date": date(2026, 4, 20), "principal": 500.0,
                                                "amount": 500.0})],
        })
        broken.sudo().state = "broken"
        cls.Profile._get_or_create(cls.customer_b, cls.company).collector_id = cls.collector_2


def pdf_text(raw):
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(raw)).pages)


def xls_file(rows):
    """An Excel 97-2003 workbook of ``rows`` (dates as Excel dates), written by xlwt."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Hoja1")
    date_style = xlwt.easyxf(num_format_str="DD/MM/YYYY")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, date):
                sheet.write(r, c, value, date_style)
            elif value is not None:
                sheet.write(r, c, value)
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue()


def xlsx_file(rows):
    import openpyxl

    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(list(row))
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue()


def csv_file(rows, delimiter=","):
    import csv

    stream = io.StringIO()
    writer = csv.writer(stream, delimiter=delimiter, lineterminator="\n")
    for row in rows:
        writer.writerow(["" if value is None else (value.isoformat() if isinstance(value, date) else value)
                         for value in row])
    return stream.getvalue().encode()


DATA_DIR = Path(__file__).resolve().parent / "data"


class ImportCommon(CobranzaAccountCommon):
    """A bank journal, a .csv profile (headers date, amount, reference, tax_id, bank_reference,
    currency, payer) and customers with tax ids."""

    HEADER = ["date", "amount", "reference", "tax_id", "bank_reference", "currency", "payer"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bank = cls.company_data["default_journal_bank"]
        cls.csv_profile = cls.env["cobranza.import.profile"].create({
            "name": "Banco CSV", "company_id": cls.company.id, "file_type": "csv", "journal_id": cls.bank.id,
            "date_column": "date", "amount_column": "amount", "reference_column": "reference",
            "tax_id_column": "tax_id", "bank_ref_column": "bank_reference", "currency_column": "currency",
            "payer_column": "payer",
        })
        cls.customer.vat = "9001234567"
        cls.other_customer.vat = "800.765.432-1"
        cls.Batch = cls.env["cobranza.import.batch"]

    def _import(self, rows, profile=None, content=None, name="recaudo.csv", user=None):
        """Read a file through the wizard as ``user`` would; return the batch it opens."""
        env = self.env(user=user) if user else self.env
        profile = profile or self.csv_profile
        if content is None:
            content = csv_file([self.HEADER, *rows])
        wizard = env["cobranza.import.wizard"].with_company(self.company).create({
            "profile_id": profile.id, "journal_id": self.bank.id, "file": base64.b64encode(content),
            "file_name": name,
        })
        action = wizard.action_import()
        return env["cobranza.import.batch"].browse(action["res_id"])

    def _row(self, amount, reference="", *, tax_id="", bank_ref="", day=None, currency="", payer=""):
        return [(day or self.today), amount, reference, tax_id, bank_ref, currency, payer]

    def _entries(self):
        return self.env["account.move"].search_count([("journal_id", "=", self.bank.id)])
