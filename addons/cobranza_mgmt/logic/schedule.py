"""Installment schedules of payment agreements (pure Python, no Odoo).

A schedule repays ``principal`` (the financed debt minus the down payment) in ``count``
installments on the given dates, with optional interest at an annual rate:

* periodic rate ``r`` = annual rate / periods per year (weekly 52, biweekly 26, monthly 12;
  custom dates count as monthly periods);
* **flat**: interest = principal x r x count, spread evenly over the installments;
* **French** (constant installment): A = principal x r / (1 - (1 + r) ** -count); each
  installment pays the interest on the balance still owed (balance x r) and A minus that of
  principal.

Every amount is rounded to the currency's decimals; the last installment takes what rounding
left over, so the installments always add up exactly to principal + interest.
"""

import itertools
from decimal import ROUND_HALF_UP, Decimal

from dateutil.relativedelta import relativedelta

PERIODS_PER_YEAR = {"weekly": 52, "biweekly": 26, "monthly": 12, "custom": 12}


def due_dates(first, count, frequency, custom=None):
    """The ``count`` due dates from ``first`` on (``custom``: the dates given, as they are)."""
    if frequency == "custom":
        return list(custom or [])
    if frequency == "monthly":
        return [first + relativedelta(months=k) for k in range(count)]
    step = {"weekly": 7, "biweekly": 14}[frequency]
    return [first + relativedelta(days=step * k) for k in range(count)]


def is_strictly_increasing(dates):
    return all(earlier < later for earlier, later in itertools.pairwise(dates))


def _round(value, digits):
    return value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def build_schedule(principal, dates, *, annual_rate=0.0, method="flat", frequency="monthly", digits=2):
    """Rows ``{"date", "principal", "interest", "amount"}`` (Decimals) repaying ``principal`` on ``dates``.

    ``annual_rate`` is a percentage (12.0 = 12 % a year).
    """
    count = len(dates)
    if count < 1:
        raise ValueError("a schedule needs at least one installment")
    principal = _round(Decimal(str(principal)), digits)
    rate = Decimal(str(annual_rate)) / 100 / PERIODS_PER_YEAR[frequency]
    if not rate:
        principals = _split(principal, count, digits)
        interests = [Decimal(0)] * count
    elif method == "flat":
        principals = _split(principal, count, digits)
        interests = _split(_round(principal * rate * count, digits), count, digits)
    elif method == "french":
        payment = _round(principal * rate / (1 - (1 + rate) ** -count), digits)
        principals, interests, balance = [], [], principal
        for index in range(count):
            interest = _round(balance * rate, digits)
            part = balance if index == count - 1 else min(payment - interest, balance)
            principals.append(part)
            interests.append(interest)
            balance -= part
    else:
        raise ValueError(f"unknown interest method {method!r}")
    return [
        {"date": day, "principal": part, "interest": interest, "amount": part + interest}
        for day, part, interest in zip(dates, principals, interests, strict=True)
    ]


def _split(total, count, digits):
    """``total`` in ``count`` equal rounded parts, the last one taking the rounding difference."""
    part = _round(total / count, digits)
    return [part] * (count - 1) + [total - part * (count - 1)]


def allocate(amounts, paid):
    """Spread ``paid`` over installments of ``amounts`` (in due-date order): the amount paid on each."""
    allocated, left = [], Decimal(str(paid))
    for value in amounts:
        amount = Decimal(str(value))
        part = max(Decimal(0), min(amount, left))
        allocated.append(part)
        left -= part
    return allocated
