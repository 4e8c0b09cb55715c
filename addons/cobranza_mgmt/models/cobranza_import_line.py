from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..logic import bank_file
from . import cobranza_access

# What a user corrects in the preview; everything else is what the file said or the import found.
USER_FIELDS = ("partner_id", "move_ids", "skip", "post_unapplied")


class CobranzaImportLine(models.Model):
    """One payment of a bank collection file: what the file said, what it matched, what was posted."""

    _name = "cobranza.import.line"
    _description = "Bank Collection Import Line"
    _order = "batch_id desc, review_rank, row"
    _check_company_auto = True

    batch_id = fields.Many2one("cobranza.import.batch", required=True, ondelete="cascade", index=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    journal_id = fields.Many2one("account.journal", required=True, readonly=True)
    row = fields.Integer(string="Line", readonly=True, help="The line of the file (counting the header).")
    date = fields.Date(readonly=True)
    amount = fields.Monetary(readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    reference = fields.Char(readonly=True, help="What the payer wrote: invoice numbers or payment reference.")
    tax_id = fields.Char(string="Tax ID", readonly=True)
    bank_ref = fields.Char(string="Bank Reference", readonly=True)
    payer = fields.Char(readonly=True)
    state = fields.Selection(
        [("matched", "Matched"), ("unmatched", "Unmatched"), ("duplicate", "Duplicate"), ("error", "Error"),
         ("posted", "Posted")],
        required=True, default="unmatched", readonly=True, index=True,
    )
    # The preview lists first what needs the user (errors, then payments matched to nothing), then
    # duplicates, what was matched and what was posted; each group in the file's order.
    review_rank = fields.Integer(compute="_compute_review_rank", store=True)
    rule = fields.Selection(
        [("number", "Invoice number"), ("payment_ref", "Payment reference"),
         ("tax_amount", "Tax ID and exact residual"), ("tax_total", "Tax ID and total due"),
         ("manual", "Corrected by hand")],
        string="Matched By", readonly=True,
    )
    reason = fields.Char(readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", check_company=True, index="btree_not_null")
    move_ids = fields.Many2many(
        "account.move", "cobranza_import_line_move_rel", "line_id", "move_id", string="Invoices",
        check_company=True,
        domain="[('move_type', '=', 'out_invoice'), ('state', '=', 'posted'), ('amount_residual', '>', 0),"
               " ('commercial_partner_id', '=', partner_id)]",
    )
    applied_amount = fields.Monetary(readonly=True, help="What goes to the invoices.")
    unapplied_amount = fields.Monetary(readonly=True, help="What is left as an unapplied credit of the customer.")
    skip = fields.Boolean(string="Leave Out", help="Do not post this line.")
    post_unapplied = fields.Boolean(
        help="Post this unmatched line as an unapplied payment of the customer.",
    )
    duplicate_batch_id = fields.Many2one("cobranza.import.batch", string="Imported In", readonly=True)
    move_line_id = fields.Many2one("account.move.line", string="Journal Item", readonly=True, index="btree_not_null")

    def init(self):
        # Never twice: a bank reference is posted once per bank journal, whatever runs in parallel.
        self.env.cr.execute(SQL(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS cobranza_import_line_bank_ref_posted_uniq
                ON cobranza_import_line (journal_id, bank_ref)
             WHERE state = 'posted' AND bank_ref IS NOT NULL
            """
        ))

    @api.depends("state")
    def _compute_review_rank(self):
        ranks = {"error": 0, "unmatched": 1, "duplicate": 2, "matched": 3, "posted": 4}
        for line in self:
            line.review_rank = ranks.get(line.state, 5)

    @api.depends("batch_id.name", "row")
    def _compute_display_name(self):
        for line in self:
            line.display_name = self.env._("%(batch)s line %(line)s", batch=line.batch_id.name, line=line.row)

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            cobranza_access.check_fields(self, {key for vals in vals_list for key in vals}, ())
        return super().create(vals_list)

    def write(self, vals):
        cobranza_access.check_fields(self, vals, USER_FIELDS)
        if self.env.su:
            return super().write(vals)
        for line in self:
            line.batch_id._check_import_access(line.company_id)
            if line.batch_id.state != "preview" or (
                    line.state in ("posted", "error", "duplicate") and set(vals) - {"skip"}):
                raise UserError(self.env._("%(line)s cannot be changed: only the lines of an import in preview "
                                           "are corrected, and lines with errors or duplicates only left out.",
                                           line=line.display_name))
        result = super().write(vals)
        if {"partner_id", "move_ids"} & set(vals):
            self._rematch_by_hand()
        if vals.get("post_unapplied"):
            for line in self:
                if not line.partner_id:
                    raise UserError(self.env._("%(line)s: choose the customer before posting it as an unapplied "
                                               "payment.", line=line.display_name))
        return result

    @api.ondelete(at_uninstall=False)
    def _unlink_except_by_hand(self):
        # deleting an import deletes its lines (in the database); a line alone is left out, not deleted
        if not self.env.su:
            raise UserError(self.env._("The lines of an import are not deleted: leave them out instead."))

    def _rematch_by_hand(self):
        """The user chose the customer and/or the invoices: check them and spread the amount again."""
        portfolio = None
        for line in self:
            batch = line.batch_id
            if portfolio is None and batch._portfolio_only():
                portfolio = batch._portfolio()
            partner = line.partner_id.commercial_partner_id
            if partner and partner != line.partner_id:
                line.sudo().write({"partner_id": partner.id})
            if portfolio is not None and partner and partner.id not in portfolio:
                raise UserError(self.env._("%(line)s: %(customer)s is not in your portfolio.",
                                           line=line.display_name, customer=partner.display_name))
            invoices = line.move_ids
            wrong = invoices.filtered(lambda move, partner=partner, company=line.company_id: (
                move.move_type != "out_invoice" or move.state != "posted" or move.commercial_partner_id != partner
                or move.company_id != company))
            if wrong:
                raise UserError(self.env._(
                    "%(line)s: %(invoices)s are not posted customer invoices of %(customer)s.",
                    line=line.display_name, invoices=", ".join(wrong.mapped("display_name")),
                    customer=partner.display_name or "-",
                ))
            other = invoices.filtered(lambda move, currency=line.currency_id: move.currency_id != currency)
            if other:
                raise UserError(self.env._("%(line)s: %(invoices)s is in another currency than the payment.",
                                           line=line.display_name, invoices=", ".join(other.mapped("name"))))
            open_invoices = invoices.filtered(lambda move: move.amount_residual > 0).sorted(
                lambda move: (move.invoice_date_due or move.invoice_date, move.id))
            applied, left = bank_file.allocate(Decimal(str(line.amount)),
                                               [Decimal(str(move.amount_residual)) for move in open_invoices])
            values = {"rule": "manual", "applied_amount": float(sum(applied)), "unapplied_amount": float(left),
                      "state": "matched" if open_invoices else "unmatched",
                      "reason": False if open_invoices else self.env._(
                          "Line %(line)s: no open invoice chosen.", line=line.row)}
            if line.state == "duplicate":
                values.pop("state")
            line.sudo().write(values)  # sudo: written as matching writes them, after the checks above

    def _check_still_valid(self):
        """At posting: the invoices still open for what the preview applied, the customers still theirs.
        An invoice paid meanwhile leaves the amount as an unapplied credit of the customer, said on the line."""
        for line in self:
            if line.state != "matched":
                continue
            open_invoices = line.move_ids.filtered(lambda move: move.amount_residual > 0 and move.state == "posted")
            gone = line.move_ids - open_invoices
            if gone:
                applied, left = bank_file.allocate(Decimal(str(line.amount)),
                                                   [Decimal(str(move.amount_residual)) for move in open_invoices])
                line.sudo().write({
                    "move_ids": [(6, 0, open_invoices.ids)], "applied_amount": float(sum(applied)),
                    "unapplied_amount": float(left), "reason": self.env._(
                        "Line %(line)s: %(invoices)s was paid before this import was posted; the amount stays as an "
                        "unapplied credit.", line=line.row, invoices=", ".join(gone.mapped("name"))),
                })

    def _parsed_values(self):
        """The line as the matching reads it (what the file said)."""
        return {"row": self.row, "state": "unmatched" if self.state != "error" else "error",
                "reference": self.reference or "", "tax_id": self.tax_id or "", "bank_ref": self.bank_ref or False,
                "amount": self.amount, "currency_id": self.currency_id.id}

    def _result_values(self, vals):
        """What matching found, as values to write (clearing what it no longer finds)."""
        return {"state": vals["state"], "reason": vals.get("reason", False), "rule": vals.get("rule", False),
                "partner_id": vals.get("partner_id", False), "move_ids": vals.get("move_ids", [(5, 0, 0)]),
                "applied_amount": vals.get("applied_amount", 0.0),
                "unapplied_amount": vals.get("unapplied_amount", 0.0),
                "duplicate_batch_id": vals.get("duplicate_batch_id", False)}

    def _label(self):
        """The label of the payment's journal items: bank reference, payer's reference."""
        parts = [part for part in (self.bank_ref, self.reference, self.payer) if part]
        return " - ".join(parts) or self.batch_id.name
