"""Temporal context for frame-wise classifiers of sequences: each frame seen with its neighbours.

A frame-wise classifier of a channels-first sequence ``(batch, channels, time)`` (spectral
frames, scattering coefficients) scores every time step. With temporal *context*, the vector a
time step's classifier sees holds the input frames at a few fixed offsets side by side (frame
"splicing"), so that a unit can respond to a sweep, an onset or a rhythm rather than to one
slice. Followed by a dense layer, this is a dilated temporal convolution over the offsets,
the input stage of time-delay neural networks (Waibel et al., "Phoneme recognition using
time-delay neural networks", IEEE Trans. ASSP 37(3), 1989). At the ends of the sequence the
edge frames are repeated, so the output has as many time steps as the input.

The stacking only selects input entries: it is linear, and a network of it, affine layers
and max-affine units stays a continuous piecewise-affine spline of its input
(:mod:`layers.analysis` reads it).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

import symbolic as S
from layers.base import Layer, format_shape
from layers.errors import LayersError, is_int

__all__ = ["TemporalContext", "context_indices", "frame_context"]


def _check_offsets(offsets, what):
    try:
        arr = np.asarray(offsets)
    except (TypeError, ValueError):
        arr = None
    ok = (arr is not None and arr.ndim == 1 and arr.size >= 1
          and (np.issubdtype(arr.dtype, np.integer) or (
              np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr))
              and np.all(arr == np.round(arr))))
          and np.unique(arr).size == arr.size)
    if not ok:
        raise LayersError(
            f"{what}: offsets must be distinct whole frame offsets, e.g. (-2, 0, 2); got "
            f"{offsets!r}"
        )
    return tuple(int(o) for o in arr)


def context_indices(n_frames, offsets):
    """Input frame seen at each offset by each output frame, edge frames repeated.

    Parameters
    ----------
    n_frames : int
        Frames of the sequence.
    offsets : sequence of int [shape=(K,)]
        Distinct frame offsets.

    Returns
    -------
    numpy.ndarray [shape=(n_frames, K), dtype=int64]
        ``clip(t + offsets[k], 0, n_frames - 1)`` at ``[t, k]``.

    Raises
    ------
    LayersError
        For a non-positive ``n_frames`` or offsets that are not distinct whole numbers.

    Examples
    --------
    >>> context_indices(4, (-1, 0, 2)).tolist()
    [[0, 0, 2], [0, 1, 3], [1, 2, 3], [2, 3, 3]]
    """
    if not is_int(n_frames) or n_frames < 1:
        raise LayersError(f"context_indices: n_frames must be a positive int; got {n_frames!r}")
    offsets = _check_offsets(offsets, "context_indices")
    t = np.arange(int(n_frames))[:, None]
    return np.clip(t + np.asarray(offsets)[None, :], 0, int(n_frames) - 1)


def frame_context(x, offsets):
    """Frames at the given offsets side by side, time moved before the channels.

    Parameters
    ----------
    x : jax.Array [shape=(..., C, T)]
        Channels-first sequence (time last).
    offsets : sequence of int [shape=(K,)]
        Distinct frame offsets (static).

    Returns
    -------
    jax.Array [shape=(..., T, K * C)]
        At ``[..., t, k * C + c]``: ``x[..., c, clip(t + offsets[k], 0, T - 1)]`` (offsets
        outermost, edge frames repeated).

    Raises
    ------
    LayersError
        For offsets that are not distinct whole numbers or an input with fewer than 2 axes.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(6.0).reshape(2, 3)      # 2 channels, 3 frames
    >>> frame_context(x, (-1, 1)).tolist()    # frame t: [x[:, t-1], x[:, t+1]]
    [[0.0, 3.0, 1.0, 4.0], [0.0, 3.0, 2.0, 5.0], [1.0, 4.0, 2.0, 5.0]]
    """
    offsets = _check_offsets(offsets, "frame_context")
    x = jnp.asarray(x)
    if x.ndim < 2:
        raise LayersError(f"frame_context: x must be (..., C, T); got shape {x.shape}")
    h = jnp.swapaxes(x, -1, -2)  # (..., T, C)
    n = h.shape[-2]
    idx = jnp.clip(jnp.arange(n)[:, None] + jnp.asarray(offsets, jnp.int32)[None, :], 0,
                   n - 1)  # (T, K)
    h = jnp.take(h, idx, axis=-2)  # (..., T, K, C)
    return h.reshape(h.shape[:-2] + (-1,))


class TemporalContext(Layer):
    """Each time step's frames at fixed offsets, side by side: ``(batch, C, T)`` ->
    ``(batch, T, K * C)`` (see :func:`frame_context`).

    The output is a sequence of frame vectors, time before features, ready for layers that
    act on the last axis (:class:`~layers.Dense`, :class:`~layers.MaxOut`), which then score
    every time step with the same weights. Offsets ``(0,)`` only move time before the
    channels.

    Parameters
    ----------
    incoming : tuple or Layer
        ``(batch, channels, time)`` with ``channels`` known.
    offsets : sequence of int, default (0,)
        Distinct frame offsets, e.g. ``(-4, -2, 0, 2, 4)`` (a dilation of 2).

    Attributes
    ----------
    offsets : tuple of int

    Raises
    ------
    LayersError
        For an input that is not 3-D with known channels, or bad offsets.

    Examples
    --------
    >>> import symbolic as S, layers as L
    >>> with S.Graph():
    ...     L.TemporalContext((None, 40, 100), (-2, 0, 2)).output_shape
    (None, 100, 120)
    """

    def __init__(self, incoming, offsets=(0,), *, name=None):
        super().__init__(incoming, name=name)
        self.offsets = _check_offsets(offsets, "TemporalContext")
        if len(self.input_shape) != 3 or self.input_shape[1] is None:
            raise LayersError(
                f"TemporalContext: input must be (batch, channels, time) with channels known; "
                f"got shape {format_shape(self.input_shape)}"
            )
        batch, c, t = self.input_shape
        self.output_shape = (batch, t, len(self.offsets) * c)

    def get_output(self, x, *, deterministic):
        return S.wrap(frame_context)(x, self.offsets)
