import secrets
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError

from .cobranza_access import check_collector, check_fields, is_manager


class CobranzaPortalToken(models.Model):
    """A link that opens one customer's collections page (``/my/collections``) without a password.

    Scoped to one commercial partner and one company, it expires (Settings: days a link lasts) and
    can be revoked by the customer's collector or a manager. The token is 256 random bits; only the
    module's own methods create or change one.
    """

    _name = "cobranza.portal.token"
    _description = "Customer Collections Link"
    _order = "id desc"
    _rec_name = "partner_id"

    partner_id = fields.Many2one("res.partner", string="Customer", required=True, index=True, ondelete="cascade",
                                 readonly=True)
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    token = fields.Char(required=True, readonly=True, copy=False, groups="cobranza_mgmt.cobranza_mgmt_group_manager")
    expires_at = fields.Datetime(string="Expires", required=True, readonly=True)
    revoked_at = fields.Datetime(string="Revoked", readonly=True)
    revoked_by_id = fields.Many2one("res.users", readonly=True)
    last_used_at = fields.Datetime(string="Last Opened", readonly=True)
    state = fields.Selection([("valid", "Valid"), ("expired", "Expired"), ("revoked", "Revoked")],
                             compute="_compute_state")

    _sql_constraints = [("token_uniq", "UNIQUE(token)", "A collections link is unique.")]

    @api.depends("expires_at", "revoked_at")
    def _compute_state(self):
        now = fields.Datetime.now()
        for link in self:
            link.state = "revoked" if link.revoked_at else "expired" if link.expires_at <= now else "valid"

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            check_fields(self, vals, ())
        return super().create(vals_list)

    def write(self, vals):
        check_fields(self, vals, ())
        return super().write(vals)

    @api.model
    def _issue(self, partner, company):
        """A valid link for the customer (one still valid for a week is reused), as superuser: the
        caller has checked that this customer's link may be given (a reminder the run sends, a
        collector's action)."""
        partner = partner.commercial_partner_id
        return self._issue_many(partner, company)[partner.id]

    @api.model
    def _valid_many(self, partners, company, days_left=0):
        """{commercial partner id: link} of the customers' links valid ``days_left`` days more (superuser)."""
        now = fields.Datetime.now()
        links = {}
        for link in self.sudo().search([
            ("partner_id", "in", partners.commercial_partner_id.ids), ("company_id", "=", company.id),
            ("revoked_at", "=", False), ("expires_at", ">", now + timedelta(days=days_left)),
        ], order="id"):
            links.setdefault(link.partner_id.id, link)
        return links

    @api.model
    def _issue_many(self, partners, company):
        """{commercial partner id: valid link} for many customers at once: one search, one create."""
        partners = partners.commercial_partner_id
        now = fields.Datetime.now()
        links = self._valid_many(partners, company, days_left=7)
        missing = partners.filtered(lambda partner: partner.id not in links)
        for link in self.sudo().create([{
            "partner_id": partner.id, "company_id": company.id, "token": secrets.token_urlsafe(32),
            "expires_at": now + timedelta(days=company.cobranza_portal_link_days or 30),
        } for partner in missing]):
            links[link.partner_id.id] = link
        return links

    @api.model
    def _resolve(self, token):
        """The valid link of this token (superuser), or an empty recordset: unknown, expired or revoked."""
        if not token or not isinstance(token, str) or len(token) > 128:
            return self.sudo().browse()
        link = self.sudo().search([("token", "=", token)], limit=1)
        if not link or link.state != "valid" or not secrets.compare_digest(link.token, token):
            return self.sudo().browse()
        return link

    def _url(self):
        self.ensure_one()
        return f"{self.partner_id.get_base_url()}/my/collections?token={self.sudo().token}"

    def action_revoke(self):
        """Revoke these links (the customer's collector or a manager): they stop opening the page."""
        check_collector(self.env)
        if not is_manager(self.env):
            visible = self.env["cobranza.credit.profile"].search([("partner_id", "in", self.partner_id.ids)])
            if self.partner_id - visible.partner_id:
                raise AccessError(self.env._("You can revoke the links of your own portfolio only."))
        self.sudo().write({"revoked_at": fields.Datetime.now(), "revoked_by_id": self.env.uid})
        return True
