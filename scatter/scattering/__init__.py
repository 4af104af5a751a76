"""1-D wavelet scattering transform (kymatio 0.3.0 compatible), in JAX."""

from scatter.scattering._frontend import Scattering1D

__all__ = ["Scattering1D"]
