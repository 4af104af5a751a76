"""The one exception type of the ``scatter`` package."""


class ScatterError(ValueError):
    """Invalid argument or input given to a ``scatter`` function.

    Messages name the argument, show the value received and say what is expected.
    """
