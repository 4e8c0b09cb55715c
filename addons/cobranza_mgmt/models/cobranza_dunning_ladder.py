from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

SEGMENT_FIELDS = {"A": "segment_a", "B": "segment_b", "C": "segment_c", "D": "segment_d"}


class CobranzaDunningLadder(models.Model):
    """A set of dunning levels that one kind of customer climbs.

    Each company has one default ladder; a ladder may claim segments (A-D) and serves the customers
    of those segments; a customer's own ladder (its credit profile) overrides both. A segment is
    claimed by one ladder at most. The customer's ladder is resolved in SQL by the dunning run
    (``_customer_ladder_sql``), so the run stays one set-based pass whatever the number of ladders.
    """

    _name = "cobranza.dunning.ladder"
    _description = "Dunning Ladder"
    _order = "company_id, sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    active = fields.Boolean(default=True)
    is_default = fields.Boolean(string="Default Ladder",
                                help="Serves the customers whose segment no other ladder claims.")
    segment_a = fields.Boolean()
    segment_b = fields.Boolean()
    segment_c = fields.Boolean()
    segment_d = fields.Boolean()
    level_ids = fields.One2many("cobranza.dunning.level", "ladder_id", string="Levels")
    incentive_term_id = fields.Many2one(
        "account.payment.term", string="Early-Payment Terms", check_company=True,
        domain="[('early_discount', '=', True), ('company_id', 'in', (False, company_id))]",
        help="New invoices of the customers who climb this ladder get these payment terms, with Odoo's early-payment "
             "discount; the preventive reminder tells them how much they save by paying early.",
    )
    interest_own_rate = fields.Boolean(
        string="Own Interest Rate",
        help="Charge the customers of this ladder their own late-payment interest rate instead of the company's.",
    )
    interest_rate = fields.Float(string="Late-Payment Interest (% a year)", digits=(16, 4),
                                 help="Used when the ladder has its own rate; 0 charges these customers no interest.")
    level_count = fields.Integer(compute="_compute_level_count", string="Levels Count")

    @api.depends("level_ids")
    def _compute_level_count(self):
        for ladder in self:
            ladder.level_count = len(ladder.level_ids)

    def _segments(self):
        self.ensure_one()
        return [segment for segment, name in SEGMENT_FIELDS.items() if self[name]]

    @api.constrains("is_default", "segment_a", "segment_b", "segment_c", "segment_d", "active", "level_ids",
                    "company_id")
    def _check_claims(self):
        for ladder in self.filtered("active"):
            if (ladder.is_default or ladder._segments()) and not ladder.level_ids.filtered("active"):
                raise ValidationError(self.env._(
                    "Dunning ladder %(ladder)s serves customers but has no level: add its levels first.",
                    ladder=ladder.name,
                ))
            others = self.search([("company_id", "=", ladder.company_id.id), ("id", "!=", ladder.id)])
            if ladder.is_default and others.filtered("is_default"):
                raise ValidationError(self.env._(
                    "%(company)s already has a default dunning ladder (%(other)s).",
                    company=ladder.company_id.name, other=others.filtered("is_default")[0].name,
                ))
            for segment in ladder._segments():
                rival = others.filtered(lambda other, segment=segment: other[SEGMENT_FIELDS[segment]])
                if rival:
                    raise ValidationError(self.env._(
                        "Segment %(segment)s is already served by dunning ladder %(other)s of %(company)s: a segment "
                        "follows one ladder.", segment=segment, other=rival[0].name, company=ladder.company_id.name,
                    ))

    # The customer's ladder, in SQL: the only place that decides it (the dunning run, the move to another
    # ladder and the forms all use these three pieces). Raw SQL so the run resolves it for every item in the
    # same set-based pass, with no per-customer ORM read; the ORM adds nothing here (no computes or rules).

    @api.model
    def _ladder_ctes(self, company):
        """CTEs ``ladder_segment`` (segment, ladder claiming it) and ``ladder_default`` of ``company``."""
        return SQL(
            """ladder_segment AS (
                SELECT segment.code AS segment,
                       (SELECT ladder.id FROM cobranza_dunning_ladder ladder
                         WHERE ladder.company_id = %(company)s AND ladder.active
                           AND CASE segment.code WHEN 'A' THEN ladder.segment_a WHEN 'B' THEN ladder.segment_b
                                                 WHEN 'C' THEN ladder.segment_c ELSE ladder.segment_d END
                         ORDER BY ladder.sequence, ladder.id LIMIT 1) AS ladder_id
                  FROM (VALUES ('A'), ('B'), ('C'), ('D')) segment(code)
            ),
            ladder_default AS (
                SELECT (SELECT ladder.id FROM cobranza_dunning_ladder ladder
                         WHERE ladder.company_id = %(company)s AND ladder.active AND ladder.is_default
                         ORDER BY ladder.sequence, ladder.id LIMIT 1) AS ladder_id
            )""",
            company=company.id,
        )

    @api.model
    def _ladder_join(self, profile_alias):
        """Joins the CTEs to the (possibly NULL) credit profile row ``profile_alias``."""
        return SQL("LEFT JOIN ladder_segment ON ladder_segment.segment = %s.segment CROSS JOIN ladder_default",
                   SQL.identifier(profile_alias))

    @api.model
    def _ladder_expression(self, profile_alias):
        """The ladder id: the customer's own, else its segment's, else the default."""
        return SQL("COALESCE(%s.ladder_id, ladder_segment.ladder_id, ladder_default.ladder_id)",
                   SQL.identifier(profile_alias))

    @api.constrains("interest_own_rate", "interest_rate", "company_id")
    def _check_interest_rate(self):
        for ladder in self.filtered("interest_own_rate"):
            ladder.company_id._check_cobranza_interest_rate(ladder.name, ladder.interest_rate)
            ladder.company_id._check_cobranza_interest_setup()

    @api.constrains("incentive_term_id")
    def _check_incentive_term(self):
        for ladder in self.filtered("incentive_term_id"):
            if not ladder.incentive_term_id.early_discount:
                raise ValidationError(self.env._(
                    "The early-payment terms of dunning ladder %(ladder)s must grant an early-payment discount "
                    "(%(term)s does not).", ladder=ladder.name, term=ladder.incentive_term_id.display_name,
                ))

    @api.model
    def _for_customers(self, company, partner_ids):
        """{commercial partner id: the ladder it climbs in ``company``} (customers without a credit profile
        yet: the default ladder)."""
        if not partner_ids:
            return {}
        self.env["cobranza.credit.profile"].flush_model(["ladder_id", "segment", "company_id", "partner_id"])
        self.flush_model()
        self.env.cr.execute(SQL(
            """WITH %s
               SELECT customer.id, %s
                 FROM unnest(%s::int[]) AS customer(id)
                 LEFT JOIN cobranza_credit_profile profile
                        ON profile.partner_id = customer.id AND profile.company_id = %s
                 %s""",
            self._ladder_ctes(company), self._ladder_expression("profile"), list(partner_ids), company.id,
            self._ladder_join("profile"),
        ))
        return {partner_id: self.browse(ladder_id) for partner_id, ladder_id in self.env.cr.fetchall()}
