"""Wavelet filter banks, wavelet transforms, scattering networks, thresholding and detection.

Everything numerical here is a pure JAX function or a small class around one; the symbolic layer
is not needed to use it.
"""

from scatter.errors import ScatterError

__all__ = ["ScatterError"]
