from odoo import fields, models


class CobranzaDunningQueue(models.Model):
    """Customers the day's dunning run still has to handle (filled once a day, emptied batch by batch).

    Written only in SQL by ``cobranza.dunning`` (fill, pop, requeue): the rows are bare work items with
    no computed field, rule or tracking, and the ORM's create of 10,000 of them cost the run seconds.
    """

    _name = "cobranza.dunning.queue"
    _description = "Dunning Run Queue"
    _log_access = False

    company_id = fields.Many2one("res.company", required=True, ondelete="cascade")
    partner_id = fields.Many2one("res.partner", required=True, ondelete="cascade")
    date = fields.Date(required=True)

    _sql_constraints = [
        ("company_partner_date_uniq", "unique(company_id, date, partner_id)", "A customer is queued once a day."),
    ]
