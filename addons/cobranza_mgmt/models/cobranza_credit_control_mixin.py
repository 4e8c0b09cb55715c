from odoo import models
from odoo.exceptions import UserError

from .cobranza_access import is_manager


class CobranzaCreditControlMixin(models.AbstractModel):
    """Refuse a document of a customer on hold or over its limit, or log a manager's override.

    Used by customer invoices (posting) and, with Sales, by sale orders (confirmation).
    """

    _name = "cobranza.credit.control.mixin"
    _description = "Collections credit control"

    def _cobranza_enforce_credit(self, company, refusal, extra_amounts=None):
        """Check these documents of ``company`` (all with a ``partner_id``).

        :param refusal: function (document, problem) -> the error message for a user who
                        may not override the credit control
        :param extra_amounts: {commercial partner id: amount of these documents not yet in
                              the exposure, in company currency}
        """
        problems = self.partner_id._cobranza_credit_problems(company, extra_amounts)
        manager = is_manager(self.env)
        for document in self:
            problem = problems.get(document.partner_id.commercial_partner_id.id)
            if not problem:
                continue
            if not manager:
                raise UserError(refusal(document, problem))
            document.message_post(body=self.env._(
                "%(user)s overrode the credit control: %(problem)s", user=self.env.user.name, problem=problem,
            ))
