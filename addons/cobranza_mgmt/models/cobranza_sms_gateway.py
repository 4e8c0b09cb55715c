import logging
import time
from urllib.parse import urlparse

import requests

from odoo import api, fields, models
from odoo.exceptions import ValidationError

_logger = logging.getLogger(__name__)


class CobranzaSmsGateway(models.Model):
    """An HTTP gateway for SMS or WhatsApp texts.

    The gateway receives a JSON POST ``{"to", "from", "text", "channel", "reference"}``
    with ``Authorization: Bearer <token>`` and answers 2xx with a JSON body whose ``id``
    (or ``message_id``) is kept as the provider's reference. Connection errors, time-outs
    and 5xx answers are retried a bounded number of times; a 4xx is final.
    """

    _name = "cobranza.sms.gateway"
    _description = "SMS/WhatsApp Gateway"
    _check_company_auto = True

    name = fields.Char(required=True)
    channel = fields.Selection([("sms", "SMS"), ("whatsapp", "WhatsApp")], required=True, default="sms")
    url = fields.Char(string="URL", required=True, groups="base.group_system")
    token = fields.Char(groups="base.group_system", copy=False)
    sender = fields.Char(required=True, help="Sender number or name shown to the customer.")
    timeout = fields.Float(string="Timeout (s)", default=10.0)
    max_attempts = fields.Integer(default=3, help="Attempts for a message before it is marked failed.")
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    active = fields.Boolean(default=True)

    @api.constrains("timeout", "max_attempts", "url", "token")
    def _check_limits(self):
        for gateway in self.sudo():
            url = urlparse(gateway.url or "")
            if url.scheme not in ("http", "https") or not url.hostname:
                raise ValidationError(self.env._("The URL of %(gateway)s must be an http(s) address.",
                                                 gateway=gateway.name))
            if gateway.token and url.scheme == "http" and url.hostname not in ("127.0.0.1", "localhost", "::1"):
                raise ValidationError(self.env._(
                    "%(gateway)s sends its token: use an https:// URL (plain http only to this machine).",
                    gateway=gateway.name,
                ))
            if gateway.timeout <= 0 or gateway.timeout > 120:
                raise ValidationError(self.env._("The timeout of %(gateway)s must be between 0 and 120 seconds.",
                                                 gateway=gateway.name))
            if not 1 <= gateway.max_attempts <= 10:
                raise ValidationError(self.env._("%(gateway)s must try between 1 and 10 times.", gateway=gateway.name))

    def _send(self, number, text, reference):
        """POST one text; return the provider's message id, or raise GatewayError with its answer."""
        self.ensure_one()
        gateway = self.sudo()
        payload = {"to": number, "from": gateway.sender, "text": text, "channel": gateway.channel,
                   "reference": reference}
        headers = {"Authorization": f"Bearer {gateway.token or ''}", "Idempotency-Key": reference}
        error = None
        for attempt in range(1, gateway.max_attempts + 1):
            try:
                response = requests.post(gateway.url, json=payload, headers=headers, timeout=gateway.timeout)
            except requests.RequestException as exc:
                error = self.env._("%(gateway)s unreachable: %(error)s", gateway=gateway.name, error=exc)
            else:
                if response.ok:
                    try:
                        body = response.json()
                    except ValueError:
                        body = None
                    if not isinstance(body, dict):  # taken, whatever the provider answers besides
                        body = {}
                    return str(body.get("id") or body.get("message_id") or "")[:200]
                error = self.env._("%(gateway)s answered %(status)s: %(body)s", gateway=gateway.name,
                                   status=response.status_code, body=response.text[:500])
                if response.status_code < 500:
                    break
            _logger.info("Collections: %s attempt %s/%s failed", gateway.name, attempt, gateway.max_attempts)
            if attempt < gateway.max_attempts:
                time.sleep(min(0.2 * attempt, 1.0))
        raise GatewayError(error)


class GatewayError(Exception):
    """The gateway refused or could not take a message; the text is the provider's answer."""
