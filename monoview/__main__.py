"""``python -m monoview``: the same as the ``monoview`` command."""

import sys

from monoview.cli import main

sys.exit(main())
