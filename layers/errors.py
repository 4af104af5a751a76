"""The one exception type of the ``layers`` package, and the integer checks that raise it."""

from __future__ import annotations

import numpy as np


class LayersError(ValueError):
    """Invalid argument or input given to a ``layers`` function or layer.

    Messages name the argument, show the value received and say what is expected.
    """


def is_int(value):
    """Whether ``value`` is a Python or NumPy integer (``bool`` is not)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def check_int(value, what, minimum=1):
    """``value`` as an ``int`` if it is an integer ``>= minimum``.

    Parameters
    ----------
    value : object
    what : str
        The argument's name as the message shows it (``"Dense: units"``).
    minimum : int

    Returns
    -------
    int

    Raises
    ------
    LayersError
        "``what`` must be a positive int; got ``value``" (or "an int >= ``minimum``").
    """
    if not is_int(value) or value < minimum:
        rule = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        raise LayersError(f"{what} must be {rule}; got {value!r}")
    return int(value)


def check_ints(value, n, what):
    """An int or ``n`` ints, each positive, as a tuple of ``n`` ints (kernel sizes, strides).

    Raises
    ------
    LayersError
        For anything else, naming ``what``.
    """
    if is_int(value):
        value = (int(value),) * n
    try:
        value = tuple(int(v) for v in value)
    except TypeError:
        raise LayersError(f"{what} must be an int or {n} ints; got {value!r}") from None
    if len(value) != n or any(v < 1 for v in value):
        raise LayersError(f"{what} must be a positive int or {n} positive ints; got {value!r}")
    return value
