"""Plain functions of the collections domain: no database, no ORM.

The models call these; the root ``tests/`` suite tests them directly.
"""
from . import aging
from . import scoring
from . import schedule
from . import kpi
from . import bank_file
from . import interest
