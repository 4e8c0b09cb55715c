"""Receivable SQL in one place: what a receivable item is, which are open, an item's residual as
of a past day, and its aging bucket. Every query of the module over receivable items builds on
these pieces; none types them again.

Conventions: the journal item is aliased ``aml`` and joined to its account as ``account``
(``RECEIVABLE_FROM``); the ORM domains below say the same as the SQL predicates.

These are read-only fragments: they skip the ORM's record rules and company checks on purpose,
because every caller reads for the module's own aggregates (aging, behaviour, exposure, dunning)
after its own access check, and a per-record ORM read of hundreds of thousands of items is what
the benchmarks measured as the cost to avoid.
"""
from odoo.tools import SQL

from ..logic import aging

RECEIVABLE_FROM = SQL("account_move_line aml JOIN account_account account ON account.id = aml.account_id")

# A posted receivable item of a partner (any state of reconciliation).
IS_RECEIVABLE = SQL(
    "account.account_type = 'asset_receivable' AND aml.parent_state = 'posted' AND aml.partner_id IS NOT NULL"
)
# ... still open today: not reconciled, something left in company currency.
IS_OPEN = SQL("%s AND NOT aml.reconciled AND aml.amount_residual != 0", IS_RECEIVABLE)
# ... an open debit (what the customer owes), and an open credit (what the customer has paid unapplied).
IS_OPEN_DEBIT = SQL("%s AND NOT aml.reconciled AND aml.amount_residual > 0", IS_RECEIVABLE)
IS_OPEN_CREDIT = SQL("%s AND NOT aml.reconciled AND aml.amount_residual < 0", IS_RECEIVABLE)

# The due date of an item (a journal item without one is due on its date).
DUE_DATE = SQL("COALESCE(aml.date_maturity, aml.date)")


# Overdue is net (DOMAIN.md, docs of the KPI formulas): a customer's unapplied payments and credit notes
# pay its oldest debits first, as a collector reads an account statement. NET_RESIDUAL is an item's
# residual after that allocation, over a derived table with the columns ``id``, ``company_id``,
# ``partner_id``, ``due`` (due date), ``date`` and ``residual`` holding every open item of the customer:
#   a debit:  its residual less what the credits left after paying the debits due before it;
#   a credit: its residual plus what the debits took from it, credits taken oldest first.
# The debits' and credits' nets add up to the customer's balance, so no total changes; what moves is
# which bucket holds it, and overdue never exceeds the net receivable.
_CUSTOMER = SQL("PARTITION BY company_id, partner_id")
NET_RESIDUAL = SQL(
    """CASE WHEN residual > 0 THEN residual - LEAST(residual, GREATEST(
              -COALESCE(SUM(residual) FILTER (WHERE residual < 0) OVER (%(customer)s), 0)
              - COALESCE(SUM(residual) FILTER (WHERE residual > 0) OVER (%(customer)s ORDER BY due, id
                         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0), 0))
            ELSE residual + LEAST(-residual, GREATEST(
              COALESCE(SUM(residual) FILTER (WHERE residual > 0) OVER (%(customer)s), 0)
              + COALESCE(SUM(residual) FILTER (WHERE residual < 0) OVER (%(customer)s ORDER BY date, id
                         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0), 0))
       END""",
    customer=_CUSTOMER,
)


def with_net(base):
    """SQL: the rows of ``base`` (a query with the columns NET_RESIDUAL reads) and their ``net``.

    Most customers have no unapplied credit, and their items' net is their residual: only the items of
    customers with a credit go through the window functions (two sorts of every item otherwise)."""
    return SQL(
        """
        WITH base AS MATERIALIZED (%(base)s),
             credited AS (SELECT DISTINCT company_id, partner_id FROM base WHERE residual < 0)
        SELECT base.*, base.residual AS net FROM base
         WHERE (company_id, partner_id) NOT IN (SELECT company_id, partner_id FROM credited)
        UNION ALL
        SELECT base.*, %(net)s AS net FROM base
         WHERE (company_id, partner_id) IN (SELECT company_id, partner_id FROM credited)
        """,
        base=base, net=NET_RESIDUAL,
    )


def net_open_items(company_id, partner_ids=None):
    """SQL: (id, partner_id, due, residual, net) of ``company_id``'s open receivable items today, ``net``
    being NET_RESIDUAL; ``partner_ids`` limits it to those customers."""
    partner_filter = SQL("AND aml.partner_id = ANY(%s)", list(partner_ids)) if partner_ids is not None else SQL()
    return with_net(SQL(
        """
        SELECT aml.id, aml.company_id, aml.partner_id, %(due)s AS due, aml.date, aml.amount_residual AS residual
          FROM %(receivable)s
         WHERE aml.company_id = %(company)s AND %(is_open)s %(partner_filter)s
        """,
        due=DUE_DATE, receivable=RECEIVABLE_FROM, company=company_id, is_open=IS_OPEN, partner_filter=partner_filter,
    ))


def open_debit_domain():
    """ORM domain of ``IS_OPEN_DEBIT`` on account.move.line."""
    return [
        ("account_type", "=", "asset_receivable"), ("parent_state", "=", "posted"), ("partner_id", "!=", False),
        ("reconciled", "=", False), ("amount_residual", ">", 0),
    ]


def later_partials_join(day, alias):
    """SQL: LEFT JOIN ``alias`` giving, per journal item ``aml``, what partial reconciliations dated
    after ``day`` took from it (``amount`` in company currency, ``amount_currency`` in the document's).

    An item's residual at the end of ``day`` is its stored residual plus ``alias.amount``: only the
    few partials dated later are read, not the whole reconciliation history.
    """
    return SQL(
        """
        LEFT JOIN (
            SELECT line_id, SUM(amount) AS amount, SUM(amount_currency) AS amount_currency FROM (
                SELECT debit_move_id AS line_id, amount, debit_amount_currency AS amount_currency
                  FROM account_partial_reconcile WHERE max_date > %(day)s
                UNION ALL
                SELECT credit_move_id, -amount, -credit_amount_currency
                  FROM account_partial_reconcile WHERE max_date > %(day)s
            ) partial GROUP BY line_id
        ) %(alias)s ON %(alias)s.line_id = aml.id
        """, day=day, alias=SQL.identifier(alias),
    )


def residual_as_of(day, today, alias="later"):
    """How to read items as they were at the end of ``day``.

    :return: (residual SQL, residual in document currency SQL, join SQL, "was open then" predicate);
             on or after ``today`` the stored residuals as they are, with no join.
    """
    if day >= today:
        return SQL("aml.amount_residual"), SQL("aml.amount_residual_currency"), SQL(), SQL("NOT aml.reconciled")
    later = SQL.identifier(alias)
    return (
        SQL("(aml.amount_residual + COALESCE(%s.amount, 0))", later),
        SQL("(aml.amount_residual_currency + COALESCE(%s.amount_currency, 0))", later),
        later_partials_join(day, alias),
        SQL("(NOT aml.reconciled OR %s.line_id IS NOT NULL) AND aml.date <= %s", later, day),
    )


def _bucket_condition(days, low, high):
    if low is None:
        return SQL("%s <= %s", days, high)
    if high is None:
        return SQL("%s >= %s", days, low)
    return SQL("%s BETWEEN %s AND %s", days, low, high)


def bucket_case(days):
    """SQL CASE giving the aging bucket key (``logic.aging.BUCKETS``) of ``days`` overdue."""
    return SQL("CASE %s END", SQL(" ").join(
        SQL("WHEN %s THEN %s", _bucket_condition(days, low, high), key) for key, low, high in aging.BUCKETS
    ))


def bucket_sums(amount, days):
    """SQL select list: ``SUM(amount)`` per aging bucket of ``days`` overdue, named as the bucket's
    column (``aging.BUCKET_COLUMNS``)."""
    return SQL(", ").join(
        SQL("SUM(%s) FILTER (WHERE %s) AS %s", amount, _bucket_condition(days, low, high),
            SQL.identifier(aging.BUCKET_COLUMNS[key]))
        for key, low, high in aging.BUCKETS
    )


def bucket_columns(amount, bucket):
    """SQL select list: ``amount`` in the column of its ``bucket`` key, 0 in the others."""
    return SQL(", ").join(
        SQL("CASE WHEN %s = %s THEN %s ELSE 0 END AS %s", bucket, key, amount, SQL.identifier(column))
        for key, column in aging.BUCKET_COLUMNS.items()
    )
