"""``python -m wacht_mock``."""

import sys

from .cli import main

sys.exit(main())
