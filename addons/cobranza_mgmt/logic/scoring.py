"""Risk score and segment of a customer from its payment behaviour.

risk score (0-100) = 40 × min(average days late / 60, 1)
                   + 25 × (1 − share of invoices paid on time)
                   + 25 × min(current maximum days overdue / 90, 1)
                   + 10 × min(broken payment promises / 3, 1)

* average days late: amount-weighted over the payments of the last 12 months
  (each payment counts with the amount it settled and the days between the
  installment's due date and the payment; early payments count as 0 days);
* share paid on time: of the installments fully paid in the last 12 months, those
  paid by their due date plus the grace days; with none paid it counts as 1 (no
  evidence of lateness);
* current maximum days overdue: of the open installments.

The segment follows from the score and three ordered thresholds (B, C, D):
A punctual below B, B occasional delay below C, C chronic delay below D, D high risk.
"""

LATE_DAYS_CAP = 60
OVERDUE_DAYS_CAP = 90
BROKEN_PROMISES_CAP = 3
WEIGHTS = {"late": 40.0, "on_time": 25.0, "overdue": 25.0, "promises": 10.0}
DEFAULT_THRESHOLDS = (25.0, 50.0, 75.0)
SEGMENTS = ("A", "B", "C", "D")


def risk_score(avg_days_late, on_time_share, max_days_overdue, broken_promises):
    """0-100 risk score, rounded to one decimal; ``on_time_share`` in 0..1 or None."""
    if on_time_share is None:
        on_time_share = 1.0
    score = (
        WEIGHTS["late"] * min(max(avg_days_late or 0.0, 0.0) / LATE_DAYS_CAP, 1.0)
        + WEIGHTS["on_time"] * (1.0 - min(max(on_time_share, 0.0), 1.0))
        + WEIGHTS["overdue"] * min(max(max_days_overdue or 0, 0) / OVERDUE_DAYS_CAP, 1.0)
        + WEIGHTS["promises"] * min(max(broken_promises or 0, 0) / BROKEN_PROMISES_CAP, 1.0)
    )
    return round(score, 1)


def thresholds_are_ordered(threshold_b, threshold_c, threshold_d):
    """True when 0 < B < C < D <= 100."""
    return 0 < threshold_b < threshold_c < threshold_d <= 100


def segment_for_score(score, thresholds=DEFAULT_THRESHOLDS):
    """Segment letter for a risk score, given the ordered (B, C, D) thresholds."""
    if not thresholds_are_ordered(*thresholds):
        raise ValueError(f"segment thresholds must be ordered 0 < B < C < D <= 100, got {thresholds}")
    segment = SEGMENTS[0]
    for letter, threshold in zip(SEGMENTS[1:], thresholds, strict=True):
        if score >= threshold:
            segment = letter
    return segment


def worklist_priority(overdue_amount, max_days_overdue, score):
    """Order of the collector worklist: larger, older and riskier debts first.

    priority = overdue amount × (1 + max days overdue / 30) × (1 + risk score / 100)
    """
    if overdue_amount <= 0:
        return 0.0
    return round(overdue_amount * (1 + max(max_days_overdue, 0) / 30.0) * (1 + score / 100.0), 1)
