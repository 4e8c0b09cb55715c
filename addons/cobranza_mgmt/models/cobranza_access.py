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
