from datetime import timedelta

from odoo.tests import tagged

from .common import AgreementCommon


@tagged("post_install", "-at_install")
class TestPartnerPosition(AgreementCommon):
    """The partner form's Collections tab: the customer's position at a glance (open, overdue, segment,
    score, level, last and next contact, promises, agreements), read through the API as each user would."""

    def test_position_at_a_glance(self):
        late = self._invoice(self.customer, 200.0, days_overdue=20)
        self._invoice(self.customer, 100.0, days_overdue=-10)  # not due yet
        in_agreement = self._invoice(self.customer, 300.0, days_overdue=40)
        self._run()  # the daily run: levels reached, reminder sent
        self._agreement(in_agreement).action_activate()
        promise = self.env["cobranza.promise"].with_user(self.collector).create({
            "partner_id": self.customer.id, "move_ids": [(6, 0, late.ids)], "amount": 200.0,
            "promise_date": self.today + timedelta(days=5),
        })
        self.env["cobranza.promise"].sudo().create({
            "partner_id": self.customer.id, "move_ids": [(6, 0, late.ids)], "amount": 50.0,
            "promise_date": self.today - timedelta(days=3), "state": "broken",
        })
        self.env["cobranza.profile.refresh"].sudo()._cron_refresh()
        sent = self._comms(state="sent").sorted("id")[-1:]
        self.assertTrue(sent, "the run reminded the customer")
        reached = late.line_ids.filtered(lambda line: line.account_id.account_type == "asset_receivable") \
            .cobranza_level_id
        self.assertEqual(reached, self.level_second, "20 days overdue: the 15-day level")

        for user in (self.manager, self.collector):
            partner = self.customer.with_user(user).with_company(self.company)
            self.assertRecordValues(partner, [{
                "cobranza_open_amount": 600.0, "cobranza_overdue_amount": 500.0,
                "cobranza_level_id": self.level_final.id,
                "cobranza_last_contact_date": sent.date, "cobranza_last_contact_channel": sent.channel,
                "cobranza_open_promise_count": 1, "cobranza_next_promise_date": promise.promise_date,
                "cobranza_broken_promise_count": 1, "cobranza_agreement_count": 1,
            }])
            self.assertFalse(partner.cobranza_next_contact, "nothing reaches a new level before the next run")
            self.assertIn(partner.cobranza_segment, ("A", "B", "C", "D"))

        self._invoice(self.customer, 80.0, days_overdue=2)  # reaches the first level at the next run
        partner = self.customer.with_user(self.collector).with_company(self.company)
        partner.invalidate_recordset()
        self.env["cobranza.credit.profile"].invalidate_model()
        self.assertIn(self.level_first.name, partner.cobranza_next_contact)

        # another collector's customer: the tab shows nothing of it
        outsider = self.customer.with_user(self.collector_2).with_company(self.company)
        self.assertRecordValues(outsider, [{
            "cobranza_profile_id": False, "cobranza_open_amount": 0.0, "cobranza_level_id": False,
            "cobranza_last_contact_date": False, "cobranza_open_promise_count": 0, "cobranza_agreement_count": 0,
        }])

    def test_position_of_many_partners_in_a_few_queries(self):
        """The figures of a page of customers cost the same queries as those of one customer."""
        partners = self.customer | self.other_customer | self.env["res.partner"].create({"name": "Ferretería Sur"})
        for partner in partners:
            self._invoice(partner, 100.0, days_overdue=5)
            self.Profile._get_or_create(partner, self.company)

        def queries(records):
            records.invalidate_recordset()
            self.env["cobranza.credit.profile"].invalidate_model()
            before = self.env.cr.sql_log_count
            records.with_company(self.company).mapped("cobranza_agreement_count")
            return self.env.cr.sql_log_count - before

        queries(partners)  # warm: the rules and the fields' metadata
        self.assertEqual(queries(partners), queries(partners[:1]))
