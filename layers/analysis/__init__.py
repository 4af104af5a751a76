"""Spline theory of deep networks, computable: affine maps, VQ codes, power diagrams, exact
2-D partitions, boundary geometry, complexity measures and generative-network statistics.

Works on piecewise-affine networks described by :func:`as_spline_net` (plain ``[(W, b), ...]``
lists, :class:`SplineNet`, ``layers`` networks through :func:`to_spline_net`, or any object
with ``to_spline_net()``); the affine map, templates
and the tangent-Hessian complexity also accept arbitrary JAX functions (autodiff fallback).
Importing this package imports neither ``symbolic`` nor matplotlib (plots live in
:mod:`layers.analysis.plot`).
"""

from layers.analysis.adapter import to_spline_net
from layers.analysis.affine import (
    affine_map,
    forward,
    preactivation_maps,
    templates,
    vq_codes,
    vq_distance,
)
from layers.analysis.complexity import (
    adversarial_margin,
    adversarial_risk,
    local_complexity,
    local_tangents,
    tangent_hessian_complexity,
)
from layers.analysis.generative import (
    generator_entropy,
    generator_rank,
    log_volume,
    manifold_log_density,
    principal_angles,
    region_angularity,
    sample_log_likelihood,
)
from layers.analysis.geometry import (
    adjacent_angles,
    boundary_distances,
    boundary_turning_angles,
    decision_boundary_bend,
    region_radius,
    slope_change,
    template_angles,
)
from layers.analysis.partition import Partition2D, partition_2d, plane_from_anchors
from layers.analysis.power_diagram import PowerDiagram, check_power_diagram, power_diagram
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
    "PowerDiagram",
    "SplineLayer",
    "SplineNet",
    "activation",
    "adjacent_angles",
    "adversarial_margin",
    "adversarial_risk",
    "affine_map",
    "as_spline_net",
    "boundary_distances",
    "boundary_turning_angles",
    "check_power_diagram",
    "decision_boundary_bend",
    "forward",
    "generator_entropy",
    "generator_rank",
    "local_complexity",
    "local_tangents",
    "log_volume",
    "manifold_log_density",
    "max_pool",
    "max_pool_1d",
    "partition_2d",
    "plane_from_anchors",
    "power_diagram",
    "preactivation_maps",
    "principal_angles",
    "region_angularity",
    "region_radius",
    "sample_log_likelihood",
    "slope_change",
    "tangent_hessian_complexity",
    "template_angles",
    "templates",
    "to_spline_net",
    "vq_codes",
    "vq_distance",
]
