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

from scatter.errors import ScatterError, check_int
from scatter.outputs import RESULT_FIELDS, FileResult, read_rows
from scatter.run.aggregate import AGGREGATES

__all__ = ["CHANNELS", "check_field_options", "check_options", "check_out",
           "check_resume_settings", "kept_rows", "provenance", "row_key", "run_settings",
           "settings_path"]

#: The values ``channels`` takes: every channel mixed to mono, or each scored on its own.
CHANNELS = ("mix", "each")


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
    check_int(sr, "sr", unit="sample rate in Hz")
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
        check_int(value, name)
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


def check_field_options(*, channels, clips_top, timezone, features_dir, feature_scorer,
                        feature_layout, features_pool, client):
    """Validate the field options of :func:`scatter.runner.run_detection`.

    Raises
    ------
    ScatterError
        Naming the first invalid option.
    """
    from scatter.feature_files import POOLS
    from scatter.recorders import parse_timezone

    if channels not in CHANNELS:
        raise ScatterError(f"channels must be one of {CHANNELS}; got {channels!r}")
    check_int(clips_top, "clips_top", 0, unit="(clips per file)")
    parse_timezone(timezone)
    if features_pool not in POOLS:
        raise ScatterError(f"features_pool must be one of {POOLS}; got {features_pool!r}")
    if features_dir is not None:
        if not callable(feature_scorer):
            raise ScatterError(f"features_dir needs feature_scorer, a callable batch -> "
                               f"(scores, features) such as Detector.score_with_features; "
                               f"got {feature_scorer!r}")
        if not isinstance(feature_layout, list):
            raise ScatterError(f"features_dir needs feature_layout, the list of "
                               f"scatter.feature_files.feature_layout; got "
                               f"{type(feature_layout).__name__}")
    if client is not None and not all(hasattr(client, a) for a in ("submit", "map")):
        raise ScatterError(f"client must be a dask.distributed Client or None; got "
                           f"{client!r}")


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


def run_settings(*, sr, window, hop, threshold, aggregate, scorer_id, channels="mix"):
    """The settings a run records, as they read back from JSON.

    Parameters
    ----------
    sr, window, hop : int
        Sample rate (Hz), window and hop (samples).
    threshold : float
    aggregate : str or callable
        A callable is recorded as ``"custom"``.
    scorer_id : JSON-serialisable or None
    channels : {"mix", "each"}
        Recorded only when ``"each"`` (``channels: "each"``), so that the settings of a mixed
        run are those that runs recorded before channels could be scored one by one, and a
        resume of such a run goes on.

    Returns
    -------
    dict

    Raises
    ------
    ScatterError
        When ``scorer_id`` is not JSON-serialisable.
    """
    settings = {
        "sr": sr, "window_s": window / sr, "hop_s": hop / sr, "threshold": float(threshold),
        "aggregate": aggregate if isinstance(aggregate, str) else "custom",
        "scorer": scorer_id}
    if channels != "mix":
        settings["channels"] = channels
    try:  # compared as JSON, as they are stored
        return json.loads(json.dumps(settings, allow_nan=False))
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


def row_key(row):
    """What identifies a results row: ``(os.path.normpath(path), channel)``, the channel
    ``""`` for a file whose channels were mixed (and for a file's error row).

    Parameters
    ----------
    row : dict
        A results row (strings).

    Returns
    -------
    (str, str)
    """
    return os.path.normpath(row["path"]), row.get("channel", "")


def kept_rows(out):
    """The rows of an earlier run's results CSV worth keeping: those of scored files.

    A file is kept when its rows are whole and without error: its one row (channels mixed),
    or one row for each of its channels 1 to ``channels`` (each channel scored: a run stopped
    between a file's rows, or a channel whose scores were not finite, has the whole file
    scored again). Rows are identified by :func:`row_key`; of two rows with one key, the
    later counts.

    Parameters
    ----------
    out : str
        The results CSV.

    Returns
    -------
    dict of str to list of dict
        Each kept file's rows (channels in order), keyed by ``os.path.normpath(path)``, in
        file order.

    Raises
    ------
    ScatterError
        When ``out`` is not a results CSV.
    """
    by_file = {}
    for row in read_rows(out, RESULT_FIELDS):
        path, channel = row_key(row)
        by_file.setdefault(path, {})[channel] = row
    kept = {}
    for path, rows in by_file.items():
        results = {channel: FileResult.from_row(row) for channel, row in rows.items()}
        if not all(r.ok for r in results.values()):
            continue
        if set(rows) == {""}:
            kept[path] = [rows[""]]
            continue
        n = next(iter(results.values())).channels
        if n and set(rows) == {str(c) for c in range(1, n + 1)}:
            kept[path] = [rows[str(c)] for c in range(1, n + 1)]
    return kept


def provenance(*, threshold, scorer_id):
    """What made a run's results, for its settings file and JSON summary: the package
    version, the model's fingerprint and the threshold.

    Parameters
    ----------
    threshold : float
    scorer_id : JSON-serialisable or None
        The run's scorer id; its ``model_sha256`` (a :class:`scatter.detect.Detector`'s
        fingerprint) is the model's.

    Returns
    -------
    dict
        ``package_version``, ``model_sha256`` (None for a scorer that is not a model),
        ``threshold`` and ``scorer``.
    """
    from scatter.detect.io import library_version  # the one reader of the version

    sha = scorer_id.get("model_sha256") if isinstance(scorer_id, dict) else None
    return {"package_version": library_version(), "model_sha256": sha,
            "threshold": float(threshold), "scorer": scorer_id}


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
