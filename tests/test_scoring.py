"""Risk score and segments: pure logic, no database."""
import pytest

from odoo.addons.cobranza_mgmt.logic import scoring


def test_perfect_payer_scores_zero():
    assert scoring.risk_score(0, 1.0, 0, 0) == 0.0


def test_no_history_counts_as_on_time():
    assert scoring.risk_score(0, None, 0, 0) == 0.0


def test_worst_payer_scores_hundred_and_caps():
    assert scoring.risk_score(60, 0.0, 90, 3) == 100.0
    assert scoring.risk_score(600, -1, 9000, 30) == 100.0


def test_readme_worked_example():
    # 6.2 days late, 2 of 3 on time, 33 days overdue, no broken promise
    assert scoring.risk_score(6.2, 2 / 3, 33, 0) == 21.6


@pytest.mark.parametrize(
    ("score", "segment"),
    [(0, "A"), (24.9, "A"), (25, "B"), (49.9, "B"), (50, "C"), (74.9, "C"), (75, "D"), (100, "D")],
)
def test_segment_boundaries(score, segment):
    assert scoring.segment_for_score(score) == segment


def test_custom_thresholds():
    assert scoring.segment_for_score(45, (10, 40, 90)) == "C"


@pytest.mark.parametrize("thresholds", [(50, 25, 75), (25, 50, 50), (0, 50, 75), (25, 50, 101)])
def test_unordered_thresholds_refused(thresholds):
    assert not scoring.thresholds_are_ordered(*thresholds)
    with pytest.raises(ValueError, match="ordered"):
        scoring.segment_for_score(10, thresholds)
