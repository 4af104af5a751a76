"""Feature files: the detector's per-window features, one ``.npz`` per audio file.

For users who train their own classifiers on the detector's features. Each file
(:func:`feature_file_paths`, ``<name>.npz``) holds:

- ``features``: float32, ``(n_windows, n_features)``, the features the classifier sees
  (:meth:`scatter.detect.Detector.score_with_features`: activity channels, then level
  channels, :mod:`scatter.detect.features`), pooled over each window's feature frames
  (``pool="mean"`` or ``"max"``); with ``pool="none"`` the frames are kept,
  ``(n_windows, n_features, n_frames)``, exactly the classifier's input (about 50 kB per
  window for the default model, 40 times the pooled size);
- ``starts_s``: float64, ``(n_windows,)``, where each window starts in the file (seconds);
- ``meta``: a JSON string: ``format``, ``pool``, ``sr``, ``window_s``, ``hop_s``,
  ``frame_s`` (feature frame spacing), ``model`` (an identifier given by the caller, e.g.
  the model's SHA-256) and ``layout``, one entry per feature column (:func:`feature_layout`):
  ``channel`` (``"activity"`` or ``"level"``), scattering ``order`` (1 or 2), ``key`` (the
  scattering path: first-order wavelet index, then second-order), ``centre_hz`` (the
  first-order wavelet's centre frequency: the acoustic band) and ``modulation_hz`` (the
  second-order wavelet's: how fast the band's envelope varies; None at order 1).

Files are written atomically; a run writes each file's features once, when the file finishes,
so a resumed run keeps the earlier files' and writes the others'. :func:`pool_features` pools
a batch as it is scored, so a long file never holds its unpooled features in memory.

Example
-------
>>> feats = pool_features(frames, pool="mean")                      # doctest: +SKIP
>>> write_features("features/a.npz", feats, starts_s, layout=feature_layout(det),
...                sr=22050, window_s=2.6, hop_s=2.6)                  # doctest: +SKIP
>>> read_features("features/a.npz")["features"].shape               # doctest: +SKIP
(1385, 240)
"""

from __future__ import annotations

import json
import math
import os

import numpy as np

from scatter.errors import ScatterError
from scatter.outputs import atomic_open, output_paths

__all__ = ["FEATURES_FORMAT", "POOLS", "feature_file_paths", "feature_layout", "pool_features",
           "read_features", "write_features"]

#: ``format`` of the files' metadata.
FEATURES_FORMAT = "symscatter-features-1"
#: How a window's feature frames are combined.
POOLS = ("mean", "max", "none")


def feature_file_paths(paths, folder):
    """Where each audio file's features go: ``<name>.npz`` in ``folder``, mirroring the audio
    folders (:func:`scatter.outputs.output_paths`).

    Parameters
    ----------
    paths : sequence of str
    folder : str or os.PathLike

    Returns
    -------
    dict of str to str
    """
    return output_paths(paths, folder, suffix=".npz")


def feature_layout(extractor):
    """What each feature column is: channel, scattering order and path, frequencies in Hz.

    Parameters
    ----------
    extractor : scatter.detect.FeatureExtractor or scatter.detect.Detector
        The features' extractor (a detector's is ``detector.features``).

    Returns
    -------
    layout : list of dict [length=n_features]
        Per column: ``column``, ``channel`` (``"activity"`` for the first ``n_paths``
        columns, then ``"level"``), ``order``, ``key`` (list of wavelet indices),
        ``centre_hz`` and ``modulation_hz`` (None at order 1). Learned first-order filters
        (``FeatureConfig.xi1``) give their learned centre frequencies.

    Raises
    ------
    ScatterError
        For another kind of object.

    Examples
    --------
    >>> from scatter.detect import FeatureConfig, FeatureExtractor
    >>> fx = FeatureExtractor(FeatureConfig(sr=16000, window=2048, hop=2048, J=4, Q=(2, 1)))
    >>> feature_layout(fx)[0]
    {'column': 0, 'channel': 'activity', 'order': 1, 'key': [0], 'centre_hz': 5600.0, \
'modulation_hz': None}
    """
    fx = getattr(extractor, "features", extractor)
    if not (hasattr(fx, "scattering") and hasattr(fx, "config")):
        raise ScatterError(f"extractor must be a FeatureExtractor or a Detector; got "
                           f"{type(extractor).__name__}")
    sr = fx.config.sr
    meta = fx.scattering.meta()
    learned = fx.config.xi1  # empty: the designed filters, whose frequencies meta() gives
    paths = []
    for order, key, xi in zip(meta["order"], meta["key"], meta["xi"], strict=True):
        if order < 1:  # order 0 is not a feature (FeatureExtractor drops it)
            continue
        key = [int(k) for k in key]
        centre = learned[key[0]] if learned else xi[0]
        paths.append({"order": int(order), "key": key,
                      "centre_hz": round(float(centre) * sr, 6),
                      "modulation_hz": round(float(xi[1]) * sr, 6) if order == 2 else None})
    if len(paths) != fx.n_paths:
        raise ScatterError(f"the extractor keeps {fx.n_paths} paths but its scattering lists "
                           f"{len(paths)} of orders >= 1")
    return [{"column": i, "channel": channel, **p}
            for i, (channel, p) in enumerate((c, p) for c in ("activity", "level")
                                             for p in paths)]


def pool_features(features, *, pool="mean"):
    """Combine each window's feature frames: ``(n, n_features, n_frames)`` -> ``(n,
    n_features)`` (``"mean"``, ``"max"``), or unchanged (``"none"``).

    Parameters
    ----------
    features : array_like [shape=(n_windows, n_features, n_frames)]
    pool : {"mean", "max", "none"}

    Returns
    -------
    numpy.ndarray [dtype=float32]

    Raises
    ------
    ScatterError
        For another ``pool`` or a shape that is not 3-D.

    Examples
    --------
    >>> pool_features(np.ones((2, 3, 4)), pool="max").shape
    (2, 3)
    """
    if pool not in POOLS:
        raise ScatterError(f"pool must be one of {POOLS}; got {pool!r}")
    f = np.asarray(features, dtype=np.float32)
    if f.ndim != 3:
        raise ScatterError(f"features must have shape (n_windows, n_features, n_frames); "
                           f"got {f.shape}")
    if pool == "mean":
        return f.mean(axis=-1)
    if pool == "max":
        return f.max(axis=-1)
    return f


def write_features(path, features, starts_s, *, layout, pool="mean", sr=None, window_s=None,
                   hop_s=None, frame_s=None, model=None):
    """Write one audio file's window features as ``.npz``, atomically (module docstring).

    Parameters
    ----------
    path : str or os.PathLike
        The ``.npz`` file; missing folders are created.
    features : array_like [shape=(n_windows, n_features) or (n_windows, n_features, n_frames)]
        Pooled features (:func:`pool_features`), or the frames with ``pool="none"``.
    starts_s : array_like [shape=(n_windows,)]
        Window starts in seconds from the start of the file.
    layout : list of dict [length=n_features]
        :func:`feature_layout`.
    pool : {"mean", "max", "none"}
        How ``features`` were pooled (recorded; ``"none"`` expects 3-D features).
    sr : int or None
        Sample rate the features were computed at.
    window_s, hop_s, frame_s : float or None
        Window length, hop and feature frame spacing in seconds.
    model : JSON-serialisable or None
        Identifies the model that made the features (e.g. its SHA-256).

    Raises
    ------
    ScatterError
        For shapes that do not agree with each other or with ``layout``, non-finite values,
        an unknown ``pool`` or a ``model`` that is not JSON-serialisable.
    """
    if pool not in POOLS:
        raise ScatterError(f"pool must be one of {POOLS}; got {pool!r}")
    f = np.asarray(features, dtype=np.float32)
    starts = np.asarray(starts_s, dtype=np.float64)
    want = 3 if pool == "none" else 2
    if f.ndim != want:
        raise ScatterError(f"features must be {want}-D for pool={pool!r} (n_windows, "
                           f"n_features{', n_frames' if want == 3 else ''}); got shape "
                           f"{f.shape}")
    if starts.shape != (f.shape[0],):
        raise ScatterError(f"starts_s must have shape ({f.shape[0]},), one start per window; "
                           f"got {starts.shape}")
    if not isinstance(layout, list) or len(layout) != f.shape[1]:
        raise ScatterError(f"layout must be a list of {f.shape[1]} entries, one per feature "
                           f"column (feature_layout); got "
                           f"{len(layout) if isinstance(layout, list) else type(layout).__name__}")
    if not (np.isfinite(f).all() and np.isfinite(starts).all()):
        raise ScatterError("features and starts_s must be finite; got NaN or infinite values")
    for name, v in (("sr", sr), ("window_s", window_s), ("hop_s", hop_s),
                    ("frame_s", frame_s)):
        if v is not None and not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise ScatterError(f"{name} must be a positive number or None; got {v!r}")
    meta = {"format": FEATURES_FORMAT, "pool": pool, "shape": list(f.shape), "sr": sr,
            "window_s": window_s, "hop_s": hop_s, "frame_s": frame_s, "model": model,
            "layout": layout}
    try:
        text = json.dumps(meta, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ScatterError(f"model and layout must be JSON-serialisable; got model={model!r} "
                           f"({exc})") from None
    path = os.fsdecode(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with atomic_open(path, "wb") as fh:
        np.savez(fh, features=f, starts_s=starts, meta=np.asarray(text))


def read_features(path):
    """Read a feature file.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    dict
        ``features`` and ``starts_s`` (arrays), ``meta`` (dict) and ``layout``
        (``meta["layout"]``).

    Raises
    ------
    ScatterError
        If the file is not a feature file of this format.
    """
    path = os.fsdecode(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            features, starts, meta = z["features"], z["starts_s"], json.loads(str(z["meta"]))
    except (OSError, KeyError, ValueError) as exc:
        raise ScatterError(f"{path!r}: not a feature file ({exc})") from None
    if meta.get("format") != FEATURES_FORMAT:
        raise ScatterError(f"{path!r}: format {meta.get('format')!r}; expected "
                           f"{FEATURES_FORMAT!r}")
    return {"features": features, "starts_s": starts, "meta": meta, "layout": meta["layout"]}
