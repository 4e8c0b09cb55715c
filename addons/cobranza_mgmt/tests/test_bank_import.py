import base64
from datetime import timedelta
from unittest.mock import patch

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from ..models import cobranza_import_batch
from .common import DATA_DIR, AgreementCommon, ImportCommon, csv_file, xls_file, xlsx_file


@tagged("post_install", "-at_install")
class TestMatching(ImportCommon):
    """Each matching rule, as the preview shows it and as posting settles it."""

    def test_invoice_number_pays_the_invoice(self):
        invoice = self._invoice(self.customer, 500.0, days_overdue=10)
        batch = self._import([self._row(500.0, invoice.name.lower(), bank_ref="B-1")])
        line = batch.line_ids
        self.assertEqual((batch.state, line.state, line.rule), ("preview", "matched", "number"))
        self.assertEqual((line.partner_id, line.move_ids), (self.customer, invoice))
        self.assertEqual(invoice.amount_residual, 500.0, "reading a file posts nothing")
        batch.action_post()
        self.assertEqual((batch.state, line.state), ("posted", "posted"))
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(line.move_line_id.partner_id, self.customer)
        self.assertTrue(line.move_line_id.reconciled)
        self.assertEqual(line.move_line_id.move_id.journal_id, self.bank)
        self.assertEqual((batch.line_count, batch.posted_count, batch.amount_posted), (1, 1, 500.0))

    def test_payment_reference_pays_the_invoice(self):
        invoice = self._invoice(self.customer, 300.0, days_overdue=5)
        invoice.payment_reference = "REF-778899"
        batch = self._import([self._row(300.0, "REF-778899")])
        self.assertEqual((batch.line_ids.state, batch.line_ids.rule), ("matched", "payment_ref"))
        batch.action_post()
        self.assertEqual(invoice.amount_residual, 0.0)

    def test_tax_id_and_exact_residual(self):
        self._invoice(self.customer, 100.0, days_overdue=40)
        invoice = self._invoice(self.customer, 275.0, days_overdue=3)
        batch = self._import([self._row(275.0, tax_id="900.123.456-7")])
        line = batch.line_ids
        self.assertEqual((line.state, line.rule, line.move_ids), ("matched", "tax_amount", invoice))
        batch.action_post()
        self.assertEqual(invoice.amount_residual, 0.0)

    def test_tax_id_and_total_due_pays_every_open_invoice(self):
        invoices = self._invoice(self.customer, 100.0, days_overdue=40) | self._invoice(self.customer, 60.0, 3)
        batch = self._import([self._row(160.0, tax_id="9001234567")])
        self.assertEqual((batch.line_ids.rule, batch.line_ids.move_ids), ("tax_total", invoices))
        batch.action_post()
        self.assertEqual(invoices.mapped("amount_residual"), [0.0, 0.0])

    def test_partial_payment(self):
        invoice = self._invoice(self.customer, 1000.0, days_overdue=20)
        batch = self._import([self._row(400.0, invoice.name)])
        self.assertEqual((batch.line_ids.applied_amount, batch.line_ids.unapplied_amount), (400.0, 0.0))
        batch.action_post()
        self.assertEqual(invoice.amount_residual, 600.0)
        self.assertEqual(invoice.payment_state, "partial")

    def test_one_payment_for_several_invoices_oldest_first(self):
        older = self._invoice(self.customer, 100.0, days_overdue=30)
        newer = self._invoice(self.customer, 100.0, days_overdue=5)
        batch = self._import([self._row(150.0, f"{newer.name}, {older.name}")])
        self.assertEqual(batch.line_ids.move_ids, older | newer)
        batch.action_post()
        self.assertEqual((older.amount_residual, newer.amount_residual), (0.0, 50.0))

    def test_overpayment_leaves_an_unapplied_credit(self):
        invoice = self._invoice(self.customer, 100.0, days_overdue=5)
        batch = self._import([self._row(130.0, invoice.name)])
        self.assertEqual((batch.line_ids.applied_amount, batch.line_ids.unapplied_amount), (100.0, 30.0))
        batch.action_post()
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertEqual(batch.line_ids.move_line_id.amount_residual, -30.0)
        self.assertEqual(self.customer.credit, -30.0, "the customer has 30 paid and not applied")

    def test_two_lines_for_one_invoice_do_not_both_take_its_residual(self):
        invoice = self._invoice(self.customer, 100.0, days_overdue=5)
        batch = self._import([self._row(80.0, invoice.name), self._row(80.0, invoice.name)])
        first, second = batch.line_ids.sorted("row")
        self.assertEqual((first.applied_amount, second.applied_amount, second.unapplied_amount), (80.0, 20.0, 60.0))
        batch.action_post()
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertEqual(self.customer.credit, -60.0)

    def test_payment_in_another_currency_than_the_invoice_is_not_matched(self):
        self.env.ref("base.EUR").active = True
        invoice = self._invoice(self.customer, 100.0, days_overdue=5)
        other = "EUR" if self.company.currency_id.name != "EUR" else "USD"
        self.env.ref(f"base.{other}").active = True
        self.env["res.currency.rate"].create({"currency_id": self.env.ref(f"base.{other}").id, "rate": 1.1,
                                              "name": self.today, "company_id": self.company.id})
        batch = self._import([self._row(100.0, invoice.name, currency=other)])
        self.assertEqual(batch.line_ids.state, "unmatched")
        self.assertIn("another currency", batch.line_ids.reason)


@tagged("post_install", "-at_install")
class TestPreview(ImportCommon):
    """What the user decides in the preview: corrections, unapplied payments, lines left out."""

    def test_correcting_a_match_by_hand(self):
        invoice = self._invoice(self.customer, 250.0, days_overdue=5)
        batch = self._import([self._row(250.0, "pago factura marzo")])
        line = batch.line_ids
        self.assertEqual(line.state, "unmatched")
        self.assertIn("no invoice PAGO, FACTURA, MARZO", line.reason)
        batch.write({"line_ids": [Command.update(line.id, {"partner_id": self.customer.id,
                                                            "move_ids": [Command.set(invoice.ids)]})]})
        self.assertEqual((line.state, line.rule, line.applied_amount), ("matched", "manual", 250.0))
        batch.action_post()
        self.assertEqual(invoice.amount_residual, 0.0)

    def test_a_correction_must_be_an_open_invoice_of_that_customer(self):
        invoice = self._invoice(self.other_customer, 250.0, days_overdue=5)
        batch = self._import([self._row(250.0, "?")])
        with self.assertRaises(UserError):
            batch.line_ids.write({"partner_id": self.customer.id, "move_ids": [Command.set(invoice.ids)]})
        with self.assertRaises(AccessError):
            batch.line_ids.write({"amount": 1.0})

    def test_unmatched_payment_of_a_known_customer_posted_as_unapplied(self):
        self._invoice(self.customer, 999.0, days_overdue=5)
        batch = self._import([self._row(120.0, tax_id="900123456-7")])
        line = batch.line_ids
        self.assertEqual((line.state, line.partner_id), ("unmatched", self.customer))
        line.post_unapplied = True
        batch.action_post()
        self.assertEqual(line.state, "posted")
        self.assertEqual(self.customer.credit, 999.0 - 120.0)
        self.assertEqual(line.move_line_id.amount_residual, -120.0)

    def test_lines_left_out_are_not_posted(self):
        invoice = self._invoice(self.customer, 100.0, days_overdue=5)
        batch = self._import([self._row(100.0, invoice.name), self._row(50.0, "NO-EXISTE")])
        matched = batch.line_ids.filtered(lambda line: line.state == "matched")
        matched.skip = True
        with self.assertRaises(UserError):
            batch.action_post()  # nothing left to post
        matched.skip = False
        batch.action_post()
        self.assertEqual((batch.posted_count, batch.unmatched_count), (1, 1))
        self.assertEqual(batch.line_ids.filtered(lambda line: line.reference == "NO-EXISTE").state, "unmatched")

    def test_invoice_paid_between_preview_and_posting_leaves_the_money_unapplied(self):
        invoice = self._invoice(self.customer, 100.0, days_overdue=5)
        batch = self._import([self._row(100.0, invoice.name)])
        self._pay(invoice)
        batch.action_post()
        self.assertEqual(batch.line_ids.state, "posted")
        self.assertIn("was paid before", batch.line_ids.reason)
        self.assertEqual(batch.line_ids.move_line_id.amount_residual, -100.0)


@tagged("post_install", "-at_install")
class TestNeverTwice(ImportCommon):

    def test_the_same_file_again_posts_nothing(self):
        invoices = self._invoice(self.customer, 100.0, 5) | self._invoice(self.other_customer, 70.0, 5)
        content = csv_file([self.HEADER, self._row(100.0, invoices[0].name), self._row(70.0, invoices[1].name)])
        first = self._import([], content=content)
        first.action_post()
        entries = self._entries()
        second = self._import([], content=content)
        self.assertEqual(second.line_ids.mapped("state"), ["duplicate", "duplicate"])
        self.assertEqual(second.line_ids.duplicate_batch_id, first)
        self.assertIn(first.name, second.line_ids[0].reason)
        with self.assertRaises(UserError):
            second.action_post()
        self.assertEqual(self._entries(), entries)

    def test_a_bank_reference_already_imported_is_skipped_line_by_line(self):
        invoices = self._invoice(self.customer, 100.0, 5) | self._invoice(self.other_customer, 70.0, 5)
        first = self._import([self._row(100.0, invoices[0].name, bank_ref="TRX-9")])
        first.action_post()
        second = self._import([self._row(100.0, invoices[0].name, bank_ref="TRX-9"),
                               self._row(70.0, invoices[1].name, bank_ref="TRX-10")], name="otro.csv")
        duplicate, new = second.line_ids.sorted("row")
        self.assertEqual((duplicate.state, duplicate.duplicate_batch_id), ("duplicate", first))
        self.assertIn("TRX-9", duplicate.reason)
        second.action_post()
        self.assertEqual((duplicate.state, new.state), ("duplicate", "posted"))
        self.assertEqual(invoices.mapped("amount_residual"), [0.0, 0.0])

    def test_a_bank_reference_twice_in_one_file(self):
        invoice = self._invoice(self.customer, 100.0, 5)
        batch = self._import([self._row(50.0, invoice.name, bank_ref="TRX-1"),
                              self._row(50.0, invoice.name, bank_ref="TRX-1")])
        self.assertEqual(batch.line_ids.sorted("row").mapped("state"), ["matched", "duplicate"])

    def test_two_previews_of_one_file_post_once(self):
        invoice = self._invoice(self.customer, 100.0, 5)
        content = csv_file([self.HEADER, self._row(100.0, invoice.name)])
        first, second = self._import([], content=content), self._import([], content=content)
        first.action_post()
        second.action_post()  # posted after the first: its lines are found to be duplicates then
        self.assertEqual(second.line_ids.state, "duplicate")
        self.assertEqual(second.posted_count, 0)
        self.assertEqual(invoice.amount_residual, 0.0)


@tagged("post_install", "-at_install")
class TestBadInput(ImportCommon):
    """Every bad input gets its message naming the line and the column; nothing is posted."""

    def _refused(self, content, profile=None):
        entries, batches = self._entries(), self.Batch.search_count([])
        with self.assertRaises(UserError) as caught:
            self._import([], content=content, profile=profile)
        self.assertEqual((self._entries(), self.Batch.search_count([])), (entries, batches))
        return str(caught.exception)

    def _xls_profile(self, **values):
        return self.csv_profile.copy({"name": "Banco XLS", "file_type": "xls", **values})

    def test_corrupt_file(self):
        message = self._refused(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x07" * 900, self._xls_profile())
        self.assertIn("cannot be read", message)

    def test_xls_without_a_sheet(self):
        """A workbook whose sheet record is damaged: xlrd opens it with no sheet, then IndexError."""
        content = bytearray(xls_file([self.HEADER, self._row(10.0, "X")]))
        index = content.index(b"\x85\x00")  # BOUNDSHEET becomes a record type nobody knows
        content[index:index + 2] = b"\x86\x00"
        self.assertIn("it may be damaged", self._refused(bytes(content), self._xls_profile()))

    def _xlsx_with_shared_strings(self, shared_strings):
        """A workbook whose sharedStrings.xml part is replaced by ``shared_strings``."""
        import io
        import zipfile

        source = zipfile.ZipFile(io.BytesIO(xlsx_file([self.HEADER, self._row(10.0, "X")])))
        stream = io.BytesIO()
        with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as target:
            for member in source.infolist():
                if member.filename != "xl/sharedStrings.xml":
                    target.writestr(member, source.read(member))
            target.writestr("xl/sharedStrings.xml", shared_strings)
        return stream.getvalue()

    def test_xlsx_with_a_doctype_bomb(self):
        bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
                b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&lol2;</t></si></sst>')
        profile = self._xls_profile(file_type="xlsx")
        self.assertIn("it may be damaged", self._refused(self._xlsx_with_shared_strings(bomb), profile))

    def test_xlsx_with_a_huge_shared_string(self):
        """22 KiB of file, 20 MB of string: refused before the reader unpacks it."""
        huge = (b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                b'<si><t>' + b"A" * 20_000_000 + b"</t></si></sst>")
        content = self._xlsx_with_shared_strings(huge)
        self.assertLess(len(content), 64 * 1024)
        profile = self._xls_profile(file_type="xlsx")
        self.assertIn("unpacks to more than 16 MB", self._refused(content, profile))

    def test_a_cell_too_long(self):
        content = csv_file([self.HEADER, self._row(10.0, "X" * 5000)])
        self.assertIn("Row 2, column 3 holds more than 1000 characters", self._refused(content))

    def test_password_protected_xls(self):
        content = bytearray(xls_file([self.HEADER, self._row(10.0, "X")]))
        index = content.index(b"\xc1\x00\x02\x00")  # the MMS record becomes FILEPASS, as Excel writes it
        content[index:index + 2] = b"\x2f\x00"
        self.assertIn("protected by a password", self._refused(bytes(content), self._xls_profile()))

    def test_password_protected_or_old_file_as_xlsx(self):
        profile = self._xls_profile(file_type="xlsx")
        self.assertIn("password-protected", self._refused(xls_file([self.HEADER]), profile))

    def test_xlsx_renamed_xls(self):
        self.assertIn("renamed .xls", self._refused(xlsx_file([self.HEADER]), self._xls_profile()))

    def test_missing_column(self):
        content = csv_file([["date", "amount", "reference"], [self.today, 10.0, "X"]])
        self.assertIn("The column 'tax_id' is not in the header row", self._refused(content))

    def _line(self, row):
        batch = self._import([row])
        return batch, batch.line_ids

    def test_text_in_an_amount_column(self):
        batch, line = self._line(self._row("cien pesos", "X"))
        self.assertEqual(line.state, "error")
        self.assertEqual(line.reason, "Line 2: column 'amount': 'cien pesos' is not an amount")
        with self.assertRaises(UserError):
            batch.action_post()

    def test_a_date_that_does_not_parse(self):
        _batch, line = self._line(["31/02/2026", 10.0, "X", "", "", "", ""])
        self.assertIn("column 'date': '31/02/2026' is not a date in the format %Y-%m-%d", line.reason)

    def test_negative_amount(self):
        _batch, line = self._line(self._row(-25.0, "X"))
        self.assertIn("column 'amount': the amount -25.0 is not positive", line.reason)

    def test_a_currency_the_company_does_not_use(self):
        _batch, line = self._line(self._row(10.0, "X", currency="XAF"))
        self.assertEqual(line.state, "error")
        self.assertIn("column 'currency': the currency XAF is not used", line.reason)

    def test_a_currency_without_rate(self):
        other = "EUR" if self.company.currency_id.name != "EUR" else "USD"
        currency = self.env.ref(f"base.{other}")
        currency.active = True
        self.env["res.currency.rate"].search([("currency_id", "=", currency.id)]).unlink()
        _batch, line = self._line(self._row(10.0, "X", currency=other))
        self.assertEqual(line.state, "error")
        self.assertIn(f"{other} has no exchange rate on or before", line.reason)
        self.env["res.currency.rate"].create({"currency_id": currency.id, "name": self.today - timedelta(days=400),
                                              "rate": 2.0, "company_id": self.company.id})
        invoice = self._invoice(self.customer, 80.0, days_overdue=5, currency=currency)
        batch, line = self._line(self._row(80.0, invoice.name, currency=other, bank_ref="R2"))
        self.assertEqual(line.state, "matched")
        batch.action_post()
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertEqual((line.move_line_id.amount_currency, line.move_line_id.balance), (-80.0, -40.0))

    def test_an_invoice_number_that_does_not_exist(self):
        _batch, line = self._line(self._row(10.0, "INV/1999/99999"))
        self.assertEqual(line.state, "unmatched")
        self.assertIn("Line 2: column 'reference': no invoice INV/1999/99999", line.reason)

    def test_a_line_that_matches_two_customers(self):
        self.env["res.partner"].create({"name": "Homónimo S.A.", "vat": "900.123.456-7", "is_company": True})
        _batch, line = self._line(self._row(10.0, tax_id="9001234567"))
        self.assertIn("belongs to 2 customers", line.reason)
        one = self._invoice(self.customer, 10.0, 1)
        other = self._invoice(self.other_customer, 10.0, 1)
        _batch, line = self._line(self._row(20.0, f"{one.name} {other.name}"))
        self.assertIn("are invoices of 2 customers", line.reason)
        self.assertFalse(line.partner_id)

    def test_errors_spanish(self):
        self._speak_spanish()
        self.env.user.lang = "es_ES"
        content = csv_file([["fecha", "valor"]])
        with self.assertRaises(UserError) as caught:
            self._import([], content=content, user=self.env.user)
        self.assertIn("no está en la fila de encabezados", str(caught.exception))


@tagged("post_install", "-at_install")
class TestLargeFiles(ImportCommon):
    """A large file is read and posted by the scheduled job, not in the web request."""

    def test_read_and_posted_in_the_background(self):
        invoices = [self._invoice(self.customer, 10.0 + n, 5) for n in range(5)]
        cron = self.env.ref("cobranza_mgmt.ir_cron_cobranza_import")
        with patch.object(cobranza_import_batch, "BACKGROUND_FROM", 3):
            batch = self._import([self._row(invoice.amount_residual, invoice.name) for invoice in invoices])
            self.assertEqual((batch.state, len(batch.line_ids)), ("queued", 0))
            self.assertTrue(self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]))
            with patch.object(self.env.cr, "commit", lambda: None):
                cron.method_direct_trigger()
            self.assertEqual((batch.state, batch.matched_count), ("preview", 5))
            batch.action_post()
            self.assertEqual(batch.state, "posting")
            self.assertEqual(invoices[0].amount_residual, 10.0)
            with patch.object(self.env.cr, "commit", lambda: None):
                cron.method_direct_trigger()
        self.assertEqual((batch.state, batch.posted_count), ("posted", 5))
        self.assertEqual(sum(invoice.amount_residual for invoice in invoices), 0.0)


    def test_a_large_file_is_not_parsed_in_the_request(self):
        """The request reads the header and enough rows to see the file is large; the job reads it
        whole, and a file over the row limit fails there with its reason, nothing posted."""
        rows = [self._row(10.0, f"X{n}") for n in range(8)]
        with patch.object(cobranza_import_batch, "BACKGROUND_FROM", 3), \
                patch.object(cobranza_import_batch.bank_file, "MAX_ROWS", 6):
            batch = self._import(rows)
            self.assertEqual(batch.state, "queued")
            with patch.object(self.env.cr, "commit", lambda: None):
                self.env.ref("cobranza_mgmt.ir_cron_cobranza_import").method_direct_trigger()
        self.assertEqual(batch.state, "failed")
        self.assertIn("more than 6 rows", batch.import_error)
        self.assertFalse(batch.line_ids)


@tagged("post_install", "-at_install")
class TestFooterRows(ImportCommon):

    def test_the_banks_total_row_is_not_a_payment(self):
        """A bank report ends with its total and a record count: the profile leaves them out, so what
        the import says it read ties to the report."""
        invoices = [self._invoice(self.customer, amount, 5) for amount in (100.0, 250.0)]
        self.csv_profile.footer_rows = 2
        rows = [self._row(invoice.amount_residual, invoice.name) for invoice in invoices]
        footer = [["", 350.0, "TOTAL", "", "", "", ""], ["Número de registros", 2, "", "", "", "", ""]]
        batch = self._import([*rows, *footer])
        self.assertEqual((batch.line_count, batch.amount_read), (2, 350.0))
        self.assertEqual(batch.matched_count, 2)

    def test_the_preview_lists_first_what_needs_the_user(self):
        invoice = self._invoice(self.customer, 100.0, 5)
        batch = self._import([self._row(100.0, invoice.name), self._row(55.0, "NADIE"), self._row("diez", "X")])
        lines = batch.line_ids.sorted()  # as the preview reads them (the lines' own order)
        self.assertEqual(lines.mapped("state"), ["error", "unmatched", "matched"])
        self.assertEqual(lines.mapped("row"), [4, 3, 2])

    def test_footer_rows_cannot_be_negative(self):
        with self.assertRaisesRegex(ValidationError, "footer rows"):
            self.csv_profile.footer_rows = -1


@tagged("post_install", "-at_install")
class TestAccess(ImportCommon):

    def test_collectors_import_only_when_allowed_and_for_their_portfolio(self):
        mine = self._invoice(self.customer, 100.0, 5)
        theirs = self._invoice(self.other_customer, 70.0, 5)
        self.Profile._get_or_create(self.customer, self.company).collector_id = self.collector
        rows = [self._row(100.0, mine.name), self._row(70.0, theirs.name)]
        with self.assertRaises(UserError):
            self._import(rows, user=self.collector)
        self.company.cobranza_collector_import = True
        batch = self._import(rows, user=self.collector)
        own, other = batch.line_ids.sorted("row")
        self.assertEqual((own.state, other.state), ("matched", "unmatched"))
        self.assertIn("not in your portfolio", other.reason)
        with self.assertRaises(UserError):
            other.write({"partner_id": self.other_customer.id, "move_ids": [Command.set(theirs.ids)]})
        with self.assertRaises(UserError):
            other.write({"post_unapplied": True})
        # whatever reaches the line, posting checks the portfolio again
        other.sudo().write({"partner_id": self.other_customer.id, "post_unapplied": True})
        with self.assertRaises(UserError):
            batch.action_post()
        other.sudo().write({"partner_id": False, "post_unapplied": False})
        batch.action_post()
        self.assertEqual((mine.amount_residual, theirs.amount_residual), (0.0, 70.0))
        # another collector does not see it
        self.assertFalse(self.Batch.with_user(self.collector_2).search([("id", "=", batch.id)]))
        # a collector cannot change a profile
        with self.assertRaises(AccessError):
            self.csv_profile.with_user(self.collector).name = "Mío"

    def test_billing_and_portal_users_never(self):
        portal = new_test_user(self.env, login="portal_import", groups="base.group_portal")
        for user in (portal, self.billing_user):
            with self.assertRaises(AccessError):
                self._import([self._row(1.0, "X")], user=user)
            with self.assertRaises(AccessError):
                self.Batch.with_user(user).create({"profile_id": self.csv_profile.id, "journal_id": self.bank.id})

    def test_imports_stay_in_their_company(self):
        invoice = self._invoice(self.customer, 100.0, 5)
        batch = self._import([self._row(100.0, invoice.name)])
        other = self.setup_other_company()["company"]
        manager = new_test_user(self.env, login="cobranza_manager_other", groups="base.group_user,"
                                "cobranza_mgmt.cobranza_mgmt_group_manager", company_id=other.id,
                                company_ids=[Command.set(other.ids)])
        self.assertFalse(self.Batch.with_user(manager).search([("id", "=", batch.id)]))
        self.assertFalse(self.env["cobranza.import.line"].with_user(manager).search([("batch_id", "=", batch.id)]))
        with self.assertRaises(AccessError):
            batch.with_user(manager).action_post()
        self.assertFalse(self.env["cobranza.import.profile"].with_user(manager).search(
            [("id", "=", self.csv_profile.id)]))

    def test_a_posted_import_cannot_be_deleted_or_rewritten(self):
        invoice = self._invoice(self.customer, 100.0, 5)
        batch = self._import([self._row(100.0, invoice.name)])
        batch.action_post()
        with self.assertRaises(UserError):
            batch.with_user(self.manager).unlink()
        with self.assertRaises(UserError):
            batch.line_ids.with_user(self.manager).skip = True
        with self.assertRaises(AccessError):
            batch.with_user(self.manager).state = "preview"


@tagged("post_install", "-at_install")
class TestCollectionsFollow(ImportCommon):
    """A payment imported settles promises and refreshes the customer as one registered by hand."""

    def test_promise_kept_and_profile_refreshed(self):
        invoice = self._invoice(self.customer, 400.0, days_overdue=20)
        promise = self.env["cobranza.promise"].create({
            "partner_id": self.customer.id, "company_id": self.company.id, "amount": 400.0,
            "promise_date": self.today + timedelta(days=3), "move_ids": [Command.set(invoice.ids)],
        })
        self._refresh_dirty()
        self.assertEqual(self._profile().overdue_amount, 400.0)
        batch = self._import([self._row(400.0, invoice.name)])
        batch.action_post()
        self._refresh_dirty()
        self.assertEqual(self._profile().overdue_amount, 0.0)
        self.env["cobranza.promise"]._cron_evaluate()
        self.assertEqual(promise.state, "kept")


@tagged("post_install", "-at_install")
class TestAgreementFollows(ImportCommon, AgreementCommon):

    def test_installments_allocated(self):
        invoice = self._invoice(self.customer, 300.0, days_overdue=20)
        agreement = self._agreement(invoice)
        agreement.action_activate()
        first, second, _third = agreement.installment_ids.sorted("sequence")
        batch = self._import([self._row(150.0, invoice.name)])
        batch.action_post()
        self.assertEqual((first.state, second.state, second.paid_amount), ("paid", "partial", 50.0))
        self.assertEqual(agreement.paid_amount, 150.0)


@tagged("post_install", "-at_install")
class TestSampleFiles(ImportCommon):
    """The ready profiles read their sample files (tests/data), as shipped."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer.vat = "900.123.456-7"
        cls.invoices = cls.env["account.move"]
        for reference, partner, amount in (("FAC-1001", cls.customer, 1000.0), ("FAC-1002", cls.customer, 500.0),
                                           ("FAC-1003", cls.other_customer, 1234.56)):
            invoice = cls._invoice(partner, amount, days_overdue=10)
            invoice.payment_reference = reference
            cls.invoices |= invoice

    def _sample(self, xmlid, file_name):
        profile = self.env.ref(f"cobranza_mgmt.{xmlid}").sudo().copy({"company_id": self.company.id})
        content = (DATA_DIR / file_name).read_bytes()
        batch = self._import([], profile=profile, content=content, name=file_name)
        self.assertEqual(batch.line_ids.sorted("row").mapped("state"), ["matched"] * 3, batch.line_ids.mapped("reason"))
        self.assertEqual(batch.line_ids.sorted("row").mapped("rule"), ["payment_ref", "payment_ref", "tax_amount"])
        self.assertEqual(batch.amount_read, 2485.06)
        batch.action_post()
        self.assertEqual(self.invoices.mapped("amount_residual"), [0.0, 249.5, 0.0])
        return batch

    def test_generic_csv(self):
        self._sample("cobranza_import_profile_generic_csv", "recaudo_generico.csv")

    def test_bank_collection_report_xls(self):
        batch = self._sample("cobranza_import_profile_recaudo_xls", "reporte_recaudo.xls")
        self.assertEqual(batch.line_ids.sorted("row").mapped("row"), [4, 5, 6], "headers on line 3")

    def test_account_movements_xlsx(self):
        self._sample("cobranza_import_profile_movimientos_xlsx", "movimientos_cuenta.xlsx")

    def test_wizard_from_the_bank_journal(self):
        wizard = self.env["cobranza.import.wizard"].with_context(
            active_model="account.journal", active_id=self.bank.id).create({
                "profile_id": self.csv_profile.id,
                "file": base64.b64encode((DATA_DIR / "recaudo_generico.csv").read_bytes()),
            })
        self.assertEqual(wizard.journal_id, self.bank)
