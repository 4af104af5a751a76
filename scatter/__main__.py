"""``python -m scatter``: the ``scatter`` command line (:mod:`scatter.cli`)."""

import sys

from scatter.cli import main

sys.exit(main())
