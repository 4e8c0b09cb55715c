from odoo import models


class MailMail(models.Model):
    _inherit = "mail.mail"

    def _postprocess_sent_message(self, success_pids, failure_reason=False, failure_type=None):
        """Follow the reminder e-mails through the mail queue: sent, or failed with the reason.

        While the SMTP server is unreachable the mail stays in the queue and is retried by
        Odoo's mail cron; the communication stays queued meanwhile.
        """
        communications = self.env["cobranza.communication"].sudo().search([("mail_id", "in", self.ids)])
        if communications:
            by_mail = communications.grouped("mail_id")
            for mail in self:
                for communication in by_mail.get(mail, []):
                    if mail.state == "exception" or failure_type:
                        communication.write({
                            "state": "failed",
                            "failure_reason": failure_reason or mail.failure_reason or failure_type,
                        })
                    else:
                        communication.state = "sent"
        return super()._postprocess_sent_message(success_pids, failure_reason=failure_reason,
                                                 failure_type=failure_type)
