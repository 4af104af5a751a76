"""The one exception type of the ``layers`` package."""


class LayersError(ValueError):
    """Invalid argument or input given to a ``layers`` function or layer.

    Messages name the argument, show the value received and say what is expected.
    """
