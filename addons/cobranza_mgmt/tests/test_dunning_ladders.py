from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestDunningLadders(DunningCommon):
    """Each segment climbs its own ladder; a customer's own ladder overrides it; moving to another
    ladder puts the open items at the equivalent level without sending again what was sent."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Ladder = cls.env["cobranza.dunning.ladder"]
        cls.standard = cls.Ladder.search([("company_id", "=", cls.company.id), ("is_default", "=", True)])
        cls.firm = cls.Ladder.search([("company_id", "=", cls.company.id), ("segment_d", "=", True)])
        cls.other_profile = cls.Profile._get_or_create(cls.other_customer, cls.company)
        cls.other_profile.collector_id = cls.collector

    def _level(self, ladder, offset):
        return ladder.level_ids.filtered(lambda level: level.offset_days == offset)

    def _segment(self, profile, segment):
        profile.sudo().segment = segment  # as the nightly behaviour refresh writes it

    def test_every_company_gets_the_standard_and_the_firm_ladder(self):
        self.assertEqual(len(self.standard), 1)
        self.assertEqual(self.standard.level_ids.sorted("offset_days").mapped("offset_days"), [-3, 1, 15, 30, 60, 90])
        self.assertEqual(len(self.firm), 1)
        self.assertEqual(self.firm.level_ids.sorted("offset_days").mapped("offset_days"), [-5, 1, 15, 45])
        formal = self._level(self.firm, 15)
        self.assertTrue(formal.set_credit_hold and formal.is_urgent)
        self.assertEqual(formal.stage_id.stage_type, "judicial")

    def test_each_segment_follows_its_ladder(self):
        self._segment(self.profile, "D")
        self._segment(self.other_profile, "A")
        late = self._invoice(self.customer, 500.0, days_overdue=20)
        theirs = self._invoice(self.other_customer, 500.0, days_overdue=20)
        self._run()
        self.assertEqual(late.line_ids.cobranza_level_id.filtered("id"), self._level(self.firm, 15))
        self.assertEqual(theirs.line_ids.cobranza_level_id.filtered("id"), self._level(self.standard, 15))
        self.assertEqual(self._comms(channel="email").level_id, self._level(self.firm, 15))
        self.assertTrue(self.profile.is_on_hold, "the firm ladder holds at 15 days")
        self.assertFalse(self.other_profile.is_on_hold)

    def test_a_customers_own_ladder_overrides_its_segment(self):
        self._segment(self.profile, "A")
        self.profile.with_user(self.manager).ladder_id = self.firm
        late = self._invoice(self.customer, 500.0, days_overdue=3)
        self._run()
        self.assertEqual(late.line_ids.cobranza_level_id.filtered("id"), self._level(self.firm, 1))
        with self.assertRaises(AccessError):
            self.other_profile.with_user(self.collector).ladder_id = self.firm

    def test_moving_to_a_firmer_ladder_sends_the_firmer_notice_it_never_got(self):
        self._segment(self.profile, "A")
        late = self._invoice(self.customer, 500.0, days_overdue=35)
        item = late.line_ids.filtered(lambda line: line.account_id.account_type == "asset_receivable")
        self._run()
        self.assertEqual(item.cobranza_level_id, self._level(self.standard, 30))  # final notice
        sent = self._comms()
        self._segment(self.profile, "D")
        self._run()
        # the equivalent level: the firm ladder's highest neither later nor firmer than a final notice
        new = self._comms() - sent
        self.assertEqual(new.level_id, self._level(self.firm, 15), "its formal notice, never received, follows")
        self.assertEqual(item.cobranza_level_id, self._level(self.firm, 15))
        self.assertNotIn(self._level(self.firm, 1), new.level_id, "no overdue notice again")

    def test_moving_to_a_gentler_ladder_repeats_nothing(self):
        self._segment(self.profile, "D")
        late = self._invoice(self.customer, 500.0, days_overdue=20)
        item = late.line_ids.filtered(lambda line: line.account_id.account_type == "asset_receivable")
        self._run()
        self.assertEqual(item.cobranza_level_id, self._level(self.firm, 15))
        sent = self._comms()
        self._segment(self.profile, "A")
        moved = self.env["cobranza.dunning"]._move_to_ladder(self.company)
        self.assertEqual(moved, item.ids)
        self.assertEqual(item.cobranza_level_id, self._level(self.standard, 15), "second notice: not later, not firmer")
        self._run()
        self.assertEqual(self._comms(), sent, "nothing sent again")
        self.assertFalse(self.env["cobranza.dunning"]._move_to_ladder(self.company), "done once")

    def test_bad_ladders_are_refused(self):
        with self.assertRaises(ValidationError), self.env.cr.savepoint():
            self.Ladder.create({"name": "Vacía", "company_id": self.company.id, "segment_b": True})
        with self.assertRaises(ValidationError), self.env.cr.savepoint():
            self.Ladder.create({"name": "Otra D", "company_id": self.company.id, "segment_d": True,
                                "level_ids": [(0, 0, {"name": "Aviso", "offset_days": 3, "company_id": self.company.id,
                                                      "stage_id": self.level_first.stage_id.id})]})
        with self.assertRaises(ValidationError), self.env.cr.savepoint():
            self.Ladder.create({"name": "Otra por defecto", "company_id": self.company.id, "is_default": True,
                                "level_ids": [(0, 0, {"name": "Aviso", "offset_days": 3, "company_id": self.company.id,
                                                      "stage_id": self.level_first.stage_id.id})]})
        with self.assertRaises(ValidationError), self.env.cr.savepoint():
            self.firm.level_ids.active = False  # a ladder serving segment D cannot lose all its levels
        other_company_ladder = self.Ladder.sudo().search([("company_id", "!=", self.company.id)], limit=1)
        self.assertTrue(other_company_ladder)
        with self.assertRaises(ValidationError), self.env.cr.savepoint():
            self.profile.ladder_id = other_company_ladder
        with self.assertRaises(AccessError):
            self.Ladder.with_user(self.collector).create({"name": "Mía", "company_id": self.company.id})
        self.assertTrue(self.Ladder.with_user(self.collector).search([("company_id", "=", self.company.id)]))
