"""Aging buckets: pure logic, no database."""
import datetime

import pytest

from odoo.addons.cobranza_mgmt.logic import aging

TODAY = datetime.date(2026, 3, 31)


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (-10, "not_due"),
        (0, "not_due"),  # due today is not overdue
        (1, "1_30"),
        (30, "1_30"),
        (31, "31_60"),
        (60, "31_60"),
        (61, "61_90"),
        (90, "61_90"),
        (91, "over_90"),
        (4000, "over_90"),
    ],
)
def test_bucket_boundaries(days, bucket):
    assert aging.bucket_for_days(days) == bucket


def test_bucket_for_date_counts_calendar_days():
    assert aging.bucket_for_date(TODAY, TODAY) == "not_due"
    assert aging.bucket_for_date(datetime.date(2026, 3, 1), TODAY) == "1_30"  # 30 days
    assert aging.bucket_for_date(datetime.date(2026, 2, 28), TODAY) == "31_60"  # 31 days


def test_days_overdue_rejects_non_dates():
    with pytest.raises(TypeError):
        aging.days_overdue("2026-03-01", TODAY)


def test_bucket_keys_in_order():
    assert aging.BUCKET_KEYS == ("not_due", "1_30", "31_60", "61_90", "over_90")


def test_net_buckets_pay_the_oldest_first():
    columns = ("not_due", "days_1_30", "days_31_60", "days_61_90", "days_over_90")
    amounts = {"not_due": 100.0, "days_1_30": 400.0, "days_31_60": 0.0, "days_61_90": 0.0, "days_over_90": 600.0}
    assert aging.net_buckets(dict(amounts), 700.0, columns) == {
        "not_due": 100.0, "days_1_30": 300.0, "days_31_60": 0.0, "days_61_90": 0.0, "days_over_90": 0.0}
    # more paid than owed: every debit paid, the rest the customer's, not due
    assert aging.net_buckets(dict(amounts), 1250.0, columns) == {
        "not_due": -150.0, "days_1_30": 0.0, "days_31_60": 0.0, "days_61_90": 0.0, "days_over_90": 0.0}
    assert aging.net_buckets(dict(amounts), 0.0, columns) == amounts
