from odoo import models


class SaleOrder(models.Model):
    _name = "sale.order"
    _inherit = ["sale.order", "cobranza.credit.control.mixin"]

    def action_confirm(self):
        self._cobranza_check_credit()
        return super().action_confirm()

    def _cobranza_check_credit(self):
        """Refuse to confirm orders of customers on hold or whose exposure the order takes over the limit.

        The order is not in the exposure yet: its total, in company currency, is added.
        """
        orders = self.filtered(lambda o: o.state in ("draft", "sent") and o.company_id.cobranza_block_posting)
        for company, company_orders in orders.grouped("company_id").items():
            extra = {}
            for order in company_orders:
                partner_id = order.partner_id.commercial_partner_id.id
                extra[partner_id] = extra.get(partner_id, 0.0) + order.currency_id._convert(
                    order.amount_total, company.currency_id, company, order.date_order.date(),
                )
            company_orders._cobranza_enforce_credit(company, lambda order, problem: self.env._(
                "Sale order %(order)s cannot be confirmed. %(problem)s Ask a Collections Manager.",
                order=order.name, problem=problem,
            ), extra)
