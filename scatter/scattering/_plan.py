"""Static execution plan of the scattering transform: which FFT sizes, which filters, which bins.

A :class:`Fold` multiplies a Hermitian spectrum (given by its ``rfft`` half, length ``l_in``) by a
group of filters and periodizes the products to length ``l_out`` (the spectrum of the filtered
signal subsampled by ``l_in / l_out``), touching only the bins where each filter is not
negligible: the bins are gathered, weighted, summed over periods and scattered back by gathers.
Everything in a plan is NumPy and built once per transform.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

TAU = 1e-9  # bins below TAU * peak of a filter are skipped


@dataclass(frozen=True, eq=False)
class Fold:
    """Gather/weight/periodize operation for ``F`` filters (see module docstring).

    Filter ``f`` reads the cyclic window ``start[f] .. start[f] + widths[f] - 1`` of the
    length-``l_in`` spectrum; ``weight[f, i]`` is its value there divided by the subsampling
    factor (0 past ``widths[f]``). Windows longer than ``l_out`` are cut into ``n_pieces`` of
    ``width = l_out`` that are summed (periodization).
    """

    start: np.ndarray  # (F,) int
    widths: np.ndarray  # (F,) int
    weight: np.ndarray  # (F, n_pieces * width) float32
    n_pieces: int
    width: int
    l_in: int
    l_out: int


@dataclass(frozen=True, eq=False)
class Stage:
    """A fold plus the bookkeeping to rebuild its weights from filter parameters."""

    fold: Fold
    level: int  # total subsampling exponent of the output (for unpadding)
    filters: tuple = ()  # filter indices in their bank (band-pass stages)
    in_level: int = 0  # periodization level of the filters (input subsampling exponent)


@dataclass(frozen=True, eq=False)
class Subgroup:
    psi: Stage
    phi: Stage
    pairs: np.ndarray | None  # flat (n1, n2) indices kept, None when all are kept


@dataclass(frozen=True, eq=False)
class Group:
    psi: Stage
    phi: Stage
    subgroups: tuple


@dataclass(frozen=True, eq=False)
class Plan:
    geometry: dict
    phi0: Stage
    groups: tuple
    order: np.ndarray | None  # permutation from computation order to path order


def _window(h, tau):
    """Smallest cyclic window ``[start, start + width)`` holding every bin above ``tau * peak``."""
    n = h.shape[-1]
    keep = np.flatnonzero(np.abs(h) > tau * np.max(np.abs(h)))
    if keep.size == n:
        return 0, n
    gaps = np.diff(np.concatenate([keep, [keep[0] + n]]))
    i = int(np.argmax(gaps))
    return int(keep[(i + 1) % keep.size]), int(n - gaps[i] + 1)


def make_fold(filters, k, tau=TAU):
    """Build a :class:`Fold` for spectra ``filters`` (list of float64 arrays of one length
    ``l_in``) followed by subsampling by ``k``."""
    l_in = filters[0].shape[-1]
    l_out = l_in // k
    windows = [_window(h, tau) for h in filters]
    widest = max(w for _, w in windows)
    if widest <= l_out:
        n_pieces, width = 1, widest
    else:
        n_pieces, width = math.ceil(widest / l_out), l_out
    weight = np.zeros((len(filters), n_pieces * width), np.float32)
    for f, (h, (start, w)) in enumerate(zip(filters, windows)):
        weight[f, :w] = h[(start + np.arange(w)) % l_in] / k
    return Fold(np.array([s for s, _ in windows]), np.array([w for _, w in windows]), weight,
                n_pieces, width, l_in, l_out)


def symmetrize(h):
    """Even part ``(h[k] + h[-k]) / 2``: the low-pass seen by a real signal."""
    return 0.5 * (h + np.roll(h[::-1], 1))


def build_plan(geometry, psi1, j1s, psi2, j2s, phi, *, max_order, oversampling):
    """Group the paths by FFT size and build every fold.

    Parameters
    ----------
    geometry : dict
        From :func:`._design.geometry`.
    psi1, psi2 : list of numpy.ndarray
        Level-0 wavelet spectra (length ``n_padded``) of each order.
    j1s, j2s : list of int
        Their subsampling exponents.
    phi : numpy.ndarray
        Level-0 low-pass spectrum.

    Returns
    -------
    Plan
    """
    from scatter.scattering._design import periodize

    log2_T = geometry["log2_T"]
    os_ = oversampling
    phi = symmetrize(phi)

    def phi_stage(level_in, k):
        return Stage(make_fold([periodize(phi, 2**level_in)], 2**k), level_in + k)

    k0 = max(log2_T - os_, 0)
    phi0 = phi_stage(0, k0)
    order = [0]
    n_out = 1
    second = {}
    by_k1 = {}
    for n1, j1 in enumerate(j1s):
        by_k1.setdefault(max(min(j1, log2_T) - os_, 0), []).append(n1)
    groups = []
    for k1, n1s in sorted(by_k1.items()):
        psi = Stage(make_fold([psi1[n] for n in n1s], 2**k1), k1, tuple(n1s), 0)
        phi1 = phi_stage(k1, max(log2_T - k1 - os_, 0))
        first_pos = {n1: n_out + i for i, n1 in enumerate(n1s)}
        n_out += len(n1s)
        subgroups = []
        if max_order == 2:
            by_k2 = {}
            for n2, j2 in enumerate(j2s):
                if any(j2 > j1s[n1] for n1 in n1s):
                    by_k2.setdefault(max(min(j2, log2_T) - k1 - os_, 0), []).append(n2)
            for k2, n2s in sorted(by_k2.items()):
                keep = [a * len(n2s) + b for a, n1 in enumerate(n1s)
                        for b, n2 in enumerate(n2s) if j2s[n2] > j1s[n1]]
                for flat in keep:
                    second[(n1s[flat // len(n2s)], n2s[flat % len(n2s)])] = n_out
                    n_out += 1
                stage = Stage(make_fold([periodize(psi2[n], 2**k1) for n in n2s], 2**k2),
                              k1 + k2, tuple(n2s), k1)
                pairs = None if len(keep) == len(n1s) * len(n2s) else np.array(keep)
                subgroups.append(Subgroup(stage, phi_stage(k1 + k2, max(log2_T - k1 - k2 - os_,
                                                                        0)), pairs))
        groups.append(Group(psi, phi1, tuple(subgroups)))
        order.extend(first_pos[n1] for n1 in n1s)
    order = [0] + sorted(order[1:])  # first order: computation order is already n1 order
    order += [second[key] for key in sorted(second)]
    order = np.array(order)
    return Plan(geometry, phi0, tuple(groups), None if np.all(order == np.arange(n_out)) else order)


def default_weights(plan):
    """The precomputed float32 weights of every fold, keyed like :func:`._core.forward` reads."""
    out = {"phi0": plan.phi0.fold.weight}
    for gi, group in enumerate(plan.groups):
        out[f"psi1_{gi}"] = group.psi.fold.weight
        out[f"phi1_{gi}"] = group.phi.fold.weight
        for si, sub in enumerate(group.subgroups):
            out[f"psi2_{gi}_{si}"] = sub.psi.fold.weight
            out[f"phi2_{gi}_{si}"] = sub.phi.fold.weight
    return out
