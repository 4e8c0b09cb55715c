import base64
from collections import defaultdict

from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..logic import bank_file
from ..models import cobranza_access
from ..models.account_move import credit_exempt
from ..models.cobranza_import_batch import file_problem_message

# The columns of an opening portfolio file, each under its English or Spanish header.
OPENING_COLUMNS = {
    "customer": ("customer", "cliente"),
    "tax_id": ("tax id", "nit", "rfc", "cuit", "rut", "documento"),
    "email": ("email", "e-mail", "correo"),
    "phone": ("phone", "telefono"),
    "collector": ("collector", "gestor", "cobrador"),
    "credit_limit": ("credit limit", "cupo", "limite de credito"),
    "number": ("number", "numero", "documento numero", "factura"),
    "date": ("date", "fecha"),
    "due_date": ("due date", "vencimiento", "fecha de vencimiento"),
    "amount": ("amount", "importe", "valor"),
    "residual": ("residual", "saldo", "saldo pendiente"),
    "currency": ("currency", "moneda"),
}
REQUIRED_COLUMNS = ("customer", "number", "date", "due_date", "amount", "residual")


class CobranzaOpeningImport(models.TransientModel):
    """Bring the customers and their open documents from the previous system.

    Each line of the file is one open document with its customer; the preview shows every line
    with its errors; confirming creates (or finds, by tax id) the customers, sets their collector
    and credit limit, and posts each document as a customer invoice of its residual against the
    opening-balance account, due when it was due, so aging, dunning and KPIs work from day one.
    Nothing is posted while a line is wrong, unless the user chooses to leave the wrong lines out.
    """

    _name = "cobranza.opening.import"
    _description = "Import Opening Receivables"
    _check_company_auto = True

    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    file = fields.Binary(required=True, attachment=False)
    file_name = fields.Char()
    file_type = fields.Selection(
        [("xls", "Excel 97-2003 (.xls)"), ("xlsx", "Excel (.xlsx)"), ("csv", "Text (.csv)")],
        required=True, default="xlsx",
    )
    csv_delimiter = fields.Char(string="Delimiter", default=",", size=1)
    date_format = fields.Char(default="%d/%m/%Y", required=True)
    decimal_separator = fields.Selection([(".", "Point (1234.56)"), (",", "Comma (1234,56)")],
                                         default=".", required=True)
    thousands_separator = fields.Selection(
        [("none", "None"), (".", "Point (1.234,56)"), (",", "Comma (1,234.56)"), ("space", "Space (1 234,56)")],
        default="none", required=True,
    )
    journal_id = fields.Many2one(
        "account.journal", required=True, check_company=True,
        domain="[('type', '=', 'sale')]", default=lambda self: self._default_journal(),
    )
    account_id = fields.Many2one(
        "account.account", string="Opening Balance Account", required=True, check_company=True,
        default=lambda self: self._default_account(),
        help="The counterpart of the opening receivables (by default the company's undistributed earnings).",
    )
    skip_errors = fields.Boolean(string="Leave Out Lines with Errors")
    state = fields.Selection([("upload", "Upload"), ("preview", "Preview"), ("done", "Done")], default="upload")
    line_ids = fields.One2many("cobranza.opening.import.line", "wizard_id", readonly=True)
    error_count = fields.Integer(compute="_compute_counts")
    line_count = fields.Integer(compute="_compute_counts")
    move_ids = fields.Many2many("account.move", string="Posted Documents", readonly=True)

    def _default_journal(self):
        return self.env["account.journal"].search([("type", "=", "sale"), ("company_id", "=", self.env.company.id)],
                                                  limit=1)

    def _default_account(self):
        return self.env.company.get_unaffected_earnings_account()

    @api.depends("line_ids.error")
    def _compute_counts(self):
        for wizard in self:
            wizard.line_count = len(wizard.line_ids)
            wizard.error_count = len(wizard.line_ids.filtered("error"))

    def _reopen(self):
        return {"type": "ir.actions.act_window", "res_model": self._name, "res_id": self.id,
                "view_mode": "form", "target": "new"}

    @api.constrains("decimal_separator", "thousands_separator")
    def _check_separators(self):
        for wizard in self:
            if wizard._thousands() == wizard.decimal_separator:
                raise ValidationError(self.env._("The same character cannot separate decimals and thousands."))

    def _thousands(self):
        return {"none": "", "space": " "}.get(self.thousands_separator, self.thousands_separator)

    def action_preview(self):
        self.ensure_one()
        cobranza_access.check_manager(self.env)
        try:
            rows = bank_file.read_rows(base64.b64decode(self.file or b""), self.file_type, self.csv_delimiter)
            if not rows:
                raise bank_file.FileProblem("empty")
            columns = self._columns(rows[0])
        except bank_file.FileProblem as problem:
            raise UserError(file_problem_message(self.env, problem)) from problem
        self.line_ids.unlink()
        header = rows[0]
        values = [self._parse(columns, header, number, row) for number, row in enumerate(rows[1:], start=2)
                  if not bank_file.is_blank(row)]
        if not values:
            raise UserError(self.env._("The file holds no document under its header row."))
        self._check_lines(values)
        self.write({"state": "preview", "line_ids": [Command.create(vals) for vals in values]})
        return self._reopen()

    def _columns(self, header):
        """{key: index} from the header row; the required columns must be there."""
        positions = {bank_file.normalize_header(value): index for index, value in enumerate(header)}
        columns = {}
        for key, labels in OPENING_COLUMNS.items():
            for label in labels:
                if label in positions:
                    columns[key] = positions[label]
                    break
            else:
                if key in REQUIRED_COLUMNS:
                    raise bank_file.FileProblem("missing_column", column=labels[0])
        return columns

    def _parse(self, columns, header, number, row):
        def text(key):
            return bank_file.parse_text(bank_file.cell(row, columns.get(key)))

        def label(key):  # the column as the file's own header names it
            return bank_file.parse_text(bank_file.cell(header, columns.get(key))) or OPENING_COLUMNS[key][0]

        values = {"row": number, "customer": text("customer"), "tax_id": text("tax_id"), "email": text("email"),
                  "phone": text("phone"), "collector": text("collector"), "number": text("number"),
                  "currency": text("currency").upper()}
        problems = []
        for key in ("date", "due_date"):
            try:
                values[key] = bank_file.parse_date(bank_file.cell(row, columns[key]), self.date_format)
            except ValueError:
                problems.append(self.env._("column '%(column)s': '%(value)s' is not a date in the format %(format)s",
                                           column=label(key), value=text(key), format=self.date_format))
        for key in ("amount", "residual", "credit_limit"):
            if key == "credit_limit" and not text(key):
                continue
            try:
                values[key] = float(bank_file.parse_amount(bank_file.cell(row, columns[key]), self.decimal_separator,
                                                           self._thousands()))
            except ValueError:
                problems.append(self.env._("column '%(column)s': '%(value)s' is not an amount",
                                           column=label(key), value=text(key)))
        if not values["customer"] and not values["tax_id"]:
            problems.append(self.env._("no customer name nor tax id"))
        if not values["number"]:
            problems.append(self.env._("column '%(column)s' is empty", column=label("number")))
        if "residual" in values and values["residual"] <= 0:
            problems.append(self.env._("the residual must be positive"))
        if "residual" in values and "amount" in values and values["residual"] > values["amount"]:
            problems.append(self.env._("the residual is more than the amount"))
        if values.get("credit_limit", 0) < 0:
            problems.append(self.env._("the credit limit cannot be negative"))
        if values.get("date") and values.get("due_date") and values["due_date"] < values["date"]:
            problems.append(self.env._("the due date is before the document date"))
        values["error"] = "; ".join(problems)
        return values

    def _check_lines(self, values):
        """Checks across lines and against the database: currencies, collectors, customers, numbers."""
        company = self.company_id
        currencies = {currency.name: currency for currency in self.env["res.currency"].search([])}
        collectors = self._collectors()
        customers = self._customers_by_tax_id({bank_file.normalize_tax_id(vals["tax_id"]) for vals in values})
        numbers = defaultdict(list)
        for vals in values:
            numbers[vals["number"].upper()].append(vals["row"])
        existing = set(self.env["account.move"].search([
            ("company_id", "=", company.id), ("move_type", "=", "out_invoice"), ("state", "!=", "cancel"),
            ("payment_reference", "in", [vals["number"] for vals in values if vals["number"]]),
        ]).mapped("payment_reference"))
        for vals in values:
            problems = [vals["error"]] if vals["error"] else []
            currency = currencies.get(vals["currency"]) if vals["currency"] else company.currency_id
            if not currency:
                problems.append(self.env._("the currency %(code)s is not used by %(company)s",
                                           code=vals["currency"], company=company.name))
            vals["currency_id"] = currency.id if currency else False
            if vals["collector"]:
                user = collectors.get(vals["collector"].lower())
                if not user:
                    problems.append(self.env._("%(collector)s is not a collector of %(company)s",
                                               collector=vals["collector"], company=company.name))
                vals["collector_id"] = user.id if user else False
            tax_id = bank_file.normalize_tax_id(vals["tax_id"])
            found = customers.get(tax_id, []) if tax_id else []
            if len(found) > 1:
                problems.append(self.env._("the tax id %(tax_id)s belongs to %(count)s customers",
                                           tax_id=vals["tax_id"], count=len(found)))
            vals["partner_id"] = found[0] if len(found) == 1 else False
            rows = numbers[vals["number"].upper()]
            if len(rows) > 1 and vals["number"]:
                problems.append(self.env._("the number %(number)s is on lines %(rows)s",
                                           number=vals["number"], rows=", ".join(map(str, rows))))
            if vals["number"] in existing:
                problems.append(self.env._("%(number)s was already imported", number=vals["number"]))
            vals["error"] = self.env._("Line %(line)s: %(problems)s", line=vals["row"], problems="; ".join(problems)) \
                if problems else False
            vals.pop("collector", None)
            vals.pop("currency", None)

    def _collectors(self):
        """The company's collectors by login and by name (lower case)."""
        group = self.env.ref(cobranza_access.GROUP_COLLECTOR)
        users = self.env["res.users"].search([("groups_id", "in", group.ids),
                                              ("company_ids", "in", self.company_id.ids)])
        result = {}
        for user in users:
            result[user.login.lower()] = user
            result.setdefault(user.name.lower(), user)
        return result

    def _customers_by_tax_id(self, tax_ids):
        batch = self.env["cobranza.import.batch"].new({"company_id": self.company_id.id})
        return batch._partners_by_tax_id(tax_ids)

    def action_back(self):
        self.ensure_one()
        self.line_ids.unlink()
        self.state = "upload"
        return self._reopen()

    def action_confirm(self):
        self.ensure_one()
        cobranza_access.check_manager(self.env)
        if self.state != "preview":
            raise UserError(self.env._("Preview the file before posting it."))
        wrong = self.line_ids.filtered("error")
        if wrong and not self.skip_errors:
            raise UserError(self.env._(
                "%(count)s lines have errors; nothing was posted. Correct the file, or choose to leave out the "
                "lines with errors.\n%(errors)s", count=len(wrong),
                errors="\n".join(wrong[:20].mapped("error")),
            ))
        lines = self.line_ids - wrong
        if not lines:
            raise UserError(self.env._("No line without errors to post."))
        partners = self._ensure_customers(lines)
        moves = self.env["account.move"].create([self._invoice_values(line, partners[line.id]) for line in lines])
        with credit_exempt(moves):
            moves.action_post()
        self.write({"state": "done", "move_ids": [Command.set(moves.ids)]})
        return {
            "type": "ir.actions.act_window", "name": self.env._("Opening Receivables"), "res_model": "account.move",
            "view_mode": "list,form", "domain": [("id", "in", moves.ids)], "target": "current",
        }

    def _ensure_customers(self, lines):
        """{line id: commercial partner}: found by tax id, or created once per tax id / name; collectors
        and credit limits set as the file says."""
        Partner = self.env["res.partner"]
        created = {}
        result = {}
        for line in lines:
            partner = line.partner_id
            key = bank_file.normalize_tax_id(line.tax_id) or line.customer.strip().lower()
            if not partner:
                partner = created.get(key)
            if not partner:
                partner = Partner.create({"name": line.customer or line.tax_id, "vat": line.tax_id or False,
                                          "email": line.email or False, "phone": line.phone or False,
                                          "is_company": True, "company_id": False})
                created[key] = partner
            result[line.id] = partner
        by_partner = {}
        for line in lines:
            by_partner.setdefault(result[line.id], line)
        Profile = self.env["cobranza.credit.profile"]
        for partner, line in by_partner.items():
            if line.credit_limit:
                partner.with_company(self.company_id).write({"credit_limit": line.credit_limit,
                                                             "use_partner_credit_limit": True})
            if line.collector_id:
                Profile._get_or_create(partner, self.company_id).sudo(False).collector_id = line.collector_id
        return result

    def _invoice_values(self, line, partner):
        label = self.env._("Opening balance of %(number)s (original amount %(amount)s)",
                           number=line.number, amount=line.amount)
        return {
            "move_type": "out_invoice", "partner_id": partner.id, "journal_id": self.journal_id.id,
            "invoice_payment_term_id": False,  # its own due date: no terms, no early-payment incentive
            "company_id": self.company_id.id, "currency_id": line.currency_id.id, "invoice_date": line.date,
            "invoice_date_due": line.due_date, "payment_reference": line.number, "ref": line.number,
            "invoice_line_ids": [Command.create({"name": label, "account_id": self.account_id.id, "quantity": 1,
                                                 "price_unit": line.residual, "tax_ids": [Command.clear()]})],
        }


class CobranzaOpeningImportLine(models.TransientModel):
    _name = "cobranza.opening.import.line"
    _description = "Opening Receivables Line"
    _order = "row"

    wizard_id = fields.Many2one("cobranza.opening.import", required=True, ondelete="cascade")
    row = fields.Integer(string="Line")
    customer = fields.Char()
    tax_id = fields.Char(string="Tax ID")
    email = fields.Char()
    phone = fields.Char()
    collector_id = fields.Many2one("res.users")
    credit_limit = fields.Float()
    partner_id = fields.Many2one("res.partner", string="Existing Customer")
    number = fields.Char()
    date = fields.Date()
    due_date = fields.Date()
    amount = fields.Float()
    residual = fields.Float()
    currency_id = fields.Many2one("res.currency")
    error = fields.Char()
