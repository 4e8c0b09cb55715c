from . import cobranza_stage
