import ast
from datetime import timedelta

import pytz

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .common import DunningCommon

DAYS = ("contact_mon", "contact_tue", "contact_wed", "contact_thu", "contact_fri", "contact_sat", "contact_sun")


@tagged("post_install", "-at_install")
class TestContactPreferences(DunningCommon):
    """How and when a customer may be contacted, honoured by the run, by hand, by agreements and the worklist."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer.write({"mobile": "+57 300 555 0101", "tz": "America/Bogota"})
        cls.level_first.write({"send_text": True, "text_channel": "sms"})
        cls.other_profile = cls.Profile._get_or_create(cls.other_customer, cls.company)

    def test_do_not_contact_stops_everything(self):
        self._invoice(self.customer, 400.0, days_overdue=3)
        with self.assertRaises(ValidationError), self.env.cr.savepoint():
            self.profile.with_user(self.collector).contact_blocked = True  # a reason is required
        self.profile.with_user(self.collector).write({"contact_blocked": True,
                                                      "contact_blocked_reason": "Proceso judicial en curso"})
        self._run()
        self.assertFalse(self._comms(), "the run leaves the customer out")
        with self.assertRaisesRegex(UserError, "Proceso judicial"):
            self.profile.with_user(self.collector).action_send_reminder_now()
        worklist = self.env.ref("cobranza_mgmt.cobranza_credit_profile_action_worklist")
        self.env["cobranza.profile.refresh"].sudo()._cron_refresh()
        self.assertNotIn(self.profile, self.Profile.search(ast.literal_eval(worklist.domain)))
        self.assertIn("Proceso judicial", self.profile.contact_summary)
        with self.assertRaises(AccessError):
            self.profile.with_user(self.collector).contact_blocked = False
        self.profile.with_user(self.manager).contact_blocked = False
        self._run()
        self.assertTrue(self._comms(), "reminded once allowed again")

    def test_forbidden_channels_are_dropped_and_texts_take_the_preferred_channel(self):
        self.profile.write({"contact_no_email": True, "contact_text_channel": "whatsapp"})
        self.other_profile.write({"contact_no_email": True, "contact_no_sms": True, "contact_no_whatsapp": True})
        self._invoice(self.customer, 400.0, days_overdue=3)
        self._invoice(self.other_customer, 400.0, days_overdue=3)
        self._run(deliver=False)
        self.assertEqual(self._comms().mapped("channel"), ["whatsapp"])
        self.assertEqual(self._comms(self.other_customer).mapped("channel"), ["phone"],
                         "nothing else allowed: the collector calls")
        with self.assertRaisesRegex(UserError, "No E-mails"):
            self.env["cobranza.dunning"]._send_now(self.company, self.customer)

    def test_texts_and_calls_wait_for_the_customers_days_and_hours(self):
        zone = pytz.timezone("America/Bogota")
        local_now = pytz.utc.localize(fields.Datetime.now()).astimezone(zone)
        tomorrow = (local_now + timedelta(days=1)).weekday()
        self.profile.write({"contact_hour_from": 9.0, "contact_hour_to": 12.5,
                            **{day: index == tomorrow for index, day in enumerate(DAYS)}})
        self.assertIn("09:00-12:30", self.profile.contact_summary)
        self._invoice(self.customer, 400.0, days_overdue=20)  # second notice: e-mail and a call task
        self.level_second.write({"send_text": True, "text_channel": "sms"})
        self._run(deliver=True)
        by_channel = {communication.channel: communication for communication in self._comms()}
        self.assertEqual(set(by_channel), {"email", "sms", "phone"})
        text = by_channel["sms"]
        opens = zone.localize((local_now + timedelta(days=1)).replace(tzinfo=None).replace(
            hour=9, minute=0, second=0, microsecond=0)).astimezone(pytz.utc).replace(tzinfo=None)
        self.assertEqual(text.not_before, opens)
        self.assertEqual(text.state, "queued", "the text waits for tomorrow 09:00 in Bogotá")
        self.assertTrue(by_channel["email"].mail_id, "e-mails keep their own pace (in the mail queue)")
        call = by_channel["phone"]
        self.assertEqual(call.state, "sent")
        self.assertEqual(call.activity_id.date_deadline, opens.date(), "the call is due on the customer's day")
        self.assertEqual(self.env["cobranza.communication"]._dispatch_queued(), 0, "nothing taken before the hour")
        text.sudo().not_before = fields.Datetime.now() - timedelta(minutes=1)  # the window opened
        self.env["cobranza.communication"]._dispatch_queued()
        self.assertNotEqual(text.state, "queued", "delivered (or failed for want of a gateway) once it opened")

    def test_agreement_emails_follow_the_preferences(self):
        agreement = self.env["cobranza.agreement"].new({"partner_id": self.customer.id, "company_id": self.company.id})
        self.assertTrue(agreement._may_email())
        self.profile.contact_no_email = True
        self.assertFalse(agreement._may_email())

    def test_bad_preferences_are_refused(self):
        cases = [
            {"contact_hour_from": 18.0, "contact_hour_to": 9.0},
            {"contact_hour_from": 10.0, "contact_hour_to": 10.0},
            {"contact_hour_from": 8.0, "contact_hour_to": 25.0},
            {"contact_no_whatsapp": True, "contact_text_channel": "whatsapp"},
            {"contact_blocked": True, "contact_blocked_reason": "  "},
        ]
        for values in cases:
            with self.assertRaises(ValidationError, msg=values), self.env.cr.savepoint():
                self.profile.write(values)
        self.profile.write({"contact_hour_from": 0.0, "contact_hour_to": 0.0})  # any time
        self.assertEqual(self.profile.contact_summary, "")

    def test_a_profile_made_by_the_nightly_refresh_has_no_preference_and_can_be_edited(self):
        newcomer = self.env["res.partner"].create({"name": "Distribuidora Nueva", "is_company": True})
        self._invoice(newcomer, 100.0, days_overdue=2)
        self.env["cobranza.profile.refresh"].sudo()._cron_refresh()  # profiles made by its SQL upsert
        profile = self.Profile.sudo().search([("partner_id", "=", newcomer.id), ("company_id", "=", self.company.id)])
        self.assertTrue(profile)
        now = fields.Datetime.now()
        self.assertEqual((profile._has_window(), profile._contact_window_start(now)), (False, now))
        profile.with_user(self.manager).contact_no_sms = True  # no "choose a day" error
        self.assertEqual(profile.contact_summary, "No SMS")
