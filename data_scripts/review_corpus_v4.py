"""Spectrogram sheets of corpus v4 for label review: one set of PNG pages per package.

Reads the manifest of ``build_corpus_v4.py`` and draws every kept file (duplicates are labelled
through the copy that is kept) as a log-power spectrogram over its whole length:

- short files (under :data:`LONG_S` seconds) on grid pages of up to 48 panels,
  ``<out>/<package>_short_NN.png``;
- long files (soundscapes, loops) one per row, up to six per page, with a time axis in seconds
  so that segments where birds come and go can be read off,
  ``<out>/<package>_long_NN.png``.

Each panel's title is the first 10 hex digits of the file's SHA-256 (the key of
``corpus_v4_labels.csv``), its name, duration and sample rate; the frequency axis is in kHz up
to the Nyquist frequency, the colour range the 80 dB under the file's loudest bin. The reviewer
writes what they see into ``corpus_v4_labels.csv`` (see ``corpus_v4.py``); files nobody
reviewed stay ``unreviewed`` in the manifest.

Command line::

    python data_scripts/review_corpus_v4.py [--manifest PATH] [--out DIR] [--package NAME ...]
        [--unreviewed]

(default output: ``review/`` beside the manifest, outside the repository.)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

_HERE = Path(__file__).resolve().parent
if str(_HERE) not in sys.path:
    sys.path.insert(0, str(_HERE))
from sibling_scripts import load_sibling  # noqa: E402

LONG_S = 20.0
GRID = (8, 6)
LONG_PER_PAGE = 6
_MAX_COLUMNS = 1600

__all__ = ["LONG_S", "main", "spectrogram_db", "write_sheets"]


def spectrogram_db(x, *, sr: int, max_columns: int = _MAX_COLUMNS):
    """Log-power spectrogram for display.

    Parameters
    ----------
    x : array_like [shape=(n,)]
        Mono samples.
    sr : int
        Sample rate (Hz).
    max_columns : int
        At most this many time columns (the hop grows for long files).

    Returns
    -------
    numpy.ndarray [shape=(n_freq, n_frames)]
        dB, clipped to the 80 dB under the maximum (all -80 for silence).
    """
    from scipy import signal

    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"x must be a non-empty one-dimensional signal; got shape {x.shape}")
    nper = 512 if sr > 24000 else 256
    hop = max(nper // 2, int(np.ceil(x.size / max_columns)))
    if x.size < nper:
        x = np.pad(x, (0, nper - x.size))
    _, _, s = signal.spectrogram(x, fs=sr, nperseg=nper, noverlap=max(0, nper - hop),
                                 window="hann", mode="psd")
    db = 10 * np.log10(s + 1e-20)
    top = db.max()
    return np.clip(db, top - 80.0, top) - top


def _panel(ax, rec, x, sr, *, long):
    db = spectrogram_db(x, sr=sr)
    dur = x.size / sr
    ax.imshow(db, aspect="auto", origin="lower", cmap="magma",
              extent=(0, dur, 0, sr / 2000), interpolation="nearest")
    name = rec["path_inside"].rsplit("/", 1)[-1].split("!")[-1]
    flag = " GAPS" if rec.get("silent_gaps") else ""
    ax.set_title(f"{rec['sha256'][:10]} {name} {dur:.1f}s {sr / 1000:g}k{flag}",
                 fontsize=7 if not long else 9)
    ax.tick_params(labelsize=6 if not long else 8)
    if long:
        ax.set_xticks(np.arange(0, dur + 1e-9, 5 if dur <= 60 else 10))
        ax.grid(axis="x", color="w", alpha=0.3, linewidth=0.5)
    else:
        ax.set_xticks([])


def write_sheets(records, out, *, packages=None, unreviewed_only=False) -> list[Path]:
    """Draw the review pages; return their paths.

    Parameters
    ----------
    records : list of dict
        Manifest records (``build_corpus_v4.load_manifest``).
    out : path
        Folder for the PNG files (created).
    packages : sequence of str, optional
        Only these packages.
    unreviewed_only : bool
        Only files whose label is ``unreviewed``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import soundfile as sf

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    chosen = [r for r in records if r.get("kept")
              and (packages is None or r["package"] in packages)
              and (not unreviewed_only or r.get("label") == "unreviewed")]
    if packages is not None:
        unknown = set(packages) - {r["package"] for r in records}
        if unknown:
            raise ValueError(f"packages {sorted(unknown)} are not in the manifest")
    written = []
    for package in dict.fromkeys(r["package"] for r in chosen):
        recs = sorted((r for r in chosen if r["package"] == package),
                      key=lambda r: r["path_inside"])
        for long in (False, True):
            group = [r for r in recs if (r["duration"] >= LONG_S) == long]
            per_page = LONG_PER_PAGE if long else GRID[0] * GRID[1]
            for page in range(0, len(group), per_page):
                part = group[page:page + per_page]
                if long:
                    fig, axes = plt.subplots(len(part), 1, figsize=(16, 2.6 * len(part)),
                                             squeeze=False)
                else:
                    rows = int(np.ceil(len(part) / GRID[1]))
                    fig, axes = plt.subplots(rows, GRID[1], figsize=(18, 2.1 * rows),
                                             squeeze=False)
                for ax in axes.flat[len(part):]:
                    ax.axis("off")
                for ax, rec in zip(axes.flat, part):
                    x, sr = sf.read(rec["path"], dtype="float32", always_2d=True)
                    _panel(ax, rec, x.mean(1), sr, long=long)
                fig.suptitle(f"{package} ({rec['split']}): {'long' if long else 'short'} "
                             f"files, page {page // per_page + 1}", fontsize=11)
                fig.tight_layout()
                path = out / f"{package}_{'long' if long else 'short'}_{page // per_page:02d}.png"
                fig.savefig(path, dpi=60 if not long else 70)
                plt.close(fig)
                written.append(path)
    return written


def main(argv=None) -> int:
    """Command line entry point; returns the exit status."""
    B = load_sibling("build_corpus_v4")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", type=Path, default=None, help="manifest.json")
    parser.add_argument("--out", type=Path, default=None, help="folder for the PNG pages")
    parser.add_argument("--package", action="append", default=None, help="only this package")
    parser.add_argument("--unreviewed", action="store_true", help="only unreviewed files")
    args = parser.parse_args(argv)
    manifest = args.manifest or B.default_cache_dir() / "manifest.json"
    if not manifest.is_file():
        print(f"error: no manifest at {manifest}; run build_corpus_v4.py first", file=sys.stderr)
        return 1
    try:
        paths = write_sheets(B.load_manifest(manifest), args.out or manifest.parent / "review",
                             packages=args.package, unreviewed_only=args.unreviewed)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for p in paths:
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
