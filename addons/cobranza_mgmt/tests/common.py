from datetime import timedelta

from odoo import Command, fields
from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.tests import new_test_user
from odoo.tests.common import TransactionCase

GROUP_COLLECTOR = "cobranza_mgmt.cobranza_mgmt_group_collector"
GROUP_MANAGER = "cobranza_mgmt.cobranza_mgmt_group_manager"
GROUP_INVOICING = "account.group_account_invoice"


class CobranzaCommon(TransactionCase):
    """Users of each collections role, in the main company."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.collector = new_test_user(
            cls.env, login="cobranza_collector", groups=f"base.group_user,{GROUP_COLLECTOR}",
            name="Carla Cobradora",
        )
        cls.manager = new_test_user(
            cls.env, login="cobranza_manager", groups=f"base.group_user,{GROUP_MANAGER}",
            name="Manuel Gerente",
        )
        cls.invoicing_user = new_test_user(
            cls.env, login="cobranza_billing", groups=f"base.group_user,{GROUP_INVOICING}",
            name="Fabiola Facturación",
        )


class CobranzaAccountCommon(AccountTestInvoicingCommon):
    """An accounting company of its own, its collections users, and invoice helpers.

    The default test user (``accountman``) is an accounting administrator, hence a
    Collections Manager.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data["company"]
        cls.company.account_use_credit_limit = True
        cls.company.cobranza_start_date = fields.Date.today()  # collections started (install day is calm)
        # Scheduled jobs run as OdooBot: its "today" must be the tests' today whatever the hour
        # (OdooBot is in Europe/Brussels, the test user in UTC: they differ from 22:00 or 23:00 UTC).
        cls.env.ref("base.user_root").tz = cls.env.user.tz or "UTC"
        cls.today = fields.Date.context_today(cls.env.user)
        cls.Profile = cls.env["cobranza.credit.profile"]
        user_values = {"company_id": cls.company.id, "company_ids": [Command.set(cls.company.ids)]}
        cls.billing_user = new_test_user(
            cls.env, login="cobranza_billing_acc", groups=f"base.group_user,{GROUP_INVOICING}", **user_values,
        )
        cls.collector = new_test_user(
            cls.env, login="cobranza_collector_acc", groups=f"base.group_user,{GROUP_COLLECTOR}", **user_values,
        )
        cls.collector_2 = new_test_user(
            cls.env, login="cobranza_collector2_acc", groups=f"base.group_user,{GROUP_COLLECTOR}", **user_values,
        )
        cls.manager = new_test_user(
            cls.env, login="cobranza_manager_acc", groups=f"base.group_user,{GROUP_MANAGER}", **user_values,
        )
        cls.customer = cls.env["res.partner"].create({"name": "Comercializadora Río Bravo S.A.", "is_company": True})
        cls.customer_contact = cls.env["res.partner"].create({
            "name": "Lucía Pérez", "parent_id": cls.customer.id, "type": "invoice",
        })
        cls.other_customer = cls.env["res.partner"].create({"name": "Almacenes El Sol", "is_company": True})

    @classmethod
    def _invoice(cls, partner, amount, days_overdue=0, *, currency=None, post=True, term_days=30):
        """A customer invoice of ``amount`` due ``days_overdue`` days ago (negative: due later)."""
        due = cls.today - timedelta(days=days_overdue)
        move = cls.env["account.move"].create({
            "move_type": "out_invoice",
            "partner_id": partner.id,
            "invoice_date": due - timedelta(days=term_days),
            "invoice_date_due": due,
            "currency_id": (currency or cls.company.currency_id).id,
            "invoice_line_ids": [Command.create({
                "name": "Servicio de consultoría", "quantity": 1, "price_unit": amount, "tax_ids": [Command.clear()],
            })],
        })
        if post:
            move.action_post()
        return move

    @classmethod
    def _pay(cls, invoice, amount=None, days_after_due=0):
        """Register a payment of ``amount`` (default: the residual) ``days_after_due`` days after the due date."""
        return cls.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids,
        ).create({
            "payment_date": invoice.invoice_date_due + timedelta(days=days_after_due),
            "amount": amount if amount is not None else invoice.amount_residual,
        })._create_payments()

    def _profile(self, partner=None):
        return self.Profile.sudo().search([
            ("partner_id", "=", (partner or self.customer).id), ("company_id", "=", self.company.id),
        ])

    def _run_cron(self):
        """Run the nightly refresh the way the scheduler does."""
        self.env.ref("cobranza_mgmt.ir_cron_refresh_credit_profiles").sudo().method_direct_trigger()
