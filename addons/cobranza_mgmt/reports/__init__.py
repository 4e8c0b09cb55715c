from . import cobranza_aging_report
from . import cobranza_kpi_report
from . import cobranza_statement_report
