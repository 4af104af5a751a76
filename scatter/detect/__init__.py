"""Bird-activity detection: features, the spline-network classifier, models, training.

- :mod:`~scatter.detect.features`: scattering (orders 1-2) -> thresholding activity mask ->
  log and per-band normalisation (:class:`FeatureConfig`, :class:`FeatureExtractor`);
- :mod:`~scatter.detect.model`: the max-affine spline network, pure JAX on a dict of arrays;
- :mod:`~scatter.detect.detector`: :class:`Detector`, features + model compiled and sharded
  over the local devices, with :meth:`Detector.detect` over files and folders;
- :mod:`~scatter.detect.io`: models as ``.npz`` + JSON sidecar (:func:`load_model`,
  :func:`save_model`; ``load_model("default")`` is the model shipped in the package);
- :mod:`~scatter.detect.training` and :mod:`~scatter.detect.evaluation`: ``scatter train`` and
  ``scatter evaluate``; :mod:`~scatter.detect.plots`: PNG timelines and ROC curves
  (matplotlib, optional);
- :mod:`~scatter.detect.synth`: synthetic bird-like calls and backgrounds (the demo).

Example
-------
>>> from scatter.detect import detect
>>> summary = detect(["recordings/"], out="results.csv")   # doctest: +SKIP
"""

from scatter.detect.detector import Detector
from scatter.detect.features import FeatureConfig, FeatureExtractor
from scatter.detect.io import load_model, save_model

__all__ = ["Detector", "FeatureConfig", "FeatureExtractor", "detect", "evaluate", "load_model",
           "save_model", "train"]


def detect(paths, *, model="default", **kwargs):
    """Score audio files and folders with a model; see :meth:`Detector.detect`.

    Parameters
    ----------
    paths : str or os.PathLike or sequence of them
    model : str or os.PathLike or Detector
        ``"default"``, a model path, or a loaded :class:`Detector`.
    **kwargs
        Passed to :meth:`Detector.detect`.

    Returns
    -------
    summary : dict

    Raises
    ------
    scatter.ScatterError
        For a missing model or invalid options.
    """
    det = model if isinstance(model, Detector) else load_model(model)
    return det.detect(paths, **kwargs)


def train(data, **kwargs):
    """Train a detector; see :func:`scatter.detect.training.train`."""
    from scatter.detect.training import train as _train

    return _train(data, **kwargs)


def evaluate(data, **kwargs):
    """Evaluate a detector; see :func:`scatter.detect.evaluation.evaluate`."""
    from scatter.detect.evaluation import evaluate as _evaluate

    return _evaluate(data, **kwargs)
