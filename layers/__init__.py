"""Lasagne-style deep learning on :mod:`symbolic`, and the spline theory of deep networks."""

from layers.errors import LayersError

__all__ = ["LayersError"]
