from . import logic
from . import models
from . import wizards
from . import demo


def _post_init_refresh_profiles(env):
    """Profiles for the customers that already have receivables when the module arrives."""
    env["cobranza.credit.profile"].sudo()._refresh_behaviour()
