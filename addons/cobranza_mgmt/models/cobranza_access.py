"""Who may do what in Collections: one place for the checks every model method makes.

Buttons and views only show what these allow; the checks themselves run in the model
methods, so a call over RPC meets the same rules. Superuser mode (``env.su``) is reserved to
the module's own code after its explicit checks; nothing a caller sets (context keys) skips them.
"""
from odoo.exceptions import AccessError

GROUP_COLLECTOR = "cobranza_mgmt.cobranza_mgmt_group_collector"
GROUP_MANAGER = "cobranza_mgmt.cobranza_mgmt_group_manager"


def is_collector(env):
    return env.su or env.user.has_group(GROUP_COLLECTOR)


def is_manager(env):
    return env.su or env.user.has_group(GROUP_MANAGER)


def check_collector(env):
    if not is_collector(env):
        raise AccessError(env._("Only Collectors and Collections Managers can do this."))


def check_manager(env):
    if not is_manager(env):
        raise AccessError(env._("Only a Collections Manager can do this."))


def check_fields(records, fields_written, allowed):
    """Refuse a direct write of fields that only Collections itself sets (through its methods)."""
    env = records.env
    if env.su:
        return
    forbidden = sorted(set(fields_written) - set(allowed))
    if forbidden:
        labels = ", ".join(records._fields[name].get_description(env)["string"] if name in records._fields else name
                           for name in forbidden)
        raise AccessError(env._(
            "%(fields)s of %(model)s are set by Collections through its actions, not written directly.",
            fields=labels, model=records._description,
        ))


def in_portfolio(env, partners):
    """The commercial partners of ``partners`` this user may act on: all for a manager; for a
    collector, the customers of their portfolio in the current companies; none for anyone else."""
    customers = partners.commercial_partner_id
    if is_manager(env):
        return customers
    if not is_collector(env) or not customers:
        return customers.browse()
    return env["cobranza.credit.profile"].sudo().search([
        ("partner_id", "in", customers.ids), ("collector_id", "=", env.uid), ("company_id", "in", env.companies.ids),
    ]).partner_id.with_env(env)


def check_portfolio(env, partners):
    """A collector acts only on the customers of their portfolio (in the current companies);
    a manager on every customer. ``partners``: customers or their contacts."""
    if is_manager(env):
        return
    check_collector(env)
    others = partners.commercial_partner_id - in_portfolio(env, partners)
    if others:
        raise AccessError(env._(
            "%(customers)s is not in your portfolio: only their collector or a Collections Manager can act on it.",
            customers=", ".join(others.mapped("display_name")),
        ))


def compute_can_act(records):
    """Set ``cobranza_can_act`` of invoices or customers: whether this user may act on them."""
    mine = in_portfolio(records.env, records.commercial_partner_id)
    for record in records:
        record.cobranza_can_act = record.commercial_partner_id in mine
