from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import CobranzaCommon


@tagged("post_install", "-at_install")
class TestCobranzaStage(CobranzaCommon):

    def test_duplicate_name_refused(self):
        with self.assertRaisesRegex(ValidationError, "Administrative"):
            self.env["cobranza.stage"].create({"name": "Administrative"})

    def test_same_name_allowed_in_two_companies(self):
        company_a = self.env["res.company"].create({"name": "Cobranzas Norte S.A."})
        company_b = self.env["res.company"].create({"name": "Cobranzas Sur S.A."})
        stages = self.env["cobranza.stage"].create([
            {"name": "Prejudicial", "company_id": company_a.id},
            {"name": "Prejudicial", "company_id": company_b.id},
        ])
        self.assertEqual(len(stages), 2)
        with self.assertRaises(ValidationError):
            self.env["cobranza.stage"].create({"name": "Prejudicial"})

    def test_archived_stage_hidden_from_search(self):
        stage = self.env.ref("cobranza_mgmt.cobranza_stage_agency")
        stage.action_archive()
        self.assertNotIn(stage, self.env["cobranza.stage"].search([]))
