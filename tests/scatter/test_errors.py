"""scatter.errors: the package's one exception type is a ValueError, so callers that catch
ValueError (as for NumPy and SciPy argument errors) catch it too."""

import pytest

import scatter
from scatter import ScatterError


def test_scatter_error_is_a_value_error():
    assert issubclass(ScatterError, ValueError)
    assert scatter.errors.ScatterError is ScatterError
    # a user error the package raises is caught as a ValueError, with its own type
    with pytest.raises(ValueError, match="J must be an integer >= 1, got 0") as info:
        scatter.Scattering1D(J=0, shape=256)
    assert type(info.value) is ScatterError
