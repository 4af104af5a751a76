"""``python -m scatter``: the ``scatter`` command line (:mod:`scatter.cli`)."""

import sys

from scatter.cli import run_program

sys.exit(run_program())
