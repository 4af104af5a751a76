"""The :class:`Scattering1D` transform object."""

from __future__ import annotations

import math
import numbers
from concurrent.futures import ThreadPoolExecutor

import jax
import jax.numpy as jnp
import numpy as np

from scatter._compile import jit, usable_cores
from scatter._signal import check_signal
from scatter.errors import ScatterError, check_int, is_int
from scatter.scattering import _design as design
from scatter.scattering._core import forward
from scatter.scattering._plan import build_plan, default_weights

WAVELETS = ("morlet", "gabor")
#: Subsampling schemes of the wavelet moduli (see :class:`Scattering1D`).
SUBSAMPLING = ("kymatio", "coarse")


class Scattering1D:
    """1-D wavelet scattering transform (orders 0 to 2), in JAX, compatible with kymatio 0.3.0.

    ``S x = [x * phi, |x * psi1| * phi, ||x * psi1| * psi2| * phi]`` (Andén & Mallat 2014,
    "Deep scattering spectrum", IEEE TSP 62(16)). With ``wavelet="morlet"`` the filters, padding,
    subsampling, paths and their order are those of ``kymatio.Scattering1D`` 0.3.0 with the same
    ``J, shape, Q, T, max_order, oversampling``, and so are the values (to float32 rounding).

    Parameters
    ----------
    J : int
        Log2 of the largest wavelet scale; ``2**J`` must not exceed ``shape``.
    shape : int or tuple of one int
        Signal length ``n``.
    Q : int or tuple of one or two ints
        Wavelets per octave at orders 1 and 2 (an int means ``(Q, 1)``). Each >= 1.
    T : int or None
        Averaging scale of the low-pass, ``1 <= T <= n``; default ``2**J``.
    max_order : {1, 2}
        Highest scattering order.
    oversampling : int
        Output frame rate is ``2**oversampling`` times the default (>= 0).
    wavelet : {"morlet", "gabor"}
        Band-pass family (``"gabor"`` drops Morlet's DC correction; not kymatio-compatible).
    out_type : {"array", "dict"}
        ``"array"``: one array ``(..., n_paths, n_frames)``; ``"dict"``: ``{order: array of shape
        (..., n_paths_of_that_order, n_frames)}``. (kymatio's ``"dict"`` is keyed by path: use
        ``meta()["key"]`` to map rows to paths.)
    workers : int or None
        Threads per call: the batch is split into ``workers`` equal parts (the last one
        zero-padded) transformed concurrently by the same compiled program. ``None`` (default):
        the number of CPU cores this process may use, at most one per signal. ``1``: one
        call, no threads. Only :meth:`__call__` and :meth:`apply` on concrete arrays are
        split; :meth:`as_function` and traced inputs are not.
    subsampling : {"kymatio", "coarse"}
        Rate at which each wavelet modulus ``|u * psi|`` is computed. ``"kymatio"`` (default):
        kymatio's alias-free rate, set by the wavelet's highest frequency ``xi + 5 sigma``, which
        gives kymatio's values. ``"coarse"``: one dyadic level coarser (never coarser than the
        output frames). The samples of ``u * psi`` are still exact (the modulus does not see the
        frequency shift that the coarser periodization applies to a band-pass signal), and the
        first wavelet of every second-order path still fits below the new Nyquist frequency, so
        the paths and the scale of every coefficient are kymatio's; only the envelope's own
        spectral tails alias. About half the FFT work: 1.4-1.9x faster, with per-path
        differences to the default of about 1e-3 to 1e-2 (relative L2) — fine for features
        (``scatter.detect`` can use it), not for reproducing kymatio bit for bit.

    Attributes
    ----------
    params : dict of jax.Array
        Learnable filter parameters ``xi1, sigma1`` (order 1) and ``xi2, sigma2`` (order 2), in
        cycles per sample; use them with :meth:`apply`.
    n_padded, pad_left, pad_right : int
        Padded length (a power of two) and reflect padding.

    Raises
    ------
    ScatterError
        ``J`` too large for the signal, ``Q < 1``, ``T`` outside ``[1, n]`` (``T = 0``, the
        unaveraged transform, is not provided), bad ``max_order``, ``oversampling``,
        ``wavelet``, ``out_type``, ``workers`` or ``subsampling``.

    Examples
    --------
    >>> import numpy as np
    >>> from scatter import Scattering1D
    >>> sc = Scattering1D(J=6, shape=4096, Q=(8, 1))
    >>> Sx = sc(np.random.default_rng(0).standard_normal((2, 4096)).astype("float32"))
    >>> Sx.shape == (2, sc.output_size(), 4096 // 2**6)
    True
    """

    def __init__(self, J, shape, Q=(8, 1), T=None, max_order=2, oversampling=0,
                 wavelet="morlet", *, out_type="array", workers=None, subsampling="kymatio"):
        if isinstance(shape, tuple) and len(shape) == 1:
            shape = shape[0]
        n = check_int(shape, "shape", 2)
        J = check_int(J, "J")
        if 2**J > n:
            raise ScatterError(f"J={J} is too large for a signal of length {n}: 2**J = {2**J} "
                               f"must not exceed the length (use J <= {int(math.log2(n))})")
        if is_int(Q):
            Q = (Q, 1)
        if not isinstance(Q, tuple) or not 1 <= len(Q) <= 2:
            raise ScatterError(f"Q must be an int or a tuple (Q1,) or (Q1, Q2), got {Q!r}")
        Q = tuple(check_int(q, "Q") for q in Q) + ((1,) if len(Q) == 1 else ())
        if T is None:
            T = 2**J
        if isinstance(T, bool) or not isinstance(T, numbers.Real) or not 1 <= T <= n:
            raise ScatterError(f"T must be a number in [1, n={n}] (the low-pass support must fit "
                               f"in the padded signal; T=0, no averaging, is not provided), got "
                               f"{T!r}")
        if max_order not in (1, 2):
            raise ScatterError(f"max_order must be 1 or 2, got {max_order!r}")
        oversampling = check_int(oversampling, "oversampling", 0)
        if wavelet not in WAVELETS:
            raise ScatterError(f"wavelet must be one of {WAVELETS}, got {wavelet!r}")
        if out_type not in ("array", "dict"):
            raise ScatterError(f"out_type must be 'array' or 'dict', got {out_type!r}")
        if not isinstance(subsampling, str) or subsampling not in SUBSAMPLING:
            raise ScatterError(f"subsampling must be one of {SUBSAMPLING}, got {subsampling!r}")
        self.subsampling = subsampling
        self.workers = None if workers is None else check_int(workers, "workers")
        self.J, self.shape, self.Q, self.T = J, (n,), Q, T
        self.max_order, self.oversampling = max_order, oversampling
        self.wavelet, self.out_type = wavelet, out_type
        geo = design.geometry(J, n, T)
        self.n_padded, self.pad_left, self.pad_right = (geo["n_padded"], geo["pad_left"],
                                                        geo["pad_right"])
        if max(self.pad_left, self.pad_right) >= n:
            raise ScatterError(f"shape={n} is too short for T={T}: the padding "
                               f"({self.pad_left}, {self.pad_right}) must be shorter than it")
        gabor = wavelet == "gabor"
        xi1, s1, self._j1 = design.bank_params(J, Q[0])
        xi2, s2, self._j2 = design.bank_params(J, Q[1])
        self._order1 = {"xi": xi1, "sigma": s1, "j": self._j1}
        self._order2 = {"xi": xi2, "sigma": s2, "j": self._j2}
        N = self.n_padded
        psi1 = design.morlet_spectra(N, xi1, s1, gabor)
        psi2 = design.morlet_spectra(N, xi2, s2, gabor) if max_order == 2 else []
        phi = design.morlet_spectrum(N, 0.0, design.SIGMA0 / T)
        self._plan = build_plan(geo, psi1, self._j1, psi2, self._j2,
                                phi, max_order=max_order, oversampling=oversampling,
                                envelope=int(subsampling == "coarse"))
        self._paths = design.paths(self._j1, self._j2, max_order)
        self._weights = None
        # converted on the host: jnp.asarray(..., float32) would compile a conversion program
        self.params = {k: jax.device_put(np.asarray(v, np.float32))
                       for k, v in (("xi1", xi1), ("sigma1", s1), ("xi2", xi2), ("sigma2", s2))}
        self._jitted = jit(self._forward)
        self._jitted_apply = jit(self._apply_forward)

    # -- metadata ---------------------------------------------------------------------------
    def meta(self):
        """Per-path metadata, in output order (as kymatio's ``meta()``).

        Returns
        -------
        dict
            ``order`` (P,), ``xi``, ``sigma``, ``j``, ``n`` (P, max_order) NaN-padded, and
            ``key``: list of tuples ``()``, ``(n1,)``, ``(n1, n2)``.
        """
        return design.meta(self._paths, self._order1, self._order2, self.max_order)

    def output_size(self, detail=False):
        """Number of paths (``detail=True``: a list per order)."""
        sizes = [sum(1 for p in self._paths if len(p) == k) for k in range(self.max_order + 1)]
        return sizes if detail else sum(sizes)

    @property
    def n_frames(self):
        """Number of output frames."""
        level = max(int(math.floor(math.log2(self.T))) - self.oversampling, 0)
        geo = self._plan.geometry
        return geo["ind_end"][level] - geo["ind_start"][level]

    # -- computation ------------------------------------------------------------------------
    def _forward(self, weights, x):
        return forward(self._plan, weights, x)

    def _apply_forward(self, params, weights, x, short_chunk=None):
        weights = dict(weights)
        weights.update(self.bandpass_weights(params))
        return forward(self._plan, weights, x, short_chunk=short_chunk)

    def bandpass_weights(self, params):
        """The band-pass weights of every wavelet, rebuilt from filter parameters (pure,
        differentiable: the construction :meth:`apply` uses).

        Each wavelet is evaluated on the frequency window fixed when the transform was built,
        so the parameters should stay near the designed ones (:attr:`params`).

        Parameters
        ----------
        params : dict of jax.Array
            ``xi1``, ``sigma1`` (``(n_wavelets1,)``) and, for ``max_order=2``, ``xi2``,
            ``sigma2`` (``(n_wavelets2,)``), in cycles per sample.

        Returns
        -------
        dict of jax.Array
            Keyed like the ``"weights"`` of :meth:`as_function`'s parameters: ``psi1_*``
            (first order) and ``psi2_*`` (second order) entries only; the low-pass ones are
            the designed weights.
        """
        from scatter.scattering._learn import weights_from_params

        return weights_from_params(self._plan, params, self.wavelet == "gabor",
                                   self._order1["sigma"], self._order2["sigma"])

    def _default_weights(self):
        if self._weights is None:
            # eagerly, even when first asked for inside a caller's trace (jax.jit(sc)): staged
            # there, the cached weights would be that trace's tracers
            # (device_put of the float32 host arrays: jnp.asarray would run, and compile, a
            # conversion program per array shape, half a second for a detector's bank)
            with jax.ensure_compile_time_eval():
                self._weights = {k: jax.device_put(v)
                                 for k, v in default_weights(self._plan).items()}
        return self._weights

    def _run(self, weights, x, fn, traced=False):
        x = check_signal(x, length=self.shape[0])
        if jnp.iscomplexobj(x):
            raise ScatterError("x must be real, got a complex array")
        batch = x.shape[:-1]
        S = self._split_rows(weights, x.reshape((-1, x.shape[-1])), fn, traced)
        return self._shape_output(S.reshape(batch + S.shape[1:]))

    @property
    def plan(self):
        """The transform's plan (filter folds, groups and levels of the computation), read by
        the benchmarks that time its parts."""
        return self._plan

    def n_workers(self, rows):
        """Threads a batch of ``rows`` signals is split over: ``workers`` (the usable cores
        when None), at most one per row."""
        workers = self.workers
        if workers is None:
            workers = usable_cores()
        return max(1, min(workers, rows))

    def _split_rows(self, weights, x, fn, traced=False):
        """``fn(weights, x)`` for ``x`` of shape ``(rows, n)``, the rows split into equal
        chunks (the last one zero-padded) run from ``workers`` threads: XLA's CPU runtime
        releases the GIL and runs one program mostly on one thread, so concurrent calls on
        parts of the batch use the other cores. One compiled program serves every chunk; the
        first chunk is dispatched from this thread, so a new shape is compiled only once.
        Never split under a JAX transformation (``traced``, or a traced ``x``): traces are
        per thread."""
        rows = x.shape[0]
        k = self.n_workers(rows)
        if k == 1 or traced or isinstance(x, jax.core.Tracer):
            return fn(weights, x)
        size = -(-rows // k)
        k = -(-rows // size)
        if k * size != rows:
            x = jnp.pad(x, [(0, k * size - rows), (0, 0)])
        chunks = [x[i * size:(i + 1) * size] for i in range(k)]
        first = fn(weights, chunks[0])  # compiles on the first use of this shape
        with ThreadPoolExecutor(k - 1) as pool:
            rest = list(pool.map(lambda c: fn(weights, c).block_until_ready(), chunks[1:]))
        return jnp.concatenate([first] + rest)[:rows]

    def __call__(self, x):
        """Scattering transform of ``x``.

        Parameters
        ----------
        x : jax.Array [shape=(..., n)]
            Real signals, time last; any leading batch shape.

        Returns
        -------
        jax.Array [shape=(..., n_paths, n_frames), dtype=float32] or dict
            See ``out_type``.

        Raises
        ------
        ScatterError
            ``x`` has rank 0, a last axis other than ``n``, complex values, or NaN/inf (the
            message gives the first index).
        """
        return self._run(self._default_weights(), x, self._jitted)

    def apply(self, params, x):
        """Scattering with filter parameters ``params`` (same keys as :attr:`params`).

        Differentiable with respect to ``params`` and ``x`` (``jax.grad``), usable under
        ``jax.jit``. Filters are rebuilt from ``params`` on every call (a few FFTs of the padded
        length per filter), on the frequency windows fixed at construction.
        """
        missing = sorted(set(self.params) - set(params))
        if missing:
            raise ScatterError(f"params is missing {missing}; expected keys {sorted(self.params)}")
        params = {k: params[k] for k in self.params}
        leaves = jax.tree_util.tree_leaves(params)
        traced = any(isinstance(leaf, jax.core.Tracer) for leaf in leaves)
        return self._run(self._default_weights(), x,
                         lambda w, v: self._jitted_apply(params, w, v), traced)

    def as_function(self, *, learnable=False):
        """A pure function of the transform and the arrays it needs, for use inside your own
        ``jax.jit``, ``jax.vmap`` or ``jax.grad``.

        The object's lazily cached state (compiled calls, filter weights) is not involved:
        ``fn(params, x)`` depends only on its arguments, so it can be traced, vmapped,
        differentiated and nested in a larger jitted program. Pass ``params`` as an argument
        (not a closure) so that the weights stay buffers instead of compile-time constants.

        Parameters
        ----------
        learnable : bool
            False: ``params`` is ``{"weights": ...}``, the precomputed float32 filter weights
            (differentiate with respect to ``x`` only). True: ``params`` also holds
            ``"filters"``, the Morlet parameters of :attr:`params` (``xi1, sigma1, xi2,
            sigma2``), from which the band-pass weights are rebuilt inside ``fn`` (as
            :meth:`apply` does), so ``jax.grad`` reaches them.

        Returns
        -------
        params : dict of jax.Array
            Arrays to pass as ``fn``'s first argument.
        fn : callable
            ``fn(params, x)`` with ``x : jax.Array [shape=(..., n)]`` real, returning
            ``jax.Array [shape=(..., n_paths, n_frames), dtype=float32]`` (or a dict by order
            when ``out_type="dict"``). Inputs are not checked for NaN/inf (they may be traced).
            Keyword ``short_chunk``: FFT bins per loop iteration for transforms up to 2**15
            samples (default 2**18, which bounds the memory of large batches); a larger value
            runs small fixed batches faster, with results that differ in the last bits only.

        Raises
        ------
        ScatterError
            From ``fn``: ``x`` has rank 0, a last axis other than ``n``, or complex values;
            ``params`` lacks a key.

        Examples
        --------
        >>> import jax, numpy as np
        >>> from scatter import Scattering1D
        >>> sc = Scattering1D(J=4, shape=512, Q=(4, 1))
        >>> params, fn = sc.as_function()
        >>> x = np.random.default_rng(0).standard_normal((3, 512)).astype("float32")
        >>> S = jax.jit(fn)(params, x)                          # compiled by the caller
        >>> S_each = jax.vmap(fn, in_axes=(None, 0))(params, x)  # one clip per call
        >>> g = jax.grad(lambda x: fn(params, x).sum())(x)       # gradient w.r.t. the input
        >>> S.shape == (3, sc.output_size(), sc.n_frames) and g.shape == x.shape
        True
        """
        weights = dict(self._default_weights())
        params = {"weights": weights}
        if learnable:
            params["filters"] = dict(self.params)
        n = self.shape[0]

        def fn(params, x, *, short_chunk=None):
            for key in ("weights",) + (("filters",) if learnable else ()):
                if key not in params:
                    raise ScatterError(f"params must have the key {key!r} (the dict returned "
                                       f"by as_function), got keys {sorted(params)}")
            x = jnp.asarray(x)
            if x.ndim < 1 or x.shape[-1] != n:
                raise ScatterError(f"x must have shape (..., {n}) (time last), got shape "
                                   f"{tuple(x.shape)}")
            if jnp.iscomplexobj(x):
                raise ScatterError("x must be real, got a complex array")
            batch = x.shape[:-1]
            x = x.astype(jnp.float32).reshape((-1, n))
            if learnable:
                S = self._apply_forward(params["filters"], params["weights"], x, short_chunk)
            else:
                S = forward(self._plan, params["weights"], x, short_chunk=short_chunk)
            return self._shape_output(S.reshape(batch + S.shape[1:]))

        return params, fn

    def _shape_output(self, S):
        if self.out_type == "array":
            return S
        sizes = self.output_size(detail=True)
        bounds = np.cumsum([0] + sizes)
        return {k: S[..., bounds[k]:bounds[k + 1], :] for k in range(len(sizes))}

    def __repr__(self):
        return (f"Scattering1D(J={self.J}, shape={self.shape[0]}, Q={self.Q}, T={self.T}, "
                f"max_order={self.max_order}, oversampling={self.oversampling}, "
                f"wavelet={self.wavelet!r}"
                + (f", subsampling={self.subsampling!r})" if self.subsampling != "kymatio"
                   else ")"))
