"""Static execution plan of the scattering transform: which FFT sizes, which filters, which bins.

A :class:`Fold` multiplies a Hermitian spectrum (given by its ``rfft`` half, length ``l_in``) by a
group of filters and periodizes the products to length ``l_out`` (the spectrum of the filtered
signal subsampled by ``l_in / l_out``), touching only the bins where each filter is not
negligible: the bins are gathered, weighted and summed over periods.

First-order wavelets are grouped by their output subsampling level (one batch of FFTs per
group). Second-order paths are grouped by *their* output level across all first-order groups
(a :class:`Level` of :class:`Block` s), so each level runs one batch of FFTs whatever the number
of first-order groups feeding it: fewer, larger FFT calls and a smaller compiled program.
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
    matrix: np.ndarray | None = None  # low-pass stages: (2, K, frames) map, see lowpass_matrix
    kernel: np.ndarray | None = None  # low-pass stages: (n_d, stride) blocks, see lowpass_kernel
    frames: np.ndarray | None = None  # (n_out, n_d) frame indices read with ``kernel``
    scale: np.ndarray | None = None  # (F,) factors applied to the band-pass weights, see build_plan


@dataclass(frozen=True, eq=False)
class Group:
    """First-order wavelets sharing one output level: ``psi`` (band-pass) then ``phi``.

    ``blocks`` lists the second-order blocks fed by this group as ``(level, block)`` indices, in
    the order their windows are laid out (one after the other) in the group's flat window array.
    """

    psi: Stage
    phi: Stage
    blocks: tuple = ()


@dataclass(frozen=True, eq=False)
class Block:
    """Second-order rows computed from the first-order group ``group``: every pair of one of its
    wavelets with one of the wavelets of ``psi`` (row ``a * F2 + b``), restricted to ``pairs``."""

    group: int
    psi: Stage
    pairs: np.ndarray | None  # flat (n1, n2) indices kept, None when all are kept
    offset: int = 0  # start of this block's windows in its group's flat window array


@dataclass(frozen=True, eq=False)
class Level:
    """Second-order blocks sharing one output level: one batch of FFTs, then ``phi``."""

    blocks: tuple
    phi: Stage


@dataclass(frozen=True, eq=False)
class Plan:
    geometry: dict
    phi0: Stage
    groups: tuple
    levels: tuple
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


def make_fold(filters, k, tau=TAU, scale=None):
    """Build a :class:`Fold` for spectra ``filters`` (list of float64 arrays of one length
    ``l_in``) followed by subsampling by ``k``; ``scale`` (one factor per filter) multiplies the
    weights."""
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
        weight[f, :w] = h[(start + np.arange(w)) % l_in] / k * (1.0 if scale is None
                                                                  else scale[f])
    return Fold(np.array([s for s, _ in windows]), np.array([w for _, w in windows]), weight,
                n_pieces, width, l_in, l_out)


MATRIX_MAX = 2**18  # largest K * frames for which a low-pass is a matrix product


def window_sources(fold):
    """Half-spectrum bins read by each window position of ``fold``: ``(src, neg)`` of shape
    ``(F, n_pieces * width)``; ``neg`` marks negative frequencies (read conjugated)."""
    pos = (fold.start[:, None] + np.arange(fold.n_pieces * fold.width)[None, :]) % fold.l_in
    neg = pos > fold.l_in // 2
    return np.where(neg, fold.l_in - pos, pos), neg


def lowpass_matrix(fold, lo, hi):
    """Low-pass ``fold`` (one even filter) followed by unpadding to frames ``lo .. hi - 1`` as a
    real linear map of the first ``K`` bins of the input ``rfft``: ``(2 K, hi - lo)`` float32
    ``M`` with ``S = [Re(R[:K]), Im(R[:K])] @ M``, or None when ``K * (hi - lo)`` exceeds
    :data:`MATRIX_MAX` (the FFT route is then cheaper).

    For a real input, ``S[t] = (1/L) sum_i w_i Re(R[src_i] exp(2 pi i src_i t / L))`` over the
    window positions ``i`` (``L = l_out``; a negative frequency reads ``conj(R[src])`` with the
    conjugate exponent, which has the same real part).
    """
    src, _ = window_sources(fold)
    src = src[0]
    K = int(src.max()) + 1
    if K * (hi - lo) > MATRIX_MAX:
        return None
    coef = np.zeros(K)
    np.add.at(coef, src, fold.weight[0].astype(np.float64))
    L = fold.l_out
    phase = 2.0 * np.pi * ((np.arange(K)[:, None] * np.arange(lo, hi)[None, :]) % L) / L
    M = coef[:, None] / L * np.exp(1j * phase)
    return np.concatenate([M.real, -M.imag]).astype(np.float32)


KERNEL_TAU = 1e-8  # time-domain low-pass taps below KERNEL_TAU * peak are dropped
KERNEL_MAX_BLOCKS = 64  # most stride-long blocks of a time-domain low-pass
# Smallest stride for which a second-order low-pass runs in the time domain. Measured on XLA:CPU
# (J=8 and J=10, 2**12..2**17 samples): with strides of 64 and more, the stride-long blocks make
# one efficient matrix product and save the forward FFT; below, the products are too thin and
# the forward FFT plus the low-pass matrix is 1.3-6x cheaper.
KERNEL_MIN_STRIDE = 64


def lowpass_kernel(fold, lo, hi, tau=KERNEL_TAU):
    """Low-pass ``fold`` (one even filter) followed by subsampling and unpadding to frames
    ``lo .. hi - 1``, as a time-domain operation on the real input ``u`` (length ``l_in``):
    ``(kernel, frames)`` or None when the filter spans more than :data:`KERNEL_MAX_BLOCKS`
    blocks (the frequency route is then cheaper).

    With stride ``s = l_in // l_out``, ``u`` cut into ``l_out`` blocks ``U[a] = u[a s:(a+1) s]``
    and ``g`` the filter's impulse response (periodic, length ``l_in``), the output is
    ``S[t] = sum_n u[n] g[t s - n] = sum_d U[t + d] . kernel[d]`` with
    ``kernel[d][r] = g[-d s - r]``, over the block offsets ``d`` where ``g`` exceeds
    ``tau * max|g|`` (a Gaussian low-pass: about 20 blocks). ``frames[i, j]`` is the block
    ``(lo + i + d_j) mod l_out``. Cost: ``n_d * l_in`` multiply-adds per signal, one matrix
    product, instead of a real FFT of length ``l_in``.
    """
    l_in, l_out = fold.l_in, fold.l_out
    stride = l_in // l_out
    k = stride
    spectrum = np.zeros(l_in, np.complex128)
    pos = (fold.start[0] + np.arange(fold.weight.shape[1])) % l_in
    np.add.at(spectrum, pos, fold.weight[0].astype(np.float64) * k)
    g = np.fft.ifft(spectrum).real
    offsets = np.arange(-(l_out // 2), l_out - l_out // 2)
    taps = g[(-offsets[:, None] * stride - np.arange(stride)[None, :]) % l_in]  # (l_out, s)
    big = np.flatnonzero(np.abs(taps).max(axis=1) > tau * np.abs(g).max())
    d = offsets[big.min():big.max() + 1]
    if d.size > KERNEL_MAX_BLOCKS or d.size >= l_out:
        return None
    kernel = taps[big.min():big.max() + 1].astype(np.float32)
    frames = (np.arange(lo, hi)[:, None] + d[None, :]) % l_out
    return kernel, frames


def symmetrize(h):
    """Even part ``(h[k] + h[-k]) / 2``: the low-pass seen by a real signal."""
    return 0.5 * (h + np.roll(h[::-1], 1))


def build_plan(geometry, psi1, j1s, psi2, j2s, phi, *, max_order, oversampling, envelope=0):
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
    envelope : int
        Extra subsampling exponent of every wavelet modulus beyond the alias-free one
        (``0``: kymatio's levels; ``1``: see :class:`~scatter.Scattering1D`'s ``subsampling``),
        capped at the output level.

    Returns
    -------
    Plan
    """
    from scatter.scattering._design import periodize

    log2_T = geometry["log2_T"]
    os_ = oversampling
    phi = symmetrize(phi)
    phi_levels = {}

    def phi_stage(level_in, k, time_domain=False):
        key = (level_in, k, time_domain)
        if key not in phi_levels:
            fold = make_fold([periodize(phi, 2**level_in)], 2**k)
            out = level_in + k
            lo, hi = geometry["ind_start"][out], geometry["ind_end"][out]
            kernel = (lowpass_kernel(fold, lo, hi)
                      if time_domain and 2**k >= KERNEL_MIN_STRIDE else None)
            phi_levels[key] = Stage(fold, out, matrix=lowpass_matrix(fold, lo, hi),
                                    kernel=None if kernel is None else kernel[0],
                                    frames=None if kernel is None else kernel[1])
        return phi_levels[key]

    out_level = max(log2_T - os_, 0)

    def base_level(j):
        return max(min(j, log2_T) - os_, 0)

    def level_of(j):
        """Subsampling exponent of the modulus of a wavelet with alias-free exponent ``j``."""
        return min(base_level(j) + envelope, out_level)

    def gains(js):
        """Factors that keep kymatio's scale when a modulus is taken ``d`` levels coarser than
        kymatio takes it: its periodized filters (means over periods) shrink by ``2**-d``."""
        if not envelope:
            return None
        return np.array([2.0 ** (level_of(j) - base_level(j)) for j in js])

    phi0 = phi_stage(0, out_level)
    by_k1 = {}
    for n1, j1 in enumerate(j1s):
        by_k1.setdefault(level_of(j1), []).append(n1)
    groups = []
    first_rows = []  # computation order of the first-order paths
    blocks = {}  # output level -> list of (Block, [(n1, n2) per kept row])
    for gi, (k1, n1s) in enumerate(sorted(by_k1.items())):
        scale = gains([j1s[n] for n in n1s])
        psi = Stage(make_fold([psi1[n] for n in n1s], 2**k1, scale=scale), k1, tuple(n1s), 0,
                    scale=scale)
        groups.append(Group(psi, phi_stage(k1, out_level - k1)))
        first_rows.extend(n1s)
        if max_order < 2:
            continue
        by_k2 = {}
        for n2, j2 in enumerate(j2s):
            if any(j2 > j1s[n1] for n1 in n1s):
                by_k2.setdefault(level_of(j2) - k1, []).append(n2)
        for k2, n2s in sorted(by_k2.items()):
            keep = [a * len(n2s) + b for a, n1 in enumerate(n1s)
                    for b, n2 in enumerate(n2s) if j2s[n2] > j1s[n1]]
            scale = gains([j2s[n] for n in n2s])
            stage = Stage(make_fold([periodize(psi2[n], 2**k1) for n in n2s], 2**k2,
                                    scale=scale), k1 + k2, tuple(n2s), k1, scale=scale)
            pairs = None if len(keep) == len(n1s) * len(n2s) else np.array(keep)
            rows = [(n1s[f // len(n2s)], n2s[f % len(n2s)]) for f in keep]
            blocks.setdefault(k1 + k2, []).append((Block(gi, stage, pairs), rows))
    levels = []
    second_rows = []
    group_blocks = [[] for _ in groups]
    for li, (k, items) in enumerate(sorted(blocks.items())):
        level_blocks = []
        for bi, (block, rows) in enumerate(items):
            flat = group_blocks[block.group]
            offset = sum(b.psi.fold.weight.size for _, _, b in flat)
            block = Block(block.group, block.psi, block.pairs, offset)
            flat.append((li, bi, block))
            level_blocks.append(block)
            second_rows.extend(rows)
        levels.append(Level(tuple(level_blocks),
                            phi_stage(k, out_level - k, time_domain=True)))
    groups = [Group(g.psi, g.phi, tuple((li, bi) for li, bi, _ in flat))
              for g, flat in zip(groups, group_blocks)]
    # permutation from computation order (phi0, first-order groups, second-order levels) to
    # path order (``()``, ``(n1,)`` ascending, ``(n1, n2)`` lexicographic)
    n_first = len(first_rows)
    order = [0] + [1 + i for i in np.argsort(first_rows, kind="stable")]
    rank = sorted(range(len(second_rows)), key=lambda i: second_rows[i])
    order += [1 + n_first + i for i in rank]
    order = np.array(order, dtype=np.int64)
    return Plan(geometry, phi0, tuple(groups), tuple(levels),
                None if np.all(order == np.arange(order.size)) else order)


def _phi_weight(stage):
    if stage.kernel is not None:
        return stage.kernel
    return stage.matrix if stage.matrix is not None else stage.fold.weight


def default_weights(plan):
    """The precomputed float32 weights of every stage (fold weights; low-pass matrices where a
    low-pass stage has one), keyed like :func:`._core.forward` reads them."""
    out = {"phi0": _phi_weight(plan.phi0)}
    for gi, group in enumerate(plan.groups):
        out[f"psi1_{gi}"] = group.psi.fold.weight
        out[f"phi1_{gi}"] = _phi_weight(group.phi)
    for li, level in enumerate(plan.levels):
        out[f"phi2_{li}"] = _phi_weight(level.phi)
        for bi, block in enumerate(level.blocks):
            out[f"psi2_{li}_{bi}"] = block.psi.fold.weight
    return out
