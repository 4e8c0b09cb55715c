import json
from datetime import timedelta

import psycopg2

from odoo import Command, http
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import GROUP_COLLECTOR
from .test_collections_portal import PortalLinkCommon

PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


@tagged("post_install", "-at_install")
class TestAgreementRequest(PortalLinkCommon):
    """A customer asks in the portal for installments within its segment's policy; the collector
    approves (the customer then signs) or declines with a reason."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Agreement = cls.env["cobranza.agreement"]
        cls.company.cobranza_agreement_interest_product_id = cls.product_a
        cls.Policy = cls.env["cobranza.agreement.policy"]
        cls.policy_b = cls.Policy.create({
            "company_id": cls.company.id, "segment": "B", "max_installments": 4, "min_down_payment_percent": 10,
            "max_first_days": 30, "interest_rate": 12.0, "interest_method": "flat",
        })
        cls.policy_d = cls.Policy.create({
            "company_id": cls.company.id, "segment": "D", "portal_request": False, "max_installments": 2,
        })
        cls.profile.sudo().segment = "B"

    def _ask(self, invoices=None, **values):
        values = {"installments": "3", "down_payment": "100", "frequency": "monthly",
                  "first_due_date": str(self.today + timedelta(days=20)), **values}
        return self.url_open("/my/collections/installments", data={
            "csrf_token": http.Request.csrf_token(self), "token": self.link.token, "company_id": self.company.id,
            "invoice_ids": (invoices if invoices is not None else self.overdue | self.second).ids, **values,
        }, allow_redirects=False)

    def _request(self):
        response = self._ask(comment="Podemos pagar el día 20 de cada mes")
        self.assertIn(response.status_code, (302, 303), response.text[:800])
        self.assertIn("message=installments", response.headers["Location"])
        self.env.invalidate_all()
        return self.Agreement.search([("partner_id", "=", self.customer.id), ("state", "=", "requested")])

    def test_request_within_the_policy_reaches_the_collector(self):
        page = self.url_open(f"/my/collections?token={self.link.token}").text
        self.assertIn("o_cobranza_installments_form", page)
        self.assertIn('<option value="4">4</option>', page)  # as many installments as the policy allows
        self.assertNotIn('<option value="5">5</option>', page)
        request = self._request()
        self.assertEqual(len(request), 1)
        self.assertEqual((request.financed_amount, request.down_payment, request.installment_count,
                          request.frequency, request.interest_rate, request.move_ids),
                         (500.0, 100.0, 3, "monthly", 12.0, self.overdue | self.second))
        installments = request.installment_ids.sorted("sequence")
        self.assertEqual(len(installments), 4, "the down payment and three installments")
        self.assertEqual((installments[0].is_down_payment, installments[0].due_date, installments[0].amount),
                         (True, self.today, 100.0))
        self.assertEqual(installments[1].due_date, self.today + timedelta(days=20))
        self.assertGreater(request.interest_amount, 0, "the policy's interest")
        self.assertEqual(request.request_note, "Podemos pagar el día 20 de cada mes")
        self.assertEqual(request.collector_id, self.collector)
        activity = request.activity_ids
        self.assertEqual((activity.user_id, activity.summary),
                         (self.collector, "Request for installments from the portal"))
        # the collector finds it in the agreements list of its customers
        as_collector = self.Agreement.with_user(self.collector)
        self.assertIn(request, as_collector.search([("state", "=", "requested")]))
        # the page now says the request waits, and no second request is possible meanwhile
        page = self.url_open(f"/my/collections?token={self.link.token}").text
        self.assertIn("o_cobranza_request_pending", page)
        self.assertNotIn("o_cobranza_installments_form", page)
        detail = self.url_open(request.get_portal_url()).text
        self.assertIn("o_cobranza_request_waiting", detail)
        self.assertIn("Podemos pagar", detail)
        # dunning goes on while the collector has not answered (only a promise pauses it)
        self._run()
        self.assertTrue(self._comms())

    def test_the_collector_approves_and_the_customer_signs(self):
        request = self._request()
        request.with_user(self.collector).action_propose()
        self.assertEqual(request.state, "proposed")
        self.assertFalse(request.activity_ids, "the collector's to-do is done")
        proposal = request.message_ids.filtered(lambda m: request.name in (m.subject or "") and m.partner_ids)
        self.assertIn(self.customer, proposal.partner_ids)
        self.assertIn(request.get_portal_url().split("?")[0], proposal.body)
        response = self.url_open(
            f"{request.get_portal_url(suffix='/accept')}",
            data=json.dumps({"jsonrpc": "2.0", "method": "call", "id": 1,
                             "params": {"name": "Lucía Pérez", "signature": PIXEL}}),
            headers={"Content-Type": "application/json"},
        )
        self.assertNotIn("error", response.json()["result"])
        self.env.invalidate_all()
        self.assertEqual((request.state, request.signed_by), ("active", "Lucía Pérez"))
        self.assertTrue(request.interest_move_id, "the policy's interest is billed when it starts")

    def test_a_request_answered_days_later_starts_that_day(self):
        request = self._request()
        yesterday = self.today - timedelta(days=1)
        down = request.installment_ids.filtered("is_down_payment")
        request.sudo().write({"date": yesterday, "installment_ids": [Command.update(down.id, {"due_date": yesterday})]})
        request.with_user(self.collector).action_propose()
        self.assertEqual((request.date, down.due_date), (self.today, self.today))

    def test_the_collector_declines_with_a_reason_the_customer_reads(self):
        self._speak_spanish(self.customer)
        request = self._request()
        wizard = self.env["cobranza.agreement.decline"].with_user(self.collector).with_context(
            default_agreement_id=request.id).create({"reason": "Podemos ofrecer como máximo 2 cuotas."})
        with self.assertRaises(UserError):
            request.with_user(self.collector).action_decline("  ")
        wizard.action_confirm()
        self.assertEqual((request.state, request.decline_reason), ("declined", "Podemos ofrecer como máximo 2 cuotas."))
        mail = request.message_ids.filtered(lambda m: self.customer in m.partner_ids)
        self.assertEqual(len(mail), 1)
        self.assertIn("Podemos ofrecer como máximo 2 cuotas.", mail.body)
        self.assertIn("no podemos aceptarla", mail.body, "the customer reads it in Spanish")
        detail = self.url_open(request.get_portal_url()).text
        self.assertIn("o_cobranza_request_declined", detail)
        self.assertIn("Podemos ofrecer", detail)
        self.assertIn("No pudimos aceptar esta solicitud", detail, "the e-mail's link opens the page in Spanish")
        # the invoices are free again: the customer may ask once more
        page = self.url_open(f"/my/collections?token={self.link.token}").text
        self.assertIn("o_cobranza_installments_form", page)
        with self.assertRaises(UserError):
            request.with_user(self.collector).action_propose()

    def test_requests_outside_the_policy_are_refused(self):
        far = str(self.today + timedelta(days=31))
        cases = [
            ({"installments": "5"}, "Choose from 1 to 4 installments"),
            ({"installments": "0"}, "Choose from 1 to 4 installments"),
            ({"installments": "tres"}, "Give the number of installments"),
            ({"down_payment": "49.99"}, "The down payment must be at least"),  # 10 % of 500
            ({"down_payment": "500"}, "The down payment must be at least"),
            ({"down_payment": "nan"}, "Give the number of installments"),
            ({"first_due_date": far}, "Choose the first installment"),
            ({"first_due_date": str(self.today)}, "Choose the first installment"),
            ({"first_due_date": ""}, "Choose the first installment"),
            ({"frequency": "custom"}, "Choose how often you pay"),
        ]
        for values, message in cases:
            response = self._ask(**values)
            self.assertEqual(response.status_code, 400, values)
            self.assertIn(message, response.text, values)
        for invoices in (self.theirs, self.overdue | self.theirs, self.env["account.move"]):
            response = self._ask(invoices)
            self.assertEqual(response.status_code, 400)
            self.assertIn("Choose among your open invoices", response.text)
        self.overdue.sudo().cobranza_is_disputed = True
        self.assertIn("Invoices in dispute", self._ask().text)
        self.overdue.sudo().cobranza_is_disputed = False
        self.profile.sudo().segment = "D"  # its policy keeps requests for the collector
        self.assertIn("cannot be asked for online", self._ask().text)
        self.profile.sudo().segment = False
        self.assertIn("cannot be asked for online", self._ask().text)
        self.assertFalse(self.Agreement.search([("partner_id", "=", self.customer.id)]), "nothing recorded")
        # one request at a time; an invoice already in an agreement cannot be asked for again
        self.profile.sudo().segment = "B"
        self._request()
        self.assertIn("already asked for installments", self._ask(self.overdue).text)

    def test_without_csrf_or_link_nothing_is_recorded(self):
        response = self.url_open("/my/collections/installments", data={
            "token": self.link.token, "company_id": self.company.id, "invoice_ids": self.overdue.ids,
            "installments": "2", "down_payment": "100", "frequency": "monthly",
            "first_due_date": str(self.today + timedelta(days=10)),
        }, allow_redirects=False)
        self.assertNotIn(response.status_code, (200, 302, 303))
        response = self.url_open("/my/collections/installments", data={
            "csrf_token": http.Request.csrf_token(self), "token": "not-a-token", "company_id": self.company.id,
            "invoice_ids": self.overdue.ids, "installments": "2", "down_payment": "100", "frequency": "monthly",
            "first_due_date": str(self.today + timedelta(days=10)),
        }, allow_redirects=False)
        self.assertIn(response.status_code, (302, 303))
        self.assertFalse(self.Agreement.search([("partner_id", "=", self.customer.id)]))

    def test_who_may_answer_a_request(self):
        request = self._request()
        stranger = new_test_user(self.env, login="other_collector", groups=f"base.group_user,{GROUP_COLLECTOR}")
        with self.assertRaises(AccessError):
            request.with_user(stranger).action_propose()
        with self.assertRaises(AccessError):
            request.with_user(stranger).action_decline("No")
        clerk = new_test_user(self.env, login="billing_clerk", groups="account.group_account_invoice")
        with self.assertRaises(AccessError):
            request.with_user(clerk).action_decline("No")
        with self.assertRaises(AccessError):
            request.with_user(self.collector).write({"state": "proposed"})
        with self.assertRaises(ValidationError):  # a requested agreement's terms are the customer's
            request.with_user(self.collector).write({"down_payment": 50.0})
        self.assertEqual(request.state, "requested")
        # taking it over as a draft lets the collector change the terms before proposing them
        request.with_user(self.collector).action_draft()
        self.assertEqual(request.state, "draft")
        self.assertFalse(request.activity_ids)

    def test_policy_bad_input(self):
        with self.assertRaises(psycopg2.IntegrityError), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            self.Policy.create({"company_id": self.company.id, "segment": "B"})
        for values in ({"max_installments": 0}, {"min_down_payment_percent": 100}, {"min_down_payment_percent": -1},
                       {"max_first_days": 0}, {"interest_rate": -2}):
            with self.assertRaises(ValidationError), self.env.cr.savepoint():
                self.Policy.create({"company_id": self.company.id, "segment": "A", **values})
        with self.assertRaises(AccessError):
            self.Policy.with_user(self.collector).create({"company_id": self.company.id, "segment": "A"})

    def test_the_collectors_worklist_shows_what_came_from_the_portal(self):
        third = self._invoice(self.customer, 90.0, days_overdue=3)
        Profile = self.env["cobranza.credit.profile"].with_user(self.collector)
        self.assertNotIn(self.profile, Profile.search([("portal_pending", ">", 0)]))
        self.env["cobranza.promise"]._portal_record(self.customer, self.company, self.overdue,
                                                    self.today + timedelta(days=5), 300.0)
        self.assertIn(self._ask(self.second, down_payment="20").status_code, (302, 303))
        third._cobranza_portal_dispute(self.customer, self.company,
                                       self.env.ref("cobranza_mgmt.cobranza_dispute_reason_paid"), "", [])
        self.env.invalidate_all()
        self.assertEqual(Profile.browse(self.profile.id).portal_pending, 3)
        found = Profile.search([("portal_pending", ">", 0)])
        self.assertIn(self.profile, found)
        self.assertNotIn(self.profile, Profile.search([("portal_pending", "=", 0)]))
        # what a collector records is not the portal's
        other_profile = self.Profile._get_or_create(self.other_customer, self.company)
        other_profile.collector_id = self.collector
        self.theirs.with_user(self.collector)._cobranza_set_dispute("Precio mal facturado")
        self.env["cobranza.promise"].with_user(self.collector).create({
            "partner_id": self.other_customer.id, "company_id": self.company.id,
            "move_ids": [Command.set(self.theirs.ids)], "promise_date": self.today + timedelta(days=3),
            "amount": 999.0,
        })
        self.assertNotIn(other_profile, Profile.search([("portal_pending", ">", 0)]))
        self.assertEqual(Profile.browse(other_profile.id).portal_pending, 0)
        request = self.Agreement.search([("partner_id", "=", self.customer.id), ("state", "=", "requested")])
        request.with_user(self.collector).action_decline("Llame a su cobrador, por favor.")
        self.env.invalidate_all()
        self.assertEqual(Profile.browse(self.profile.id).portal_pending, 2)
