"""The evaluation clip of ``detector_quality.py``, and the loader of the data scripts it uses.

Helper of ``benchmarks/detector_quality.py``. ``benchmarks/`` is a folder of scripts, not a
package: the benchmark puts its own folder on ``sys.path`` and imports its ``quality_*.py``
siblings by name, as ``detect_throughput.py`` imports ``birdnet_peer``.

- :class:`Clip`: one clip, from either corpus (``quality_corpus_v4``, ``quality_corpus_dev``),
  as the scorers (``quality_scorers``) and the metrics take it.
- :func:`data_script`: a module of ``data_scripts/`` through its own
  ``sibling_scripts.load_sibling``, so the benchmark, the scripts and their tests share one
  module object per file.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np

__all__ = ["ROOT", "Clip", "data_script"]

#: The repository root.
ROOT = Path(__file__).resolve().parents[1]


def data_script(name):
    """A ``data_scripts/`` module (same module object the scripts themselves use).

    Parameters
    ----------
    name : str
        File name without ``.py``, e.g. ``"corpus_v4"``.

    Returns
    -------
    module
        ``sibling_scripts.load_sibling(name)``; ``data_scripts/`` is put on ``sys.path`` the
        first time, as the scripts do.

    Raises
    ------
    FileNotFoundError
        If there is no ``data_scripts/<name>.py``.
    """
    folder = str(ROOT / "data_scripts")
    if folder not in sys.path:
        sys.path.insert(0, folder)
    from sibling_scripts import load_sibling

    return load_sibling(name)


@dataclasses.dataclass
class Clip:
    """One evaluation clip.

    Attributes
    ----------
    name : str
    audio : numpy.ndarray [shape=(n,)]
        float32 mono.
    sr : int
    label : int
        1 when a bird is in it.
    condition : str
        ``alone``, ``snr10`` or ``snr0`` (development corpus); ``recording`` (corpus v4).
    sources : list of str
        Recording ids (event first, then background).
    calls : list of (float, float)
        Bird call onsets/offsets (s).
    path : str or None
        The WAV file, once written.
    source : str
        Package the recording comes from (corpus v4).
    kind : str
        Reviewed kind of the clip (corpus v4: ``call``, ``insect``, ...).
    span : (float, float) or None
        Where in the recording the clip was cut from (s; corpus v4).
    """

    name: str
    audio: np.ndarray
    sr: int
    label: int
    condition: str
    sources: list
    calls: list
    path: str | None = None
    source: str = ""
    kind: str = ""
    span: tuple | None = None
