"""18.0.1.2.0: the credit decision has one owner (cobranza.credit.policy).

- Holds the policy set were stored as ``auto``; the type is now ``policy`` (manual / policy / dunning).
  Converted before the selection is reloaded, so Odoo does not empty the removed value.
"""


def migrate(cr, version):
    if not version:
        return
    cr.execute("UPDATE cobranza_credit_profile SET hold_type = 'policy' WHERE hold_type = 'auto'")
