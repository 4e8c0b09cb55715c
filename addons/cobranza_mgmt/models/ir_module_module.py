from odoo import models
from odoo.tools import SQL

# The translated fields of a dunning level that a copy takes from its default (cobranza.dunning.level).
LEVEL_WORDS = ("name", "text_body", "activity_summary")


class IrModuleModule(models.Model):
    _inherit = "ir.module.module"

    def _load_module_terms(self, modules, langs, overwrite=False, imported_module=False):
        """Loading a language translates the default dunning levels (they have XML ids); the copies made
        for companies created before it was loaded get the same words, where they still read as their
        default does in English (a level a manager renamed keeps its name)."""
        result = super()._load_module_terms(modules, langs, overwrite=overwrite, imported_module=imported_module)
        if "cobranza_mgmt" in modules and "cobranza.dunning.level" in self.env:
            self._cobranza_translate_level_copies(langs)
        return result

    def _cobranza_translate_level_copies(self, langs):
        """One UPDATE per field and language on the jsonb of the translated fields; the ORM's translation
        API would write each level on its own, and these fields have no dependants to recompute."""
        self.env["cobranza.dunning.level"].flush_model()
        for lang in langs:
            if lang == "en_US":
                continue
            for field in LEVEL_WORDS:
                column = SQL.identifier(field)
                self.env.cr.execute(SQL(
                    """UPDATE cobranza_dunning_level copy
                          SET %(column)s = copy.%(column)s || jsonb_build_object(%(lang)s, source.%(column)s->>%(lang)s)
                         FROM cobranza_dunning_level source
                        WHERE copy.source_level_id = source.id AND source.%(column)s ? %(lang)s
                          AND copy.%(column)s IS NOT NULL AND NOT copy.%(column)s ? %(lang)s
                          AND copy.%(column)s->>'en_US' = source.%(column)s->>'en_US'""",
                    column=column, lang=lang,
                ))
        self.env["cobranza.dunning.level"].invalidate_model(list(LEVEL_WORDS))
