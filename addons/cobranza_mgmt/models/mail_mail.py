import re
from datetime import timedelta

from odoo import models

# An SMTP answer in the 4xx range ("try again later") as Odoo words the exception: "(451, b'...')".
TEMPORARY_SMTP_ANSWER = re.compile(r"\(4\d\d,")
RETRY_FIRST_PAUSE = timedelta(minutes=5)  # then twice as long each time, up to RETRY_LONGEST_PAUSE
RETRY_LONGEST_PAUSE = timedelta(hours=2)


class MailMail(models.Model):
    _inherit = "mail.mail"

    def _postprocess_sent_message(self, success_pids, failure_reason=False, failure_type=None):
        """Follow the reminder e-mails through the mail queue: sent, retried or failed with the reason.

        A temporary failure (server unreachable or timing out, 4xx answer) puts the mail back in
        the queue, scheduled after a pause that doubles each time, and the reminder stays queued
        with the reason; after the company's hours of retries it is failed. Any other failure
        (invalid address, 5xx answer) fails the reminder at once. Odoo itself marks such mails
        "exception" and never sends them again.
        """
        communications = self.env["cobranza.communication"].sudo().search([("mail_id", "in", self.ids)])
        retry = {}
        if communications:
            by_mail = communications.grouped("mail_id")
            for mail in self:
                for communication in by_mail.get(mail, []):
                    if not (mail.state == "exception" or failure_type):
                        communication.write({"state": "sent", "failure_reason": False})
                        continue
                    reason = failure_reason or mail.failure_reason or failure_type
                    temporary = failure_type == "mail_smtp" or bool(TEMPORARY_SMTP_ANSWER.search(reason or ""))
                    next_try = communication._retry_at(reason) if temporary else None
                    if next_try:
                        retry[mail] = next_try
                    else:
                        communication._give_up(reason)
        result = super()._postprocess_sent_message(success_pids, failure_reason=failure_reason,
                                                   failure_type=failure_type)
        for mail, next_try in retry.items():
            if mail.exists():
                mail.write({"state": "outgoing", "failure_type": False, "scheduled_date": next_try})
        if retry:
            self.env.ref("mail.ir_cron_mail_scheduler_action").sudo()._trigger(at=min(retry.values()))
        return result


def retry_pause(attempt):
    """The pause before retry number ``attempt`` (1, 2, …): 5 minutes, doubled each time, at most 2 hours."""
    return min(RETRY_FIRST_PAUSE * 2 ** (attempt - 1), RETRY_LONGEST_PAUSE)
