"""layers.errors: the package's one exception type is a ValueError, so callers that catch
ValueError (as for NumPy and JAX argument errors) catch it too."""

import numpy as np
import pytest

import layers as L
from layers.errors import LayersError, check_int, check_ints, is_int


def test_layers_error_is_a_value_error():
    assert issubclass(LayersError, ValueError)
    assert L.LayersError is LayersError
    # a user error the package raises is caught as a ValueError, with its own type
    with pytest.raises(ValueError, match="groups must be a positive int dividing the 3 input "
                                         "channels") as info:
        L.Conv1D((None, 3, 8), 4, 3, groups=2)
    assert type(info.value) is LayersError


def test_integer_checks():
    assert check_int(np.int64(3), "units") == 3 and type(check_int(3, "units")) is int
    assert check_int(0, "size", 0) == 0
    assert is_int(2) and is_int(np.int32(2)) and not is_int(True) and not is_int(2.0)
    with pytest.raises(L.LayersError, match="Dense: units must be a positive int; got True"):
        check_int(True, "Dense: units")
    with pytest.raises(L.LayersError, match="n_pieces must be an int >= 2; got 1"):
        check_int(1, "n_pieces", 2)
    assert check_ints(3, 2, "kernel_size") == (3, 3)
    assert check_ints([2, np.int64(1)], 2, "stride") == (2, 1)
    with pytest.raises(L.LayersError, match=r"window must be a positive int or 2 positive ints"):
        check_ints((2, 0), 2, "window")
