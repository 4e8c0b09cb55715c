from pathlib import Path

import polib

from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tests.common import TransactionCase
from odoo.tools.translate import TranslationModuleReader

ADDONS = Path(__file__).resolve().parent.parent.parent


class I18nCompleteness:
    """Mixin for a module's test case: every user-facing string has its Spanish translation."""

    module = "cobranza_mgmt"

    def test_es_po_translates_every_term(self):
        terms = {
            entry[4]
            for entry in TranslationModuleReader(self.env.cr, modules=[self.module])
            if entry[0] == self.module and entry[4]
        }
        es_po = ADDONS / self.module / "i18n" / "es.po"
        translated = {entry.msgid for entry in polib.pofile(str(es_po)) if entry.msgstr}
        self.assertFalse(sorted(terms - translated), f"terms missing from {self.module}/i18n/es.po")


@tagged("post_install", "-at_install")
class TestI18n(I18nCompleteness, TransactionCase):

    def test_spanish_menu_and_error_message(self):
        self.env["res.lang"]._activate_lang("es_ES")
        self.env["ir.module.module"]._load_module_terms(["cobranza_mgmt"], ["es_ES"], overwrite=True)
        menu = self.env.ref("cobranza_mgmt.cobranza_menu_root").with_context(lang="es_ES")
        self.assertEqual(menu.name, "Cobranza")
        expected = "Ya existe una etapa de cobranza llamada «Administrativa»"
        with self.assertRaisesRegex(ValidationError, expected):
            self.env["cobranza.stage"].with_context(lang="es_ES").create({"name": "Administrativa"})
