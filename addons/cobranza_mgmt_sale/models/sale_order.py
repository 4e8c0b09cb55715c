from odoo import models


class SaleOrder(models.Model):
    _inherit = "sale.order"

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
            self.env["cobranza.credit.policy"]._enforce(company_orders, company, lambda order, problem: self.env._(
                "Sale order %(order)s cannot be confirmed. %(problem)s Ask a Collections Manager.",
                order=order.name, problem=problem,
            ), extra)

    def _compute_partner_credit_warning(self):  # pylint: disable=missing-return
        """Odoo's own credit warning on quotations, fed by the credit policy (hold or policy reason first)."""
        super()._compute_partner_credit_warning()
        self.env["cobranza.credit.policy"].sudo()._feed_warning(
            self.filtered(lambda o: o.state in ("draft", "sent") and o.partner_id),
        )
