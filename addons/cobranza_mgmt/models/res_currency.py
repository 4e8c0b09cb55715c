from odoo import api, models


class ResCurrency(models.Model):
    _inherit = "res.currency"

    @api.model
    def _cobranza_missing_rates(self, company, currencies, day):
        """The ``currencies`` (other than ``company``'s) without a rate on or before ``day`` for ``company``.

        Odoo converts such a currency at its first later rate, or at 1:1 when it has none at all, without a
        word; Collections refuses to post or dun at a rate nobody recorded. One query for all currencies.
        """
        currencies = currencies - company.currency_id
        if not currencies:
            return currencies
        rated = self.env["res.currency.rate"].sudo()._read_group([
            ("currency_id", "in", currencies.ids), ("name", "<=", day),
            ("company_id", "in", (False, company.root_id.id)),
        ], ["currency_id"])
        return currencies - self.browse([currency.id for (currency,) in rated])
