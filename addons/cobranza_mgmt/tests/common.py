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
