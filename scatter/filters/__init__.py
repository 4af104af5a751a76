"""Wavelet filter banks designed in the frequency domain (Morlet, Gabor, Paul, Morse, Mexican hat).

The public names are :func:`filterbank` and :class:`FilterBank`; ``FAMILIES`` lists the families.
"""

from scatter.filters._bank import FilterBank, filterbank
from scatter.filters._families import FAMILIES

__all__ = ["FAMILIES", "FilterBank", "filterbank"]
