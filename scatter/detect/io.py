"""Model files: an ``.npz`` of named arrays plus a JSON sidecar, written atomically.

``model.npz`` holds the classifier's parameters as a flat dict of arrays
(:mod:`scatter.detect.model`; the trainer writes its ``layers`` network's Variables in that
form, :func:`scatter.detect.network.model_params`, and the detector rebuilds the network from
it, so model files of any version load the same way); ``model.json``
beside it (same name, ``.json``) holds what is needed to use and to judge them::

    {"format": "symscatter-detector", "format_version": 1, "library_version": "0.1.0",
     "created": "2026-...Z",
     "features": {...},            # scatter.detect.features.FeatureConfig.to_dict()
     "model": {"hidden": [48, 24], "pieces": 3, "threshold": 0.5, "aggregate": "max"},
     "training": {...},            # data provenance: corpus, labels, seeds, augmentations
     "metrics": {...}}             # validation metrics

Both files are written to a temporary name in the same folder and renamed, the arrays first,
so a reader never sees a half-written model. ``load_model("default")`` loads the model shipped
in ``scatter/models/``.

Example
-------
>>> from scatter.detect import load_model
>>> det = load_model("default")            # doctest: +SKIP
>>> det.metadata["training"]["data"]       # doctest: +SKIP
"""

from __future__ import annotations

import datetime
import json
import os
import zipfile

import numpy as np

from scatter.errors import ScatterError
from scatter.outputs import atomic_open, write_json

__all__ = ["FORMAT", "FORMAT_VERSION", "default_model_path", "library_version", "load_model",
           "read_metadata", "read_model", "save_model", "sidecar_path"]

FORMAT = "symscatter-detector"
FORMAT_VERSION = 1


def library_version():
    """The installed ``symscatter`` version, or ``"unknown"``."""
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover - Python < 3.8
        return "unknown"
    try:
        return version("symscatter")
    except PackageNotFoundError:
        return "unknown"


def default_model_path():
    """Path of the default model shipped inside the package (``scatter/models/default.npz``)."""
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "models",
                        "default.npz")


def sidecar_path(path):
    """The JSON sidecar of a model file: ``x.npz`` -> ``x.json``."""
    path = os.fsdecode(path)
    root, ext = os.path.splitext(path)
    return (root if ext.lower() == ".npz" else path) + ".json"


def save_model(path, params, metadata):
    """Write ``params`` to ``path`` (``.npz``) and ``metadata`` to its sidecar, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Model file; must end with ``.npz``; its folder must exist.
    params : dict of array_like
        Named arrays.
    metadata : dict
        JSON-serialisable settings and provenance (must hold ``"features"``); ``format``,
        ``format_version``, ``library_version`` and ``created`` are filled in.

    Returns
    -------
    (str, str)
        The model path and the sidecar path.

    Raises
    ------
    ScatterError
        For a path not ending in ``.npz``, a missing folder, a non-JSON-serialisable or
        non-finite ``metadata``, or ``metadata`` without ``"features"``.

    Examples
    --------
    >>> save_model("my_model.npz", params, {"features": cfg.to_dict()})  # doctest: +SKIP
    ('my_model.npz', 'my_model.json')
    """
    path = os.fsdecode(path)
    if not path.lower().endswith(".npz"):
        raise ScatterError(f"model path must end with .npz; got {path!r}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ScatterError(f"model path {path!r}: folder {folder!r} does not exist")
    if not isinstance(metadata, dict) or "features" not in metadata:
        raise ScatterError("metadata must be a dict holding 'features' (the feature settings)")
    meta = dict(metadata)
    meta.update(format=FORMAT, format_version=FORMAT_VERSION,
                library_version=library_version(),
                created=datetime.datetime.now(datetime.timezone.utc)
                .strftime("%Y-%m-%dT%H:%M:%SZ"))
    arrays = {str(k): np.asarray(v) for k, v in params.items()}
    with atomic_open(path, "wb") as fh:
        np.savez(fh, **arrays)
    side = sidecar_path(path)
    write_json(side, meta)
    _readable(path)
    _readable(side)
    return path, side


def _readable(path):
    """Give a freshly written file the usual permissions (the temporary file had 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


def read_metadata(path):
    """Read and check a model's JSON sidecar (without its arrays).

    Parameters
    ----------
    path : str or os.PathLike
        The model's ``.npz`` file (the sidecar is beside it).

    Returns
    -------
    dict

    Raises
    ------
    ScatterError
        For a missing or unreadable sidecar, or one of another format or a newer version.
    """
    path = os.fsdecode(path)
    side = sidecar_path(path)
    if not os.path.isfile(side):
        raise ScatterError(f"model file {side!r} does not exist (a model is NAME.npz with "
                           f"NAME.json beside it)")
    try:
        with open(side, encoding="utf-8") as fh:
            metadata = json.load(fh)
    except (OSError, ValueError) as exc:
        raise ScatterError(f"model sidecar {side!r} is not readable JSON ({exc})") from exc
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise ScatterError(f"model sidecar {side!r} is not a {FORMAT!r} file")
    if metadata.get("format_version", 0) > FORMAT_VERSION:
        raise ScatterError(f"model {path!r} has format_version "
                           f"{metadata.get('format_version')}; this library reads up to "
                           f"{FORMAT_VERSION} (upgrade symscatter)")
    return metadata


def read_model(path):
    """Read a model's arrays and sidecar.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.npz`` file.

    Returns
    -------
    params : dict of numpy.ndarray
    metadata : dict

    Raises
    ------
    ScatterError
        For a missing or unreadable file or sidecar, or a sidecar of another format.
    """
    path = os.fsdecode(path)
    for p in (path, sidecar_path(path)):
        if not os.path.isfile(p):
            raise ScatterError(f"model file {p!r} does not exist (a model is NAME.npz with "
                               f"NAME.json beside it)")
    try:
        with np.load(path, allow_pickle=False) as z:
            params = {k: np.asarray(z[k]) for k in z.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise ScatterError(f"model file {path!r} is not a readable .npz ({exc})") from exc
    return params, read_metadata(path)


def load_model(model="default", *, program_cache=None):
    """Load a detector: ``"default"`` (shipped in the package) or a path to a ``.npz``.

    Parameters
    ----------
    model : str or os.PathLike
        ``"default"`` or a model path.
    program_cache : str or os.PathLike or None
        Folder where compiled programs are kept between runs (see :class:`Detector`).

    Returns
    -------
    scatter.detect.Detector

    Raises
    ------
    ScatterError
        For a missing or invalid model.

    Examples
    --------
    >>> det = load_model("default")          # doctest: +SKIP
    >>> det.config.sr                         # doctest: +SKIP
    22050
    >>> det.network.output_shape              # the classifier as layers  # doctest: +SKIP
    (None, 55)
    """
    from scatter.detect.detector import Detector

    path = default_model_path() if model == "default" else os.fsdecode(model)
    params, metadata = read_model(path)
    return Detector(params, metadata, path=path, program_cache=program_cache)
