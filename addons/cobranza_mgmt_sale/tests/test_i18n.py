from odoo.addons.cobranza_mgmt.tests.test_i18n import I18nCompleteness
from odoo.tests import tagged
from odoo.tests.common import TransactionCase


@tagged("post_install", "-at_install")
class TestI18nSale(I18nCompleteness, TransactionCase):
    module = "cobranza_mgmt_sale"
