"""Detection features: scattering (orders 1-2) -> thresholding activity mask -> log, normalised.

For a batch of windows ``x`` of shape ``(batch, n)`` the pipeline is, per window and per
scattering path (band) ``p``:

0. with ``dither > 0``, a fixed dither ``d`` is added, ``x <- x + d`` (see *Dither* below);
1. ``S = Scattering1D(J, shape=n, Q)(x)`` without order 0, averaged over ``pool`` frames:
   ``S[b, p, t] >= 0`` (Andén & Mallat 2014, "Deep scattering spectrum", IEEE TSP 62(16));
2. background and noise level of the band within the window: ``floor = median_t S`` and the
   deviation ``c = S - floor`` with MAD noise level ``sigma = median_t |c| / 0.6745``, raised
   to the *noise floor* ``sigma >= noise_floor * m_o`` where ``m_o`` is the window's mean
   envelope over the frames and the paths of the band's scattering order (see below);
3. a risk-minimizing threshold ``t`` per band (SURE by default, Donoho & Johnstone 1995, through
   :func:`scatter.threshold.select_thresholds`) and the activity mask
   ``m = gain(|c|, t) * [c > 0]`` in ``[0, 1]`` (:func:`scatter.threshold.gain`): what rises
   above the band's background by more than its noise allows;
4. two channels per band: the *activity* ``log1p(m * c / sigma)`` (zero on background, growing
   with the local signal-to-noise ratio; invariant to gain and to stationary background), and
   the *level* ``log(S + tiny) - mean_{p,t} log(S + tiny)`` (the spectral shape of the window,
   gain-invariant, which keeps a sound that lasts the whole window).

With ``pcen=True`` the level channels are the per-channel energy normalisation (PCEN) of the
envelopes instead of their log (see *PCEN* below); the activity channels are unchanged.

Noise floor and dynamic range (``noise_floor``, ``top_db``): see :mod:`scatter.detect.activity`,
which computes steps 2-4.

Dither. Digital silence (exact zeros) is a state no microphone produces: every recording
has at least the noise of its quantisation. ``dither`` (full-scale amplitude, default 0: none)
adds a fixed triangular-PDF dither of that amplitude, ``d = dither * (u1 - u2)`` with ``u1, u2``
uniform on [0, 1) from a fixed seed (the same ``n`` samples for every window, so features stay
deterministic), as a 16-bit converter dithered at one quantisation step would
(Lipshitz, Wannamaker & Vanderkooy 1992, "Quantization and dither: a theoretical survey",
J. Audio Eng. Soc. 40(5)); ``dither = 2**-15`` is one step of 16-bit audio, -101 dBFS RMS.
A window of digital silence then has the features of the quietest noise a 16-bit recording can
hold instead of a MAD of exactly 0 (the blow-up described in :mod:`scatter.detect.activity`),
while any recording with its own background (nearly all: microphone and room noise lie 20-60 dB
above) is unchanged in effect. Sidecars without the field load with 0.

PCEN. Per-channel energy normalisation (Wang et al. 2017, "Trainable frontend for robust
and far-field keyword spotting", ICASSP; Lostanlen et al. 2019, "Per-channel energy
normalization: why and how", IEEE Signal Processing Letters 26(1)) replaces the log of a
band's envelope ``E`` by an automatic gain control followed by a root compression,

    ``M[t] = (1 - s) M[t-1] + s E[t]``,
    ``PCEN[t] = ((E[t] / (eps + M[t])**alpha + delta)**r - delta**r``,

per band along the frames of a window (:func:`pcen`). ``M`` is a first-order low-pass of the
band with time constant ``pcen_time`` seconds (``s`` from :func:`pcen_smoothing` at the frame
rate ``sr / (2**J * pool)``), so PCEN follows the band's background and stresses what rises
above it, as the activity channels do, but smoothly, without a threshold. Two choices are
ours:

- the envelopes are first divided by the window's mean envelope over the frames and the paths of
  the band's scattering order (after the ``top_db`` limit, if any), so ``E`` is about 1 in an
  average band whatever the recording's gain. PCEN with ``alpha < 1`` depends on the scale of
  its input (a gain ``g`` scales ``E / M**alpha`` by ``g**(1 - alpha)``), and ``delta`` sets
  the knee of the compression on that scale; librosa's ``pcen`` asks for spectrograms scaled
  to the integer range for this reason. The window reference makes the channels invariant to
  gain, like the others, and puts the knee at a fixed ratio to the window's mean;
- the smoother starts from the band's median over the window, ``M[-1] = median_t E``: windows
  are scored independently, with no past, and the median is the band's background as the
  activity channels estimate it. Starting from the first frame would hide a call that is
  already sounding when the window opens (its gain would read as ``E**(1 - alpha)``, about 1),
  and the window's mean is pulled up by the calls themselves.

The smoother is computed exactly as a causal FIR over the window's frames (a lower-triangular
``n_frames x n_frames`` matrix of weights ``s (1 - s)**(t - k)``), one matrix product per
window. The defaults (``pcen_alpha = 0.98``, ``pcen_delta = 2``, ``pcen_r = 0.5``,
``pcen_time = 0.4`` s, ``pcen_eps = 1e-6``) are those of Wang et al. 2017, as
``librosa.pcen`` also takes them. Sidecars without the field load with ``pcen=False``.

The output is ``(batch, 2 * n_paths, n_frames)``: activity channels first, then level channels.
Every step is a pure JAX function of ``x``: it works under ``jax.jit`` and ``jax.vmap`` and
returns finite values for any finite input (silence gives zeros).

Example
-------
>>> import numpy as np
>>> from scatter.detect.features import FeatureConfig, FeatureExtractor
>>> fx = FeatureExtractor(FeatureConfig(sr=8000, window=4096, hop=4096, J=6, Q=(4, 1)))
>>> fx(np.zeros((2, 4096), "float32")).shape == (2, fx.n_features, fx.n_frames)
True
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np

from scatter._compile import jit
from scatter.detect.activity import (
    MASK_METHODS,
    RULES,
    activity_features,
    check_fraction,
    check_top_db,
)
from scatter.detect.pcen import check_pcen, pcen, pcen_smoothing
from scatter.errors import ScatterError, check_int
from scatter.scattering import Scattering1D

__all__ = ["DITHER_16BIT", "FILTER_FIELDS", "LEGACY_DEFAULTS", "MASK_METHODS", "PCEN_FIELDS",
           "FeatureConfig", "FeatureExtractor", "activity_features", "dither_signal", "pcen",
           "pcen_smoothing"]

#: Values of fields added after the first models shipped, as those models were trained: a
#: sidecar without the field loads with them (:meth:`FeatureConfig.from_dict`).
LEGACY_DEFAULTS = {"noise_floor": 0.0, "subsampling": "kymatio", "dither": 0.0, "top_db": 0.0,
                   "pcen": False}
#: ``dither`` of one 16-bit quantisation step (full scale 1).
DITHER_16BIT = 2.0 ** -15
_DITHER_SEED = 20150
#: Fields holding learned first-order filter parameters; empty (the default) means the designed
#: filters, and :meth:`FeatureConfig.to_dict` leaves them out then.
FILTER_FIELDS = ("xi1", "sigma1")
_SUBSAMPLING = ("kymatio", "coarse")
#: Settings of the PCEN level channels; :meth:`FeatureConfig.to_dict` leaves them out when
#: ``pcen`` is off (they have no effect then).
PCEN_FIELDS = ("pcen_time", "pcen_alpha", "pcen_delta", "pcen_r", "pcen_eps")
_TINY = 1e-8  # as scatter.detect.activity: envelopes below it read as silence


def _filters(xi1, sigma1):
    for name, v in (("xi1", xi1), ("sigma1", sigma1)):
        if not isinstance(v, tuple) or not all(
                isinstance(f, float) and math.isfinite(f) and 0 < f < 0.5 for f in v):
            raise ScatterError(f"{name} must be a sequence of frequencies in (0, 0.5) cycles "
                               f"per sample (empty: the designed filters); got {v!r}")
    if len(xi1) != len(sigma1):
        raise ScatterError(f"xi1 and sigma1 must have the same length (one pair per "
                           f"first-order wavelet); got {len(xi1)} and {len(sigma1)}")


@dataclasses.dataclass(frozen=True)
class FeatureConfig:
    """Settings of the detection features; stored in every model's sidecar.

    Parameters
    ----------
    sr : int
        Sample rate (Hz) audio is resampled to.
    window, hop : int
        Window length and hop in samples (``0 < hop <= window``).
    J : int
        Log2 of the scattering scale (frames are ``2**J`` samples apart before pooling).
    Q : tuple of two ints
        Wavelets per octave at orders 1 and 2.
    max_order : {1, 2}
        Highest scattering order kept (order 0 is always dropped).
    pool : int
        Scattering frames averaged into one feature frame.
    mask : {"sure", "universal", "bayes", "none"}
        Threshold selector of the activity mask.
    rule : {"soft", "garrote", "firm"}
        Thresholding rule of the mask.
    noise_floor : float
        Lower bound of a band's noise level relative to the window's mean envelope of the
        band's scattering order (:mod:`scatter.detect.activity`); ``0 <= noise_floor < 1``;
        0: none (the behaviour of older models).
    subsampling : {"kymatio", "coarse"}
        Time subsampling of the scattering's wavelet moduli (:class:`scatter.Scattering1D`):
        ``"coarse"`` takes each one dyadic level coarser than kymatio's alias-free level,
        about 1.4x faster at the detector's settings, outputs within about 1e-2 per path.
    dither : float
        Amplitude of the fixed triangular dither added to every window (module docstring,
        *Dither*); ``0 <= dither < 1``; 0: none (the behaviour of older models);
        :data:`DITHER_16BIT` is one 16-bit quantisation step.
    top_db : float
        Dynamic range kept per window (:mod:`scatter.detect.activity`, *Dynamic range*):
        envelopes more than ``top_db`` dB below the loudest of their scattering order in the
        window are raised to that level; ``0 <= top_db <= 200``; 0: no limit (the behaviour of
        older models).
    xi1, sigma1 : tuple of float
        Learned centre frequencies and widths (cycles per sample) of the first-order wavelets,
        one per wavelet in the scattering's order (:meth:`FeatureExtractor.filter_params`),
        as :mod:`scatter.detect.finetune` learns them; empty (the default, and older
        sidecars): the designed filters. The first-order band-pass weights are rebuilt from
        them once, when the extractor is built; the compute per window does not change.
    pcen : bool
        Level channels from per-channel energy normalisation instead of the log (module
        docstring, *PCEN*); False (the default, and older sidecars): the log.
    pcen_time : float
        Time constant of PCEN's smoother in seconds (``> 0``).
    pcen_alpha : float
        Exponent of PCEN's gain control, ``0 <= alpha <= 1`` (1: full normalisation).
    pcen_delta : float
        Bias of PCEN's root compression, ``> 0``.
    pcen_r : float
        Exponent of PCEN's root compression, ``0 < r <= 1``.
    pcen_eps : float
        Floor of PCEN's smoothed envelope (relative to the window's mean envelope), ``> 0``.

    Raises
    ------
    ScatterError
        For any value out of range (checked by :meth:`validate`, called on construction).
    """

    sr: int = 22050
    window: int = 57330
    hop: int = 57330
    J: int = 8
    Q: tuple = (6, 1)
    max_order: int = 2
    pool: int = 4
    mask: str = "sure"
    rule: str = "soft"
    noise_floor: float = 0.0
    subsampling: str = "kymatio"
    dither: float = 0.0
    top_db: float = 0.0
    xi1: tuple = ()
    sigma1: tuple = ()
    pcen: bool = False
    pcen_time: float = 0.4
    pcen_alpha: float = 0.98
    pcen_delta: float = 2.0
    pcen_r: float = 0.5
    pcen_eps: float = 1e-6

    def __post_init__(self):
        object.__setattr__(self, "Q", tuple(self.Q) if isinstance(self.Q, (list, tuple))
                           else self.Q)
        for name in FILTER_FIELDS:
            v = getattr(self, name)
            if isinstance(v, (list, tuple, np.ndarray)):
                try:
                    object.__setattr__(self, name, tuple(float(f) for f in np.ravel(v)))
                except (TypeError, ValueError):
                    pass  # left as given: validate() names the field and the value
        self.validate()

    def validate(self):
        """Check every field (raises :class:`~scatter.ScatterError`)."""
        check_int(self.sr, "sr")
        check_int(self.window, "window", 2)
        check_int(self.hop, "hop")
        if self.hop > self.window:
            raise ScatterError(f"hop must be at most window={self.window}; got {self.hop}")
        check_int(self.J, "J")
        if 2**self.J > self.window:
            raise ScatterError(f"J={self.J} is too large for window={self.window}: 2**J must "
                               f"not exceed it (use J <= {int(math.log2(self.window))})")
        if not (isinstance(self.Q, tuple) and len(self.Q) == 2):
            raise ScatterError(f"Q must be a pair (Q1, Q2); got {self.Q!r}")
        for q in self.Q:
            check_int(q, "Q")
        if self.max_order not in (1, 2):
            raise ScatterError(f"max_order must be 1 or 2; got {self.max_order!r}")
        check_int(self.pool, "pool")
        if self.mask not in MASK_METHODS:
            raise ScatterError(f"mask must be one of {MASK_METHODS}; got {self.mask!r}")
        if self.rule not in RULES:
            raise ScatterError(f"rule must be one of {RULES}; got {self.rule!r}")
        check_fraction("noise_floor", self.noise_floor)
        if self.subsampling not in _SUBSAMPLING:
            raise ScatterError(f"subsampling must be one of {_SUBSAMPLING}; "
                               f"got {self.subsampling!r}")
        check_fraction("dither", self.dither)
        check_top_db(self.top_db)
        _filters(self.xi1, self.sigma1)
        if not isinstance(self.pcen, bool):
            raise ScatterError(f"pcen must be True or False; got {self.pcen!r}")
        check_pcen(time=self.pcen_time, alpha=self.pcen_alpha, delta=self.pcen_delta,
                    r=self.pcen_r, eps=self.pcen_eps, prefix="pcen_")

    @property
    def window_s(self):
        """Window length in seconds."""
        return self.window / self.sr

    @property
    def hop_s(self):
        """Hop in seconds."""
        return self.hop / self.sr

    def to_dict(self):
        """JSON-ready dict (``Q`` and learned filters as lists; designed filters, the default,
        leave ``xi1`` and ``sigma1`` out, and ``pcen=False`` leaves the :data:`PCEN_FIELDS`
        out, so older settings give the same dict but for ``pcen``)."""
        d = dataclasses.asdict(self)
        d["Q"] = list(self.Q)
        for name in FILTER_FIELDS:
            if d[name]:
                d[name] = list(d[name])
            else:
                del d[name]
        if not self.pcen:
            for name in PCEN_FIELDS:
                del d[name]
        return d

    @classmethod
    def from_dict(cls, d):
        """Inverse of :meth:`to_dict`.

        Fields missing from ``d`` that were added after the first models shipped take the
        values those models were trained with (:data:`LEGACY_DEFAULTS`, e.g. no noise floor),
        so an old sidecar loads with the features its model saw; other missing fields take
        the dataclass defaults.

        Raises
        ------
        ScatterError
            For unknown keys or invalid values.
        """
        if not isinstance(d, dict):
            raise ScatterError(f"feature settings must be a dict; got {type(d).__name__}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ScatterError(f"feature settings have unknown keys {unknown}; "
                               f"expected a subset of {sorted(names)}")
        return cls(**(LEGACY_DEFAULTS | d))


def dither_signal(n, amplitude, *, seed=_DITHER_SEED):
    """The fixed triangular-PDF dither of :class:`FeatureExtractor` (module docstring).

    Parameters
    ----------
    n : int
        Samples (the window length).
    amplitude : float
        Peak amplitude ``a``: the samples are ``a * (u1 - u2)``, in ``(-a, a)``, variance
        ``a**2 / 6``.
    seed : int
        Seed of the uniform draws (fixed: every window gets the same dither).

    Returns
    -------
    numpy.ndarray [shape=(n,), dtype=float32] or None
        None when ``amplitude`` is 0.

    Raises
    ------
    ScatterError
        For ``n < 1`` or an ``amplitude`` outside [0, 1).

    Examples
    --------
    >>> d = dither_signal(4096, DITHER_16BIT)
    >>> bool(np.abs(d).max() < DITHER_16BIT), dither_signal(8, 0.0) is None
    (True, True)
    """
    n = check_int(n, "n")
    check_fraction("amplitude", amplitude)
    if amplitude == 0:
        return None
    rng = np.random.default_rng(seed)
    u = rng.random((2, n))
    return (amplitude * (u[0] - u[1])).astype(np.float32)


class FeatureExtractor:
    """The feature pipeline of one :class:`FeatureConfig`, batched and compiled once.

    Parameters
    ----------
    config : FeatureConfig

    Attributes
    ----------
    scattering : scatter.Scattering1D
    params : dict of jax.Array
        The scattering's filter weights (the first argument of :meth:`apply`).
    n_paths : int
        Scattering paths kept (orders 1 to ``max_order``).
    n_features : int
        Channels per frame, ``2 * n_paths``.
    n_frames : int
        Feature frames per window.

    Raises
    ------
    ScatterError
        If the scattering transform cannot be built for the settings.

    Examples
    --------
    >>> fx = FeatureExtractor(FeatureConfig(sr=8000, window=4096, hop=2048, J=6, Q=(4, 1)))
    >>> fx.n_features, fx.n_frames  # doctest: +SKIP
    (52, 16)
    """

    def __init__(self, config):
        if not isinstance(config, FeatureConfig):
            raise ScatterError(f"config must be a FeatureConfig; got {type(config).__name__}")
        self.config = config
        self.scattering = Scattering1D(J=config.J, shape=config.window, Q=config.Q,
                                       max_order=config.max_order,
                                       subsampling=config.subsampling)
        order = np.asarray(self.scattering.meta()["order"])
        self._keep = np.flatnonzero(order >= 1)
        self._orders = order[self._keep]
        self.n_paths = int(self._keep.size)
        self.n_features = 2 * self.n_paths
        frames = self.scattering.n_frames
        if frames < config.pool:
            raise ScatterError(f"pool={config.pool} exceeds the {frames} scattering frames of a "
                               f"window of {config.window} samples at J={config.J}")
        self.n_frames = frames // config.pool
        # The scattering's public pure function: its filter weights are passed as arguments
        # (buffers of the compiled program, not constants folded into it).
        self.params, self._scatter = self.scattering.as_function()
        self._designed = self.params["weights"]
        if config.xi1:
            n1 = int(self.scattering.params["xi1"].shape[0])
            if len(config.xi1) != n1:
                raise ScatterError(f"xi1 and sigma1 must hold one value per first-order "
                                   f"wavelet ({n1} at J={config.J}, Q={config.Q}); got "
                                   f"{len(config.xi1)}")
            with jax.ensure_compile_time_eval():  # concrete weights, even inside a trace
                self.params = self.filter_weights(np.asarray(config.xi1, np.float32),
                                                  np.asarray(config.sigma1, np.float32))
        self.dither = dither_signal(config.window, config.dither)
        # scatter._compile.jit: bit-reproducible calls (XLA:CPU's threaded FFT off)
        self._jitted = jit(self.apply)

    def filter_params(self):
        """The first-order filter parameters the extractor uses: learned (``config.xi1``,
        ``config.sigma1``) or designed.

        Returns
        -------
        dict of numpy.ndarray [shape=(n_wavelets1,), dtype=float32]
            ``xi1`` (centre frequencies) and ``sigma1`` (widths), cycles per sample.
        """
        if self.config.xi1:
            return {"xi1": np.asarray(self.config.xi1, np.float32),
                    "sigma1": np.asarray(self.config.sigma1, np.float32)}
        return {k: np.asarray(self.scattering.params[k]) for k in FILTER_FIELDS}

    def filter_weights(self, xi1, sigma1):
        """Filter weights (:attr:`params`) with first-order wavelets of centre frequencies
        ``xi1`` and widths ``sigma1`` (pure, differentiable: the learnable-filter path).

        The first-order band-pass weights are rebuilt from the Morlet parameters
        (:meth:`scatter.Scattering1D.apply`'s construction, on the frequency windows fixed
        when the scattering was built, so parameters should stay near the designed ones);
        every other weight (low-pass, second order) is the designed one.

        Parameters
        ----------
        xi1, sigma1 : jax.Array [shape=(n_wavelets1,)]
            Cycles per sample, in the order of :meth:`filter_params`.

        Returns
        -------
        dict
            ``{"weights": ...}``, the first argument of :meth:`apply`.

        Raises
        ------
        ScatterError
            If ``xi1`` or ``sigma1`` has the wrong shape.

        Examples
        --------
        >>> fx = FeatureExtractor(FeatureConfig(sr=8000, window=4096, hop=4096, J=6, Q=(4, 1)))
        >>> p = fx.filter_params()
        >>> params = fx.filter_weights(p["xi1"] * 1.01, p["sigma1"])
        >>> fx.apply(params, np.zeros((1, 4096), "float32")).shape[0]
        1
        """
        sc = self.scattering
        n1 = sc.params["xi1"].shape
        for name, v in (("xi1", xi1), ("sigma1", sigma1)):
            if jnp.shape(v) != n1:
                raise ScatterError(f"{name} must have shape {n1} (one value per first-order "
                                   f"wavelet); got {jnp.shape(v)}")
        learned = dict(sc.params, xi1=jnp.asarray(xi1, jnp.float32),
                       sigma1=jnp.asarray(sigma1, jnp.float32))
        # Scattering1D's own construction (its learnable-filter path); only the first-order
        # band-pass weights are taken from it
        rebuilt = sc.bandpass_weights(learned)
        weights = dict(self._designed)
        weights.update({k: v for k, v in rebuilt.items() if k.startswith("psi1_")})
        return {"weights": weights}

    def apply(self, params, x):
        """Features of a batch of windows with explicit filter weights (pure, traceable).

        Parameters
        ----------
        params : dict of jax.Array
            The scattering's weights, :attr:`params` (from ``Scattering1D.as_function``).
        x : jax.Array [shape=(..., window)]
            Windows, float32, finite.

        Returns
        -------
        jax.Array [shape=(..., n_features, n_frames), dtype=float32]
        """
        return self.activity(self.envelopes(params, x))

    def envelopes(self, params, x, *, short_chunk=None):
        """First half of :meth:`apply`: dithered windows -> scattering (orders >= 1) -> frames
        pooled by ``config.pool`` (pure, traceable).

        Parameters
        ----------
        params : dict of jax.Array
            As :meth:`apply`.
        x : jax.Array [shape=(..., window)]
        short_chunk : int or None
            FFT bins per loop iteration of the short transforms (``Scattering1D.as_function``;
            None: the default, which bounds the memory of large batches).

        Returns
        -------
        jax.Array [shape=(..., n_paths, n_frames), dtype=float32]
        """
        x = jnp.asarray(x, jnp.float32)
        if self.dither is not None:
            x = x + jnp.asarray(self.dither)
        S = self._scatter(params, x, short_chunk=short_chunk)
        S = jnp.take(S, jnp.asarray(self._keep), axis=-2)
        pool = self.config.pool
        S = S[..., :self.n_frames * pool]
        return S.reshape(S.shape[:-1] + (self.n_frames, pool)).mean(axis=-1)

    def activity(self, S):
        """Second half of :meth:`apply`: :func:`activity_features` of pooled envelopes with
        this configuration's settings (pure, traceable).

        Parameters
        ----------
        S : jax.Array [shape=(..., n_paths, n_frames)]
            From :meth:`envelopes`.

        Returns
        -------
        jax.Array [shape=(..., n_features, n_frames), dtype=float32]
        """
        cfg = self.config
        A = activity_features(S, mask=cfg.mask, rule=cfg.rule, noise_floor=cfg.noise_floor,
                              groups=self._orders, top_db=cfg.top_db)
        if not cfg.pcen:
            return A
        return jnp.concatenate([A[..., :self.n_paths, :], self.pcen_level(S)], axis=-2)

    def pcen_level(self, S):
        """The PCEN level channels of pooled envelopes (module docstring, *PCEN*; pure,
        traceable), whatever ``config.pcen`` says.

        Parameters
        ----------
        S : jax.Array [shape=(..., n_paths, n_frames)]
            From :meth:`envelopes`.

        Returns
        -------
        jax.Array [shape=(..., n_paths, n_frames), dtype=float32]
        """
        cfg = self.config
        S = jnp.maximum(jnp.asarray(S, jnp.float32), 0.0)
        ids, index = np.unique(self._orders, return_inverse=True)
        member = index[:, None] == np.arange(ids.size)[None, :]     # (n_paths, n_orders)
        if cfg.top_db > 0:
            band_max = jnp.max(S, axis=-1)
            order_max = jnp.max(jnp.where(jnp.asarray(member), band_max[..., :, None], 0.0),
                                axis=-2)
            floor = 10.0 ** (-cfg.top_db / 20.0) * jnp.take(order_max, jnp.asarray(index),
                                                            axis=-1)
            S = jnp.maximum(S, floor[..., None])
        share = (member / member.sum(axis=0, keepdims=True)).astype(np.float32)
        order_mean = jnp.mean(S, axis=-1) @ jnp.asarray(share)       # (..., n_orders)
        ref = jnp.take(order_mean, jnp.asarray(index), axis=-1)[..., None]
        frame_rate = cfg.sr / (2 ** cfg.J * cfg.pool)
        return pcen(S / (ref + _TINY), smoothing=pcen_smoothing(cfg.pcen_time, frame_rate),
                    alpha=cfg.pcen_alpha, delta=cfg.pcen_delta, r=cfg.pcen_r, eps=cfg.pcen_eps)

    def transform(self, x):
        """Features of a batch of windows, as a traceable JAX function of ``x`` alone.

        The filter weights become constants of whatever program traces this; use
        :meth:`apply` to pass them as arguments instead.

        Parameters
        ----------
        x : jax.Array [shape=(..., window)]
            Windows, float32, finite.

        Returns
        -------
        jax.Array [shape=(..., n_features, n_frames), dtype=float32]
        """
        return self.apply(self.params, x)

    def __call__(self, x):
        """Compiled :meth:`transform` with the fixed filters.

        Parameters
        ----------
        x : array_like [shape=(..., window)]

        Returns
        -------
        jax.Array [shape=(..., n_features, n_frames), dtype=float32]

        Raises
        ------
        ScatterError
            If the last axis is not ``window`` long or ``x`` is not finite.
        """
        x = np.asarray(x, dtype=np.float32)
        if x.ndim < 1 or x.shape[-1] != self.config.window:
            raise ScatterError(f"x must have shape (..., {self.config.window}); "
                               f"got {x.shape}")
        if not np.isfinite(x).all():
            raise ScatterError("x must be finite; got NaN or infinite samples")
        return self._jitted(self.params, x)
