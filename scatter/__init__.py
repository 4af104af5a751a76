"""Wavelet filter banks, wavelet transforms, scattering networks, thresholding and detection.

Everything numerical here is a pure JAX function or a small class around one; the symbolic layer
is not needed to use it.
"""

from scatter.cwt import cwt, icwt
from scatter.errors import ScatterError
from scatter.filters import FilterBank, filterbank

__all__ = ["FilterBank", "ScatterError", "cwt", "filterbank", "icwt"]
