from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import CobranzaAccountCommon


@tagged("post_install", "-at_install")
class TestCreditPolicy(CobranzaAccountCommon):

    def test_defaults(self):
        self.assertRecordValues(self.company, [{
            "cobranza_formal_days": 1, "cobranza_judicial_days": 90, "cobranza_grace_days": 3,
            "cobranza_block_posting": True, "cobranza_auto_hold_days": 60,
            "cobranza_segment_b_score": 25.0, "cobranza_segment_c_score": 50.0, "cobranza_segment_d_score": 75.0,
        }])

    def test_settings_write_the_company_policy(self):
        settings = self.env["cobranza.settings"].with_user(self.manager).with_company(self.company).create({
            "cobranza_grace_days": 5, "cobranza_auto_hold_days": 45, "cobranza_judicial_days": 120,
        })
        settings.action_save()
        self.assertRecordValues(self.company, [{
            "cobranza_grace_days": 5, "cobranza_auto_hold_days": 45, "cobranza_judicial_days": 120,
        }])

    def test_negative_credit_limit_refused(self):
        with self.assertRaisesRegex(ValidationError, "cannot be negative"):
            self.customer.with_company(self.company).credit_limit = -1.0

    def test_unordered_thresholds_refused(self):
        for b, c, d in ((50, 25, 75), (25, 50, 50), (0, 50, 75), (25, 50, 101)):
            with self.assertRaisesRegex(ValidationError, "ordered 0 < B < C < D"):
                self.company.write({
                    "cobranza_segment_b_score": b, "cobranza_segment_c_score": c, "cobranza_segment_d_score": d,
                })
        self.assertEqual(self.company.cobranza_segment_b_score, 25.0, "nothing half-written")

    def test_negative_days_refused(self):
        with self.assertRaisesRegex(ValidationError, "cannot be negative"):
            self.company.cobranza_grace_days = -2

    def test_judicial_after_formal(self):
        with self.assertRaisesRegex(ValidationError, "must start after formal collection"):
            self.company.write({"cobranza_formal_days": 30, "cobranza_judicial_days": 30})
