"""Spline theory of deep networks, computable: affine maps, VQ codes, power diagrams, exact
2-D partitions, boundary geometry, complexity measures and generative-network statistics.

Works on piecewise-affine networks described by :func:`as_spline_net` (plain ``[(W, b), ...]``
lists, :class:`SplineNet`, or any object with ``to_spline_net()``); the affine map and the
complexity measures also accept arbitrary JAX functions (autodiff fallback). Importing this
package imports neither ``symbolic`` nor matplotlib.
"""

from layers.analysis.affine import (
    affine_map,
    forward,
    preactivation_maps,
    templates,
    vq_codes,
    vq_distance,
)
from layers.analysis.partition import Partition2D, partition_2d, plane_from_anchors
from layers.analysis.spec import (
    Activation,
    SplineLayer,
    SplineNet,
    activation,
    as_spline_net,
    max_pool,
    max_pool_1d,
)

__all__ = [
    "Activation",
    "Partition2D",
    "SplineLayer",
    "SplineNet",
    "activation",
    "affine_map",
    "as_spline_net",
    "forward",
    "max_pool",
    "max_pool_1d",
    "partition_2d",
    "plane_from_anchors",
    "preactivation_maps",
    "templates",
    "vq_codes",
    "vq_distance",
]
