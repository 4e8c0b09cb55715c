"""Collection KPIs from period aggregates (pure Python, no Odoo). Formulas in the README.

``figures`` gives, for one company, collector or segment and a period of ``days`` days:

* ``opening``: receivables at the day before the period starts;
* ``sales``: credit sales of the period (customer invoices minus credit notes, taxes included);
* ``closing``: receivables at the end of the period; ``closing_current``: the part not yet due;
* ``overdue_opening``: what was overdue at the start; ``overdue_opening_left``: how much of
  those same items is still unpaid at the end;
* ``balances``: each customer's receivable at the end (for delinquency and concentration);
  ``overdue_balances``: each customer's overdue part at the end;
* ``promises_kept`` / ``promises_broken``; ``agreements_kept`` / ``agreements_broken``;
* ``discounts_granted``: early-payment discounts offered on the credit sales of the period (what
  paying early would save); ``discounts_taken``: those customers deducted when paying early;
* ``closing_incentive`` / ``sales_incentive``: receivables and credit sales of the customers whose
  ladder gives early-payment terms; ``closing_other`` / ``sales_other``: of the others.
"""

KPI_FIELDS = (
    "dso", "best_dso", "add", "cei", "recovery_rate", "delinquent_accounts", "delinquent_share",
    "overdue_share", "promise_kept_rate", "agreement_compliance_rate", "top10_share", "hhi",
    "discount_take_rate", "dso_incentive", "dso_no_incentive",
)


def _ratio(numerator, denominator, scale=1.0):
    """The ratio, or None when there is nothing to measure (no sales, nothing due, no promise):
    "no data" is not 0 %."""
    return round(numerator / denominator * scale, 4) if denominator else None


def compute(figures, days):
    sales = figures["sales"]
    closing = figures["closing"]
    current = figures["closing_current"]
    overdue = closing - current
    dso = _ratio(closing, sales, days)
    best_dso = _ratio(current, sales, days)
    collectable = figures["opening"] + sales
    balances = [amount for amount in figures["balances"] if amount > 0]
    total = sum(balances)
    delinquent = sum(1 for amount in figures["overdue_balances"] if amount > 0)
    top10 = sum(sorted(balances, reverse=True)[:10])
    promises = figures["promises_kept"] + figures["promises_broken"]
    agreements = figures["agreements_kept"] + figures["agreements_broken"]
    return {
        "receivables": round(closing, 2),
        "overdue": round(overdue, 2),
        "sales": round(sales, 2),
        "dso": dso,
        "best_dso": best_dso,
        "add": round(dso - best_dso, 4) if dso is not None else None,
        "cei": _ratio(collectable - closing, collectable - current, 100),
        "recovery_rate": _ratio(figures["overdue_opening"] - figures["overdue_opening_left"],
                                figures["overdue_opening"], 100),
        "delinquent_accounts": delinquent,
        "delinquent_share": _ratio(delinquent, len(balances), 100),
        "overdue_share": _ratio(overdue, closing, 100),
        "promise_kept_rate": _ratio(figures["promises_kept"], promises, 100),
        "agreement_compliance_rate": _ratio(figures["agreements_kept"], agreements, 100),
        "top10_share": _ratio(top10, total, 100),
        "hhi": round(sum((amount / total) ** 2 for amount in balances), 6) if total else None,
        "promise_count": promises,
        "agreement_count": agreements,
        "discounts_granted": round(figures.get("discounts_granted", 0.0), 2),
        "discounts_taken": round(figures.get("discounts_taken", 0.0), 2),
        "discount_take_rate": _ratio(figures.get("discounts_taken", 0.0), figures.get("discounts_granted", 0.0), 100),
        "dso_incentive": _ratio(figures.get("closing_incentive", 0.0), figures.get("sales_incentive", 0.0), days),
        "dso_no_incentive": _ratio(figures.get("closing_other", 0.0), figures.get("sales_other", 0.0), days),
    }
