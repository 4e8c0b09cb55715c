from . import cobranza_hold_wizard
from . import cobranza_dunning_dry_run
from . import cobranza_dispute_wizard
from . import cobranza_call_wizard
from . import cobranza_agreement_wizard
from . import cobranza_aging_as_of
from . import cobranza_start_wizard
