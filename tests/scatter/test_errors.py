"""scatter.errors: the package's one exception type is a ValueError, so callers that catch
ValueError (as for NumPy and SciPy argument errors) catch it too."""

import numpy as np
import pytest

import scatter
from scatter import ScatterError
from scatter.errors import check_int, is_int


def test_scatter_error_is_a_value_error():
    assert issubclass(ScatterError, ValueError)
    assert scatter.errors.ScatterError is ScatterError
    # a user error the package raises is caught as a ValueError, with its own type
    with pytest.raises(ValueError, match="J must be a positive integer; got 0") as info:
        scatter.Scattering1D(J=0, shape=256)
    assert type(info.value) is ScatterError


def test_integer_check():
    assert check_int(np.int64(3), "hop") == 3 and type(check_int(3, "hop")) is int
    assert is_int(np.int16(2)) and not is_int(True) and not is_int(2.0)
    with pytest.raises(ScatterError, match="hop must be a positive integer; got True"):
        check_int(True, "hop")
    with pytest.raises(ScatterError, match="top must be a non-negative integer; got -1"):
        check_int(-1, "top", 0)
    with pytest.raises(ScatterError, match="sr must be an integer >= 16000 Hz; got 8000"):
        check_int(8000, "sr", 16000, unit="Hz")
