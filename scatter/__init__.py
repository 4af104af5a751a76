"""Wavelet filter banks, wavelet transforms, scattering networks, thresholding and detection.

Everything numerical here is a pure JAX function or a small class around one; the symbolic layer
is not needed to use it.
"""

from scatter import threshold
from scatter.cwt import cwt, icwt
from scatter.denoise import denoise
from scatter.errors import ScatterError
from scatter.filters import FilterBank, filterbank
from scatter.scattering import Scattering1D

__all__ = ["FilterBank", "ScatterError", "Scattering1D", "cwt", "denoise", "filterbank", "icwt",
           "threshold"]
