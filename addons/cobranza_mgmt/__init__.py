from . import controllers
from . import logic
from . import models
from . import reports
from . import wizards
from . import demo


def _post_init_refresh_profiles(env):
    """Dunning levels for every company; profiles for the customers that already have receivables."""
    env["res.company"].search([])._cobranza_create_default_dunning_levels()  # pylint: disable=no-search-all
    env["cobranza.credit.profile"].sudo()._refresh_behaviour()
