"""Late-payment interest (*intereses de mora*): the rules that need no database.

Simple interest, actual/365: an overdue item charges

    interest = balance-days x annual rate / 100 / 365, rounded to the currency's decimals,

where balance-days adds up, day by day, what was left to pay on each day charged: the days
after the due date plus the grace days, from the day after the last day already charged
(never a day twice), to the end of the billing period. A payment received on a day counts
from that day. The rate is the customer's ladder's own rate, else the company's; a rate above
the legal ceiling is refused (``rate_error``), and the accrual query caps it too.
"""
import datetime

from dateutil.relativedelta import relativedelta

PERIOD_MONTHS = {"monthly": 1, "quarterly": 3}


def period_end(today, period):
    """Last day of the last billing period completed before ``today``."""
    months = PERIOD_MONTHS[period]
    first_of_period = datetime.date(today.year, today.month - (today.month - 1) % months, 1)
    return first_of_period - relativedelta(days=1)


def rate_error(rate, ceiling):
    """Why an annual rate is refused ('negative', 'ceiling'), or None."""
    if rate < 0 or (ceiling or 0) < 0:
        return "negative"
    if ceiling and rate > ceiling:
        return "ceiling"
    return None
