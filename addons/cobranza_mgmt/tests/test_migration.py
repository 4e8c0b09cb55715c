"""The 18.0.1.1.0 migration brings an existing database to what the hardening expects."""
import importlib.util
from pathlib import Path

from odoo.tests import tagged

from .test_dunning import DunningCommon

SCRIPT = Path(__file__).resolve().parent.parent / "migrations" / "18.0.1.1.0" / "post-migrate.py"


@tagged("post_install", "-at_install")
class TestMigration(DunningCommon):

    def test_running_companies_keep_running_and_texts_lose_their_code(self):
        spec = importlib.util.spec_from_file_location("cobranza_migration_18_0_1_1_0", SCRIPT)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        old_text = "{{ object.company_id.name }}: {{ format_amount(object.amount_due, object.currency_id) }} vencido."
        self.company.cobranza_start_date = False
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE cobranza_dunning_level SET text_body = jsonb_build_object('en_US', %s::text, 'es_ES', %s::text) "
            "WHERE id = %s", [old_text, old_text, self.level_first.id])
        migration.migrate(self.env.cr, "18.0.1.0.0")
        self.env.invalidate_all()
        self.assertTrue(self.company.cobranza_start_date)
        self.assertEqual(self.level_first.text_body,
                         "{{ object.company_id.name }}: {{ object.amount_due_text }} vencido.")
        self.level_first._check_text_placeholders(self.level_first.text_body)  # valid now
