"""A loaded detector: features + classifier as compiled functions, sharded over devices.

:class:`Detector` turns windows of audio into probabilities of bird activity with three
compiled JAX programs run back to back (scattering envelopes; activity features,
:mod:`scatter.detect.features`; the ``layers`` classifier exported with
:func:`symbolic.to_jax`, :func:`scatter.detect.network.window_logits_program`), compiled side
by side; its
:meth:`Detector.detect` runs it over files and folders with :func:`scatter.runner.run_detection`
(decoding in threads ahead of compute, batches across files, resumable outputs).

Devices: the batch axis is sharded over every local JAX device (``jax.local_devices()``), each
device running the whole pipeline on its rows (``jax.shard_map``); the batch size is rounded up
to a multiple of their number. On CPU, one XLA device runs the scattering mostly on one core:
``XLA_FLAGS=--xla_force_host_platform_device_count=N`` splits the host into ``N`` devices that
run side by side (the ``scatter`` command does this with one device per core).

Multi-host runs: detection is independent per file, so hosts share the files, not the batches.
Start the same script on every host with ``jax.distributed.initialize()`` (coordinator address,
number of processes and process id from the arguments or the cluster environment, e.g. SLURM),
give host ``jax.process_index()`` every ``jax.process_count()``-th file, and write one results
file per host::

    import jax
    from scatter.audio import find_audio
    from scatter.detect import load_model

    jax.distributed.initialize()                 # on every host
    files = find_audio(["/data/recordings"], recursive=True)
    mine = files[jax.process_index()::jax.process_count()]
    det = load_model("default")
    det.detect(mine, out=f"results-{jax.process_index()}.csv", resume=True)

Each host then uses its own local devices as above; the per-host CSVs have the same columns
and are concatenated afterwards (``--resume`` on a host completes only its share).

Example
-------
>>> from scatter.detect import load_model
>>> det = load_model("default")                                       # doctest: +SKIP
>>> summary = det.detect(["recordings/"], out="results.csv")          # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import math
import pickle
import threading
from concurrent.futures import ThreadPoolExecutor

import jax
import numpy as np

from scatter._compile import compile_now, lower_now
from scatter.detect.batching import in_batches, pad_rows
from scatter.detect.features import FeatureConfig, FeatureExtractor
from scatter.detect.model import check_params
from scatter.detect.programs import (
    ProgramCache,
    host_fingerprint,
    source_fingerprint,
    watch_cache_hits,
)
from scatter.errors import ScatterError, check_int
from scatter.framing import Framer, window_starts

_SHORT_CHUNK = 2**22  # FFT bins per loop iteration of the scoring program (_envelopes)
# Windows per device in one call of the compiled program. XLA:CPU's scratch grows with the
# batch (about 13 MB per window for the shipped model): a batch larger than this many per
# device runs in equal pieces of one compiled shape, so memory stops growing with
# ``batch_size`` (32 per device measured no faster than 16). ``scatter detect --batch-size 512``
# on one 10-min file: 3.91 GB peak RSS in one call, 1.09 GB in pieces (0.84 GB at 32).
MAX_ROWS_PER_DEVICE = 32

__all__ = ["Detector"]


class Detector:
    """Features and classifier of one model, compiled, ready to score windows and files.

    Parameters
    ----------
    params : dict of array_like
        Classifier parameters (:mod:`scatter.detect.model`).
    metadata : dict
        The model's sidecar (must hold ``features``; ``model.threshold`` and
        ``model.aggregate`` are used when present).
    path : str or None
        Where the model was read from (for messages and outputs).
    program_cache : str or os.PathLike or None
        Folder of :class:`scatter.detect.programs.ProgramCache`: the compiled scoring
        program and the filter weights are saved there, so that the next detector of the same
        model (in a later run, on a like machine) skips building the filters, tracing and
        compiling. None: no cache.

    Attributes
    ----------
    config : FeatureConfig
    features : FeatureExtractor
    threshold : float
        Default decision threshold.
    aggregate : str
        Default per-file aggregation of window scores.
    fingerprint : str
        SHA-256 (hex) of the classifier weights and the feature settings: identifies the model
        in a run's settings, so that a resumed run does not mix two models' scores.
    network : layers.Layer
        The classifier as a ``layers`` network on one window's features (built on first use;
        see :mod:`scatter.detect.network`).

    Raises
    ------
    ScatterError
        If the parameters do not fit the feature settings.

    Examples
    --------
    >>> det = Detector(params, {"features": cfg.to_dict()})     # doctest: +SKIP
    >>> det.score_windows(windows).shape                          # doctest: +SKIP
    (16,)
    """

    def __init__(self, params, metadata, *, path=None, program_cache=None):
        if not isinstance(metadata, dict) or "features" not in metadata:
            raise ScatterError("metadata must be a dict holding 'features' (feature settings)")
        self.metadata = metadata
        self.path = path
        self.config = FeatureConfig.from_dict(metadata["features"])
        self._features = None
        self._features_lock = threading.Lock()
        self._network = None
        self._logits = None  # the classifier's export, built on first use (window_logits)
        self._logits_lock = threading.Lock()
        # host arrays until placed (below): a device array resharded over several devices
        # costs a small compilation per shape at every start-up
        params = {k: np.asarray(v, np.float32) for k, v in params.items()}
        self.fingerprint = _fingerprint(params, self.config)
        self.devices = jax.local_devices()
        self._cache = self._key = None
        feature_params = n_features = None
        if program_cache is not None:
            self._cache = ProgramCache(program_cache)
            self._key = self._cache.key({
                "kind": "detector-programs-1", "features": self.config.to_dict(),
                "model": metadata.get("model"),
                "params": {k: [list(v.shape), str(v.dtype)] for k, v in params.items()},
                "devices": [self.devices[0].platform, len(self.devices)],
            }, fingerprint=source_fingerprint())
            cached = self._cache.load_arrays(self._key)
            if cached is not None and "__n_features__" in cached:
                n_features = int(cached.pop("__n_features__"))
                feature_params = _unflatten(cached)
        if feature_params is None:
            feature_params, n_features = self.features.params, self.features.n_features
            if self._cache is not None:
                arrays = _flatten(feature_params)
                arrays["__n_features__"] = np.asarray(n_features)
                try:
                    self._cache.save_arrays(self._key, arrays)
                except OSError:
                    pass  # a read-only or full cache only costs the next run its start-up
        check_params(params, n_features=n_features)
        self.params = params
        info = metadata.get("model", {})
        self.threshold = float(info.get("threshold", 0.5))
        self.aggregate = info.get("aggregate", "max")
        self._programs = {}
        n = len(self.devices)
        if n > 1:
            from jax.sharding import Mesh, NamedSharding, PartitionSpec

            mesh = Mesh(np.array(self.devices), ("batch",))
            replicated = NamedSharding(mesh, PartitionSpec())
            self._batch_sharding = NamedSharding(mesh, PartitionSpec("batch"))
            # shard_map: each device runs the whole pipeline on its own rows. (Plain jit with
            # shardings let XLA's partitioner replicate parts of the scattering on every
            # device: twice the CPU time on 2 host devices, no gain in wall time.)
            rows = PartitionSpec("batch")

            def shard(fn):
                return jax.shard_map(fn, mesh=mesh, in_specs=(PartitionSpec(), rows),
                                     out_specs=rows)

            self._stages = (shard(self._envelopes), shard(self._activity),
                            shard(self._classify))
            placement = replicated
        else:
            self._batch_sharding = None
            self._stages = (self._envelopes, self._activity, self._classify)
            placement = None
        feature_params = jax.tree_util.tree_map(np.asarray, feature_params)
        self.params = jax.device_put(self.params, placement)
        self._feature_params = jax.device_put(feature_params, placement)

    @property
    def features(self):
        """The :class:`FeatureExtractor` (built on first use: a warm program cache does not
        need it to score)."""
        with self._features_lock:  # callbacks (plots) may ask for it from worker threads
            if self._features is None:
                with jax.ensure_compile_time_eval():  # concrete arrays, even inside a trace
                    self._features = FeatureExtractor(self.config)
        return self._features

    def _envelopes(self, feature_params, x):
        """Stage 1 of the scoring program: windows -> pooled scattering envelopes.

        The scattering's short transforms loop over chunks of :data:`_SHORT_CHUNK` FFT bins
        (32 MB per intermediate) instead of the default 2**18: at the default batch size each
        row group is one iteration, about 15 % faster and 0.6 s less compilation at the
        default model's settings; scores differ from the default chunking's in the last bits
        only, as they do between two batch sizes."""
        return self.features.envelopes(feature_params, x, short_chunk=_SHORT_CHUNK)

    def window_logits(self, params, feats):
        """The classifier: window logits of features, a pure JAX function of the parameters.

        The :func:`symbolic.to_jax` export of the model's ``layers`` window network
        (:func:`scatter.detect.network.window_logits_program`), built on first use; what the
        scoring program runs.

        Parameters
        ----------
        params : dict of jax.Array
            The model's parameters (:attr:`params`).
        feats : jax.Array [shape=(batch, n_features, n_frames)]

        Returns
        -------
        jax.Array [shape=(batch,)]
            ``sigmoid`` of it is each window's probability of bird activity.
        """
        with self._logits_lock:  # programs are traced in worker threads
            if self._logits is None:
                from scatter.detect.network import window_logits_program

                with jax.ensure_compile_time_eval():  # concrete arrays, even inside a trace
                    self._logits = window_logits_program(
                        {k: np.asarray(v) for k, v in self.params.items()},
                        n_frames=self.features.n_frames)
        return self._logits(params, feats)

    def _activity(self, params, S):
        """Stage 2: envelopes -> activity features (``params`` unused: every stage takes the
        arrays it is called with first)."""
        del params
        return self.features.activity(S)

    def _classify(self, params, feats):
        """Stage 3: activity features -> classifier -> probabilities."""
        return jax.nn.sigmoid(self.window_logits(params, feats))

    @property
    def network(self):
        """The classifier as a ``layers`` network, built on first use: features
        ``(batch, n_features, n_frames)`` of windows -> frame logits ``(batch, n_frames)``
        (:func:`scatter.detect.network.classifier_network`; the window logit is
        :func:`scatter.detect.network.window_network` on top of it)."""
        if self._network is None:
            from scatter.detect.network import classifier_network

            self._network = classifier_network(
                {k: np.asarray(v) for k, v in self.params.items()},
                n_frames=self.features.n_frames)
        return self._network

    @property
    def n_devices(self):
        """Number of local devices the batch axis is sharded over."""
        return len(self.devices)

    def round_batch(self, batch_size):
        """``batch_size`` rounded up to a multiple of the number of devices.

        Raises
        ------
        ScatterError
            For a non-positive ``batch_size``.
        """
        batch_size = check_int(batch_size, "batch_size")
        n = self.n_devices
        return int(math.ceil(batch_size / n) * n)

    def _run(self, x, piece=None):
        """Scores of ``x`` (rows a multiple of the devices), in pieces of at most
        :data:`MAX_ROWS_PER_DEVICE` rows per device, all of one shape (the last one
        zero-padded); the calls are dispatched without waiting. ``piece`` (default
        :meth:`_run_piece`) maps a piece to an array or a tuple of arrays."""
        piece = self._run_piece if piece is None else piece
        rows, n = x.shape[0], self.n_devices
        pieces = -(-rows // (MAX_ROWS_PER_DEVICE * n))
        if pieces == 1:
            return piece(x)
        size = -(-rows // (pieces * n)) * n
        x = pad_rows(x, pieces * size)
        out = [piece(x[i * size:(i + 1) * size]) for i in range(pieces)]
        if isinstance(out[0], tuple):
            return tuple(jax.numpy.concatenate(parts)[:rows] for parts in zip(*out))
        return jax.numpy.concatenate(out)[:rows]

    def _run_piece(self, x):
        if self._batch_sharding is not None:
            x = jax.device_put(x, self._batch_sharding)
        envelopes, activity, classify = self._program(x)
        return classify(self.params, activity(self.params, envelopes(self._feature_params, x)))

    def _run_piece_with_features(self, x):
        """A piece's scores and classifier inputs, from the scoring program's stages."""
        if self._batch_sharding is not None:
            x = jax.device_put(x, self._batch_sharding)
        envelopes, activity, classify = self._program(x)
        feats = activity(self.params, envelopes(self._feature_params, x))
        return classify(self.params, feats), feats

    def _program(self, x):
        """The three compiled stages of the scoring program for batches shaped like ``x``.

        The program is three programs (:meth:`_envelopes`, :meth:`_activity`,
        :meth:`_classify`) so that they compile in threads at once: XLA compiles without
        holding the GIL, so the later stages are traced while the envelopes stage (traced
        first) compiles, and a first run's start-up is shared by two cores. The features and
        the classifier are separate programs because XLA:CPU fused them into one that ran
        several times slower than the two apart (PCEN features and a classifier with frame
        context: about 0.08 s against 0.014 s per 32 windows). With a program cache the
        compiled stages are loaded from it, or compiled and saved there (no tracing, lowering
        or compilation on a warm start). Compiled with
        :func:`scatter._compile.compile_now`'s options: XLA:CPU's threaded FFT off, so that a
        batch's scores are bit-identical from call to call (parallelism comes from one device
        per core).
        """
        key = (x.shape, str(x.dtype))
        if key in self._programs:
            return self._programs[key]
        names = None
        if self._cache is not None:
            names = [self._cache.key({"detector": self._key, "stage": stage,
                                      "x": [list(x.shape), str(x.dtype)],
                                      "host": host_fingerprint()}, fingerprint="")
                     for stage in ("envelopes", "activity", "classify")]
            loaded = [self._cache.load_executable(name, devices=self.devices)
                      for name in names]
            if all(c is not None for c in loaded):
                self._programs[key] = tuple(loaded)
                return self._programs[key]
        fx = self.features
        S = jax.ShapeDtypeStruct((x.shape[0], fx.n_paths, fx.n_frames), np.float32,
                                 sharding=self._batch_sharding)
        F = jax.ShapeDtypeStruct((x.shape[0], fx.n_features, fx.n_frames), np.float32,
                                 sharding=self._batch_sharding)
        args = [(self._feature_params, x), (self.params, S), (self.params, F)]
        with watch_cache_hits() as watch, ThreadPoolExecutor(max_workers=3) as pool:
            # the envelopes stage is the long one: trace it with the GIL to itself, then
            # trace the later stages while it compiles
            envelopes = pool.submit(lower_now(self._stages[0], *args[0]))
            activity = pool.submit(compile_now, self._stages[1], *args[1])
            classify = pool.submit(compile_now, self._stages[2], *args[2])
            self._programs[key] = (envelopes.result(), activity.result(), classify.result())
        # a program JAX's persistent cache served cannot be serialized again (watch_cache_hits)
        if names is not None and not watch.hit:
            for name, compiled in zip(names, self._programs[key]):
                try:
                    self._cache.save_executable(name, compiled)
                except (OSError, ValueError, NotImplementedError, TypeError,
                        pickle.PicklingError):
                    # a read-only cache, or a backend that cannot serialize its programs:
                    # only the next start-up pays
                    pass
        return self._programs[key]

    def scorer(self, batch):
        """Probabilities of a batch of windows; returns a JAX array without waiting for it.

        This is the ``scorer`` given to :func:`scatter.runner.run_detection`; the batch size
        must be a multiple of :attr:`n_devices` (see :meth:`round_batch`).

        Parameters
        ----------
        batch : numpy.ndarray [shape=(batch, window), dtype=float32]

        Returns
        -------
        jax.Array [shape=(batch,)]
        """
        return self._run(np.asarray(batch, dtype=np.float32))

    def score_with_features(self, batch):
        """Scores of a batch of windows and the features the classifier saw, in one pass.

        The scattering stage is the scoring program's own (:meth:`scorer`'s, compiled once
        per batch shape); features and classifier then run in one program that returns both,
        so ``sigmoid(det.window_logits(det.params, features))`` gives the scores
        (:meth:`window_logits`). For a scorer that also keeps the
        features (:mod:`scatter.feature_files`): the scattering is not computed twice. Returns
        JAX arrays without waiting for them.

        Parameters
        ----------
        batch : numpy.ndarray [shape=(batch, window), dtype=float32]
            The batch size must be a multiple of :attr:`n_devices` (:meth:`round_batch`).

        Returns
        -------
        scores : jax.Array [shape=(batch,)]
            Equal to :meth:`scorer`'s to float rounding.
        features : jax.Array [shape=(batch, n_features, n_frames), dtype=float32]
            The classifier's input (:meth:`FeatureExtractor.activity` of the envelopes).

        Examples
        --------
        >>> scores, feats = det.score_with_features(windows)        # doctest: +SKIP
        """
        return self._run(np.asarray(batch, dtype=np.float32), self._run_piece_with_features)

    def classifier_features(self, windows, *, batch_size=32):
        """The features the classifier sees for windows, in fixed-size batches.

        Computed by :meth:`score_with_features` (the scoring program's scattering stage), so
        they are the classifier's inputs for :meth:`score_windows`'s scores; the
        :meth:`window_features` of the plots compile the extractor on its own.

        Parameters
        ----------
        windows : array_like [shape=(n, window)]
            Windows at ``config.sr``, finite.
        batch_size : int
            Windows per compiled call (rounded up to a multiple of the devices).

        Returns
        -------
        numpy.ndarray [shape=(n, n_features, n_frames), dtype=float32]

        Raises
        ------
        ScatterError
            For a wrong shape or non-finite samples.
        """
        w = self._check_windows(windows)
        out = in_batches(w, self.round_batch(batch_size),
                          lambda chunk: self.score_with_features(chunk)[1])
        shape = (0, self.features.n_features, self.features.n_frames)
        return out if out is not None else np.zeros(shape, np.float32)

    def score_windows(self, windows, *, batch_size=32):
        """Probabilities of bird activity of windows, computed in fixed-size batches.

        Parameters
        ----------
        windows : array_like [shape=(n, window)]
            Windows at ``config.sr``, finite.
        batch_size : int
            Windows per compiled call (rounded up to a multiple of the devices).

        Returns
        -------
        numpy.ndarray [shape=(n,), dtype=float64]

        Raises
        ------
        ScatterError
            For a wrong shape or non-finite samples.
        """
        w = self._check_windows(windows)
        out = in_batches(w, self.round_batch(batch_size), self._run)
        return out.astype(np.float64) if out is not None else np.zeros(0)

    def window_features(self, windows, *, batch_size=8):
        """Features of windows, computed in fixed-size batches (one compilation for any count).

        Parameters
        ----------
        windows : array_like [shape=(n, window)]
        batch_size : int

        Returns
        -------
        numpy.ndarray [shape=(n, n_features, n_frames), dtype=float32]

        Raises
        ------
        ScatterError
            For a wrong shape or non-finite samples.
        """
        w = self._check_windows(windows)
        out = in_batches(w, batch_size, self.features)
        shape = (0, self.features.n_features, self.features.n_frames)
        return out if out is not None else np.zeros(shape, np.float32)

    def _check_windows(self, windows):
        w = np.asarray(windows, dtype=np.float32)
        if w.ndim != 2 or w.shape[1] != self.config.window:
            raise ScatterError(f"windows must have shape (n, {self.config.window}); "
                               f"got {w.shape}")
        if not np.isfinite(w).all():
            raise ScatterError("windows must be finite; got NaN or infinite samples")
        return w

    def frame(self, y):
        """Cut a mono signal at ``config.sr`` into the detector's windows.

        Parameters
        ----------
        y : array_like [shape=(n,)]

        Returns
        -------
        windows : numpy.ndarray [shape=(n_windows, window), dtype=float32]
            The last window holds the signal's last ``window`` samples; a signal shorter than
            one window gives one window, zero-padded (:mod:`scatter.framing`).
        starts_s, ends_s : numpy.ndarray [shape=(n_windows,)]

        Raises
        ------
        ScatterError
            For a signal that is not 1-D or is empty.
        """
        y = np.asarray(y, dtype=np.float32)
        if y.ndim != 1 or y.size == 0:
            raise ScatterError(f"y must be a non-empty 1-D signal; got shape {y.shape}")
        cfg = self.config
        fr = Framer(window=cfg.window, hop=cfg.hop)
        parts = [w for _, w in fr.push(y)] + [w for _, w in fr.finish()]
        windows = np.concatenate(parts).astype(np.float32)
        starts = window_starts(y.size, window=cfg.window, hop=cfg.hop)
        ends = np.minimum(starts + cfg.window, y.size) / cfg.sr
        return windows, starts / cfg.sr, ends

    def score_signal(self, y, *, batch_size=32):
        """Window scores of an in-memory mono signal sampled at ``config.sr``.

        Parameters
        ----------
        y : array_like [shape=(n,)]
        batch_size : int

        Returns
        -------
        starts_s, ends_s, scores : numpy.ndarray [shape=(n_windows,)]

        Raises
        ------
        ScatterError
            As :meth:`frame` and :meth:`score_windows`.

        Examples
        --------
        >>> starts, ends, scores = det.score_signal(y)       # doctest: +SKIP
        """
        windows, starts, ends = self.frame(y)
        return starts, ends, self.score_windows(windows, batch_size=batch_size)

    def detect(self, paths, *, batch_size=32, threshold=None, aggregate=None, hop_s=None,
               **kwargs):
        """Score files and folders; see :func:`scatter.runner.run_detection`.

        Parameters
        ----------
        paths : str or os.PathLike or sequence of them
        batch_size : int
            Windows per batch (rounded up to a multiple of the devices); a batch of more
            than :data:`MAX_ROWS_PER_DEVICE` windows per device is scored in equal pieces.
        threshold : float or None
            Decision threshold; None uses the model's.
        aggregate : str or callable or None
            File score from window scores; None uses the model's.
        hop_s : float or None
            Hop between windows; None uses the model's.
        **kwargs
            Passed to :func:`~scatter.runner.run_detection` (``out``, ``segments_out``,
            ``raven_dir``, ``json_out``, ``resume``, ``quiet``, ``recursive``, ``workers``,
            ``on_file``, ...); ``scorer_id`` defaults to ``{"model_sha256":
            self.fingerprint}``, so that ``resume`` refuses rows scored by another model.

        Returns
        -------
        summary : dict
            As :func:`~scatter.runner.run_detection`.

        Raises
        ------
        ScatterError
            As :func:`~scatter.runner.run_detection`.
        """
        from scatter.runner import run_detection

        cfg = self.config
        kwargs.setdefault("scorer_id", {"model_sha256": self.fingerprint})
        return run_detection(
            paths, scorer=self.scorer, sr=cfg.sr, window_s=cfg.window / cfg.sr,
            hop_s=cfg.hop / cfg.sr if hop_s is None else hop_s,
            batch_size=self.round_batch(batch_size),
            threshold=self.threshold if threshold is None else threshold,
            aggregate=self.aggregate if aggregate is None else aggregate, **kwargs)

    def __repr__(self):
        return (f"Detector(path={self.path!r}, sr={self.config.sr}, "
                f"window_s={self.config.window_s:.3f}, devices={self.n_devices})")


def _fingerprint(params, config):
    """SHA-256 hex of float32 ``params`` (name, shape, bytes) and ``config``'s settings."""
    h = hashlib.sha256(json.dumps(config.to_dict(), sort_keys=True).encode())
    for name in sorted(params):
        value = np.ascontiguousarray(params[name])
        h.update(f"{name} {value.shape}".encode())
        h.update(value.tobytes())
    return h.hexdigest()


def _flatten(tree, prefix=""):
    """Nested dicts of arrays as one flat dict keyed ``"a/b"`` (for the program cache)."""
    out = {}
    for k, v in tree.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}/"))
        else:
            out[f"{prefix}{k}"] = np.asarray(v)
    return out


def _unflatten(flat):
    """Inverse of :func:`_flatten`, with host (NumPy) arrays as leaves."""
    out = {}
    for name, v in flat.items():
        *parents, leaf = name.split("/")
        node = out
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = np.asarray(v)
    return out


