"""symbolic.errors: the package's one exception type is a ValueError, so callers that catch
ValueError (as for NumPy and JAX argument errors) catch it too."""

import pytest

import symbolic as S
from symbolic.errors import SymbolicError


def test_symbolic_error_is_a_value_error():
    assert issubclass(SymbolicError, ValueError)
    assert S.SymbolicError is SymbolicError
    # a user error the package raises is caught as a ValueError, with its own type
    with pytest.raises(ValueError, match="filters .* must have 3 dims like the input") as info:
        S.conv(S.placeholder((None, 3, 8)), S.placeholder((2, 3)))
    assert type(info.value) is SymbolicError
