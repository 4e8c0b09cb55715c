"""When and how a customer may be contacted (pure logic, no Odoo)."""
from datetime import datetime, time, timedelta

# The channel a reminder uses -> the credit profile field that forbids it.
FORBIDDING_FIELDS = {
    "email": "contact_no_email", "sms": "contact_no_sms", "whatsapp": "contact_no_whatsapp",
    "letter": "contact_no_letter", "phone": "contact_no_call",
}
# Monday first, as ``date.weekday()``.
DAY_FIELDS = ("contact_mon", "contact_tue", "contact_wed", "contact_thu", "contact_fri", "contact_sat", "contact_sun")
PREFERENCE_FIELDS = (
    "contact_blocked", "contact_blocked_reason", "contact_text_channel", "contact_hour_from", "contact_hour_to",
    *FORBIDDING_FIELDS.values(), *DAY_FIELDS,
)


def hour_label(value):
    """8.5 -> "08:30"."""
    hours, minutes = divmod(round(value * 60), 60)
    return f"{hours:02d}:{minutes:02d}"


def hours_are_valid(low, high):
    """0 and 0 (any time), or a start before the end within the day."""
    return (not low and not high) or 0 <= low < high <= 24


def window_start(local, days, low, high):
    """The first moment from ``local`` (an aware datetime in the customer's timezone) on an allowed day
    (``days``: 7 booleans, Monday first) between the hours ``low`` and ``high`` (0 and 0: any time).

    :return: an aware datetime in the same timezone, ``local`` itself when it is inside the window;
             None when no day is allowed
    """
    if not low and not high:
        high = 24.0
    zone = local.tzinfo
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        if not days[day.weekday()]:
            continue
        midnight = datetime.combine(day, time())
        start = _localize(zone, midnight + timedelta(hours=low))
        end = _localize(zone, midnight + timedelta(hours=high))
        if local < end:
            return max(local, start)
    return None


def _localize(zone, naive):
    return zone.localize(naive) if hasattr(zone, "localize") else naive.replace(tzinfo=zone)
