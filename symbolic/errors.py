"""The one exception type of the ``symbolic`` package."""


class SymbolicError(ValueError):
    """Invalid graph construction, compilation or call.

    Messages name the tensor or argument involved, show what was received and say what is
    expected.
    """
