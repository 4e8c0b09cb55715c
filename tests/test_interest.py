"""Late-payment interest: the periods and rates, pure logic."""
import datetime

import pytest

from odoo.addons.cobranza_mgmt.logic import interest

D = datetime.date


@pytest.mark.parametrize(("today", "period", "end"), [
    (D(2026, 2, 1), "monthly", D(2026, 1, 31)),
    (D(2026, 2, 28), "monthly", D(2026, 1, 31)),
    (D(2026, 3, 15), "monthly", D(2026, 2, 28)),
    (D(2026, 1, 5), "monthly", D(2025, 12, 31)),
    (D(2026, 4, 1), "quarterly", D(2026, 3, 31)),
    (D(2026, 6, 30), "quarterly", D(2026, 3, 31)),
    (D(2026, 2, 10), "quarterly", D(2025, 12, 31)),
    (D(2026, 12, 31), "quarterly", D(2026, 9, 30)),
])
def test_period_end_is_the_last_completed_period(today, period, end):
    assert interest.period_end(today, period) == end


@pytest.mark.parametrize(("rate", "ceiling", "error"), [
    (-1.0, 0.0, "negative"), (10.0, -5.0, "negative"), (24.0, 18.0, "ceiling"),
    (18.0, 18.0, None), (0.0, 0.0, None), (40.0, 0.0, None),
])
def test_rate_errors(rate, ceiling, error):
    assert interest.rate_error(rate, ceiling) == error
