"""A run's options and settings: validation, the settings file, and what ``resume`` keeps.

A run records its settings (``sr``, ``window_s``, ``hop_s``, ``threshold``, ``aggregate`` and
the ``scorer`` id) in :func:`settings_path` beside its results CSV; ``resume=True`` compares
them with its own before it touches any output, so that one results file never mixes the scores
of two models or two framings. Every check here raises :class:`scatter.ScatterError` with a
message that names the option.
"""

from __future__ import annotations

import json
import math
import os
import warnings

import numpy as np

from scatter.errors import ScatterError
from scatter.outputs import RESULT_FIELDS, FileResult, read_rows
from scatter.run.aggregate import AGGREGATES

__all__ = ["check_options", "check_out", "check_resume_settings", "kept_rows", "run_settings",
           "settings_path"]


def check_options(*, sr, window_s, hop_s, batch_size, workers, threshold, aggregate, scorer,
                  on_file, raven_band_hz):
    """Validate the options of :func:`scatter.runner.run_detection`.

    Returns
    -------
    window, hop : int
        Window length and hop in samples.
    band : (float, float)
        The Raven frequency band, ``(0, sr / 2)`` when ``raven_band_hz`` is None.

    Raises
    ------
    ScatterError
        Naming the first invalid option.
    """
    if not callable(scorer):
        raise ScatterError(f"scorer must be a callable (batch, n_samples) -> (batch,); "
                           f"got {scorer!r}")
    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise ScatterError(f"sr must be a positive integer sample rate in Hz; got {sr!r}")
    for name, value in (("window_s", window_s), ("hop_s", hop_s)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise ScatterError(f"{name} must be a positive number of seconds; got {value!r}")
    window, hop = round(window_s * sr), round(hop_s * sr)
    if window < 1 or hop < 1:
        raise ScatterError(f"window_s={window_s!r} and hop_s={hop_s!r} must each be at "
                           f"least one sample at sr={sr}")
    if hop > window:
        raise ScatterError(f"hop_s must be at most window_s={window_s!r} so that windows "
                           f"cover the audio; got hop_s={hop_s!r}")
    for name, value in (("batch_size", batch_size), ("workers", workers)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ScatterError(f"{name} must be a positive integer; got {value!r}")
    if not (isinstance(threshold, (int, float)) and math.isfinite(threshold)):
        raise ScatterError(f"threshold must be a finite number; got {threshold!r}")
    if on_file is not None and not callable(on_file):
        raise ScatterError(f"on_file must be a callable or None; got {on_file!r}")
    if not callable(aggregate) and aggregate not in AGGREGATES:
        raise ScatterError(f"aggregate must be one of {AGGREGATES} or a callable; "
                           f"got {aggregate!r}")
    band = (0.0, sr / 2) if raven_band_hz is None else raven_band_hz
    if not 0 <= band[0] < band[1]:
        raise ScatterError(f"raven_band_hz must be (low, high) with 0 <= low < high; "
                           f"got {raven_band_hz!r}")
    return window, hop, band


def check_out(name, path):
    """An output file option: None, or a path (str) whose folder exists and that is no folder.

    Raises
    ------
    ScatterError
        When the folder is missing or ``path`` is a folder.
    """
    if path is None:
        return None
    path = os.fsdecode(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ScatterError(f"{name}: folder {folder!r} of {path!r} does not exist; "
                           "create it first")
    if os.path.isdir(path):
        raise ScatterError(f"{name}: {path!r} is a folder; expected a file name")
    return path


def run_settings(*, sr, window, hop, threshold, aggregate, scorer_id):
    """The settings a run records, as they read back from JSON.

    Parameters
    ----------
    sr, window, hop : int
        Sample rate (Hz), window and hop (samples).
    threshold : float
    aggregate : str or callable
        A callable is recorded as ``"custom"``.
    scorer_id : JSON-serialisable or None

    Returns
    -------
    dict

    Raises
    ------
    ScatterError
        When ``scorer_id`` is not JSON-serialisable.
    """
    try:  # compared as JSON, as they are stored
        return json.loads(json.dumps({
            "sr": sr, "window_s": window / sr, "hop_s": hop / sr, "threshold": float(threshold),
            "aggregate": aggregate if isinstance(aggregate, str) else "custom",
            "scorer": scorer_id}, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ScatterError(f"scorer_id must be JSON-serialisable; got {scorer_id!r} "
                           f"({exc})") from None


def settings_path(out):
    """Where a run keeps its settings beside the results CSV ``out``: ``out + ".settings.json"``.

    :func:`scatter.runner.run_detection` writes this file when a run starts, and
    ``resume=True`` reads it to refuse to mix rows scored with other settings.

    Parameters
    ----------
    out : str or os.PathLike
        The results CSV.

    Returns
    -------
    str
    """
    return os.fsdecode(out) + ".settings.json"


def kept_rows(out):
    """The rows of an earlier run's results CSV worth keeping: those of scored files.

    Parameters
    ----------
    out : str
        The results CSV.

    Returns
    -------
    dict of str to dict
        Rows keyed by ``os.path.normpath(path)``, in file order.

    Raises
    ------
    ScatterError
        When ``out`` is not a results CSV.
    """
    kept = {}
    for row in read_rows(out, RESULT_FIELDS):
        if FileResult.from_row(row).ok:
            kept[os.path.normpath(row["path"])] = row
    return kept


def check_resume_settings(out, settings, *, stacklevel=2):
    """Raise if the run that wrote ``out`` used other ``settings``; warn if it left none.

    Parameters
    ----------
    out : str
        The results CSV.
    settings : dict
        This run's :func:`run_settings`.
    stacklevel : int
        Of the warning, counted from the caller of this function.

    Raises
    ------
    ScatterError
        When the settings differ (naming each one that does, with both values) or the
        settings file cannot be read.

    Warns
    -----
    UserWarning
        When the settings file is missing: the settings are then assumed to be the same.
    """
    path = settings_path(out)
    if not os.path.exists(path):
        warnings.warn(f"{path!r} is missing, so resume cannot check that {out!r} was written "
                      f"with the same model and settings; they are assumed to be the same",
                      stacklevel=stacklevel + 1)
        return
    try:
        with open(path, encoding="utf-8") as fh:
            stored = json.load(fh)["settings"]
        if not isinstance(stored, dict):
            raise TypeError("'settings' is not an object")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ScatterError(f"{path!r}: cannot read the settings of the run that wrote "
                           f"{out!r} ({exc}); delete it to resume without the check") from None
    changed = [f"{k} {stored.get(k)!r} -> {settings.get(k)!r}"
               for k in sorted(set(stored) | set(settings)) if stored.get(k) != settings.get(k)]
    if changed:
        raise ScatterError(f"cannot resume: {out!r} was written with other settings "
                           f"({'; '.join(changed)}); resume with the earlier settings, or write "
                           f"to a new results file")
