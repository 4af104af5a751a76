"""Clips as bags of window features: what training and validation of the detector consume.

A clip of ``n`` windows becomes one *bag*: its features ``(max_windows, n_features,
n_frames)`` (zero-padded past ``n``) and a mask of its real windows. Training clips get
``copies`` augmented versions besides the clean one (:mod:`scatter.detect.augment`), each drawn
from a generator seeded by ``(seed, clip index, copy)``, so the bags are reproducible. With
``pitch_shift`` or ``time_stretch`` above 0, each augmented copy is first warped
(:func:`scatter.detect.augment.warp`, from a generator seeded by ``(seed, clip index, copy,
1)``, so the other draws of a copy do not change).
Features are stored as float16 to halve memory.

Example
-------
>>> bags = extract_bags(records, FeatureExtractor(FeatureConfig()), copies=2)  # doctest: +SKIP
>>> bags.feats.shape            # doctest: +SKIP
(n_clips, 3, max_windows, n_features, n_frames)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os

import numpy as np

from scatter.audio import load
from scatter.detect.augment import augment, check_warp, warp
from scatter.detect.batching import pad_rows
from scatter.detect.features import LEGACY_DEFAULTS
from scatter.errors import ScatterError
from scatter.framing import Framer
from scatter.outputs import atomic_open

__all__ = [
    "Bags", "WindowBags", "bags_fingerprint", "extract_bags", "extract_windows", "load_bags",
    "save_bags",
]


@dataclasses.dataclass
class Bags:
    """Features of labelled clips.

    Attributes
    ----------
    feats : numpy.ndarray [shape=(n_clips, n_copies, max_windows, n_features, n_frames)]
        float16; copy 0 is the clean clip.
    valid : numpy.ndarray [shape=(n_clips, max_windows), dtype=bool]
    labels : numpy.ndarray [shape=(n_clips,), dtype=int64]
    paths : list of str
    skipped : list of (str, str)
        Clips that could not be used, with the reason.
    """

    feats: np.ndarray
    valid: np.ndarray
    labels: np.ndarray
    paths: list
    skipped: list


def _windows(y, cfg, max_windows, last):
    fr = Framer(window=cfg.window, hop=cfg.hop, last=last)
    parts = [w for _, w in fr.push(y)] + [w for _, w in fr.finish()]
    return np.concatenate(parts)[:max_windows]


def _decoded(records, cfg, *, copies, seed, max_windows, noises, skipped, quiet, desc,
             last, pitch_shift=0.0, time_stretch=0.0):
    """``(record, [windows of copy 0 (clean), 1, ..., copies])`` of every decodable clip, each
    copy's windows ``(n_windows, window)``; undecodable clips go to ``skipped``. Copy ``c`` of
    clip ``i`` (its index in ``records``) is warped (when ``pitch_shift`` or ``time_stretch``
    is above 0) with a generator seeded by ``(seed, i, c, 1)``, then augmented with one seeded
    by ``(seed, i, c)``."""
    from tqdm import tqdm

    check_warp(pitch_shift, time_stretch, names=("pitch_shift", "time_stretch"))
    for i, rec in enumerate(tqdm(records, desc=desc, unit="clip", disable=quiet)):
        try:
            y, _ = load(rec.path, sr=cfg.sr)
        except ScatterError as exc:
            skipped.append((rec.path, str(exc)))
            continue
        if y.size == 0 or not np.isfinite(y).all():
            skipped.append((rec.path, "no audio frames or non-finite samples"))
            continue
        out = []
        for c in range(copies + 1):
            yc = y
            if c and (pitch_shift or time_stretch):
                yc = warp(yc, np.random.default_rng([seed, i, c, 1]), sr=cfg.sr,
                          max_semitones=pitch_shift, max_stretch=time_stretch)
            if c:
                yc = augment(yc, np.random.default_rng([seed, i, c]), sr=cfg.sr,
                             noises=noises)
            out.append(_windows(yc, cfg, max_windows, last))
        yield rec, out


def extract_bags(records, extractor, *, copies=0, seed=0, max_windows=8, noises=(),
                 batch_size=16, quiet=True, desc="features", last="end", pitch_shift=0.0,
                 time_stretch=0.0):
    """Decode, augment, window and featurise labelled clips.

    Parameters
    ----------
    records : sequence of scatter.detect.data.Record
    extractor : scatter.detect.features.FeatureExtractor
    copies : int
        Augmented copies per clip besides the clean one.
    seed : int
    max_windows : int
        Windows kept per clip (the first ones); longer clips are cut.
    noises : sequence of numpy.ndarray
        Bird-free clips (at the extractor's rate) to mix in as backgrounds.
    batch_size : int
        Windows per compiled feature call.
    quiet : bool
        No progress bar.
    desc : str
        Progress bar label.
    last : {"end", "pad"}
        How a clip's final window is filled (:mod:`scatter.framing`); ``"end"``, the
        detector's framing at inference, by default.
    pitch_shift, time_stretch : float
        Largest pitch shift (semitones, ``[0, 12)``) and relative tempo change (``[0, 1)``)
        of the warp of each augmented copy (:func:`scatter.detect.augment.warp`); both 0
        (the default): no warp.

    Returns
    -------
    Bags

    Raises
    ------
    ScatterError
        If no clip could be decoded, or for a ``pitch_shift`` or ``time_stretch`` outside its
        interval.
    """
    cfg = extractor.config
    n_copies = copies + 1
    kept, skipped, per_clip = [], [], []
    pending, owners = [], []  # windows waiting for a batch, (clip slot, copy, window)
    feats_list = []

    def run_batch():
        if not pending:
            return
        n = len(pending)
        batch = pad_rows(np.stack(pending), max(batch_size, n))
        out = np.asarray(extractor(batch), dtype=np.float16)[:n]
        for (slot, c, w), f in zip(owners, out):
            feats_list[slot][c, w] = f
        pending.clear()
        owners.clear()

    for rec, copies_windows in _decoded(records, cfg, copies=copies, seed=seed,
                                        max_windows=max_windows, noises=noises,
                                        skipped=skipped, quiet=quiet, desc=desc,
                                        last=last, pitch_shift=pitch_shift,
                                        time_stretch=time_stretch):
        slot = len(kept)
        kept.append(rec)
        feats_list.append(np.zeros((n_copies, max_windows, extractor.n_features,
                                    extractor.n_frames), np.float16))
        for c, wins in enumerate(copies_windows):
            for w, win in enumerate(wins):
                pending.append(win)
                owners.append((slot, c, w))
                if len(pending) == batch_size:
                    run_batch()
        per_clip.append(len(copies_windows[-1]))
    run_batch()
    if not kept:
        raise ScatterError(f"none of the {len(records)} clips could be decoded; first "
                           f"problem: {skipped[0][1] if skipped else 'no clips'}")
    valid = np.zeros((len(kept), max_windows), bool)
    for k, n in enumerate(per_clip):
        valid[k, :n] = True
    return Bags(feats=np.stack(feats_list), valid=valid,
                labels=np.array([r.label for r in kept], np.int64),
                paths=[r.path for r in kept], skipped=skipped)


@dataclasses.dataclass
class WindowBags:
    """Raw audio windows of labelled clips (what end-to-end training through the scattering
    consumes, :mod:`scatter.detect.finetune`).

    Attributes
    ----------
    windows : numpy.ndarray [shape=(n_clips, n_copies, max_windows, window), dtype=float32]
        Copy 0 is the clean clip; windows past a clip's end are zeros.
    valid : numpy.ndarray [shape=(n_clips, max_windows), dtype=bool]
    labels : numpy.ndarray [shape=(n_clips,), dtype=int64]
    paths : list of str
    skipped : list of (str, str)
    """

    windows: np.ndarray
    valid: np.ndarray
    labels: np.ndarray
    paths: list
    skipped: list


def extract_windows(records, config, *, copies=0, seed=0, max_windows=8, noises=(),
                    quiet=True, desc="windows", last="end", pitch_shift=0.0,
                    time_stretch=0.0):
    """Decode, augment and window labelled clips, as :func:`extract_bags` does, without
    featurising them: copy ``c`` of a clip is the audio :func:`extract_bags` featurises with
    the same ``seed``.

    Parameters
    ----------
    records : sequence of scatter.detect.data.Record
    config : scatter.detect.features.FeatureConfig
        Sample rate, window and hop.
    copies, seed, max_windows, noises, quiet, desc, last, pitch_shift, time_stretch
        As in :func:`extract_bags`.

    Returns
    -------
    WindowBags

    Raises
    ------
    ScatterError
        If no clip could be decoded.

    Examples
    --------
    >>> wb = extract_windows(records, FeatureConfig(), copies=1)   # doctest: +SKIP
    >>> wb.windows.shape                                            # doctest: +SKIP
    (n_clips, 2, 8, 57330)
    """
    kept, skipped, arrays, valid = [], [], [], []
    for rec, copies_windows in _decoded(records, config, copies=copies, seed=seed,
                                        max_windows=max_windows, noises=noises,
                                        skipped=skipped, quiet=quiet, desc=desc,
                                        last=last, pitch_shift=pitch_shift,
                                        time_stretch=time_stretch):
        a = np.zeros((copies + 1, max_windows, config.window), np.float32)
        for c, wins in enumerate(copies_windows):
            a[c, :len(wins)] = wins
        kept.append(rec)
        arrays.append(a)
        valid.append(np.arange(max_windows) < len(copies_windows[-1]))
    if not kept:
        raise ScatterError(f"none of the {len(records)} clips could be decoded; first "
                           f"problem: {skipped[0][1] if skipped else 'no clips'}")
    return WindowBags(windows=np.stack(arrays), valid=np.stack(valid),
                      labels=np.array([r.label for r in kept], np.int64),
                      paths=[r.path for r in kept], skipped=skipped)


def bags_fingerprint(records, features, config):
    """The key under which :func:`save_bags` stores the bags of ``records``.

    It changes with the feature settings, the training settings that shape the bags (``seed``,
    ``copies``, ``max_windows``, ``last_window``, ``pitch_shift``, ``time_stretch``; the last
    two only when one of them is above 0, so caches written without a warp keep their key)
    and each record's path, label, size and modification time.
    Feature fields at the values of :data:`~scatter.detect.features.LEGACY_DEFAULTS` are left
    out, so that a cache written before such a field existed still matches the same settings.

    Parameters
    ----------
    records : list of Record
    features : FeatureConfig
    config : TrainConfig

    Returns
    -------
    str
        Hex SHA-256.
    """
    settings = {k: v for k, v in features.to_dict().items()
                if not (k in LEGACY_DEFAULTS and v == LEGACY_DEFAULTS[k])}
    h = hashlib.sha256()
    h.update(json.dumps(settings, sort_keys=True).encode())
    shape = [config.seed, config.copies, config.max_windows]
    if config.last_window != "pad":  # bags cached before the setting existed were "pad"
        shape.append(config.last_window)
    if config.pitch_shift or config.time_stretch:
        shape.append(["warp", config.pitch_shift, config.time_stretch])
    h.update(json.dumps(shape).encode())
    for r in records:
        try:
            st = os.stat(r.path)
            stamp = (st.st_size, st.st_mtime_ns)
        except OSError:
            stamp = None
        h.update(json.dumps([r.path, r.label, stamp]).encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def save_bags(path, bags_by_name, fingerprint):
    """Write named :class:`Bags` (``{"train": ..., "val": ...}``) to one ``.npz``, atomically,
    with the ``fingerprint`` that :func:`load_bags` checks."""
    arrays = {"fingerprint": np.array(fingerprint)}
    for name, b in bags_by_name.items():
        arrays.update({f"{name}_feats": b.feats, f"{name}_valid": b.valid,
                       f"{name}_labels": b.labels, f"{name}_paths": np.array(b.paths),
                       f"{name}_skipped": np.array(json.dumps(b.skipped))})
    with atomic_open(path, "wb") as fh:
        np.savez(fh, **arrays)


def load_bags(path, fingerprint):
    """The ``{"train": Bags, "val": Bags}`` that :func:`save_bags` wrote to ``path``, or None
    when the file is missing, unreadable or holds another fingerprint."""
    if not os.path.isfile(path):
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["fingerprint"]) != fingerprint:
                return None
            return {name: Bags(feats=z[f"{name}_feats"], valid=z[f"{name}_valid"],
                               labels=z[f"{name}_labels"], paths=list(z[f"{name}_paths"]),
                               skipped=json.loads(str(z[f"{name}_skipped"])))
                    for name in ("train", "val")}
    except (OSError, ValueError, KeyError):
        return None
