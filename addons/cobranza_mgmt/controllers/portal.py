import binascii
import math
from datetime import timedelta

from werkzeug.urls import url_encode

from odoo import Command, fields
from odoo.addons.payment.controllers.portal import PaymentPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.http import content_disposition, request, route

PORTAL_STATES = ("requested", "proposed", "active", "completed", "broken", "declined")
# A reminder's link is traded, on its first GET, for this session value and a clean URL: the token
# does not stay in the address bar, the history or a Referer header.
SESSION_TOKEN = "cobranza_collections_token"


def _no_referrer(response):
    """Pages reached through a link token never pass their address on to another site."""
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


class CobranzaPortal(PaymentPortal):
    """The customer's collections page and payment agreements in the portal."""

    def _cobranza_agreement_domain(self):
        partner = request.env.user.partner_id
        return [
            ("partner_id", "=", partner.commercial_partner_id.id),
            ("state", "in", PORTAL_STATES),
        ]

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "cobranza_open_count" in counters:
            partner = request.env.user.partner_id.commercial_partner_id
            values["cobranza_open_count"] = request.env["cobranza.aging.report"].sudo()._of_customers(
                partner).search_count([
                ("partner_id", "=", partner.id), ("company_id", "in", request.env.user.company_ids.ids),
                ("amount_residual", ">", 0),
            ]) if not request.env.user._is_public() else 0
        if "cobranza_agreement_count" in counters:
            Agreement = request.env["cobranza.agreement"]
            values["cobranza_agreement_count"] = Agreement.search_count(self._cobranza_agreement_domain()) \
                if Agreement.has_access("read") else 0
        return values

    @route(["/my/agreements", "/my/agreements/page/<int:page>"], type="http", auth="user", website=True)
    def portal_my_cobranza_agreements(self, page=1, **kw):
        Agreement = request.env["cobranza.agreement"]
        domain = self._cobranza_agreement_domain()
        pager = portal_pager(url="/my/agreements", total=Agreement.search_count(domain), page=page,
                             step=self._items_per_page)
        agreements = Agreement.search(domain, order="date desc, id desc", limit=self._items_per_page,
                                      offset=pager["offset"])
        return request.render("cobranza_mgmt.portal_my_cobranza_agreements", {
            "agreements": agreements, "pager": pager, "page_name": "cobranza_agreement",
            "default_url": "/my/agreements",
        })

    @route(["/my/agreements/<int:agreement_id>"], type="http", auth="public", website=True)
    def portal_cobranza_agreement_page(self, agreement_id, access_token=None, report_type=None, download=False,
                                       message=None, **kw):
        try:
            agreement_sudo = self._document_check_access("cobranza.agreement", agreement_id, access_token=access_token)
        except (AccessError, MissingError):
            return request.redirect("/my")
        if agreement_sudo.state not in PORTAL_STATES:  # a draft or cancelled one is not the customer's to read
            return request.redirect("/my")
        if request.env.user._is_public() and agreement_sudo.partner_id.lang:
            # opened from the e-mail's link: the page speaks the language of that e-mail
            request.update_context(lang=agreement_sudo.partner_id.lang)
            agreement_sudo = agreement_sudo.with_env(request.env).sudo()
        if report_type in ("html", "pdf", "text"):
            return self._show_report(model=agreement_sudo, report_type=report_type,
                                     report_ref="cobranza_mgmt.action_report_cobranza_agreement", download=download)
        values = self._get_page_view_values(agreement_sudo, access_token, {
            "agreement": agreement_sudo, "page_name": "cobranza_agreement", "message": message,
        }, "my_cobranza_agreements_history", False)
        return request.render("cobranza_mgmt.portal_cobranza_agreement_page", values)

    @route(["/my/agreements/<int:agreement_id>/accept"], type="json", auth="public", website=True)
    def portal_cobranza_agreement_accept(self, agreement_id, access_token=None, name=None, signature=None):
        access_token = access_token or request.httprequest.args.get("access_token")
        try:
            agreement_sudo = self._document_check_access("cobranza.agreement", agreement_id, access_token=access_token)
        except (AccessError, MissingError):
            return {"error": request.env._("Invalid agreement.")}
        if agreement_sudo.state != "proposed":
            return {"error": request.env._("This agreement is not waiting for your acceptance.")}
        if not signature:
            return {"error": request.env._("Signature is missing.")}
        try:
            with request.env.cr.savepoint():  # a refused acceptance leaves nothing half-written
                agreement_sudo._accept(name, signature)
        except (TypeError, binascii.Error):
            return {"error": request.env._("Invalid signature data.")}
        except UserError as error:
            return {"error": error.args[0]}
        return {
            "force_refresh": True,
            "redirect_url": agreement_sudo.get_portal_url(query_string="&message=sign_ok"),
        }

    # ------------------------------------------------------------------ the customer's collections page

    def _cobranza_collections_access(self, token):
        """(commercial partner, companies, link) whose page this request may open, or None.

        The customer comes from the link's token (given, or kept in the session since the link was
        opened), or from the signed-in user; never from an id in the URL. The records are then read as
        superuser, for that customer only."""
        from_session = not token
        token = token or request.session.get(SESSION_TOKEN)
        if token:
            link = request.env["cobranza.portal.token"]._resolve(token)
            if not link and from_session:
                # the link the session was opened with expired or was revoked: forget it; a signed-in
                # customer still has their own page
                request.session.pop(SESSION_TOKEN, None)
                token = None
            elif not link:
                return None
        if token:
            link.last_used_at = fields.Datetime.now()
            if request.env.user._is_public() and link.partner_id.lang:
                # the page speaks the language of the reminder that linked to it
                request.update_context(lang=link.partner_id.lang)
            return link.partner_id.commercial_partner_id, link.company_id, link
        user = request.env.user
        if user._is_public():
            return None
        return user.partner_id.commercial_partner_id, user.company_ids, None

    def _cobranza_collections_values(self, partner, companies, token):
        partner = partner.with_env(request.env)  # in the page's language (a link speaks the customer's)
        Communication = request.env["cobranza.communication"].sudo()
        Agreement = request.env["cobranza.agreement"].sudo()
        Policy = request.env["cobranza.agreement.policy"]
        Interest = request.env["cobranza.interest.line"].sudo()
        sections = []
        today = fields.Date.context_today(request.env.user)
        for company in companies:
            data = partner.sudo().with_company(company)._cobranza_statement_data()
            if not data["items"] and not Communication.search_count(
                    [("partner_id", "=", partner.id), ("company_id", "=", company.id)], limit=1):
                continue
            policy = Policy._for_customer(partner, company)
            promises = request.env["cobranza.promise"].sudo().search([
                ("partner_id", "=", partner.id), ("company_id", "=", company.id), ("state", "=", "open"),
            ])
            sections.append({
                "promised": {move.id: promise.promise_date for promise in promises for move in promise.move_ids},
                "company": company, **data,
                "debits": data["items"].filtered(lambda item: item.amount_residual > 0),
                "credits": data["items"].filtered(lambda item: item.amount_residual < 0),
                "overdue": data["overdue"],  # net: unapplied payments and credit notes pay the oldest first
                "reminders": Communication.search([
                    ("partner_id", "=", partner.id), ("company_id", "=", company.id), ("state", "=", "sent"),
                ], order="date desc, id desc", limit=20),
                "agreements": Agreement.search([
                    ("partner_id", "=", partner.id), ("company_id", "=", company.id),
                    ("state", "in", PORTAL_STATES),
                ], order="date desc, id desc"),
                "agreement_policy": policy,
                "interest_accrued": Interest._accrued(company, [partner.commercial_partner_id.id], today).get(
                    partner.commercial_partner_id.id, 0.0),
                "first_from": today + timedelta(days=1),
                "first_to": today + timedelta(days=policy.max_first_days),
                "statement_url": "/my/collections/statement?" + url_encode(
                    {"company_id": company.id, **({"token": token} if token else {})}),
            })
        return {"partner": partner, "sections": sections, "page_name": "cobranza_collections",
                "token": token, "today": today,
                "dispute_reasons": request.env["cobranza.dispute.reason"].sudo().search([])}

    @route(["/my/collections"], type="http", auth="public", website=True, sitemap=False)
    def portal_my_collections(self, token=None, message=None, **kw):
        if token:
            if not request.env["cobranza.portal.token"]._resolve(token):
                return _no_referrer(request.render("cobranza_mgmt.portal_cobranza_link_expired", {}, status=403))
            request.session[SESSION_TOKEN] = token
            query = url_encode({"message": message}) if message else ""
            return _no_referrer(request.redirect("/my/collections" + (f"?{query}" if query else "")))
        access = self._cobranza_collections_access(None)
        if access is None:
            return request.redirect("/web/login?redirect=/my/collections")
        partner, companies, _link = access
        values = self._cobranza_collections_values(partner, companies, None)
        values["message_code"] = message
        values["message"] = {"paid": request.env._("Thank you: your payment was received."),
                             "promise": request.env._("Thank you: your promise to pay was recorded."),
                             "dispute": request.env._("Your dispute was sent: we will look into it and reply."),
                             "installments": request.env._("Your request for installments was sent: we will answer "
                                                           "it soon. You can follow it under Payment agreements."),
                             }.get(message)
        return _no_referrer(request.render("cobranza_mgmt.portal_my_collections", values))

    def _cobranza_chosen(self, companies, company_id, invoice_ids):
        """The company (one of the customer's) and the invoices (as superuser, not yet checked) a form
        names; the models check that the invoices are the customer's."""
        company = companies.filtered(lambda c: str(c.id) == str(company_id))[:1]
        if not company:
            raise UserError(request.env._("Choose among your open invoices."))
        try:
            ids = [int(value) for value in invoice_ids]
        except (TypeError, ValueError):
            ids = []
        return company, request.env["account.move"].sudo().browse(ids).exists()

    def _cobranza_portal_request(self, token, company_id, invoice_ids, action):
        """Run ``action(partner, company, invoices)`` for the authenticated customer; back to the page
        with a message, or the page again with the error (HTTP 400) and nothing recorded."""
        access = self._cobranza_collections_access(token)
        if access is None:
            return request.redirect("/my/collections" + (f"?{url_encode({'token': token})}" if token else ""))
        partner, companies, _link = access
        try:
            company, invoices = self._cobranza_chosen(companies, company_id, invoice_ids)
            with request.env.cr.savepoint():
                code = action(partner, company, invoices)
        except UserError as error:
            values = self._cobranza_collections_values(partner, companies, token)
            values["error"] = error.args[0]
            return request.render("cobranza_mgmt.portal_my_collections", values, status=400)
        query = {"message": code, **({"token": token} if token else {})}
        return request.redirect(f"/my/collections?{url_encode(query)}")

    @route(["/my/collections/promise"], type="http", auth="public", methods=["POST"], website=True, sitemap=False)
    def portal_my_collections_promise(self, token=None, company_id=None, promise_date=None, amount=None, **kw):
        def record(partner, company, invoices):
            try:
                day = fields.Date.to_date(promise_date)
                value = _number(amount)
            except (TypeError, ValueError) as error:
                raise UserError(request.env._("Give the date and the amount of your promise.")) from error
            request.env["cobranza.promise"]._portal_record(partner, company, invoices, day, value)
            return "promise"
        return self._cobranza_portal_request(token, company_id, request.httprequest.form.getlist("invoice_ids"),
                                             record)

    @route(["/my/collections/dispute"], type="http", auth="public", methods=["POST"], website=True, sitemap=False)
    def portal_my_collections_dispute(self, token=None, company_id=None, reason_id=None, comment=None, **kw):
        def dispute(partner, company, invoices):
            try:
                reason = request.env["cobranza.dispute.reason"].sudo().browse(int(reason_id or 0)).exists()
                reason = reason.filtered("active")
            except ValueError:
                reason = None
            files = [(upload.filename or "file", upload.read())
                     for upload in request.httprequest.files.getlist("attachments") if upload.filename]
            invoices._cobranza_portal_dispute(partner, company, reason, comment, files)
            return "dispute"
        return self._cobranza_portal_request(token, company_id, request.httprequest.form.getlist("invoice_ids"),
                                             dispute)

    @route(["/my/collections/installments"], type="http", auth="public", methods=["POST"], website=True,
           sitemap=False)
    def portal_my_collections_installments(self, token=None, company_id=None, **form):
        def ask(partner, company, invoices):
            try:
                count = int(form.get("installments"))
                down = _number(form.get("down_payment") or 0)
                first = fields.Date.to_date(form.get("first_due_date"))
            except (TypeError, ValueError) as error:
                raise UserError(request.env._(
                    "Give the number of installments, the down payment and the date of the first installment."
                )) from error
            request.env["cobranza.agreement"]._portal_request(
                partner, company, invoices, installments=count, down_payment=down, frequency=form.get("frequency"),
                first_due_date=first, comment=form.get("comment"))
            return "installments"
        return self._cobranza_portal_request(token, company_id, request.httprequest.form.getlist("invoice_ids"), ask)

    @route(["/my/collections/statement"], type="http", auth="public", website=True, sitemap=False)
    def portal_my_collections_statement(self, token=None, company_id=None, **kw):
        access = self._cobranza_collections_access(token)
        if access is None:
            return request.redirect("/my/collections" + (f"?{url_encode({'token': token})}" if token else ""))
        partner, companies, _link = access
        company = companies.filtered(lambda c: str(c.id) == str(company_id))[:1] or companies[:1]
        report = request.env["ir.actions.report"].sudo().with_company(company)
        content, kind = report._render_qweb_pdf("cobranza_mgmt.action_report_cobranza_statement", partner.ids)
        name = request.env._("Statement of Account - %(customer)s", customer=partner.name)
        mimetype = "application/pdf" if kind == "pdf" else "text/html"
        return request.make_response(content, headers=[
            ("Content-Type", mimetype),
            ("Content-Disposition", content_disposition(f"{name}.{kind}")),
        ])

    # ------------------------------------------------------------------ paying online

    def _cobranza_to_pay(self, token, company_id, invoice_ids):
        """(partner, company, invoices sudo) the authenticated customer pays; UserError otherwise."""
        access = self._cobranza_collections_access(token)
        if access is None:
            raise UserError(request.env._("This link has expired."))
        partner, companies, _link = access
        company, invoices = self._cobranza_chosen(companies, company_id, invoice_ids)
        invoices = invoices._cobranza_portal_open(partner, company)
        if len(invoices.currency_id) > 1:
            raise UserError(request.env._("Choose invoices of one currency."))
        return partner, company, invoices

    @route(["/my/collections/pay"], type="http", auth="public", methods=["POST"], website=True, sitemap=False)
    def portal_my_collections_pay(self, token=None, company_id=None, **kw):
        """The payment form (Odoo's, with the company's providers) for the invoices chosen on the page."""
        ids = request.httprequest.form.getlist("invoice_ids")
        try:
            partner, company, invoices = self._cobranza_to_pay(token, company_id, ids)
        except UserError as error:
            access = self._cobranza_collections_access(token)
            if access is None:
                return request.redirect("/my/collections")
            values = self._cobranza_collections_values(access[0], access[1], token)
            values["error"] = error.args[0]
            return request.render("cobranza_mgmt.portal_my_collections", values, status=400)
        amount = sum(invoices.mapped("amount_residual"))
        currency = invoices.currency_id
        reference = invoices.name if len(invoices) == 1 else company.get_next_batch_payment_communication()
        link = {"token": token} if token else {}
        query = url_encode({**link, "company_id": company.id, "invoice_ids": ",".join(map(str, invoices.ids))})
        values = self._get_common_page_view_values(invoices_data={
            "partner": partner, "company": company, "total_amount": amount, "currency": currency,
            "amount_residual": amount, "payment_reference": reference,
            "landing_route": "/my/collections?" + url_encode({**link, "message": "paid"}),
            "transaction_route": f"/my/collections/transaction?{query}",
        })
        values.update(page_name="cobranza_collections", amount=amount, invoices=invoices, payment={
            "date": fields.Date.context_today(request.env.user), "reference": reference, "amount": amount,
            "currency": currency,
        })
        return request.render("account_payment.portal_overdue_invoices_page", values)

    @route(["/my/collections/transaction"], type="json", auth="public")
    def portal_my_collections_transaction(self, payment_reference=None, **kwargs):
        """A draft transaction for the invoices chosen, of their residual whatever amount is sent: the
        payment is reconciled with them once done (account_payment). Odoo's payment form sends the
        reference it showed (``payment_reference``): the transaction's reference starts with it."""
        args = request.httprequest.args
        try:
            partner, _company, invoices = self._cobranza_to_pay(
                args.get("token"), args.get("company_id"), (args.get("invoice_ids") or "").split(","))
        except UserError as error:
            raise ValidationError(error.args[0]) from error
        self._validate_transaction_kwargs(kwargs)
        kwargs.update({
            "amount": sum(invoices.mapped("amount_residual")), "currency_id": invoices.currency_id.id,
            "partner_id": (partner if request.env.user._is_public() else request.env.user.partner_id).id,
            "reference_prefix": invoices.name if len(invoices) == 1 else (payment_reference or None),
        })
        tx_sudo = self._create_transaction(custom_create_values={"invoice_ids": [Command.set(invoices.ids)]},
                                           **kwargs)
        return tx_sudo._get_processing_values()


def _number(text):
    """A finite number typed in a portal form; ValueError otherwise (``nan`` and ``inf`` included)."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value
