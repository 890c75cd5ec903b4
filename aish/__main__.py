"""``python -m aish``."""

import sys

from aish.cli import main

sys.exit(main())
