import binascii

from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager
from odoo.exceptions import AccessError, MissingError, UserError
from odoo.http import request, route

PORTAL_STATES = ("proposed", "active", "completed", "broken")


class CobranzaPortal(CustomerPortal):
    """The customer's payment agreements in the portal; a proposed one is accepted by signing it."""

    def _cobranza_agreement_domain(self):
        partner = request.env.user.partner_id
        return [
            ("partner_id", "=", partner.commercial_partner_id.id),
            ("state", "in", PORTAL_STATES),
        ]

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
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
