import json
from datetime import timedelta

from odoo import Command, fields, http
from odoo.exceptions import AccessError, UserError
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
        """The page as a browser opens it: a link's token is traded for the session on the first GET."""
        response = self.url_open(url, allow_redirects=False, **kwargs)
        if url.startswith("/my/collections?token=") and response.status_code in (302, 303):
            self.assertNotIn("token=", response.headers["Location"])
            self.assertEqual(response.headers.get("Referrer-Policy"), "no-referrer")
            response = self.url_open(response.headers["Location"], allow_redirects=False, **kwargs)
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

    def test_the_link_is_traded_for_the_session_and_a_clean_address(self):
        link = self.Link._issue(self.customer, self.company)
        first = self.url_open(f"/my/collections?token={link.token}", allow_redirects=False)
        self.assertIn(first.status_code, (302, 303))
        self.assertTrue(first.headers["Location"].endswith("/my/collections"))
        self.assertEqual(first.headers.get("Referrer-Policy"), "no-referrer")
        page = self.url_open("/my/collections", allow_redirects=False)
        self.assertEqual(page.status_code, 200)
        self.assertEqual(page.headers.get("Referrer-Policy"), "no-referrer")
        self._assert_customer_page(page.text)
        self.assertNotIn(link.token, page.text, "the token is in no form, link or address of the page")
        self.assertIn(f"<title>Account Statement · {self.customer.name}</title>", page.text)
        self.assertIn("o_cobranza_customer", page.text)

    def test_a_revoked_link_in_the_session_opens_nothing_more(self):
        link = self.Link._issue(self.customer, self.company)
        self._page(f"/my/collections?token={link.token}")
        link.with_user(self.collector).action_revoke()
        response, text = self._page()
        self.assertIn(response.status_code, (302, 303), "back to sign in: the session's link is gone")
        self.assertNotIn(self.overdue.name, text)

    def test_a_signed_in_customer_whose_session_link_expired_still_sees_their_page(self):
        self.authenticate("rio_bravo_cobranza", "rio_bravo_cobranza")
        link = self.Link._issue(self.customer, self.company)
        self._page(f"/my/collections?token={link.token}")
        link.with_user(self.collector).action_revoke()
        response, text = self._page()
        self.assertEqual(response.status_code, 200)
        self._assert_customer_page(text)

    def test_a_promised_invoice_is_marked_and_not_promised_again(self):
        self.env["cobranza.promise"].sudo().create({
            "partner_id": self.customer.id, "company_id": self.company.id, "move_ids": [Command.set(self.overdue.ids)],
            "promise_date": self.today + timedelta(days=5), "amount": 700.0,
        })
        link = self.Link._issue(self.customer, self.company)
        _response, text = self._page(f"/my/collections?token={link.token}")
        self.assertIn("o_cobranza_promised", text)
        promise_form = text.split("o_cobranza_promise_form")[1].split("</form>")[0]
        self.assertNotIn(f'value="{self.overdue.id}"', promise_form)
        self.assertIn(f'value="{self.not_due.id}"', promise_form)
        self.company.cobranza_portal_promise_max_open = 5  # the invoice, not the count of promises, refuses it
        with self.assertRaisesRegex(UserError, "You already promised to pay"):
            self.env["cobranza.promise"]._portal_record(self.customer, self.company, self.overdue,
                                                        self.today + timedelta(days=3), 700.0)

    def test_the_link_speaks_the_customers_language(self):
        self._speak_spanish(self.customer)
        link = self.Link._issue(self.customer, self.company)
        _response, text = self._page(f"/my/collections?token={link.token}")
        for spanish in ("Mi estado de cuenta", "Total adeudado", "Facturas abiertas", "Promesa de pago", "No vencido"):
            self.assertIn(spanish, text)

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


class PortalLinkCommon(DunningCommon, HttpCase):
    """A visitor with the customer's link, two open invoices of the customer and one of another."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.overdue = cls._invoice(cls.customer, 300.0, days_overdue=20)
        cls.second = cls._invoice(cls.customer, 200.0, days_overdue=5)
        cls.theirs = cls._invoice(cls.other_customer, 999.0, days_overdue=20)
        cls.link = cls.env["cobranza.portal.token"]._issue(cls.customer, cls.company)

    def setUp(self):
        super().setUp()
        self.authenticate(None, None)  # a visitor's session (no user): the link is what opens the page


@tagged("post_install", "-at_install")
class TestPortalPromiseAndDispute(PortalLinkCommon):
    """Promises and disputes the customer records on the page, checked on the server."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.cobranza_portal_promise_min_percent = 50.0

    def _post(self, route, invoices, files=None, **values):
        response = self.url_open(route, data={
            "csrf_token": http.Request.csrf_token(self), "token": self.link.token, "company_id": self.company.id,
            "invoice_ids": invoices.ids, **values,
        }, files=files, allow_redirects=False)
        return response

    def test_promise_from_the_portal_pauses_dunning_and_tells_the_collector(self):
        day = self.today + timedelta(days=10)
        response = self._post("/my/collections/promise", self.overdue | self.second, promise_date=str(day),
                              amount="300")
        self.assertIn(response.status_code, (302, 303), response.text[:500])
        self.assertIn("message=promise", response.headers["Location"])
        self.env.invalidate_all()
        promise = self.env["cobranza.promise"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual((promise.amount, promise.promise_date, promise.move_ids, promise.state),
                         (300.0, day, self.overdue | self.second, "open"))
        self.assertEqual(promise.collector_id, self.collector)
        activity = self.customer.activity_ids.filtered(lambda a: a.summary == "Promise to pay from the portal")
        self.assertEqual(activity.user_id, self.collector)
        self._run()
        self.assertFalse(self._comms(), "the next run skips the promised invoices")

    def test_promise_limits_and_tampering_are_refused(self):
        count = self.env["cobranza.promise"].search_count([])
        day = str(self.today + timedelta(days=10))
        cases = [
            (self.overdue, {"promise_date": day, "amount": "100"}, "Promise an amount from"),  # under 50 %
            (self.overdue, {"promise_date": day, "amount": "5000"}, "Promise an amount from"),  # over the debt
            (self.overdue, {"promise_date": str(self.today - timedelta(days=1)), "amount": "400"}, "Choose a date"),
            (self.overdue, {"promise_date": str(self.today + timedelta(days=400)), "amount": "400"}, "Choose a date"),
            (self.overdue, {"promise_date": "mañana", "amount": "400"}, "Give the date and the amount"),
            (self.theirs, {"promise_date": day, "amount": "999"}, "Choose among your open invoices"),
            (self.overdue | self.theirs, {"promise_date": day, "amount": "999"}, "Choose among your open invoices"),
        ]
        for invoices, values, message in cases:
            response = self._post("/my/collections/promise", invoices, **values)
            self.assertEqual(response.status_code, 400, values)
            self.assertIn(message, response.text)
        self.assertEqual(self.env["cobranza.promise"].search_count([]), count, "nothing recorded")
        # a second open promise is refused (one at most by default)
        self.assertIn(self._post("/my/collections/promise", self.overdue, promise_date=day, amount="300").status_code,
                      (302, 303))
        response = self._post("/my/collections/promise", self.second, promise_date=day, amount="100")
        self.assertEqual(response.status_code, 400)
        self.assertIn("already have an open promise", response.text)

    def test_without_csrf_or_with_a_dead_link_nothing_is_recorded(self):
        response = self.url_open("/my/collections/promise", data={
            "token": self.link.token, "company_id": self.company.id, "invoice_ids": self.overdue.ids,
            "promise_date": str(self.today + timedelta(days=3)), "amount": "400",
        }, allow_redirects=False)
        self.assertNotIn(response.status_code, (200, 302, 303))
        self.link.sudo().expires_at = fields.Datetime.now() - timedelta(minutes=1)
        response = self._post("/my/collections/promise", self.overdue, promise_date=str(self.today), amount="400")
        self.assertIn(response.status_code, (302, 303))
        self.assertFalse(self.env["cobranza.promise"].search([("partner_id", "=", self.customer.id)]))

    def test_dispute_with_an_attachment(self):
        reason = self.env.ref("cobranza_mgmt.cobranza_dispute_reason_not_received")
        response = self._post("/my/collections/dispute", self.overdue, reason_id=reason.id,
                              comment="La mercancía llegó incompleta",
                              files={"attachments": ("remito.pdf", b"%PDF-1.4 remito", "application/pdf")})
        self.assertIn(response.status_code, (302, 303), response.text[:500])
        self.env.invalidate_all()  # the request wrote through its own environment
        self.assertTrue(self.overdue.cobranza_is_disputed)
        self.assertIn("La mercancía llegó incompleta", self.overdue.cobranza_dispute_reason)
        self.assertFalse(self.second.cobranza_is_disputed)
        message = self.overdue.message_ids.filtered(lambda m: "customer portal" in (m.body or ""))
        self.assertEqual(message.attachment_ids.mapped("name"), ["remito.pdf"])
        self.assertEqual(message.attachment_ids.mimetype, "application/pdf")
        activity = self.overdue.activity_ids.filtered(lambda a: a.summary == "Dispute from the portal: resolve it")
        self.assertEqual(activity.user_id, self.collector)
        page = self.url_open(f"/my/collections?token={self.link.token}").text
        self.assertIn("o_cobranza_disputed", page)
        self._run()
        self.assertNotIn(self.overdue, self._comms().move_ids, "the disputed invoice left dunning")

    def test_a_comment_with_markup_reaches_the_collector_as_text(self):
        reason = self.env.ref("cobranza_mgmt.cobranza_dispute_reason_other")
        comment = '<img src="x" onerror="alert(1)"><a href="https://evil.example">pague aquí</a>'
        response = self._post("/my/collections/dispute", self.overdue, reason_id=reason.id, comment=comment)
        self.assertIn(response.status_code, (302, 303), response.text[:500])
        self.env.invalidate_all()
        activity = self.overdue.activity_ids.filtered(lambda a: a.summary == "Dispute from the portal: resolve it")
        self.assertNotIn("<img", activity.note)
        self.assertNotIn("<a ", activity.note)
        self.assertIn("&lt;img", activity.note)
        message = self.overdue.message_ids.filtered(lambda m: "customer portal" in (m.body or ""))
        self.assertNotIn("<img", message.body)

    def test_a_file_that_could_run_in_a_browser_is_kept_as_a_download(self):
        reason = self.env.ref("cobranza_mgmt.cobranza_dispute_reason_other")
        svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
        response = self._post("/my/collections/dispute", self.overdue, reason_id=reason.id,
                              files={"attachments": ("factura.svg", svg, "image/svg+xml")})
        self.assertIn(response.status_code, (302, 303))
        attachment = self.env["ir.attachment"].search([("res_model", "=", "account.move"),
                                                       ("res_id", "=", self.overdue.id), ("name", "=", "factura.svg")])
        self.assertIn(attachment.mimetype, ("application/octet-stream", "text/plain"), "never served as SVG")

    def test_dispute_of_another_customers_invoice_is_refused(self):
        reason = self.env.ref("cobranza_mgmt.cobranza_dispute_reason_amount")
        response = self._post("/my/collections/dispute", self.theirs, reason_id=reason.id)
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self.theirs.cobranza_is_disputed)
        response = self._post("/my/collections/dispute", self.overdue, reason_id="0")
        self.assertEqual(response.status_code, 400)
        self.assertIn("Choose the reason", response.text)
        self.assertFalse(self.overdue.cobranza_is_disputed)


@tagged("post_install", "-at_install")
class TestPortalPayment(PortalLinkCommon):
    """Paying chosen invoices from the page through Odoo's payment flow (the demo provider)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.first = cls.overdue
        cls.third = cls._invoice(cls.customer, 50.0, days_overdue=1)
        base = cls.env.ref("payment.payment_provider_demo").sudo()
        cls.provider = base if base.company_id == cls.company else base.copy({"company_id": cls.company.id})
        cls.provider.write({"state": "test", "is_published": True})
        cls.provider.payment_method_ids.active = True
        cls.method = cls.provider.payment_method_ids[:1]

    def _transaction(self, invoices, amount):
        query = f"token={self.link.token}&company_id={self.company.id}&invoice_ids={','.join(map(str, invoices.ids))}"
        response = self.url_open(f"/my/collections/transaction?{query}", data=json.dumps({
            "jsonrpc": "2.0", "method": "call", "id": 1, "params": {
                "provider_id": self.provider.id, "payment_method_id": self.method.id, "token_id": None,
                "amount": amount, "flow": "direct", "tokenization_requested": False,
                "landing_route": "/my/collections", "is_validation": False,
                "payment_reference": "BATCH/2026/00042",  # as Odoo's payment form sends it
            }}), headers={"Content-Type": "application/json"})
        return response.json()

    def test_pay_two_invoices_online(self):
        page = self.url_open("/my/collections/pay", data={
            "csrf_token": http.Request.csrf_token(self), "token": self.link.token, "company_id": self.company.id,
            "invoice_ids": (self.first | self.second).ids,
        })
        self.assertEqual(page.status_code, 200)
        self.assertIn("o_payment_form", page.text)
        self.assertIn("/my/collections/transaction", page.text)
        result = self._transaction(self.first | self.second, amount=1.0)  # the amount sent is not trusted
        self.assertNotIn("error", result, result)
        reference = result["result"]["reference"]
        transaction = self.env["payment.transaction"].sudo().search([("reference", "=", reference)])
        self.assertEqual((transaction.amount, transaction.invoice_ids), (500.0, self.first | self.second))
        self.assertEqual(transaction.partner_id, self.customer)
        self.assertTrue(transaction.reference.startswith("BATCH/2026/00042"), transaction.reference)
        self.url_open("/payment/demo/simulate_payment", data=json.dumps({
            "jsonrpc": "2.0", "method": "call", "id": 2, "params": {
                "reference": reference, "payment_details": "4242", "simulated_state": "done",
            }}), headers={"Content-Type": "application/json"})
        self.env.invalidate_all()
        self.assertEqual(transaction.state, "done")
        transaction._post_process()
        self.assertEqual((self.first.amount_residual, self.second.amount_residual, self.third.amount_residual),
                         (0.0, 0.0, 50.0))
        self.assertIn(self.first.payment_state, ("paid", "in_payment"))

    def test_another_customers_invoice_or_a_dead_link_cannot_be_paid(self):
        result = self._transaction(self.first | self.theirs, amount=1299.0)
        self.assertIn("error", result)
        self.link.sudo().revoked_at = fields.Datetime.now()
        result = self._transaction(self.first, amount=300.0)
        self.assertIn("error", result)
        self.assertFalse(self.env["payment.transaction"].sudo().search([("invoice_ids", "in", self.first.ids)]))


@tagged("post_install", "-at_install")
class TestReplyChannel(DunningCommon):
    """A reminder carries its way back: the reply lands in the customer's chatter, WhatsApp where configured."""

    def test_a_reply_to_a_reminder_lands_in_the_customers_chatter(self):
        self._invoice(self.customer, 700.0, days_overdue=20)
        self._run()
        mail = self._comms(channel="email").mail_id
        self.assertEqual((mail.model, mail.res_id), ("res.partner", self.customer.id))
        reply = (
            f"From: Tesorería Río Bravo <pagos@riobravo.example.com>\r\n"
            f"To: {mail.reply_to or 'cobranza@example.com'}\r\n"
            f"Subject: Re: {mail.subject}\r\n"
            f"Message-ID: <respuesta-1@riobravo.example.com>\r\n"
            f"In-Reply-To: {mail.message_id}\r\nReferences: {mail.message_id}\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n"
            "Pagaremos el viernes la factura vencida.\r\n"
        )
        self.env["mail.thread"].message_process(None, reply.encode())
        self.assertTrue(any("Pagaremos el viernes" in (message.body or "") for message in self.customer.message_ids))

    def test_whatsapp_link_with_the_reference_where_a_number_is_set(self):
        self._invoice(self.customer, 700.0, days_overdue=20)
        self.company.cobranza_whatsapp_number = "+57 300 123 4567"
        self._speak_spanish(self.customer)
        self._run()
        communication = self._comms(channel="email")
        body = communication.mail_id.body_html
        self.assertIn("https://wa.me/573001234567?text=Sobre+REM-", body, "in the customer's language")
        self.assertIn("escríbanos por WhatsApp", body)
        self.assertIn(communication._document_reference(), communication.whatsapp_url.replace("%2F", "/"))

    def test_no_whatsapp_line_without_a_number(self):
        self._invoice(self.customer, 700.0, days_overdue=20)
        self._run()
        self.assertNotIn("wa.me", self._comms(channel="email").mail_id.body_html)


@tagged("post_install", "-at_install")
class TestPortalInterest(PortalLinkCommon):
    """The page shows the late-payment interest accrued to date and not invoiced yet."""

    def test_interest_accrued_to_date_is_on_the_page(self):
        page = self.url_open(f"/my/collections?token={self.link.token}").text
        self.assertNotIn("o_cobranza_interest_accrued", page, "no interest charged: no card")
        product = self.env["product.product"].create({"name": "Intereses de mora", "type": "service"})
        self.company.write({"cobranza_grace_days": 3, "cobranza_interest_from": self.today - timedelta(days=90),
                            "cobranza_interest_product_id": product.id, "cobranza_interest_rate": 12.0})
        page = self.url_open(f"/my/collections?token={self.link.token}").text
        # 300.00 for 17 days (20 late less 3 grace) = 1.68, 200.00 for 2 days = 0.13; the other customer's not
        card = page[page.index("o_cobranza_interest_accrued"):][:200]
        self.assertIn("1.81", card)
