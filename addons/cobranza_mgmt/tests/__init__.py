from . import test_install
from . import test_demo_data
from . import test_access
from . import test_cobranza_stage
from . import test_ui
from . import test_i18n
