"""18.0.1.1.0: what databases installed before need of the security hardening.

- Collections now wait until a manager starts them in each company (install day is calm); a
  database that already ran them keeps running: its companies count as started today.
- SMS/WhatsApp texts are rendered as placeholders only (no code); the default texts used
  ``format_amount(...)``, now ``object.amount_due_text``. Levels are ``noupdate`` data, so the
  stored texts (every language) are rewritten here; a text edited by hand with other expressions
  is left alone and its communications fail with the reason until a manager rewrites it.
- The KPI snapshot's UNIQUE NULLS NOT DISTINCT constraint becomes an expression index (init()).
- The default formal-notice and agency levels are urgent (they ignore the days between reminders).
"""

OLD_AMOUNT = "format_amount(object.amount_due, object.currency_id)"
NEW_AMOUNT = "object.amount_due_text"


def migrate(cr, version):
    if not version:
        return
    cr.execute("ALTER TABLE cobranza_kpi_snapshot DROP CONSTRAINT IF EXISTS cobranza_kpi_snapshot_one_per_day")
    cr.execute("UPDATE res_company SET cobranza_start_date = CURRENT_DATE WHERE cobranza_start_date IS NULL")
    cr.execute(
        "UPDATE cobranza_dunning_level SET is_urgent = true WHERE id IN (SELECT res_id FROM ir_model_data "
        "WHERE module = 'cobranza_mgmt' AND model = 'cobranza.dunning.level' "
        "AND name IN ('cobranza_dunning_level_formal', 'cobranza_dunning_level_agency'))"
    )
    cr.execute(
        "UPDATE cobranza_dunning_level SET text_body = replace(text_body::text, %s, %s)::jsonb "
        "WHERE text_body::text LIKE %s",
        [OLD_AMOUNT, NEW_AMOUNT, f"%{OLD_AMOUNT}%"],
    )
