from . import cobranza_demo
