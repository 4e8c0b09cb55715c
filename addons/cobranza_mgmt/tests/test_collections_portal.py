from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestCollectionsPortal(DunningCommon, HttpCase):
    """The customer's collections page: signed in, or through a link that opens it for that customer only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company_values = {"company_id": cls.company.id, "company_ids": [Command.set(cls.company.ids)]}
        cls.portal_user = new_test_user(cls.env, login="rio_bravo_cobranza", groups="base.group_portal",
                                        partner_id=cls.customer_contact.id, password="rio_bravo_cobranza",
                                        **company_values)
        other_contact = cls.env["res.partner"].create({"name": "Pedro Sol", "parent_id": cls.other_customer.id})
        cls.other_portal_user = new_test_user(cls.env, login="el_sol_cobranza", groups="base.group_portal",
                                              partner_id=other_contact.id, password="el_sol_cobranza",
                                              **company_values)
        cls.overdue = cls._invoice(cls.customer, 700.0, days_overdue=20)
        cls.not_due = cls._invoice(cls.customer, 150.0, days_overdue=-10)
        cls.theirs = cls._invoice(cls.other_customer, 999.0, days_overdue=20)
        cls.Link = cls.env["cobranza.portal.token"]

    def _page(self, url="/my/collections", **kwargs):
        response = self.url_open(url, allow_redirects=False, **kwargs)
        return response, response.text

    def _assert_customer_page(self, text):
        self.assertIn("o_cobranza_collections", text)
        self.assertIn(self.overdue.name, text)
        self.assertIn(self.not_due.name, text)
        self.assertNotIn(self.theirs.name, text)
        self.assertNotIn(self.other_customer.name, text)

    def test_signed_in_customer_sees_their_items_and_reminders(self):
        self._run()
        reminder = self._comms(state="sent")
        self.assertTrue(reminder)
        self.authenticate("rio_bravo_cobranza", "rio_bravo_cobranza")
        response, text = self._page()
        self.assertEqual(response.status_code, 200)
        self._assert_customer_page(text)
        self.assertIn(reminder.level_id.name, text)
        self.assertIn("o_cobranza_overdue", text)
        home = self.url_open("/my/home").text
        self.assertIn("My Account Statement", home)

    def test_the_reminder_links_to_the_page(self):
        self._run()
        body = self._comms(channel="email").mail_id.body_html
        token = body.split("/my/collections?token=")[1].split('"')[0]
        link = self.Link._resolve(token)
        self.assertEqual((link.partner_id, link.company_id), (self.customer, self.company))
        response, text = self._page(f"/my/collections?token={token}")
        self.assertEqual(response.status_code, 200)
        self._assert_customer_page(text)

    def test_a_link_opens_the_page_without_password_for_that_customer_only(self):
        link = self.Link._issue(self.customer, self.company)
        self.assertEqual(link, self.Link._issue(self.customer_contact, self.company), "a valid link is reused")
        response, text = self._page(f"/my/collections?token={link.token}&partner_id={self.other_customer.id}")
        self.assertEqual(response.status_code, 200)
        self._assert_customer_page(text)
        self.assertTrue(link.last_used_at)
        statement, text = self._page(
            f"/my/collections/statement?token={link.token}&company_id={self.company.id}"
            f"&partner_id={self.other_customer.id}")
        self.assertEqual(statement.status_code, 200)
        self.assertIn(self.overdue.name, text)
        self.assertNotIn(self.theirs.name, text)

    def test_expired_revoked_and_unknown_links_open_nothing(self):
        link = self.Link._issue(self.customer, self.company)
        token = link.token
        for setup in ("expired", "revoked", "unknown"):
            if setup == "expired":
                link.sudo().expires_at = fields.Datetime.now() - timedelta(minutes=1)
            elif setup == "revoked":
                link.sudo().expires_at = fields.Datetime.now() + timedelta(days=3)
                link.with_user(self.collector).action_revoke()
                self.assertEqual(link.state, "revoked")
            else:
                token = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
            response, text = self._page(f"/my/collections?token={token}")
            self.assertEqual(response.status_code, 403, setup)
            self.assertIn("o_cobranza_link_expired", text)
            self.assertNotIn(self.overdue.name, text)
            statement, text = self._page(f"/my/collections/statement?token={token}")
            self.assertIn(statement.status_code, (302, 303), setup)
            self.assertNotIn(self.overdue.name, text)

    def test_without_link_or_sign_in_the_page_asks_to_sign_in(self):
        response, _text = self._page()
        self.assertIn(response.status_code, (302, 303))
        self.assertIn("/web/login", response.headers["Location"])

    def test_another_customer_signed_in_sees_only_their_own(self):
        self.authenticate("el_sol_cobranza", "el_sol_cobranza")
        _response, text = self._page()
        self.assertIn(self.theirs.name, text)
        self.assertNotIn(self.overdue.name, text)
        link = self.Link._issue(self.customer, self.company)
        _response, text = self._page(f"/my/collections/statement?company_id={self.company.id}")
        self.assertNotIn(self.overdue.name, text)
        self.assertNotIn(link.token, text)

    def test_links_are_read_and_revoked_by_their_collectors_only(self):
        link = self.Link._issue(self.customer, self.company)
        with self.assertRaises(AccessError):
            self.Link.with_user(self.portal_user).search([])
        with self.assertRaises(AccessError):
            link.with_user(self.collector).read(["token"])
        with self.assertRaises(AccessError):
            link.with_user(self.collector_2).action_revoke()
        with self.assertRaises(AccessError):
            link.with_user(self.manager).write({"expires_at": fields.Datetime.now() + timedelta(days=900)})
        with self.assertRaises(AccessError):
            self.Link.with_user(self.manager).create({"partner_id": self.customer.id, "company_id": self.company.id,
                                                      "token": "x" * 43, "expires_at": fields.Datetime.now()})
        self.assertEqual(link.state, "valid")
