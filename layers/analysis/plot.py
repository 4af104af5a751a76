"""Plots of partitions, decision boundaries and templates (matplotlib, imported lazily).

matplotlib is an optional extra (``pip install symscatter[plot]``); it is imported only when
one of these functions is called.
"""

from __future__ import annotations

import numpy as np

from layers.errors import LayersError

__all__ = ["plot_partition", "plot_templates"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise LayersError(
            "matplotlib is required for plotting; install it with `pip install matplotlib`"
        ) from err
    return plt


def plot_partition(
    partition,
    *,
    ax=None,
    color: str = "random",
    edgecolor="k",
    linewidth: float = 0.2,
    boundary_color="red",
    boundary_width: float = 1.5,
    seed: int = 0,
):
    """Draw the regions of a :class:`~layers.analysis.Partition2D` and its decision boundary.

    Parameters
    ----------
    partition : Partition2D
    ax : matplotlib.axes.Axes, optional
        Default: a new figure's axes.
    color : {'random', 'class', 'area', 'none'}
        Region fill: random colours, the predicted class (regions are cut along the decision
        boundary, see :meth:`Partition2D.class_cells`), log-area, or no fill.
    edgecolor, linewidth
        Region edges.
    boundary_color, boundary_width
        Decision-boundary segments (``boundary_color=None`` hides them).
    seed : int
        Seed of the random colours.

    Returns
    -------
    ax : matplotlib.axes.Axes

    Raises
    ------
    LayersError
        If ``color`` is unknown or matplotlib is missing.

    Examples
    --------
    >>> import numpy as np
    >>> from layers.analysis import partition_2d
    >>> part = partition_2d([(np.eye(2), np.zeros(2)), (np.ones((2, 1)), np.zeros(1))],
    ...                     domain=[[-1, -1], [1, -1], [1, 1], [-1, 1]])
    >>> ax = plot_partition(part)
    """
    if color not in ("random", "class", "area", "none"):
        raise LayersError(
            f"color: expected 'random', 'class', 'area' or 'none', got {color!r}"
        )
    plt = _pyplot()
    from matplotlib.collections import LineCollection, PolyCollection

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 6))
    polys = partition.polygons
    if color == "random":
        rng = np.random.default_rng(seed)
        faces = rng.uniform(0.35, 1.0, size=(len(polys), 3))
    elif color == "class":
        cells, cls, _ = partition.class_cells()
        cmap = plt.get_cmap("tab10")
        cell_faces = np.asarray(cmap(cls % 10))[:, :3] * 0.6 + 0.4
        ax.add_collection(PolyCollection(cells, facecolors=cell_faces, edgecolors="none"))
        faces = "none"
    elif color == "area":
        a = np.log10(np.maximum(partition.areas, 1e-300))
        a = (a - a.min()) / max(a.max() - a.min(), 1e-12)
        faces = np.asarray(plt.get_cmap("viridis")(a))[:, :3]
    else:
        faces = "none"
    ax.add_collection(
        PolyCollection(polys, facecolors=faces, edgecolors=edgecolor, linewidths=linewidth)
    )
    if boundary_color is not None and len(partition.boundary):
        ax.add_collection(
            LineCollection(partition.boundary, colors=boundary_color, linewidths=boundary_width)
        )
    lo, hi = partition.domain.min(axis=0), partition.domain.max(axis=0)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("equal")
    ax.set_title(f"{partition.n_regions} regions")
    return ax


def plot_templates(templates, *, image_shape, titles=None, ncols: int = 5, cmap="RdBu_r"):
    """Show templates (rows of a region's slope matrix) as images.

    Parameters
    ----------
    templates : array_like [shape=(n, d)]
    image_shape : tuple of int
        With ``prod(image_shape) == d``.
    titles : list of str, optional
    ncols : int
    cmap : str

    Returns
    -------
    fig : matplotlib.figure.Figure

    Raises
    ------
    LayersError
        If ``image_shape`` does not match ``d`` or matplotlib is missing.

    Examples
    --------
    >>> import numpy as np
    >>> fig = plot_templates(np.ones((2, 4)), image_shape=(2, 2))
    """
    T = np.asarray(templates, dtype=float)
    if T.ndim != 2 or int(np.prod(image_shape)) != T.shape[1]:
        raise LayersError(
            f"image_shape: {tuple(image_shape)} does not match templates of shape {T.shape}"
        )
    plt = _pyplot()
    n = T.shape[0]
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(2 * ncols, 2 * nrows), squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if i >= n:
            continue
        v = np.max(np.abs(T[i])) or 1.0
        ax.imshow(T[i].reshape(image_shape), cmap=cmap, vmin=-v, vmax=v)
        if titles is not None:
            ax.set_title(str(titles[i]), fontsize=8)
    fig.tight_layout()
    return fig
