"""Payment agreement schedules: pure logic, no database."""
import datetime
import itertools
from decimal import Decimal

import pytest

from odoo.addons.cobranza_mgmt.logic import schedule

D = datetime.date


def test_monthly_dates_keep_the_day_and_clamp_month_ends():
    assert schedule.due_dates(D(2026, 1, 31), 4, "monthly") == [
        D(2026, 1, 31), D(2026, 2, 28), D(2026, 3, 31), D(2026, 4, 30),
    ]


@pytest.mark.parametrize(("frequency", "step"), [("weekly", 7), ("biweekly", 14)])
def test_weekly_and_biweekly_dates(frequency, step):
    dates = schedule.due_dates(D(2026, 12, 28), 3, frequency)
    assert [(later - earlier).days for earlier, later in itertools.pairwise(dates)] == [step, step]
    assert dates[0] == D(2026, 12, 28)


def test_custom_dates_are_taken_as_given_and_checked():
    dates = [D(2026, 1, 10), D(2026, 1, 5)]
    assert schedule.due_dates(None, 2, "custom", dates) == dates
    assert not schedule.is_strictly_increasing(dates)
    assert not schedule.is_strictly_increasing([D(2026, 1, 5), D(2026, 1, 5)])
    assert schedule.is_strictly_increasing([D(2026, 1, 5), D(2026, 1, 6)])


def test_no_interest_splits_evenly_with_rounding_on_the_last():
    rows = schedule.build_schedule(1000, [D(2026, 1, 1)] * 3)
    assert [row["amount"] for row in rows] == [Decimal("333.33"), Decimal("333.33"), Decimal("333.34")]
    assert sum(row["interest"] for row in rows) == 0


def test_flat_interest_worked_example():
    # 1,200.00 over 12 months at 12 % a year, flat: 1 % a month x 12 = 144.00 of interest
    rows = schedule.build_schedule(1200, [D(2026, 1, 1)] * 12, annual_rate=12, method="flat")
    assert sum(row["interest"] for row in rows) == Decimal("144.00")
    assert {row["amount"] for row in rows} == {Decimal("112.00")}


def test_french_worked_example():
    # 1,000.00 over 3 months at 12 % a year: r = 1 %, A = 1000 x 0.01 / (1 - 1.01^-3) = 340.02
    rows = schedule.build_schedule(1000, [D(2026, 1, 1)] * 3, annual_rate=12, method="french")
    assert [row["interest"] for row in rows] == [Decimal("10.00"), Decimal("6.70"), Decimal("3.37")]
    # the last one repays the balance left (336.66) plus its interest: rounding lands there
    assert [row["amount"] for row in rows] == [Decimal("340.02"), Decimal("340.02"), Decimal("340.03")]
    assert sum(row["principal"] for row in rows) == Decimal("1000.00")


@pytest.mark.parametrize("method", ["flat", "french"])
@pytest.mark.parametrize("frequency", ["weekly", "biweekly", "monthly", "custom"])
@pytest.mark.parametrize(("principal", "count", "rate"), [(999.99, 7, 18.5), (0.05, 3, 0), (123456.78, 36, 29.9)])
def test_installments_sum_exactly(method, frequency, principal, count, rate):
    rows = schedule.build_schedule(principal, [D(2026, 1, 1)] * count, annual_rate=rate, method=method,
                                   frequency=frequency)
    assert sum(row["principal"] for row in rows) == Decimal(str(principal))
    assert all(row["amount"] == row["principal"] + row["interest"] for row in rows)
    assert all(row["amount"] >= 0 for row in rows)


def test_zero_decimal_currency():
    rows = schedule.build_schedule(1000, [D(2026, 1, 1)] * 3, digits=0)
    assert [row["amount"] for row in rows] == [Decimal(333), Decimal(333), Decimal(334)]


def test_allocation_in_due_date_order_partial_and_early():
    amounts = [Decimal("100"), Decimal("100"), Decimal("100")]
    assert schedule.allocate(amounts, 150) == [Decimal("100"), Decimal("50"), Decimal("0")]
    assert schedule.allocate(amounts, 0) == [Decimal("0")] * 3
    assert schedule.allocate(amounts, 400) == amounts
