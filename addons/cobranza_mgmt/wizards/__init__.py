from . import cobranza_hold_wizard
