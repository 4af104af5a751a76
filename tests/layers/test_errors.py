"""layers.errors: the package's one exception type is a ValueError, so callers that catch
ValueError (as for NumPy and JAX argument errors) catch it too."""

import pytest

import layers as L
from layers.errors import LayersError


def test_layers_error_is_a_value_error():
    assert issubclass(LayersError, ValueError)
    assert L.LayersError is LayersError
    # a user error the package raises is caught as a ValueError, with its own type
    with pytest.raises(ValueError, match="groups must be a positive int dividing the 3 input "
                                         "channels") as info:
        L.Conv1D((None, 3, 8), 4, 3, groups=2)
    assert type(info.value) is LayersError
