"""Tests for layers.analysis.plot (matplotlib, headless)."""

import numpy as np
import pytest

from layers.analysis.partition import partition_2d
from layers.analysis.plot import plot_partition, plot_templates
from layers.analysis.spec import as_spline_net
from layers.errors import LayersError

plt = pytest.importorskip("matplotlib.pyplot")


def _part(rng):
    net = as_spline_net([(rng.normal(size=(2, 5)), rng.normal(size=5), "relu"),
                         (rng.normal(size=(5, 3)), rng.normal(size=3))])
    return partition_2d(net, domain=[[-1, -1], [1, -1], [1, 1], [-1, 1]])


@pytest.mark.parametrize("color", ["random", "class", "area", "none"])
def test_plot_partition_draws_every_region(rng, color):
    part = _part(rng)
    fig, ax = plt.subplots()
    try:
        assert plot_partition(part, ax=ax, color=color) is ax
        polys, lines = ax.collections[-2:]
        assert len(polys.get_paths()) == part.n_regions
        assert len(lines.get_segments()) == len(part.boundary)
        assert ax.get_title() == f"{part.n_regions} regions"
    finally:
        plt.close(fig)


def test_plot_templates_and_errors(rng):
    fig = plot_templates(rng.normal(size=(3, 16)), image_shape=(4, 4), titles=["a", "b", "c"])
    try:
        shown = [ax for ax in fig.axes if ax.images]
        assert len(shown) == 3 and shown[0].images[0].get_array().shape == (4, 4)
    finally:
        plt.close(fig)
    with pytest.raises(LayersError, match=r"image_shape: \(3, 3\) does not match"):
        plot_templates(np.ones((2, 16)), image_shape=(3, 3))
    with pytest.raises(LayersError, match="color: expected 'random'"):
        plot_partition(_part(rng), color="rainbow")
