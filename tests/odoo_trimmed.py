"""pytest plugin: run against the trimmed Odoo 18.0 source of ../shared/odoo.

That copy carries every Community addon it does not need as a manifest alone, so
`odoo.addons.test_mimetypes.tests` is absent. Odoo's own account tests import a helper from
it at module level (`test_account_incoming_supplier_invoice`), and importing
`odoo.addons.account.tests.common` (our tests' base class) imports that whole package. When,
and only when, the real module is missing, this registers a module of that name whose
`contents()` refuses to run: Odoo's test that needs it is not part of our suite, and with a
full Odoo source tree this plugin does nothing.
"""
import sys
import types
from pathlib import Path

import odoo

HELPER = "odoo.addons.test_mimetypes.tests.test_guess_mimetypes"


def _contents(extension):
    raise RuntimeError(
        f"contents({extension!r}) needs Odoo's test_mimetypes test files, which the trimmed Odoo source "
        "does not carry; run Odoo's own tests against a full 18.0 source tree."
    )


def _register_missing_helper():
    if (Path(odoo.__file__).parent / "addons" / "test_mimetypes" / "tests").is_dir():
        return
    package = types.ModuleType(HELPER.rsplit(".", 1)[0])
    package.__path__ = []
    helper = types.ModuleType(HELPER)
    helper.contents = _contents
    package.test_guess_mimetypes = helper
    sys.modules.setdefault(package.__name__, package)
    sys.modules.setdefault(HELPER, helper)


_register_missing_helper()
