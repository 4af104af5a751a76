"""``python -m scatter``: the ``scatter`` program (:func:`scatter.cli.run_program`), which sets
up its process for the command (:mod:`scatter.runtime`) before it runs it."""

import sys

from scatter.cli import run_program

sys.exit(run_program())
