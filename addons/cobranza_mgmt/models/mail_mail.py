import logging
import re
from contextvars import ContextVar
from datetime import timedelta

from odoo import models

# An SMTP answer in the 4xx range ("try again later") as Odoo words the exception: "(451, b'...')".
TEMPORARY_SMTP_ANSWER = re.compile(r"\(4\d\d,")
# ... and the 5xx answers that say the address itself is wrong (no such mailbox, not allowed, bad syntax).
BAD_ADDRESS_SMTP_ANSWER = re.compile(r"\(55[0-3],")
RETRY_FIRST_PAUSE = timedelta(minutes=5)  # then twice as long each time, up to RETRY_LONGEST_PAUSE
RETRY_LONGEST_PAUSE = timedelta(hours=2)


# The reminder e-mails of the batch Odoo's mail queue is sending (mail ids), for the log filter below.
_SENDING_REMINDERS = ContextVar("cobranza_sending_reminders", default=frozenset())


class _RetriedReminderLog(logging.Filter):
    """Odoo's mail queue logs every failed send as an ERROR with its traceback. A reminder refused for
    now (4xx) is sent again by Collections (``_postprocess_sent_message``): that is a warning, without
    a traceback, or monitoring would wake someone for a retry that works. Other mails are untouched."""

    def filter(self, record):
        if record.levelno >= logging.ERROR and record.msg == "failed sending mail (id: %s) due to %s" \
                and len(record.args or ()) == 2 and record.args[0] in _SENDING_REMINDERS.get() \
                and TEMPORARY_SMTP_ANSWER.search(str(record.args[1])):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg = "Collections: reminder e-mail %s refused for now, it will be sent again: %s"
            record.exc_info = record.exc_text = None
        return True


logging.getLogger("odoo.addons.mail.models.mail_mail").addFilter(_RetriedReminderLog())


class MailMail(models.Model):
    _inherit = "mail.mail"

    def _send(self, *args, **kwargs):
        reminders = self.env["cobranza.communication"].sudo().search([("mail_id", "in", self.ids)]).mail_id
        token = _SENDING_REMINDERS.set(frozenset(reminders.ids))
        try:
            return super()._send(*args, **kwargs)
        finally:
            _SENDING_REMINDERS.reset(token)

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
                    if failure_type in ("mail_email_invalid", "mail_email_missing"):
                        # Odoo's own words here are "Error without exception...": say what happened
                        reason = communication._invalid_address_reason()
                    temporary = failure_type == "mail_smtp" or bool(TEMPORARY_SMTP_ANSWER.search(reason or ""))
                    next_try = communication._retry_at(reason) if temporary else None
                    if next_try:
                        retry[mail] = next_try
                    else:
                        communication._give_up(reason)
                        if failure_type in ("mail_email_invalid", "mail_email_missing") \
                                or BAD_ADDRESS_SMTP_ANSWER.search(reason or ""):
                            profile = self.env["cobranza.credit.profile"].sudo()._get_or_create(
                                communication.partner_id, communication.company_id)
                            profile._email_refused_for_good(reason)
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
