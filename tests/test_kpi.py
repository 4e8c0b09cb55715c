"""Collection KPIs: the README's worked example, pure logic."""
import pytest

from odoo.addons.cobranza_mgmt.logic import kpi

# README "Worked example": first quarter of 2026 (90 days)
FIGURES = {
    "opening": 1000.0, "sales": 4000.0, "closing": 2900.0, "closing_current": 500.0,
    "overdue_opening": 1000.0, "overdue_opening_left": 400.0,
    "balances": [400.0, 2000.0, 500.0], "overdue_balances": [400.0, 2000.0, 0.0],
    "promises_kept": 1, "promises_broken": 1, "agreements_kept": 1, "agreements_broken": 1,
}


def test_worked_example():
    result = kpi.compute(FIGURES, 90)
    assert result["dso"] == 65.25
    assert result["best_dso"] == 11.25
    assert result["add"] == 54.0
    assert result["cei"] == 46.6667
    assert result["recovery_rate"] == 60.0
    assert result["delinquent_accounts"] == 2
    assert result["delinquent_share"] == 66.6667
    assert result["overdue_share"] == 82.7586
    assert result["promise_kept_rate"] == 50.0
    assert result["agreement_compliance_rate"] == 50.0
    assert result["top10_share"] == 100.0
    assert result["hhi"] == pytest.approx(0.524376, abs=1e-6)


def test_empty_period_gives_no_data_not_zero_percent():
    empty = {key: ([] if isinstance(value, list) else 0) for key, value in FIGURES.items()}
    result = kpi.compute(empty, 30)
    assert result["delinquent_accounts"] == 0
    assert all(result[name] is None for name in kpi.KPI_FIELDS if name != "delinquent_accounts")


def test_no_promise_due_is_no_data_while_other_rates_stand():
    result = kpi.compute(dict(FIGURES, promises_kept=0, promises_broken=0, agreements_kept=0,
                              agreements_broken=0), 30)
    assert result["promise_kept_rate"] is None and result["agreement_compliance_rate"] is None
    assert result["promise_count"] == 0 and result["recovery_rate"] == 60.0


def test_top10_share_with_many_customers():
    figures = dict(FIGURES, balances=[10.0] * 20 + [100.0], overdue_balances=[])
    result = kpi.compute(figures, 30)
    assert result["top10_share"] == pytest.approx((100 + 90) / 300 * 100, abs=1e-4)


def test_early_payment_figures():
    figures = {
        "opening": 0.0, "sales": 1500.0, "closing": 500.0, "closing_current": 500.0, "overdue_opening": 0.0,
        "overdue_opening_left": 0.0, "balances": [500.0], "overdue_balances": [0.0], "promises_kept": 0,
        "promises_broken": 0, "agreements_kept": 0, "agreements_broken": 0,
        "discounts_granted": 40.0, "discounts_taken": 10.0,
        "closing_incentive": 0.0, "sales_incentive": 1000.0, "closing_other": 500.0, "sales_other": 500.0,
    }
    result = kpi.compute(figures, 30)
    assert (result["discounts_granted"], result["discounts_taken"], result["discount_take_rate"]) == (40.0, 10.0, 25.0)
    assert (result["dso_incentive"], result["dso_no_incentive"]) == (0.0, 30.0)
