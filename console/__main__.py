"""``python -m console``: the same as the ``factory-console`` command."""

import sys

from console.cli import main

sys.exit(main())
