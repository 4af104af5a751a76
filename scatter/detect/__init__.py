"""Bird-activity detection: features, the spline-network classifier, models, training.

- :mod:`~scatter.detect.features`: scattering (orders 1-2) -> thresholding activity mask ->
  log and per-band normalisation (:class:`FeatureConfig`, :class:`FeatureExtractor`);
- :mod:`~scatter.detect.model`: the max-affine spline network, pure JAX on a dict of arrays;
  :mod:`~scatter.detect.network`: the same classifier as a ``layers`` network
  (``load_model("default").network``), which :mod:`layers.analysis` reads;
- :mod:`~scatter.detect.detector`: :class:`Detector`, features + model compiled and sharded
  over the local devices, with :meth:`Detector.detect` over files and folders;
- :mod:`~scatter.detect.deploy`: :func:`detect`, a run with every output of ``scatter
  detect`` (feature files, figures, a Dask cluster: :class:`ShippedDetector`);
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

from scatter.detect.deploy import ShippedDetector, detect
from scatter.detect.detector import Detector
from scatter.detect.features import FeatureConfig, FeatureExtractor
from scatter.detect.io import load_model, save_model

__all__ = ["Detector", "FeatureConfig", "FeatureExtractor", "ShippedDetector", "detect",
           "evaluate", "load_model", "save_model", "train"]


def train(data, **kwargs):
    """Train a detector; see :func:`scatter.detect.training.train`."""
    from scatter.detect.training import train as _train

    return _train(data, **kwargs)


def evaluate(data, **kwargs):
    """Evaluate a detector; see :func:`scatter.detect.evaluation.evaluate`."""
    from scatter.detect.evaluation import evaluate as _evaluate

    return _evaluate(data, **kwargs)
