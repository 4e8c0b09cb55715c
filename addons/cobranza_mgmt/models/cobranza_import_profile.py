from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..logic import bank_file

# Column fields of a profile: the key a parsed line uses, and the profile field naming its header.
COLUMN_FIELDS = {
    "date": "date_column",
    "amount": "amount_column",
    "reference": "reference_column",
    "tax_id": "tax_id_column",
    "bank_ref": "bank_ref_column",
    "currency": "currency_column",
    "payer": "payer_column",
}


class CobranzaImportProfile(models.Model):
    """How one bank's collection file is laid out: file type, header row, the header of each
    column the import reads, date and number formats, and the bank journal it posts to."""

    _name = "cobranza.import.profile"
    _description = "Bank Collection File Profile"
    _order = "sequence, name"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    journal_id = fields.Many2one(
        "account.journal", string="Bank Journal", check_company=True,
        domain="[('type', 'in', ('bank', 'cash'))]",
        help="Where the collected payments are posted; the import wizard proposes it.",
    )
    file_type = fields.Selection(
        [("xls", "Excel 97-2003 (.xls)"), ("xlsx", "Excel (.xlsx)"), ("csv", "Text (.csv)")],
        required=True, default="csv",
    )
    csv_delimiter = fields.Char(string="Delimiter", default=",", size=1, help="For .csv files: the column separator.")
    csv_encoding = fields.Selection(
        [("utf-8", "UTF-8"), ("cp1252", "Windows-1252"), ("latin-1", "ISO-8859-1")],
        string="Encoding", default="utf-8",
    )
    header_row = fields.Integer(
        default=1, required=True,
        help="The row (counting from 1) that holds the column headers; the payments follow it.",
    )
    footer_rows = fields.Integer(
        default=0,
        help="Rows at the end of the file that are not payments, such as the bank's total line or a record "
             "count: they are left out (blank rows do not count).",
    )
    date_column = fields.Char(required=True, help="Header of the column with the payment date.")
    amount_column = fields.Char(required=True, help="Header of the column with the amount collected.")
    reference_column = fields.Char(
        help="Header of the column with what the payer wrote: invoice number(s) or payment reference.",
    )
    tax_id_column = fields.Char(string="Tax ID Column", help="Header of the column with the payer's tax id.")
    bank_ref_column = fields.Char(
        string="Bank Reference Column",
        help="Header of the column with the bank's own reference of the payment; a reference already "
             "imported is never posted again.",
    )
    currency_column = fields.Char(help="Header of the column with the currency code; empty: the journal's currency.")
    payer_column = fields.Char(help="Header of the column with the payer's name (shown in the preview).")
    date_format = fields.Char(
        default="%Y-%m-%d", required=True,
        help="How dates written as text read, e.g. %d/%m/%Y for 31/12/2026 (dates stored by Excel need none).",
    )
    decimal_separator = fields.Selection([(".", "Point (1234.56)"), (",", "Comma (1234,56)")],
                                         default=".", required=True)
    thousands_separator = fields.Selection(
        [("none", "None"), (".", "Point (1.234,56)"), (",", "Comma (1,234.56)"), ("space", "Space (1 234,56)")],
        default="none", required=True,
    )
    note = fields.Text(translate=True, help="What this profile is for, and a sample file's layout.")

    @api.constrains("header_row", "footer_rows", "csv_delimiter", "decimal_separator", "thousands_separator",
                    "date_format",
                    "reference_column", "tax_id_column", "file_type")
    def _check_layout(self):
        for profile in self:
            if profile.footer_rows < 0:
                raise ValidationError(self.env._("The footer rows of %(profile)s cannot be negative.",
                                                 profile=profile.name))
            if profile.header_row < 1:
                raise ValidationError(self.env._("The header row of %(profile)s must be 1 or more.",
                                                 profile=profile.name))
            if profile.file_type == "csv" and not profile.csv_delimiter:
                raise ValidationError(self.env._("%(profile)s reads .csv files: give the delimiter.",
                                                 profile=profile.name))
            if profile._thousands() == profile.decimal_separator:
                raise ValidationError(self.env._(
                    "%(profile)s uses the same character for decimals and thousands.", profile=profile.name,
                ))
            if not (profile.reference_column or profile.tax_id_column):
                raise ValidationError(self.env._(
                    "%(profile)s needs a reference column or a tax id column: without either, no payment "
                    "can be matched.", profile=profile.name,
                ))
            if "%" not in (profile.date_format or ""):
                raise ValidationError(self.env._(
                    "The date format of %(profile)s must use codes such as %%d/%%m/%%Y.", profile=profile.name,
                ))

    def _thousands(self):
        return {"none": "", "space": " "}.get(self.thousands_separator, self.thousands_separator)

    def _columns(self):
        """{line key: header label} of the columns this profile reads."""
        self.ensure_one()
        return {key: self[field_name] for key, field_name in COLUMN_FIELDS.items() if self[field_name]}

    def _read_rows(self, content, limit=None):
        """The file's rows, the first ``limit`` or all (raises bank_file.FileProblem)."""
        self.ensure_one()
        return bank_file.read_rows(content, self.file_type, self.csv_delimiter, self.csv_encoding, limit=limit)
