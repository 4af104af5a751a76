"""Detection over folders of recordings with a model: :func:`detect`, the function behind
``scatter detect``.

:func:`detect` runs :func:`scatter.runner.run_detection` with a :class:`~scatter.detect.Detector`
as the scorer and adds what needs the model: the feature files (the classifier's inputs,
:meth:`~scatter.detect.Detector.score_with_features`), the figures (a timeline per file and,
with an activity table, a diel activity plot per site) and runs on a Dask cluster, where the
model travels as a :class:`ShippedDetector`.

Example
-------
>>> from scatter.detect import detect
>>> summary = detect(["deployment/"], recursive=True, out="results.csv",
...                  audacity_dir="labels", raven_table="run.selections.txt",
...                  activity_out="activity.csv", timezone="Europe/Berlin",
...                  resume=True)                                       # doctest: +SKIP
"""

from __future__ import annotations

import os
import threading
import warnings

import numpy as np

from scatter.detect.batching import pad_rows
from scatter.detect.detector import Detector
from scatter.detect.io import load_model
from scatter.errors import ScatterError
from scatter.run.output import Output, PerFileOutput

__all__ = ["DielPlots", "ShippedDetector", "TimelinePlots", "detect"]

#: Detectors built from a ShippedDetector in this process, by model fingerprint: a Dask
#: worker loads and compiles each model once, however many files (tasks) it scores.
_BUILT = {}
_BUILT_LOCK = threading.Lock()


class ShippedDetector:
    """A detector as a picklable scorer, for a run on other processes (Dask workers).

    What travels is the model (its weights and sidecar, about 200 kB for the shipped one);
    the compiled :class:`~scatter.detect.Detector` is built where it scores, on first use,
    once per process and model (a process-wide cache keyed by the model's fingerprint), with
    the package's program cache (:func:`scatter.runtime.program_cache_dir`), so a worker that
    scored the model before loads the compiled program instead of compiling it again.

    Parameters
    ----------
    detector : scatter.detect.Detector

    Attributes
    ----------
    fingerprint : str
        The model's SHA-256 (:attr:`Detector.fingerprint`).

    Examples
    --------
    >>> shipped = ShippedDetector(load_model("default"))       # doctest: +SKIP
    >>> pickle.loads(pickle.dumps(shipped))(windows).shape      # doctest: +SKIP
    (32,)
    """

    def __init__(self, detector):
        if not isinstance(detector, Detector):
            raise ScatterError(f"detector must be a scatter.detect.Detector; got "
                               f"{type(detector).__name__}")
        self.params = {k: np.asarray(v) for k, v in detector.params.items()}
        self.metadata = detector.metadata
        self.path = detector.path
        self.fingerprint = detector.fingerprint

    def __getstate__(self):
        return {"params": self.params, "metadata": self.metadata, "path": self.path,
                "fingerprint": self.fingerprint}

    def __setstate__(self, state):
        self.__dict__.update(state)

    def detector(self):
        """The compiled detector of this process (built on first use).

        Raises
        ------
        ScatterError
            When the weights that arrived are not those of the model that was sent.
        """
        with _BUILT_LOCK:
            det = _BUILT.get(self.fingerprint)
            if det is None:
                from scatter.runtime import program_cache_dir

                det = Detector(self.params, self.metadata, path=self.path,
                               program_cache=program_cache_dir())
                if det.fingerprint != self.fingerprint:
                    raise ScatterError(f"the model arrived as {det.fingerprint[:12]}, not as "
                                       f"the {self.fingerprint[:12]} that was sent")
                _BUILT[self.fingerprint] = det
        return det

    def _rows(self, batch):
        """``batch`` zero-padded to a multiple of this process's devices, and its rows."""
        det = self.detector()
        batch = np.asarray(batch, dtype=np.float32)
        n = batch.shape[0]
        return det, pad_rows(batch, det.round_batch(max(n, 1))), n

    def __call__(self, batch):
        """Window probabilities (:meth:`Detector.scorer`)."""
        det, batch, n = self._rows(batch)
        return det.scorer(batch)[:n]

    def score_with_features(self, batch):
        """Window probabilities and the classifier's features
        (:meth:`Detector.score_with_features`)."""
        det, batch, n = self._rows(batch)
        scores, features = det.score_with_features(batch)
        return scores[:n], features[:n]


class TimelinePlots(PerFileOutput):
    """A PNG per scored file (:func:`scatter.detect.plots.plot_file`): spectrogram, the
    detector's activity features and the window scores with the threshold; ``<name>.png``
    mirroring the audio folders (``<name>.ch2.png`` for a channel scored on its own, drawn
    over the file's mono mix). A figure that fails gives a warning, never stops the run.

    Parameters
    ----------
    folder : str
    detector : scatter.detect.Detector
    """

    location = "plots"

    def __init__(self, folder, *, detector):
        super().__init__(folder, suffix=".png")
        self.detector = detector

    def write(self, path, done):
        from scatter.detect.plots import plot_file

        try:
            plot_file(path, audio_path=done.path, detector=self.detector,
                      starts_s=done.starts_s, ends_s=done.ends_s, scores=done.scores,
                      threshold=self.threshold)
        except Exception as exc:  # a figure must not stop the run
            warnings.warn(f"no plot for {done.path!r}: {exc}", stacklevel=2)


class DielPlots(Output):
    """One diel activity plot per site (:func:`scatter.detect.plots.plot_diel_activity`),
    drawn at the end of the run from its activity table.

    Parameters
    ----------
    folder : str
    activity : str
        The run's activity table (``activity_out``); written before this output's
        :meth:`end` (put this output after it).
    """

    def __init__(self, folder, *, activity):
        self.folder = os.fsdecode(folder)
        self.activity = os.fsdecode(activity)

    def end(self, rows, summary):
        from scatter.activity_table import read_activity_table
        from scatter.detect.plots import plot_diel_activity

        try:
            plot_diel_activity(self.folder, read_activity_table(self.activity))
        except Exception as exc:  # the figures must not cost the run its summary
            warnings.warn(f"no diel activity plots: {exc}", stacklevel=2)


def detect(paths, *, model="default", batch_size=32, threshold=None, aggregate=None,
           hop_s=None, plots_dir=None, features_dir=None, features_pool="mean", client=None,
           outputs=(), **kwargs):
    """Score audio files and folders with a model, writing the outputs asked for.

    Parameters
    ----------
    paths : str or os.PathLike or sequence of them
        Audio files and folders.
    model : str or os.PathLike or Detector
        ``"default"`` (the shipped model), a model path, or a loaded :class:`Detector`.
    batch_size : int
        Windows per batch (rounded up to a multiple of the devices).
    threshold, aggregate, hop_s : float, str or callable, float, or None
        None: the model's.
    plots_dir : str or os.PathLike or None
        A timeline PNG per scored file (:class:`TimelinePlots`) and, with ``activity_out``,
        a diel activity plot per site (``<site>.diel.png``); needs matplotlib.
    features_dir : str or os.PathLike or None
        The classifier's features of every window, one ``.npz`` per scored file
        (:mod:`scatter.feature_files`: window starts, feature layout, model fingerprint).
    features_pool : {"mean", "max", "none"}
        How each window's feature frames are pooled.
    client : distributed.Client or None
        Score on a Dask cluster: one task per file; each worker loads and compiles the model
        once (:class:`ShippedDetector`); the outputs are written here.
    outputs : sequence of scatter.run.Output
        More outputs (:func:`scatter.runner.run_detection`).
    **kwargs
        Every other option of :func:`scatter.runner.run_detection`: ``out``,
        ``segments_out``, ``raven_dir``, ``json_out``, ``audacity_dir``, ``raven_table``,
        ``timezone``, ``activity_out``, ``channels``, ``clips_dir``, ``clips_top``,
        ``resume``, ``recursive``, ``quiet``, ``workers``, ``on_file``, ...;
        ``scorer_id`` defaults to ``{"model_sha256": fingerprint}``, so that ``resume``
        refuses rows scored by another model.

    Returns
    -------
    summary : dict
        As :func:`scatter.runner.run_detection`.

    Raises
    ------
    scatter.ScatterError
        For a missing model or invalid options.

    Examples
    --------
    >>> summary = detect(["recordings/"], out="results.csv", audacity_dir="labels",
    ...                  channels="each", clips_dir="clips")           # doctest: +SKIP
    """
    from scatter.feature_files import feature_layout
    from scatter.runner import run_detection

    det = model if isinstance(model, Detector) else load_model(model)
    cfg = det.config
    kwargs.setdefault("scorer_id", {"model_sha256": det.fingerprint})
    scorer = feature_scorer = None
    if client is None:
        scorer = det.scorer
        if features_dir is not None:
            feature_scorer = det.score_with_features
    else:
        scorer = ShippedDetector(det)
        if features_dir is not None:
            feature_scorer = scorer.score_with_features
    extra = list(outputs)
    if plots_dir is not None:
        extra.append(TimelinePlots(os.fsdecode(plots_dir), detector=det))
        if kwargs.get("activity_out") is not None:
            extra.append(DielPlots(plots_dir, activity=kwargs["activity_out"]))
    layout = frame_s = None
    if features_dir is not None:
        layout = feature_layout(det)
        frame_s = cfg.window / cfg.sr / det.features.n_frames
    return run_detection(
        paths, scorer=scorer, sr=cfg.sr, window_s=cfg.window / cfg.sr,
        hop_s=cfg.hop / cfg.sr if hop_s is None else hop_s,
        batch_size=det.round_batch(batch_size),
        threshold=det.threshold if threshold is None else threshold,
        aggregate=det.aggregate if aggregate is None else aggregate,
        features_dir=features_dir, feature_scorer=feature_scorer, feature_layout=layout,
        feature_frame_s=frame_s, features_pool=features_pool, client=client, outputs=extra,
        **kwargs)
