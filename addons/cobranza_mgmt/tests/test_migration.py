"""The migrations bring an existing database to what each version expects."""
from odoo.tests import tagged

from .common import DunningCommon, load_migration


@tagged("post_install", "-at_install")
class TestMigration(DunningCommon):

    def test_running_companies_keep_running_and_texts_lose_their_code(self):
        migration = load_migration("18.0.1.1.0", "post-migrate")
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

    def test_automatic_holds_become_policy_holds(self):
        """18.0.1.2.0: the credit decision has one owner; its holds are of type "policy"."""
        self.env.flush_all()
        self.env.cr.execute("UPDATE cobranza_credit_profile SET is_on_hold = true, hold_type = 'auto', "
                            "hold_reason = 'old' WHERE id = %s", [self.profile.id])
        load_migration("18.0.1.2.0", "pre-migrate").migrate(self.env.cr, "18.0.1.1.0")
        self.env.invalidate_all()
        self.assertRecordValues(self.profile, [{"is_on_hold": True, "hold_type": "policy", "hold_reason": "old"}])

    def test_portal_promises_of_older_versions_are_flagged(self):
        """18.0.1.5.0: promises a share (portal or public) user recorded come from the portal."""
        portal = self.env.ref("base.public_user")
        invoice = self._invoice(self.customer, 300.0, days_overdue=10)
        promises = self.env["cobranza.promise"].create([{
            "partner_id": self.customer.id, "company_id": self.company.id, "move_ids": [(6, 0, invoice.ids)],
            "promise_date": self.today, "amount": 100.0,
        } for _i in range(2)])
        self.env.flush_all()
        self.env.cr.execute("UPDATE cobranza_promise SET from_portal = NULL, user_id = %s WHERE id = %s",
                            [portal.id, promises[0].id])
        load_migration("18.0.1.5.0", "post-migrate").migrate(self.env.cr, "18.0.1.4.0")
        self.env.invalidate_all()
        self.assertEqual(promises.mapped("from_portal"), [True, False])
