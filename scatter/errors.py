"""The one exception type of the ``scatter`` package, and the integer check that raises it."""

from __future__ import annotations

import numbers


class ScatterError(ValueError):
    """Invalid argument or input given to a ``scatter`` function.

    Messages name the argument, show the value received and say what is expected.
    """


def is_int(value):
    """Whether ``value`` is an integer (Python, NumPy or any ``numbers.Integral``; ``bool`` is
    not)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_int(value, name, minimum=1, *, unit=""):
    """``value`` as an ``int`` if it is an integer ``>= minimum``.

    Parameters
    ----------
    value : object
    name : str
        The argument's name as the message shows it.
    minimum : int
    unit : str
        What the integer counts, for the message (``"sample rate in Hz"``).

    Returns
    -------
    int

    Raises
    ------
    ScatterError
        "``name`` must be a positive integer; got ``value``" ("a non-negative integer" for a
        minimum of 0, "an integer >= ``minimum``" otherwise; the unit after the rule).

    Examples
    --------
    >>> check_int(4, "hop")
    4
    """
    if not is_int(value) or value < minimum:
        rule = {1: "a positive integer", 0: "a non-negative integer"}.get(
            minimum, f"an integer >= {minimum}")
        raise ScatterError(f"{name} must be {rule}{' ' + unit if unit else ''}; got {value!r}")
    return int(value)
