"""`python -m wacht_mock`."""

import sys

from wacht_mock.cli.main import main

sys.exit(main())
