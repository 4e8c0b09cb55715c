"""Aging buckets of receivables.

A receivable is *not yet due* until its due date has passed: an item due today is
not overdue. From the next day on it is ``days_overdue`` days late and falls in the
first bucket whose upper bound is at least that many days.
"""
import datetime

NOT_DUE = "not_due"
BUCKETS = (
    # (key, lowest days overdue, highest days overdue or None for open-ended)
    (NOT_DUE, None, 0),
    ("1_30", 1, 30),
    ("31_60", 31, 60),
    ("61_90", 61, 90),
    ("over_90", 91, None),
)
BUCKET_KEYS = tuple(key for key, _low, _high in BUCKETS)
# Label of each bucket (English source; the selection fields that use them are translated by Odoo).
BUCKET_LABELS = {NOT_DUE: "Not Due", "1_30": "1-30", "31_60": "31-60", "61_90": "61-90", "over_90": "Over 90"}
# Column of each bucket's amount in the reports and snapshots (a column name cannot start with a digit).
BUCKET_COLUMNS = {key: key if key == NOT_DUE else f"days_{key}" for key in BUCKET_KEYS}


def days_overdue(due_date, as_of):
    """Days between ``due_date`` and ``as_of``; zero or negative when not yet late."""
    if not isinstance(due_date, datetime.date) or not isinstance(as_of, datetime.date):
        raise TypeError("due_date and as_of must be dates")
    return (as_of - due_date).days


def bucket_for_days(days):
    """Key of the aging bucket for a number of days overdue (<= 0: not yet due)."""
    for key, _low, high in BUCKETS:
        if high is None or days <= high:
            return key
    raise AssertionError("unreachable: the last bucket is open-ended")


def bucket_for_date(due_date, as_of):
    """Key of the aging bucket of an item due on ``due_date``, seen on ``as_of``."""
    return bucket_for_days(days_overdue(due_date, as_of))


def net_buckets(amounts, credit, columns):
    """Take ``credit`` (the customer's unapplied payments and credit notes, a positive amount) off the
    debits of ``amounts`` ({bucket column: amount}), the oldest bucket first; what is left of it stays
    with the customer as not due (a negative amount). ``columns``: the bucket columns, not due first.
    The same rule as ``cobranza_receivable.NET_RESIDUAL`` item by item: a bucket's items are all older
    than the next younger bucket's, so the allocation by bucket is the allocation by due date."""
    for column in reversed(columns):
        taken = min(max(amounts[column], 0.0), credit)
        amounts[column] -= taken
        credit -= taken
    amounts[columns[0]] -= credit
    return amounts
