"""The one exception type of the ``symbolic`` package, and its integer test."""

import numpy as np


class SymbolicError(ValueError):
    """Invalid graph construction, compilation or call.

    Messages name the tensor or argument involved, show what was received and say what is
    expected.
    """


def is_int(value):
    """Whether ``value`` is a Python or NumPy integer (``bool`` is not): the test behind every
    integer argument check of the package."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)
