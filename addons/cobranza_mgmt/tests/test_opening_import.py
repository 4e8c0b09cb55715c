import base64
from datetime import timedelta

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .common import ImportCommon, csv_file, xls_file, xlsx_file

HEADER = ["Cliente", "NIT", "Correo", "Teléfono", "Gestor", "Cupo", "Número", "Fecha", "Vencimiento", "Importe",
          "Saldo", "Moneda"]


@tagged("post_install", "-at_install")
class TestOpeningImport(ImportCommon):
    """Customers and open documents from the previous system, posted so that collections work from day one."""

    def _rows(self):
        today = self.today
        return [
            HEADER,
            ["Ferretería La Llave", "901.555.111-2", "pagos@lallave.example.com", "+57 300 1234567",
             self.collector.login, 5000, "F-0001", today - timedelta(days=90), today - timedelta(days=60), 1200,
             800, ""],
            ["Ferretería La Llave", "901.555.111-2", "", "", "", None, "F-0002", today - timedelta(days=20),
             today + timedelta(days=10), 300, 300, ""],
            [self.customer.name, "9001234567", "", "", "", None, "F-0003", today - timedelta(days=45),
             today - timedelta(days=15), 500, 450, ""],
        ]

    def _wizard(self, content, file_type="xlsx", user=None, **values):
        env = self.env(user=user) if user else self.env
        return env["cobranza.opening.import"].with_company(self.company).create({
            "file": base64.b64encode(content), "file_name": f"cartera.{file_type}", "file_type": file_type,
            **values,
        })

    def _moves(self):
        return self.env["account.move"].search([("company_id", "=", self.company.id),
                                                ("payment_reference", "like", "F-000")])

    def test_opening_portfolio_posted_and_collected(self):
        wizard = self._wizard(xlsx_file(self._rows()))
        wizard.action_preview()
        self.assertEqual((wizard.state, wizard.line_count, wizard.error_count), ("preview", 3, 0))
        self.assertEqual(wizard.line_ids.sorted("row")[2].partner_id, self.customer, "found by its tax id")
        wizard.action_confirm()
        moves = self._moves()
        self.assertEqual(len(moves), 3)
        self.assertEqual(set(moves.mapped("state")), {"posted"})
        new_customer = moves.filtered(lambda move: move.payment_reference == "F-0001").partner_id
        self.assertEqual((new_customer.name, new_customer.vat, new_customer.email),
                         ("Ferretería La Llave", "901.555.111-2", "pagos@lallave.example.com"))
        self.assertEqual(len(moves.partner_id), 2, "one customer made for its two documents")
        self.assertEqual(new_customer.with_company(self.company).credit_limit, 5000)
        first = moves.filtered(lambda move: move.payment_reference == "F-0001")
        self.assertEqual((first.amount_residual, first.invoice_date_due), (800.0, self.today - timedelta(days=60)))
        self.assertEqual(first.invoice_line_ids.account_id, self.company.get_unaffected_earnings_account())
        self._refresh_dirty()
        profile = self._profile(new_customer)
        self.assertEqual((profile.collector_id, profile.overdue_amount), (self.collector, 800.0))
        # and a bank payment of the old number finds it
        batch = self._import([self._row(800.0, "F-0001")])
        self.assertEqual((batch.line_ids.state, batch.line_ids.rule), ("matched", "payment_ref"))

    def test_nothing_posted_while_a_line_is_wrong_unless_left_out(self):
        rows = self._rows()
        rows[2][9] = "trescientos"
        rows[3][11] = "XAF"
        wizard = self._wizard(csv_file(rows), file_type="csv", date_format="%Y-%m-%d")
        wizard.action_preview()
        self.assertEqual(wizard.error_count, 2)
        errors = wizard.line_ids.filtered("error").sorted("row").mapped("error")
        self.assertEqual(errors[0], "Line 3: column 'Importe': 'trescientos' is not an amount")
        self.assertIn("Line 4: the currency XAF is not used", errors[1])
        with self.assertRaises(UserError):
            wizard.action_confirm()
        self.assertFalse(self._moves())
        wizard.skip_errors = True
        wizard.action_confirm()
        self.assertEqual(self._moves().mapped("payment_reference"), ["F-0001"])

    def test_each_bad_line_named(self):
        rows = self._rows()
        rows[1][8] = rows[1][7] - timedelta(days=1)  # due before the date
        rows[2][10] = 900  # residual over the amount
        rows[3][4] = "nadie"  # not a collector
        rows.append(["Otro", "", "", "", "", None, "F-0001", self.today, self.today, 10, 10, ""])  # number twice
        wizard = self._wizard(xls_file(rows), file_type="xls")
        wizard.action_preview()
        errors = wizard.line_ids.sorted("row").mapped("error")
        self.assertIn("the due date is before the document date", errors[0])
        self.assertIn("the number F-0001 is on lines 2, 5", errors[0])
        self.assertIn("the residual is more than the amount", errors[1])
        self.assertIn("nadie is not a collector", errors[2])

    def test_amounts_with_thousands_separators_and_errors_in_the_files_words(self):
        """A Spanish-format file: '12.500,00' reads with the thousands separator; an error names the
        column as the file's header does ('Saldo'), not the field."""
        rows = [[str(value) if isinstance(value, (int, float)) else value for value in row] for row in self._rows()]
        rows[1][9], rows[1][10] = "12.500,00", "8.000,50"
        rows[2][10] = "trescientos"
        content = csv_file([[value.strftime("%d/%m/%Y") if hasattr(value, "strftime") else value for value in row]
                            for row in rows], delimiter=";")
        wizard = self._wizard(content, file_type="csv", csv_delimiter=";", decimal_separator=",",
                              thousands_separator=".")
        wizard.action_preview()
        lines = wizard.line_ids.sorted("row")
        self.assertEqual((lines[0].amount, lines[0].residual, lines[0].error), (12500.0, 8000.5, False))
        self.assertIn("column 'Saldo': 'trescientos' is not an amount", lines[1].error)
        with self.assertRaisesRegex(ValidationError, "decimals and thousands"):
            wizard.thousands_separator = ","

    def test_the_same_documents_twice(self):
        self._wizard(xlsx_file(self._rows())).action_preview()
        wizard = self._wizard(xlsx_file(self._rows()))
        wizard.action_preview()
        wizard.action_confirm()
        again = self._wizard(xlsx_file(self._rows()))
        again.action_preview()
        self.assertEqual(again.error_count, 3)
        self.assertIn("F-0001 was already imported", again.line_ids.sorted("row")[0].error)

    def test_missing_column_and_unreadable_file(self):
        with self.assertRaises(UserError) as caught:
            self._wizard(xlsx_file([["Cliente", "Número"]])).action_preview()
        self.assertIn("The column 'date' is not in the header row", str(caught.exception))
        with self.assertRaises(UserError):
            self._wizard(xlsx_file(self._rows()), file_type="xls").action_preview()

    def test_managers_only(self):
        for user in (self.collector, self.billing_user):
            with self.assertRaises(AccessError):
                self._wizard(xlsx_file(self._rows()), user=user).action_preview()

    def test_the_files_due_dates_stand_whatever_the_customers_terms(self):
        """A customer with payment terms of its own (or early-payment terms from its ladder) keeps the due
        date of the file: the imported document is not re-dated by the terms."""
        term = self.env["account.payment.term"].create({
            "name": "60 días", "company_id": self.company.id,
            "line_ids": [Command.create({"value": "percent", "value_amount": 100.0, "nb_days": 60})],
        })
        self.customer.with_company(self.company).property_payment_term_id = term
        wizard = self._wizard(xlsx_file(self._rows()))
        wizard.action_preview()
        wizard.action_confirm()
        third = self._moves().filtered(lambda move: move.payment_reference == "F-0003")
        self.assertEqual((third.invoice_date_due, third.invoice_payment_term_id),
                         (self.today - timedelta(days=15), self.env["account.payment.term"]))
