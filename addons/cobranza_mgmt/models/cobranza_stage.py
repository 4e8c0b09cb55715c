from odoo import api, fields, models
from odoo.exceptions import ValidationError

STAGE_TYPES = [
    ("preventive", "Preventive"),
    ("administrative", "Administrative"),
    ("judicial", "Judicial"),
    ("agency", "External agency"),
]


class CobranzaStage(models.Model):
    """A stage of the collection process a debt goes through.

    Stages order the dunning levels (preventive reminders before the due date,
    administrative collection once overdue, then judicial or external agency).
    A stage without company is shared by every company of the database.
    """

    _name = "cobranza.stage"
    _description = "Collection Stage"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    stage_type = fields.Selection(
        selection=STAGE_TYPES,
        string="Type",
        required=True,
        default="administrative",
        help="Preventive stages act before the due date; administrative ones on overdue "
        "debt handled in-house; judicial and external agency ones hand the debt over.",
    )
    description = fields.Text(translate=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        comodel_name="res.company",
        index=True,
        help="Leave empty to share the stage between all companies.",
    )

    @api.constrains("name", "company_id")
    def _check_unique_name(self):
        # A shared stage (no company) clashes with a stage of any company.
        stages = self.sudo().with_context(active_test=False)
        for stage in self:
            domain = [("id", "!=", stage.id), ("name", "=", stage.name)]
            if stage.company_id:
                domain.append(("company_id", "in", [stage.company_id.id, False]))
            duplicate = stages.search_count(domain, limit=1)
            if duplicate:
                raise ValidationError(
                    self.env._("A collection stage named “%(name)s” already exists.", name=stage.name)
                )
