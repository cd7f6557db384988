"""``python -m overlay.cli``: the same as ``crm``."""

import sys

from . import main

sys.exit(main())
