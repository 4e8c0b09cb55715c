import pytz

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..logic.contact import DAY_FIELDS, FORBIDDING_FIELDS, PREFERENCE_FIELDS, hour_label, hours_are_valid, window_start
from .cobranza_access import is_manager


class CobranzaCreditProfile(models.Model):
    """How and when a customer may be contacted, honoured by every channel of Collections.

    *Do not contact* (with its reason, e.g. a legal hold) stops everything: the dunning run leaves the
    customer out, reminders by hand are refused, agreement reminders are not sent, and the worklist
    no longer lists it. Forbidden channels are dropped from each reminder (a call task for the
    collector replaces a reminder left with no channel); texts go through the preferred text channel
    and, with the calls, keep to the preferred days and hours (in the customer's timezone, else the
    company's): a text outside them waits in the queue until the window opens.
    """

    _inherit = "cobranza.credit.profile"

    contact_blocked = fields.Boolean(string="Do Not Contact",
                                     help="Nobody contacts this customer about its debts (e.g. a legal hold).")
    contact_blocked_reason = fields.Char(string="Why Not Contact")
    contact_no_email = fields.Boolean(string="No E-mails")
    contact_no_sms = fields.Boolean(string="No SMS")
    contact_no_whatsapp = fields.Boolean(string="No WhatsApp")
    contact_no_letter = fields.Boolean(string="No Letters")
    contact_no_call = fields.Boolean(string="No Calls")
    contact_text_channel = fields.Selection(
        [("sms", "SMS"), ("whatsapp", "WhatsApp")], string="Texts By",
        help="Texts of every level go through this channel. Empty: the channel each level chooses.",
    )
    contact_hour_from = fields.Float(string="Calls and Texts From", help="Hour of day; 0 and 0: any time.")
    contact_hour_to = fields.Float(string="Calls and Texts Until")
    # Days for calls and texts: none ticked is any day (profiles made by the behaviour refresh's SQL upsert
    # have no defaults, so "nothing ticked" must be the neutral value).
    contact_mon = fields.Boolean(string="Monday")
    contact_tue = fields.Boolean(string="Tuesday")
    contact_wed = fields.Boolean(string="Wednesday")
    contact_thu = fields.Boolean(string="Thursday")
    contact_fri = fields.Boolean(string="Friday")
    contact_sat = fields.Boolean(string="Saturday")
    contact_sun = fields.Boolean(string="Sunday")
    contact_lang = fields.Selection(related="partner_id.lang", string="Language", readonly=False,
                                    help="The language of the customer's reminders, letters and portal page.")
    contact_summary = fields.Char(compute="_compute_contact_summary", string="Contact")
    # An address that refused a reminder for good (invalid, unknown mailbox): no e-mail is sent to it
    # again until the customer's address changes; the collector is told once.
    email_refused = fields.Char(string="E-mail Address Refused", readonly=True, copy=False,
                                help="This address refused a reminder for good: no reminder e-mail goes to it "
                                     "until the customer's e-mail address is changed.")
    email_refused_reason = fields.Char(string="Why It Refused", readonly=True, copy=False)

    @api.depends(*PREFERENCE_FIELDS)
    def _compute_contact_summary(self):
        for profile in self:
            if profile.contact_blocked:
                profile.contact_summary = self.env._("Do not contact: %(reason)s",
                                                     reason=profile.contact_blocked_reason)
                continue
            parts = []
            if profile._has_window():
                window = [self._fields[name].get_description(self.env)["string"][:3]
                          for name in DAY_FIELDS if profile[name]]
                if profile.contact_hour_from or profile.contact_hour_to:
                    window.append(f"{hour_label(profile.contact_hour_from)}-{hour_label(profile.contact_hour_to)}")
                parts.append(" ".join(window))
            parts += [self._fields[name].get_description(self.env)["string"]
                      for name in FORBIDDING_FIELDS.values() if profile[name]]
            profile.contact_summary = ", ".join(parts)

    @api.constrains(*PREFERENCE_FIELDS)
    def _check_contact_preferences(self):
        for profile in self:
            name = profile.partner_id.name  # stored: no query for the display name of every profile checked
            if profile.contact_blocked and not (profile.contact_blocked_reason or "").strip():
                raise ValidationError(self.env._("Say why %(customer)s must not be contacted.", customer=name))
            low, high = profile.contact_hour_from, profile.contact_hour_to
            if not hours_are_valid(low, high):
                raise ValidationError(self.env._(
                    "The contact hours of %(customer)s are empty: from %(low)s until %(high)s. Give a start before "
                    "the end, within the day, or 0 and 0 for any time.",
                    customer=name, low=hour_label(low), high=hour_label(high),
                ))
            if profile.contact_text_channel and profile[FORBIDDING_FIELDS[profile.contact_text_channel]]:
                raise ValidationError(self.env._(
                    "%(customer)s cannot receive texts by a forbidden channel (%(channel)s).", customer=name,
                    channel=dict(self._fields["contact_text_channel"]._description_selection(self.env))[
                        profile.contact_text_channel],
                ))

    def write(self, vals):
        if "contact_blocked" in vals and not vals["contact_blocked"] and not is_manager(self.env) \
                and self.filtered("contact_blocked"):
            raise AccessError(self.env._("Only a Collections Manager can allow contacting a customer again."))
        return super().write(vals)

    # ------------------------------------------------------------------ what the channels ask

    def _contact_channels(self, channels):
        """The channels of one reminder (``channels``, in order) this customer accepts: none when it must
        not be contacted; forbidden ones dropped; texts through its text channel; a call task for the
        collector when nothing else is left and calls are allowed. The agency hand-over is not a contact."""
        self.ensure_one()
        if self.contact_blocked:
            return []
        refused = {"email"} if self._email_still_refused() else set()
        accepted = []
        for wanted in channels:
            if wanted in refused:
                continue
            channel = self.contact_text_channel if wanted in ("sms", "whatsapp") and self.contact_text_channel \
                else wanted
            if channel == "agency" or not self[FORBIDDING_FIELDS[channel]]:
                accepted.append(channel)
        accepted = list(dict.fromkeys(accepted))
        if channels and not [channel for channel in accepted if channel != "agency"] and not self.contact_no_call:
            accepted.insert(0, "phone")
        return accepted

    def _email_still_refused(self):
        """Whether the customer's current e-mail address is the one that refused a reminder for good."""
        self.ensure_one()
        address = self.partner_id.email_normalized or (self.partner_id.email or "").strip().lower()
        return bool(self.email_refused) and self.email_refused == address

    def _email_refused_for_good(self, reason):
        """A reminder e-mail was refused for good (``reason``): remember the address, so that no other
        goes to it until it changes, and give the collector a task to correct it, once per address."""
        for profile in self:
            address = profile.partner_id.email_normalized or (profile.partner_id.email or "").strip().lower()
            if profile.email_refused == address:
                continue
            profile.sudo().write({"email_refused": address, "email_refused_reason": reason})
            collector = profile.collector_id or profile.company_id.partner_id.user_ids[:1] \
                or self.env.ref("base.user_root")
            own = profile.with_context(lang=collector.lang or self.env.lang)
            profile.partner_id.sudo().activity_schedule(
                "mail.mail_activity_data_todo", user_id=collector.id,
                summary=own.env._("E-mail address refused: correct it"),
                note=own.env._("%(address)s refused a reminder for good (%(reason)s). No reminder e-mail goes to "
                               "it until the customer's address is corrected.", address=address or "-", reason=reason),
            )

    def _check_may_contact(self, channel):
        """Refuse a contact by hand (a reminder sent now) that the customer's preferences forbid."""
        for profile in self:
            if profile.contact_blocked:
                raise UserError(self.env._("%(customer)s must not be contacted: %(reason)s",
                                           customer=profile.partner_id.display_name,
                                           reason=profile.contact_blocked_reason))
            if channel == "email" and profile._email_still_refused():
                raise UserError(self.env._(
                    "%(address)s refused a reminder for good (%(reason)s): correct %(customer)s's e-mail address "
                    "first.", address=profile.email_refused, reason=profile.email_refused_reason,
                    customer=profile.partner_id.display_name))
            if profile[FORBIDDING_FIELDS[channel]]:
                raise UserError(self.env._(
                    "%(customer)s does not accept %(channel)s.", customer=profile.partner_id.display_name,
                    channel=self._fields[FORBIDDING_FIELDS[channel]].get_description(self.env)["string"],
                ))

    def _contact_days(self):
        """The 7 days (Monday first) calls and texts may go out: those ticked, or all when none is."""
        self.ensure_one()
        days = [self[day] for day in DAY_FIELDS]
        return days if any(days) else [True] * 7

    def _has_window(self):
        self.ensure_one()
        return bool(self.contact_hour_from or self.contact_hour_to) or not all(self._contact_days())

    def _contact_window_start(self, moment):
        """The first moment from ``moment`` (naive UTC) inside the customer's days and hours (in its
        timezone, else the company's), as naive UTC: ``moment`` itself when inside or without preference."""
        self.ensure_one()
        if not self._has_window():
            return moment
        zone = pytz.timezone(self.partner_id.tz or self.company_id.partner_id.tz or "UTC")
        start = window_start(pytz.utc.localize(moment).astimezone(zone), self._contact_days(),
                             self.contact_hour_from, self.contact_hour_to)
        return start.astimezone(pytz.utc).replace(tzinfo=None) if start else moment
