import base64
import hashlib
import logging
from collections import defaultdict, namedtuple
from datetime import timedelta
from decimal import Decimal

from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL
from odoo.tools.translate import LazyTranslate

from ..logic import bank_file
from . import cobranza_access

_logger = logging.getLogger(__name__)
_lt = LazyTranslate(__name__)

# What each problem of a file or a cell reads like (bank_file.FileProblem codes).
FILE_PROBLEMS = {
    "empty": _lt("The file is empty."),
    "xlsx_as_xls": _lt("The file is an Excel .xlsx workbook renamed .xls: choose a profile for .xlsx files, "
                       "or save it from Excel as 'Excel 97-2003 (.xls)'."),
    "xls_or_encrypted": _lt("The file is not an .xlsx workbook: it is an old .xls workbook or a "
                            "password-protected one. Remove the password, or choose a profile for .xls files."),
    "not_excel": _lt("The file is not an Excel workbook (%(expected)s expected)."),
    "excel_as_csv": _lt("The file is an Excel workbook, not a .csv text file: choose a profile for Excel files."),
    "encrypted": _lt("The workbook is protected by a password: open it in Excel, remove the password and "
                     "import it again."),
    "corrupt": _lt("The file cannot be read; it may be damaged (%(detail)s)."),
    "encoding": _lt("The file is not text in the encoding %(encoding)s: choose the encoding in the profile."),
    "too_many_rows": _lt("The file has more than %(limit)s rows: split it into smaller files."),
    "cell_too_long": _lt("Row %(line)s, column %(column)s holds more than %(limit)s characters: this is not a "
                         "bank collection file, or it is damaged."),
    "too_large": _lt("The file unpacks to more than %(limit)s MB: split it into smaller files."),
    "missing_column": _lt("The column '%(column)s' is not in the header row: check the file, or the profile's "
                          "header row and column names."),
}

# A file with more lines than this is read and posted by a scheduled job, not in the web request.
BACKGROUND_FROM = 2000
# Lines per journal entry when a batch is posted.
LINES_PER_ENTRY = 1000

# What matching looks lines up in: invoices by number and by payment reference, customers by tax id,
# their open invoices, and each invoice's residual as the lines before took from it.
Lookups = namedtuple("Lookups", "by_number by_reference partners_by_tax open_by_partner residuals")


def file_problem_message(env, problem):
    message = FILE_PROBLEMS[problem.code]._translate(env.lang)
    return message % problem.params if problem.params else message


class CobranzaImportBatch(models.Model):
    """One bank collection file as imported: its lines, how each matched, and what was posted.

    Reading a file creates the lines already matched (``_load``); the user corrects matches in
    the preview; posting (``_post``) writes the payments as journal entries of the bank journal
    (one receivable line per payment, one entry per date and currency) and reconciles them with
    the invoices through Odoo's reconciliation, so promises, agreements, holds and profiles follow
    as with a payment registered by hand. A file (hash) or a bank reference already posted is
    never posted again.
    """

    _name = "cobranza.import.batch"
    _inherit = ["mail.thread"]
    _description = "Bank Collection Import"
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(readonly=True, copy=False, default=lambda self: self.env._("New"))
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True,
                                 default=lambda self: self.env.company)
    profile_id = fields.Many2one("cobranza.import.profile", required=True, readonly=True, check_company=True)
    journal_id = fields.Many2one("account.journal", string="Bank Journal", required=True, readonly=True,
                                 check_company=True)
    currency_id = fields.Many2one("res.currency", compute="_compute_currency_id")
    user_id = fields.Many2one("res.users", string="Imported By", readonly=True, default=lambda self: self.env.user)
    file_name = fields.Char(readonly=True)
    attachment_id = fields.Many2one("ir.attachment", readonly=True, copy=False)
    file_hash = fields.Char(readonly=True, index=True, copy=False)
    state = fields.Selection(
        [("queued", "Reading"), ("preview", "Preview"), ("posting", "Posting"), ("posted", "Posted"),
         ("failed", "Failed"), ("cancel", "Cancelled")],
        default="queued", required=True, readonly=True, tracking=True,
    )
    import_error = fields.Text(readonly=True)
    line_ids = fields.One2many("cobranza.import.line", "batch_id", readonly=True)
    move_ids = fields.Many2many("account.move", "cobranza_import_batch_move_rel", "batch_id", "move_id",
                                string="Journal Entries", readonly=True, copy=False)
    line_count = fields.Integer(string="Read", compute="_compute_totals")
    matched_count = fields.Integer(string="Matched", compute="_compute_totals")
    unmatched_count = fields.Integer(string="Unmatched", compute="_compute_totals")
    posted_count = fields.Integer(string="Posted", compute="_compute_totals")
    skipped_count = fields.Integer(string="Skipped", compute="_compute_totals",
                                   help="Duplicates, lines with errors and lines left out.")
    amount_read = fields.Monetary(compute="_compute_totals", currency_field="currency_id")
    amount_matched = fields.Monetary(compute="_compute_totals", currency_field="currency_id")
    amount_posted = fields.Monetary(compute="_compute_totals", currency_field="currency_id")

    @api.depends("journal_id", "company_id")
    def _compute_currency_id(self):
        for batch in self:
            batch.currency_id = batch.journal_id.currency_id or batch.company_id.currency_id

    @api.depends("line_ids.state", "line_ids.amount", "line_ids.skip")
    def _compute_totals(self):
        groups = self.env["cobranza.import.line"]._read_group(
            [("batch_id", "in", self.ids)], ["batch_id", "state", "skip"], ["__count", "amount:sum"],
        )
        totals = defaultdict(lambda: defaultdict(float))
        for batch, state, skip, count, amount in groups:
            figures = totals[batch.id]
            figures["read"] += count
            figures["amount_read"] += amount
            if state == "posted":
                figures["posted"] += count
                figures["amount_posted"] += amount
            elif state == "matched" and not skip:
                figures["matched"] += count
                figures["amount_matched"] += amount
            elif state == "unmatched" and not skip:
                figures["unmatched"] += count
            else:
                figures["skipped"] += count
        for batch in self:
            figures = totals[batch.id]
            batch.line_count = figures["read"]
            batch.matched_count = figures["matched"] + figures["posted"]
            batch.unmatched_count = figures["unmatched"]
            batch.posted_count = figures["posted"]
            batch.skipped_count = figures["skipped"]
            batch.amount_read = figures["amount_read"]
            batch.amount_matched = figures["amount_matched"] + figures["amount_posted"]
            batch.amount_posted = figures["amount_posted"]

    @api.constrains("journal_id")
    def _check_journal(self):
        for batch in self:
            if batch.journal_id.type not in ("bank", "cash"):
                raise ValidationError(self.env._("%(journal)s is not a bank or cash journal.",
                                                 journal=batch.journal_id.display_name))

    # ------------------------------------------------------------------ who may import

    @api.model
    def _check_import_access(self, company):
        """Managers import; collectors only where the company allows it (and for their portfolio)."""
        cobranza_access.check_collector(self.env)
        if not cobranza_access.is_manager(self.env) and not company.cobranza_collector_import:
            raise UserError(self.env._(
                "Only a Collections Manager can import bank collections in %(company)s: a manager can allow "
                "collectors to import for their portfolio in the settings.", company=company.name,
            ))

    def _portfolio_only(self):
        """A collector (not a manager) imports for the customers of their own portfolio only."""
        return not cobranza_access.is_manager(self.env)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            company = self.env["res.company"].browse(vals.get("company_id")) if vals.get("company_id") \
                else self.env.company
            self._check_import_access(company)
            # A batch is made from a file, by the wizard (``_start``): nothing else creates one.
            cobranza_access.check_fields(self, vals, ())
            vals["name"] = self.env["ir.sequence"].with_company(company).next_by_code("cobranza.import.batch") \
                or self.env._("New")
        return super().create(vals_list)

    def write(self, vals):
        # The preview's corrections arrive as line commands; each line's write checks them.
        cobranza_access.check_fields(self, vals, ("line_ids",))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_posted(self):
        if any(batch.state in ("posted", "posting") for batch in self):
            raise UserError(self.env._("A posted import cannot be deleted: its payments are in the books."))

    # ------------------------------------------------------------------ reading the file

    @api.model
    def _start(self, profile, journal, content, file_name):
        """A new batch for this file: read it now when it is small, in the background when large.

        The file is read once here in any case, so a file that cannot be read or lacks a column
        is refused at once with its reason and leaves nothing behind."""
        company = profile.company_id
        self._check_import_access(company)
        if journal.company_id != company:
            raise UserError(self.env._("The journal %(journal)s is not of %(company)s.",
                                       journal=journal.display_name, company=company.name))
        # Only the header and enough rows to tell a small file from a large one are read in the request;
        # a large file is read whole by the job.
        limit = profile.header_row + BACKGROUND_FROM + profile.footer_rows + 1
        rows = self._rows_or_error(profile, content, limit=limit)
        batch = self.sudo().create({
            "company_id": company.id, "profile_id": profile.id, "journal_id": journal.id,
            "file_name": file_name, "file_hash": hashlib.sha256(content).hexdigest(),
        }).sudo(False)
        batch.sudo().attachment_id = self.env["ir.attachment"].create({
            "name": file_name or batch.name, "raw": content, "res_model": self._name, "res_id": batch.id,
        })
        if len(rows) >= limit:
            batch._queue()
        else:
            batch._load(rows)
        return batch

    def _rows_or_error(self, profile, content, limit=None):
        """The file's rows (the first ``limit``, or all), or a UserError saying what is wrong."""
        try:
            rows = profile._read_rows(content, limit=limit)
            if len(rows) < profile.header_row:
                raise bank_file.FileProblem("empty")
            bank_file.column_indexes(rows[profile.header_row - 1], profile._columns())
        except bank_file.FileProblem as problem:
            raise UserError(self.env._("%(file)s: %(problem)s", file=profile.name,
                                       problem=file_problem_message(self.env, problem))) from problem
        return rows

    def _queue(self):
        self.sudo().write({"state": "queued"})
        self.env.ref("cobranza_mgmt.ir_cron_cobranza_import")._trigger(fields.Datetime.now() + timedelta(seconds=1))

    def _load(self, rows):
        """Create the lines of the file's rows, matched, and put the batch in preview."""
        self.ensure_one()
        profile = self.profile_id
        columns = bank_file.column_indexes(rows[profile.header_row - 1], profile._columns())
        currencies = {currency.name.upper(): currency
                      for currency in self.env["res.currency"].search([("active", "=", True)])}
        payments = [(number, row) for number, row in enumerate(rows[profile.header_row:], start=profile.header_row + 1)
                    if not bank_file.is_blank(row)]
        if profile.footer_rows:  # the bank's total line, record count...: not payments
            payments = payments[:-profile.footer_rows]
        values = [self._parse_row(profile, columns, currencies, number, row) for number, row in payments]
        if not values:
            raise UserError(self.env._("%(file)s holds no payment under its header row.",
                                       file=self.file_name or self.name))
        self._check_rates(values)
        self._match(values)
        self.env["cobranza.import.line"].sudo().create(values)
        self.sudo().write({"state": "preview", "import_error": False})

    def _parse_row(self, profile, columns, currencies, number, row):
        """One row as line values; a cell that does not read makes the line an error naming it."""
        labels = profile._columns()
        company = self.company_id
        values = {"batch_id": self.id, "company_id": company.id, "journal_id": self.journal_id.id, "row": number,
                  "state": "unmatched",
                  "reference": bank_file.parse_text(bank_file.cell(row, columns.get("reference"))),
                  "tax_id": bank_file.parse_text(bank_file.cell(row, columns.get("tax_id"))),
                  "bank_ref": bank_file.parse_text(bank_file.cell(row, columns.get("bank_ref"))) or False,
                  "payer": bank_file.parse_text(bank_file.cell(row, columns.get("payer")))}
        problems = []
        raw_date = bank_file.cell(row, columns["date"])
        try:
            values["date"] = bank_file.parse_date(raw_date, profile.date_format)
        except ValueError:
            problems.append(self.env._("column '%(column)s': '%(value)s' is not a date in the format %(format)s",
                                       column=labels["date"], value=bank_file.parse_text(raw_date),
                                       format=profile.date_format))
        raw_amount = bank_file.cell(row, columns["amount"])
        try:
            amount = bank_file.parse_amount(raw_amount, profile.decimal_separator, profile._thousands())
        except ValueError:
            problems.append(self.env._("column '%(column)s': '%(value)s' is not an amount",
                                       column=labels["amount"], value=bank_file.parse_text(raw_amount)))
        else:
            if amount <= 0:
                problems.append(self.env._("column '%(column)s': the amount %(value)s is not positive",
                                           column=labels["amount"], value=bank_file.parse_text(raw_amount)))
            values["amount"] = float(amount)
        currency = self.journal_id.currency_id or company.currency_id
        if "currency" in columns:
            code = bank_file.parse_text(bank_file.cell(row, columns["currency"])).upper()
            if code:
                currency = currencies.get(code)  # active currencies by code: those the company uses
                if not currency:
                    problems.append(self.env._(
                        "column '%(column)s': the currency %(code)s is not used by %(company)s",
                        column=labels["currency"], code=code, company=company.name,
                    ))
        values["currency_id"] = currency.id if currency else False
        if problems:
            values.update(state="error", reason=self.env._("Line %(line)s: %(problems)s", line=number,
                                                           problems="; ".join(problems)))
        return values

    def _check_rates(self, values):
        """A payment in a foreign currency needs a rate on or before its date: Odoo would post it at
        1:1 without a word. One query per foreign currency and date of the file (a handful)."""
        company = self.company_id
        Currency = self.env["res.currency"]
        dates = defaultdict(set)
        for line in values:
            if line["state"] != "error" and line["currency_id"] != company.currency_id.id:
                dates[line["currency_id"]].add(line["date"])
        missing = {(currency_id, day) for currency_id, days in dates.items() for day in days
                   if Currency._cobranza_missing_rates(company, Currency.browse(currency_id), day)}
        for line in values:
            if (line["currency_id"], line.get("date")) in missing:
                line.update(state="error", reason=self.env._(
                    "Line %(line)s: %(currency)s has no exchange rate on or before %(date)s in %(company)s: record "
                    "one in Accounting > Configuration > Currencies.", line=line["row"],
                    currency=Currency.browse(line["currency_id"]).name, date=line["date"], company=company.name))

    # ------------------------------------------------------------------ matching

    def _match(self, values):
        """Match parsed lines (dicts, in file order) to open invoices, set-based: one search for
        every invoice number/payment reference, one for every tax id, one for the open invoices
        of the customers found by tax id; then each line in order, residuals carried over so two
        lines paying one invoice do not both take its residual."""
        self.ensure_one()
        candidates = [line for line in values if line["state"] != "error"]
        earlier = self._posted_same_file()
        posted_refs = self._posted_bank_refs([line["bank_ref"] for line in candidates if line.get("bank_ref")])
        seen_refs = {}
        for line in candidates:
            ref = line.get("bank_ref")
            if earlier:
                line.update(state="duplicate", duplicate_batch_id=earlier.id, reason=self.env._(
                    "Line %(line)s: this file was already imported in %(batch)s.",
                    line=line["row"], batch=earlier.name))
            elif ref and ref in posted_refs:
                line.update(state="duplicate", duplicate_batch_id=posted_refs[ref].id, reason=self.env._(
                    "Line %(line)s: the bank reference %(ref)s was already imported in %(batch)s.",
                    line=line["row"], ref=ref, batch=posted_refs[ref].name))
            elif ref and ref in seen_refs:
                line.update(state="duplicate", reason=self.env._(
                    "Line %(line)s: the bank reference %(ref)s repeats line %(first)s of this file.",
                    line=line["row"], ref=ref, first=seen_refs[ref]))
            elif ref:
                seen_refs[ref] = line["row"]
        candidates = [line for line in candidates if line["state"] != "duplicate"]
        tokens = {token for line in candidates for token in bank_file.reference_tokens(line["reference"])}
        by_number, by_reference = self._invoices_by_reference(tokens)
        partners_by_tax = self._partners_by_tax_id({bank_file.normalize_tax_id(line["tax_id"])
                                                    for line in candidates if line["tax_id"]})
        open_by_partner = self._open_invoices({partner for partners in partners_by_tax.values()
                                               for partner in partners})
        residuals = {}
        for invoices in (*by_number.values(), *by_reference.values(), *open_by_partner.values()):
            for invoice in invoices:
                residuals.setdefault(invoice["id"], Decimal(str(invoice["amount_residual"])))
        lookups = Lookups(by_number, by_reference, partners_by_tax, open_by_partner, residuals)
        portfolio = self._portfolio() if self._portfolio_only() else None
        for line in candidates:
            found = self._find_invoices(line, lookups)
            partner_id = found[0] if found else line.get("partner_id")
            if portfolio is not None and partner_id and partner_id not in portfolio:
                line.update(partner_id=False, reason=self.env._(
                    "Line %(line)s: the customer is not in your portfolio.", line=line["row"]))
            elif found:
                self._allocate(line, *found, residuals)

    def _reference_matches(self, line, lookups):
        """(invoices named by the payer's reference, the rule that found them, the tokens not found)."""
        invoices, rule, unknown = [], False, []
        for token in bank_file.reference_tokens(line["reference"]):
            found = lookups.by_number.get(token) or lookups.by_reference.get(token)
            if not found:
                unknown.append(token)
                continue
            rule = rule or ("number" if token in lookups.by_number else "payment_ref")
            invoices.extend(invoice for invoice in found if invoice not in invoices)
        return invoices, rule, unknown

    def _find_invoices(self, line, lookups):
        """(customer, invoices, rule) this line pays, or None with the reason on the line."""
        env = self.env
        row = line["row"]
        tax_partners = lookups.partners_by_tax.get(bank_file.normalize_tax_id(line["tax_id"]), []) \
            if line["tax_id"] else []
        if len(tax_partners) > 1:
            line["reason"] = env._("Line %(line)s: the tax id %(tax_id)s belongs to %(count)s customers.",
                                   line=row, tax_id=line["tax_id"], count=len(tax_partners))
            return None
        tax_partner = tax_partners[0] if tax_partners else None
        invoices, rule, unknown = self._reference_matches(line, lookups)
        partners = {invoice["partner_id"] for invoice in invoices}
        other_currency = [invoice["name"] for invoice in invoices if invoice["currency_id"] != line["currency_id"]]
        if len(partners) > 1:
            line["reason"] = env._("Line %(line)s: the references %(refs)s are invoices of %(count)s customers.",
                                   line=row, refs=line["reference"], count=len(partners))
        elif partners and tax_partner and tax_partner not in partners:
            line.update(partner_id=tax_partner, reason=env._(
                "Line %(line)s: the invoice %(refs)s is of another customer than the tax id %(tax_id)s.",
                line=row, refs=line["reference"], tax_id=line["tax_id"]))
        elif other_currency:
            line.update(partner_id=invoices[0]["partner_id"], reason=env._(
                "Line %(line)s: %(invoices)s is in another currency than the payment.",
                line=row, invoices=", ".join(other_currency)))
        elif invoices:
            return invoices[0]["partner_id"], invoices, rule
        if invoices:
            return None
        if tax_partner:
            return self._find_by_tax_id(line, tax_partner, lookups, unknown)
        if unknown:
            line["reason"] = env._("Line %(line)s: column '%(column)s': no invoice %(refs)s in %(company)s.",
                                   line=row, column=self.profile_id.reference_column, refs=", ".join(unknown),
                                   company=self.company_id.name)
        else:
            line["reason"] = env._("Line %(line)s: neither a reference nor a tax id to match.", line=row)
        return None

    def _find_by_tax_id(self, line, partner_id, lookups, unknown):
        """The customer's open invoice of exactly the amount (the oldest due), or all of its open
        invoices when they add up to it; else None, the customer named on the line."""
        amount = Decimal(str(line["amount"]))
        residuals = lookups.residuals
        candidates = [invoice for invoice in lookups.open_by_partner.get(partner_id, [])
                      if invoice["currency_id"] == line["currency_id"] and residuals[invoice["id"]] > 0]
        exact = [invoice for invoice in candidates if residuals[invoice["id"]] == amount]
        if exact:
            return partner_id, exact[:1], "tax_amount"
        if candidates and sum(residuals[invoice["id"]] for invoice in candidates) == amount:
            return partner_id, candidates, "tax_total"
        if unknown:
            reason = self.env._("Line %(line)s: column '%(column)s': no invoice %(refs)s in %(company)s; the customer "
                                "is known by the tax id %(tax_id)s.", line=line["row"],
                                column=self.profile_id.reference_column, refs=", ".join(unknown),
                                company=self.company_id.name, tax_id=line["tax_id"])
        else:
            reason = self.env._(
                "Line %(line)s: the customer is known by the tax id %(tax_id)s, but no open invoice of %(amount)s "
                "in this currency (it can be posted as an unapplied payment).",
                line=line["row"], tax_id=line["tax_id"], amount=line["amount"])
        line.update(partner_id=partner_id, reason=reason)
        return None

    def _allocate(self, line, partner_id, invoices, rule, residuals):
        """Spread the line's amount over its open invoices, oldest due first; the rest is unapplied."""
        open_invoices = sorted((invoice for invoice in invoices if residuals[invoice["id"]] > 0),
                               key=lambda invoice: (invoice["due"] or invoice["date"], invoice["id"]))
        if not open_invoices:
            line.update(partner_id=partner_id, reason=self.env._(
                "Line %(line)s: %(invoices)s is already paid (it can be posted as an unapplied payment).",
                line=line["row"], invoices=", ".join(invoice["name"] for invoice in invoices)))
            return
        applied, left = bank_file.allocate(Decimal(str(line["amount"])),
                                           [residuals[invoice["id"]] for invoice in open_invoices])
        for invoice, part in zip(open_invoices, applied, strict=True):
            residuals[invoice["id"]] -= part
        line.update(state="matched", rule=rule, partner_id=partner_id, reason=False,
                    move_ids=[Command.set([invoice["id"] for invoice in open_invoices])],
                    applied_amount=float(sum(applied)), unapplied_amount=float(left))

    def _posted_same_file(self):
        if not self.file_hash:
            return self.browse()
        return self.sudo().search([("company_id", "=", self.company_id.id), ("file_hash", "=", self.file_hash),
                                   ("state", "=", "posted"), ("id", "!=", self.id)], order="id", limit=1)

    def _posted_bank_refs(self, refs):
        """{bank reference: batch} of those already posted through this journal."""
        if not refs:
            return {}
        lines = self.env["cobranza.import.line"].sudo().search_fetch(
            [("journal_id", "=", self.journal_id.id), ("state", "=", "posted"), ("bank_ref", "in", list(set(refs)))],
            ["bank_ref", "batch_id"],
        )
        return {line.bank_ref: line.batch_id for line in lines}

    def _invoice_fields(self):
        return ["name", "payment_reference", "commercial_partner_id", "currency_id", "amount_residual",
                "invoice_date_due", "invoice_date"]

    def _invoice_values(self, moves):
        return [{"id": move.id, "name": move.name, "partner_id": move.commercial_partner_id.id,
                 "currency_id": move.currency_id.id, "amount_residual": move.amount_residual,
                 "due": move.invoice_date_due, "date": move.invoice_date} for move in moves]

    def _invoices_by_reference(self, tokens):
        """({invoice number: [invoice]}, {payment reference: [invoice]}) of the company's posted customer invoices."""
        if not tokens:
            return {}, {}
        tokens = list(tokens)
        moves = self.env["account.move"].search_fetch([
            ("company_id", "=", self.company_id.id), ("move_type", "=", "out_invoice"), ("state", "=", "posted"),
            "|", ("name", "in", tokens), ("payment_reference", "in", tokens),
        ], self._invoice_fields())
        by_number, by_reference = defaultdict(list), defaultdict(list)
        for move, values in zip(moves, self._invoice_values(moves), strict=True):
            by_number[move.name.upper()].append(values)
            if move.payment_reference and move.payment_reference.upper() != move.name.upper():
                by_reference[move.payment_reference.upper()].append(values)
        return by_number, by_reference

    def _partners_by_tax_id(self, tax_ids):
        """{normalized tax id: [commercial partner id]} of the customers this company can see.

        SQL, because the ORM cannot compare a tax id with its dots and dashes taken out; it reads
        ``res_partner`` under the same conditions as the record rules (active, the company's or
        shared), and returns ids the caller uses through the ORM."""
        tax_ids = [tax_id for tax_id in tax_ids if tax_id]
        if not tax_ids:
            return {}
        self.env["res.partner"].flush_model(["vat", "active", "company_id", "commercial_partner_id"])
        self.env.cr.execute(SQL(
            """
            SELECT upper(regexp_replace(partner.vat, '[^0-9A-Za-z]', '', 'g')) AS tax_id,
                   array_agg(DISTINCT partner.commercial_partner_id)
              FROM res_partner partner
             WHERE partner.active AND partner.vat IS NOT NULL
               AND (partner.company_id IS NULL OR partner.company_id = %(company)s)
               AND upper(regexp_replace(partner.vat, '[^0-9A-Za-z]', '', 'g')) = ANY(%(tax_ids)s)
             GROUP BY 1
            """, company=self.company_id.id, tax_ids=tax_ids,
        ))
        return {tax_id: sorted(partner_ids) for tax_id, partner_ids in self.env.cr.fetchall()}

    def _open_invoices(self, partner_ids):
        """{customer: [open invoice, oldest due first]}."""
        if not partner_ids:
            return {}
        moves = self.env["account.move"].search_fetch([
            ("company_id", "=", self.company_id.id), ("move_type", "=", "out_invoice"), ("state", "=", "posted"),
            ("commercial_partner_id", "in", list(partner_ids)), ("amount_residual", ">", 0),
        ], self._invoice_fields(), order="invoice_date_due, id")
        result = defaultdict(list)
        for values in self._invoice_values(moves):
            result[values["partner_id"]].append(values)
        return result

    def _portfolio(self):
        """The commercial partners whose collector is the current user, in the batch's company."""
        profiles = self.env["cobranza.credit.profile"].search_fetch(
            [("company_id", "=", self.company_id.id), ("collector_id", "=", self.env.uid)], ["partner_id"],
        )
        return set(profiles.partner_id.ids)

    def action_refresh_matches(self):
        """Match again the lines not corrected by hand (invoices paid or posted since the file was read)."""
        self._check_import_access(self.company_id)
        for batch in self:
            if batch.state != "preview":
                raise UserError(self.env._("%(batch)s is not in preview.", batch=batch.name))
            lines = batch.line_ids.filtered(lambda line: line.state in ("matched", "unmatched", "duplicate")
                                            and line.rule != "manual")
            values = [line._parsed_values() for line in lines]
            batch._match(values)
            for line, vals in zip(lines, values, strict=True):
                line.sudo().write(line._result_values(vals))
        return True

    # ------------------------------------------------------------------ posting

    def action_post(self):
        """Post the matched lines (and the unmatched ones marked to post as unapplied payments)."""
        for batch in self:
            batch._check_import_access(batch.company_id)
            if batch.state != "preview":
                raise UserError(self.env._("%(batch)s is not in preview: only a previewed import is posted.",
                                           batch=batch.name))
            lines = batch._lines_to_post()
            if not lines:
                raise UserError(self.env._("%(batch)s has no line to post.", batch=batch.name))
            if len(lines) > BACKGROUND_FROM:
                batch.sudo().write({"state": "posting"})
                batch.sudo().message_post(body=self.env._("%(count)s lines are being posted in the background.",
                                                          count=len(lines)))
                self.env.ref("cobranza_mgmt.ir_cron_cobranza_import")._trigger(
                    fields.Datetime.now() + timedelta(seconds=1))
            else:
                batch._post()
        return True

    def action_cancel(self):
        for batch in self:
            batch._check_import_access(batch.company_id)
            if batch.state not in ("preview", "queued", "failed"):
                raise UserError(self.env._("%(batch)s cannot be cancelled once posted.", batch=batch.name))
        self.sudo().write({"state": "cancel"})
        return True

    def _lines_to_post(self):
        return self.line_ids.filtered(lambda line: not line.skip and (
            line.state == "matched" or (line.state == "unmatched" and line.post_unapplied and line.partner_id)))

    def _post(self):
        """Write the payments and reconcile them, all in the current transaction."""
        self.ensure_one()
        company = self.company_id
        # One import at a time per company: the duplicate checks below then see every earlier post.
        self.env.cr.execute(SQL("SELECT pg_advisory_xact_lock(%s, %s)", 20131, company.id))
        lines = self._lines_to_post()
        if self._portfolio_only():
            outside = lines.partner_id.commercial_partner_id - self.env["res.partner"].browse(list(self._portfolio()))
            if outside:
                raise UserError(self.env._("%(batch)s pays customers outside your portfolio: %(customers)s.",
                                           batch=self.name, customers=", ".join(outside.mapped("display_name"))))
        lines._check_still_valid()
        lines = self._drop_duplicates(lines)
        if not lines:
            self.sudo().write({"state": "posted"})
            return
        # Without Odoo's tracking of each invoice's payment status (a chatter message per invoice:
        # half the time of posting); the batch's message and lines record each payment instead.
        quiet = self.with_context(mail_notrack=True)
        moves, credit_lines = quiet._create_entries(lines)
        quiet._reconcile(lines, credit_lines)
        for line, credit in zip(lines, credit_lines, strict=True):
            line.sudo().write({"state": "posted", "move_line_id": credit.id})
        self.sudo().write({"state": "posted", "move_ids": [Command.link(move.id) for move in moves],
                           "import_error": False})
        self.flush_recordset()
        self.sudo().message_post(body=self.env._(
            "%(count)s payments posted (%(amount)s) in %(entries)s.",
            count=len(lines), amount=sum(lines.mapped("amount")), entries=", ".join(moves.mapped("name")),
        ))

    def _drop_duplicates(self, lines):
        """Lines whose file or bank reference another batch posted meanwhile become duplicates."""
        earlier = self._posted_same_file()
        posted_refs = self._posted_bank_refs([ref for ref in lines.mapped("bank_ref") if ref])
        duplicates = self.env["cobranza.import.line"]
        for line in lines:
            batch = earlier or posted_refs.get(line.bank_ref)
            if batch:
                line.sudo().write({"state": "duplicate", "duplicate_batch_id": batch.id, "reason": self.env._(
                    "Line %(line)s: already imported in %(batch)s.", line=line.row, batch=batch.name)})
                duplicates |= line
        return lines - duplicates

    def _create_entries(self, lines):
        """One journal entry per date and currency (at most LINES_PER_ENTRY payments each): one
        debit of the day's total on the account a payment of this journal debits, and one credit per
        payment on its customer's receivable account, labelled with the bank reference. Returns
        (entries, the credit line of each payment, in the order of ``lines``)."""
        journal = self.journal_id
        company = self.company_id
        # The account a customer payment of this journal debits, found as Odoo finds it for a payment:
        # the incoming method's account, else the chart's outstanding receipts (or the transfer account).
        method = journal.inbound_payment_method_line_ids[:1]
        outstanding = method.payment_account_id or self.env["account.payment"].new(
            {"journal_id": journal.id, "company_id": company.id, "payment_type": "inbound"},
        )._get_outstanding_account("inbound")
        receivable = {partner.id: partner.with_company(company).property_account_receivable_id
                      for partner in lines.partner_id}
        groups = defaultdict(list)
        for line in lines.sorted("row"):
            groups[(line.date, line.currency_id)].append(line)
        chunks, move_vals = [], []
        for (date, currency), group in sorted(groups.items(), key=lambda item: (item[0][0], item[0][1].id)):
            for start in range(0, len(group), LINES_PER_ENTRY):
                chunk = group[start:start + LINES_PER_ENTRY]
                items, total, total_currency = [], 0.0, 0.0
                for line in chunk:
                    balance = currency._convert(line.amount, company.currency_id, company, date) \
                        if currency != company.currency_id else line.amount
                    total += balance
                    total_currency += line.amount
                    items.append(Command.create({
                        "partner_id": line.partner_id.id, "currency_id": currency.id, "name": line._label(),
                        "account_id": receivable[line.partner_id.id].id, "balance": -balance,
                        "amount_currency": -line.amount,
                        # given, not computed line by line: a receivable item has no taxes nor analytics
                        "tax_ids": [], "analytic_distribution": False,
                    }))
                label = self.env._("Bank collections %(batch)s", batch=self.name)
                items.insert(0, Command.create({"name": label, "account_id": outstanding.id, "currency_id": currency.id,
                                                "balance": total, "amount_currency": total_currency}))
                move_vals.append({"move_type": "entry", "journal_id": journal.id, "date": date, "ref": label,
                                  "company_id": company.id, "line_ids": items})
                chunks.append(chunk)
        entries = self.env["account.move"].create(move_vals)
        entries.action_post()
        credit_of = {}
        for entry, chunk in zip(entries, chunks, strict=True):
            # the debit first, then one credit per payment in the order given
            for line, credit in zip(chunk, entry.line_ids.sorted("id")[1:], strict=True):
                credit_of[line.id] = credit
        return entries, [credit_of[line.id] for line in lines]

    def _reconcile(self, lines, credit_lines):
        """Reconcile each payment with its invoices through Odoo's reconciliation, all in one plan."""
        invoice_lines = self.env["account.move.line"].search([
            ("move_id", "in", lines.move_ids.ids), ("account_type", "=", "asset_receivable"),
            ("reconciled", "=", False), ("parent_state", "=", "posted"),
        ])
        by_move = defaultdict(lambda: self.env["account.move.line"])
        for invoice_line in invoice_lines:
            by_move[invoice_line.move_id.id] |= invoice_line
        plan = []
        for line, credit in zip(lines, credit_lines, strict=True):
            targets = self.env["account.move.line"]
            account = credit.account_id
            for move in line.move_ids.sorted(lambda move: (move.invoice_date_due or move.invoice_date, move.id)):
                targets |= by_move[move.id].filtered(lambda item, account=account: item.account_id == account)
            if targets:
                plan.append(targets + credit)
        if plan:
            # Odoo's reconciliation re-reads each invoice's lines and taxes one invoice at a time;
            # read them for all the invoices at once beforehand (the same values, 1 query instead of n).
            invoice_lines.move_id.line_ids.mapped("tax_ids")
            self.env["account.move.line"]._reconcile_plan(plan)

    # ------------------------------------------------------------------ background job

    @api.model
    def _cron_process(self, limit=1):
        """Read the queued files and post the batches waiting to be posted, one batch a transaction."""
        cron = self.env["ir.cron"]
        batches = self.sudo().search([("state", "in", ("queued", "posting"))], order="id")
        done = 0
        for queued in batches[:limit]:
            # as the user who imported it: the same checks as in the web request
            batch = queued.with_user(queued.user_id).with_company(queued.company_id).sudo(False)
            state = batch.state
            try:
                with self.env.cr.savepoint():
                    if state == "queued":
                        content = base64.b64decode(batch.attachment_id.sudo().datas or b"")
                        batch._load(batch._rows_or_error(batch.profile_id, content))
                    else:
                        batch._post()
            except Exception as error:
                if isinstance(error, (UserError, ValidationError)):
                    _logger.warning("Bank collection import %s failed: %s", batch.name, error)
                    message = str(error)
                else:
                    _logger.exception("Bank collection import %s failed", batch.name)
                    message = self.env._("The import failed unexpectedly (%(error)s); nothing of it was posted.",
                                         error=error)
                # Back to preview (a post that failed) or failed (a file that could not be read): not retried
                # by itself, the user sees why.
                batch.sudo().write({"state": "failed" if state == "queued" else "preview",
                                    "import_error": message})
                batch.sudo().message_post(body=message)
            done += 1
            cron._notify_progress(done=done, remaining=len(batches) - done)
            self.env.cr.commit()  # pylint: disable=invalid-commit
        return True
