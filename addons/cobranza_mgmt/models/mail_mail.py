from odoo import models

# An unreachable SMTP server (Odoo marks the mail "exception" and never retries it) is a
# temporary failure: the reminder goes back to the mail queue this many times before it fails.
SMTP_RETRIES = 5


class MailMail(models.Model):
    _inherit = "mail.mail"

    def _postprocess_sent_message(self, success_pids, failure_reason=False, failure_type=None):
        """Follow the reminder e-mails through the mail queue: sent, retried or failed with the reason.

        A connection failure (``mail_smtp``) puts the mail back in the queue, so Odoo's mail cron
        sends it once the server is back (bounded by SMTP_RETRIES); any other failure is final
        for that communication, which a Collections user can retry once the cause is fixed.
        """
        communications = self.env["cobranza.communication"].sudo().search([("mail_id", "in", self.ids)])
        retry = self.browse()
        if communications:
            by_mail = communications.grouped("mail_id")
            for mail in self:
                for communication in by_mail.get(mail, []):
                    if mail.state == "exception" or failure_type:
                        reason = failure_reason or mail.failure_reason or failure_type
                        if failure_type == "mail_smtp" and communication.delivery_attempts < SMTP_RETRIES:
                            communication.write({"delivery_attempts": communication.delivery_attempts + 1,
                                                 "failure_reason": reason})
                            retry |= mail
                        else:
                            communication._fail(reason)
                    else:
                        communication.write({"state": "sent", "failure_reason": False})
        result = super()._postprocess_sent_message(success_pids, failure_reason=failure_reason,
                                                   failure_type=failure_type)
        retry.filtered(lambda mail: mail.exists()).write({"state": "outgoing", "failure_type": False})
        return result
