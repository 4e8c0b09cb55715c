"""18.0.1.5.0: dunning levels belong to ladders (``cobranza.dunning.ladder``).

Before the models load, each company's levels are put in a default ladder "Standard" (the
main company's ladder gets the data's XML id, so the data file does not make a second one), so
the new required ``ladder_id`` is never empty. Raw SQL: the model does not exist yet.
"""


def migrate(cr, version):
    if not version:
        return
    cr.execute("""
        CREATE TABLE IF NOT EXISTS cobranza_dunning_ladder (
            id SERIAL PRIMARY KEY, name jsonb NOT NULL, company_id integer NOT NULL,
            sequence integer, active boolean, is_default boolean
        )
    """)
    cr.execute("ALTER TABLE cobranza_dunning_level ADD COLUMN IF NOT EXISTS ladder_id integer")
    cr.execute("""
        INSERT INTO cobranza_dunning_ladder (name, company_id, sequence, active, is_default)
        SELECT DISTINCT '{"en_US": "Standard", "es_ES": "Estándar"}'::jsonb, level.company_id, 10, true, true
          FROM cobranza_dunning_level level
         WHERE NOT EXISTS (SELECT 1 FROM cobranza_dunning_ladder ladder WHERE ladder.company_id = level.company_id)
    """)
    cr.execute("""
        UPDATE cobranza_dunning_level level SET ladder_id = ladder.id
          FROM cobranza_dunning_ladder ladder
         WHERE ladder.company_id = level.company_id AND ladder.is_default AND level.ladder_id IS NULL
    """)
    cr.execute("""
        INSERT INTO ir_model_data (module, name, model, res_id, noupdate)
        SELECT 'cobranza_mgmt', 'cobranza_dunning_ladder_default', 'cobranza.dunning.ladder', ladder.id, true
          FROM cobranza_dunning_ladder ladder
          JOIN ir_model_data company ON company.module = 'base' AND company.name = 'main_company'
                                    AND company.res_id = ladder.company_id
         WHERE ladder.is_default
        ON CONFLICT DO NOTHING
    """)
