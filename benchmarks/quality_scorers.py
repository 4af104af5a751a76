"""The scorers that ``detector_quality.py`` compares: ours, the baseline, a plug-in, BirdNET.

Helper of ``benchmarks/detector_quality.py``. A scorer maps a list of clips
(``quality_clips.Clip``, written to WAV files) to one ``(starts_s, ends_s, scores)`` per clip,
the scores of its windows; its ``threshold`` attribute (0.5 without one) calls a clip a bird,
its ``description`` goes into the JSON.

- :func:`ours_scorer`: the ``--ours`` choice as a ``(name, factory)`` pair:
  :func:`scatter_scorer` (our detector through the ``scatter detect`` pipeline),
  :func:`baseline_scorer` (a band-energy sanity check) or :func:`plugin_scorer`
  (``module:function``).
- :func:`peer_scorer`: the ``--peer`` choice: :func:`birdnet_scorer` (BirdNET GLOBAL 6K V2.4,
  ``birdnet_peer.py``) or none.
"""

from __future__ import annotations

import functools
import importlib

import numpy as np

__all__ = ["BIRDNET_THRESHOLD", "baseline_scorer", "birdnet_scorer", "ours_scorer",
           "peer_scorer", "plugin_scorer", "scatter_scorer"]

#: BirdNET's decision threshold: BirdNET-Analyzer's default minimum confidence (``--min_conf``).
BIRDNET_THRESHOLD = 0.1


def baseline_scorer(clips, *, window_s=1.0, split_hz=1500.0):
    """Sanity-check scorer: per 1-s window, the log ratio of energy above ``split_hz`` to
    energy below it (80 Hz - ``split_hz``), squashed to (0, 1). No training, no birds known."""
    out = []
    for c in clips:
        n = int(window_s * c.sr)
        k = max(1, c.audio.size // n)
        frames = np.zeros((k, n))
        flat = c.audio[: k * n].astype(np.float64)
        frames.reshape(-1)[: flat.size] = flat
        spec = np.abs(np.fft.rfft(frames * np.hanning(n), axis=1)) ** 2
        f = np.fft.rfftfreq(n, 1.0 / c.sr)
        hi = spec[:, f >= split_hz].sum(axis=1)
        lo = spec[:, (f >= 80) & (f < split_hz)].sum(axis=1)
        energy = 10 * np.log10(hi + lo + 1e-12)
        ratio = np.log10((hi + 1e-12) / (lo + 1e-12))
        score = 1.0 / (1.0 + np.exp(-2.0 * ratio)) * (energy > energy.max() - 40)
        starts = np.arange(k) * window_s
        out.append((starts, starts + window_s, score))
    return out


def scatter_scorer(model="default", *, batch_size=32, hop_s=None):
    """Our detector on the clip files, through the ``scatter detect`` pipeline.

    Uses ``det.detect(paths, on_file=...)`` of the loaded ``scatter.detect.Detector`` (its own
    windows, hop and batching); a detector without ``detect`` is run through
    :func:`scatter.runner.run_detection` with ``det.scorer`` (or ``det`` itself) on
    ``(batch, window)`` arrays and ``sr``/``window_s``/``hop_s`` from ``det.config``.
    ``hop_s`` (None: the model's) overlaps the windows, as ``scatter detect --hop`` does.

    Raises RuntimeError (with the reason) when ``scatter.detect`` or the model is not usable.
    """
    try:
        detect = importlib.import_module("scatter.detect")
        det = detect.load_model(model)
    except Exception as exc:  # report any failure to load in the JSON
        raise RuntimeError(f"scatter.detect.load_model({model!r}) failed: "
                           f"{type(exc).__name__}: {exc}") from exc
    if callable(getattr(det, "detect", None)):  # scatter.detect.Detector: its own pipeline
        def run_files(paths, on_file):
            extra = {} if hop_s is None else {"hop_s": hop_s}
            det.detect(paths, batch_size=batch_size, quiet=True, on_file=on_file, **extra)
    else:
        cfg = getattr(det, "config", det)
        scorer = getattr(det, "scorer", det)
        try:
            sr, window_s = int(cfg.sr), float(cfg.window_s)
            hop = float(getattr(cfg, "hop_s", window_s / 2)) if hop_s is None else hop_s
        except AttributeError as exc:
            raise RuntimeError(f"loaded detector has no detect() and lacks sr/window_s: "
                               f"{exc}") from exc
        if not callable(scorer):
            raise RuntimeError("loaded detector has no detect() and is not callable on a "
                               "(batch, window) array")
        from scatter.runner import run_detection

        def run_files(paths, on_file):
            run_detection(paths, scorer=scorer, sr=sr, window_s=window_s, hop_s=hop,
                          batch_size=batch_size, quiet=True, on_file=on_file)

    def score(clips):
        got = {}

        def on_file(result, starts, ends, scores):
            got[str(result.path)] = (np.asarray(starts), np.asarray(ends), np.asarray(scores))

        run_files([c.path for c in clips], on_file)
        missing = [c.path for c in clips if c.path not in got]
        if missing:
            raise RuntimeError(f"the detector returned no windows for {missing[:3]}")
        return [got[c.path] for c in clips]

    score.description = (f"scatter.detect.load_model({model!r}), max over its windows"
                         + ("" if hop_s is None else f", hop {hop_s} s"))
    score.model_path = str(getattr(det, "path", model))
    score.threshold = float(getattr(det, "threshold", 0.5))
    return score


def plugin_scorer(spec):
    """``module:function`` -> that callable."""
    module, _, func = spec.partition(":")
    if not module or not func:
        raise RuntimeError(f"--ours must be 'scatter', 'baseline' or 'module:function'; "
                           f"got {spec!r}")
    return getattr(importlib.import_module(module), func)


def birdnet_scorer(threshold=BIRDNET_THRESHOLD):
    """BirdNET GLOBAL 6K V2.4 (``birdnet_peer.BirdNET``) with its description and ``threshold``.

    Raises
    ------
    RuntimeError
        When BirdNET's packages or model are missing (``birdnet_peer``).
    """
    from birdnet_peer import BirdNET

    peer = BirdNET()
    peer.description = "BirdNET GLOBAL 6K V2.4 (FP32 tflite via ai_edge_litert), max over 3-s"
    peer.threshold = float(threshold)
    return peer


def ours_scorer(spec, *, model="default", hop_s=None):
    """``(name, factory)`` of the ``--ours`` choice; the factory makes the scorer when called.

    Parameters
    ----------
    spec : str
        ``scatter`` (:func:`scatter_scorer` of ``model``, ``hop_s``), ``baseline``
        (:func:`baseline_scorer`) or ``module:function`` (:func:`plugin_scorer`).
    model : str
        ``scatter.detect`` model name or path.
    hop_s : float or None
        Seconds between our windows; None: the model's.

    Returns
    -------
    name : str
    factory : callable
        ``factory()`` returns the scorer, or raises RuntimeError (reported in the JSON).
    """
    if spec == "baseline":
        return ("band-energy baseline (sanity check)",
                lambda: _described(baseline_scorer, "band-energy ratio >1.5 kHz, 1-s windows"))
    if spec == "scatter":
        return "scatter.detect", lambda: scatter_scorer(model, hop_s=hop_s)
    return spec, lambda: plugin_scorer(spec)


def peer_scorer(peer, *, threshold=BIRDNET_THRESHOLD):
    """``(name, factory)`` of the ``--peer`` choice: ``birdnet`` (:func:`birdnet_scorer` at
    ``threshold``) or ``none`` (a factory that raises RuntimeError ``peer disabled``)."""
    if peer == "birdnet":
        return "birdnet", lambda: birdnet_scorer(threshold)
    return "none", _peer_disabled


def _peer_disabled():
    raise RuntimeError("peer disabled (--peer none)")


def _described(fn, text):
    wrapped = functools.partial(fn)  # a new object: the module's function stays untouched
    wrapped.description = text
    return wrapped
