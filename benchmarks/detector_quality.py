"""Detector quality on held-out real recordings: our detector against BirdNET, same clips, same run.

Two corpora (``--corpus``); each is read from one held-out split (``--split test``, the
reported figures, run once per shipped model; ``--split validation`` for model selection,
never the test split).

Corpus v4 (``--corpus v4``, the default)
----------------------------------------
Real recordings from Debian packages (``data_scripts/build_corpus_v4.py``, fetched into the
cache when missing), with reviewed labels and a split **by source**: the validation and test
splits are whole packages, no file of which is seen in training, and a recording found in two
packages is kept only in the most held-out one (``corpus_v4_sources.py`` names the packages;
the JSON's ``held_out_check`` says whether the manifest holds to that). The test packages hold
songbird soundscapes, single calls, night insects, frogs, speech and urban sound.

Clips: every kept file of the split with a ``bird`` or ``nonbird`` label, or, for a soundscape
labelled per segment, each of its ``bird`` and ``nonbird`` segments (``unsure`` ones and the
parts no segment covers are left out), cut into consecutive **9-s clips** (``--seconds``: three
BirdNET windows); an end piece shorter than 1 s (``--min-clip``) is dropped, and a file or
segment shorter than a clip is one clip of its own length. Clips are mono, at the file's own
rate, as recorded: nothing is mixed in (clips of denoised game files keep their digital
silence; the JSON counts them in ``silent_gap_clips``).

Figures, per scorer: clip ROC AUC (``scatter.detect.metrics.roc_auc``: Mann-Whitney, ties
counted half) with a 95 % bootstrap interval that resamples whole recordings; recall and
false-positive rate at the scorer's threshold (ours: the model's ``threshold``; BirdNET:
``--birdnet-threshold``, 0.1, BirdNET-Analyzer's default minimum confidence), a clip being
called a bird when its score is at least the threshold; and, **per kind** (``bird/call``,
``nonbird/insect``, ...) and **per source** (package), the clip counts, the recall on the
group's bird clips, the false-positive rate on its non-bird clips, and the AUC over the
bird/non-bird pairs with at least one clip in the group (``quality_metrics.pair_auc``: a
negative kind's clips against every bird clip, a positive kind's against every non-bird clip;
``auc_within``, the AUC of a package's own clips, when it has both). ``goal_met`` checks
``quality_corpus_v4.GOAL``.

Development corpus (``--corpus dev``)
-------------------------------------
The recordings of the Debian package ``tuxpaint-stamps-default``
(``data_scripts/fetch_tuxpaint_sounds.py``), split by ``data_scripts/build_dev_corpus.py``: the
whole source recordings it held out (read from the corpus's ``sources.csv`` when the corpus is
there, ``--dev-corpus``, else recomputed with the same function and seed).

Evaluation clips (``--seconds`` long, default 9 s = three BirdNET windows, 44.1 kHz, written as
float WAV files):

- positives: each held-out bird recording *alone* (placed at two random offsets in digital
  silence), and mixed into real non-bird backgrounds (held-out recordings, tiled) at **10 dB and
  0 dB** SNR (``--backgrounds`` different backgrounds each);
- negatives: each held-out non-bird recording (mammals, frogs, insects, engines, thunder, music,
  household sounds, voices and speech; at most ``--max-per-kind`` per kind so that the spoken
  numbers do not dominate) alone, and mixed into another non-bird background at 10 dB and 0 dB,
  so that "a mixture" is not itself a cue.

The SNR is the call power (over the calls found by ``dev_corpus_sources.call_segments``) over the
background power on the same samples, as in the corpus. The package has no rain or applause
recordings; thunder, engines and household noise stand in for broadband backgrounds.

Scores: a clip's score is its **highest window score** (BirdNET's usual clip score; the same
rule for ours). Clip-level ROC AUC with a 95 % bootstrap interval over clips (stratified,
seeded); also per condition (positives of one condition against all negatives). Window-level
AUC: a window is positive when it overlaps the calls by at least ``min(0.2 s, half the call)``,
negative when it overlaps no call, and left out in between; windows of negative clips are
negative.

Scorers
-------
- ``ours`` (default ``--ours scatter``): ``scatter.detect.load_model(--model)`` run through the
  same pipeline as ``scatter detect``: ``Detector.detect(paths, on_file=...)`` on the WAV files
  (``scatter.runner.run_detection`` underneath), whose per-window scores it collects.
  ``--ours baseline`` is the sanity-check mode: a trivial band-energy score (energy above 1.5 kHz
  against energy below, per 1-s window), so the harness can be run before the model exists.
  ``--ours module:function`` plugs any callable ``f(clips) -> [(starts_s, ends_s, scores), ...]``
  (its ``threshold`` attribute, 0.5 without one, for the rates).
- ``birdnet``: BirdNET GLOBAL 6K V2.4 (``benchmarks/birdnet_peer.py``; benchmark only, its licence
  forbids shipping or training on it). When its packages are missing the JSON says so.

The last line printed is one JSON object: both scorers' figures, the clip AUCs' ``ratio`` and
``difference`` (ours minus BirdNET, with a paired bootstrap interval), the clip counts and what
they were cut from.

Modules
-------
This file is the command line; the parts are its siblings in ``benchmarks/``, imported by name
with this folder on ``sys.path``:

- ``quality_clips.py``: the ``Clip`` record and the loader of ``data_scripts/`` modules;
- ``quality_corpus_v4.py``: corpus v4's clips, ``held_out_check``, ``evaluate_v4``, the goal;
- ``quality_corpus_dev.py``: the development corpus's clips and ``evaluate`` (window AUC too);
- ``quality_metrics.py``: AUC, bootstrap intervals, per-group figures;
- ``quality_scorers.py``: ours, the baseline, a plug-in, BirdNET (``birdnet_peer.py``);
- ``quality_compare.py``: both scorers on the same clips, their ratio and difference.

Run::

    python benchmarks/detector_quality.py --split validation   # corpus v4, model selection
    python benchmarks/detector_quality.py                      # corpus v4 test split, once
    python benchmarks/detector_quality.py --ours baseline --no-birdnet   # harness check
    python benchmarks/detector_quality.py --corpus dev --split validation --no-birdnet
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # the quality_*.py siblings, when loaded from a path
    sys.path.insert(0, str(HERE))

from quality_clips import ROOT  # noqa: E402
from quality_compare import run  # noqa: E402
from quality_corpus_dev import load_dev_clips  # noqa: E402
from quality_corpus_v4 import load_v4_clips  # noqa: E402
from quality_scorers import BIRDNET_THRESHOLD, ours_scorer, peer_scorer  # noqa: E402

#: ``--split`` choices and the corpus split (manifest or ``sources.csv``) each reads from.
SPLITS = {"test": "test", "validation": "val"}
CORPORA = ("v4", "dev")


def _parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", choices=CORPORA, default="v4",
                   help="v4: corpus v4's source-held-out split (the benchmark); dev: the "
                        "development corpus's held-out tuxpaint recordings")
    p.add_argument("--split", choices=tuple(SPLITS), default="test",
                   help="held-out split the clips come from: test (the reported benchmark, "
                        "once per shipped model) or validation (model selection)")
    p.add_argument("--ours", default="scatter",
                   help="'scatter' (scatter.detect model), 'baseline' (sanity check) or "
                        "'module:function'")
    p.add_argument("--model", default="default", help="scatter.detect model name or path")
    p.add_argument("--hop", type=float, default=None,
                   help="seconds between our windows (default: the model's); as scatter "
                        "detect --hop")
    p.add_argument("--peer", choices=("birdnet", "none"), default="birdnet")
    p.add_argument("--no-birdnet", action="store_true",
                   help="score ours only (same as --peer none; quick, for model selection)")
    p.add_argument("--birdnet-threshold", type=float, default=BIRDNET_THRESHOLD,
                   help="BirdNET's decision threshold for its recall and false-positive rates")
    p.add_argument("--manifest", type=Path, default=None,
                   help="the corpus's manifest.json (default: corpus v4's or tuxpaint's in the "
                        "cache, fetched when missing)")
    p.add_argument("--seconds", type=float, default=9.0, help="clip length (s)")
    p.add_argument("--min-clip", type=float, default=1.0,
                   help="v4: shortest end piece of a recording kept as a clip (s)")
    p.add_argument("--dev-corpus", type=Path, default=None,
                   help="dev: development corpus folder whose sources.csv gives the splits "
                        "(default: the default corpus if built, else recomputed)")
    p.add_argument("--split-seed", type=int, default=0, help="dev: split seed")
    p.add_argument("--sr", type=int, default=44100, help="dev: sample rate of the clips")
    p.add_argument("--backgrounds", type=int, default=6,
                   help="dev: backgrounds per bird recording and SNR")
    p.add_argument("--max-per-kind", type=int, default=6, help="dev: negatives per kind")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--boot", type=int, default=1000, help="bootstrap resamples")
    p.add_argument("--clips-dir", type=Path, default=None,
                   help="keep the evaluation WAVs here (default: a temporary folder)")
    p.add_argument("--quiet", action="store_true")
    return p


def clips_of(args):
    """The clips of the corpus and split that ``args`` (:func:`_parser`) name, and the summary
    fields that describe them."""
    split = SPLITS[args.split]
    if args.corpus == "v4":
        return load_v4_clips(manifest=args.manifest, split=split, clip_s=args.seconds,
                             min_clip_s=args.min_clip, quiet=args.quiet)
    return load_dev_clips(manifest=args.manifest, corpus=args.dev_corpus, split=split,
                          split_seed=args.split_seed, sr=args.sr, seconds=args.seconds,
                          backgrounds=args.backgrounds, max_per_kind=args.max_per_kind,
                          seed=args.seed, quiet=args.quiet)


def main(argv=None):
    """Build the held-out clips, score them with both detectors, print one JSON line."""
    if str(ROOT) not in sys.path:  # measure this working tree, not an installed copy
        sys.path.insert(0, str(ROOT))
    args = _parser().parse_args(argv)
    t0 = time.perf_counter()
    clips, described = clips_of(args)

    ours = ours_scorer(args.ours, model=args.model, hop_s=args.hop)
    if args.no_birdnet:
        args.peer = "none"
    peer = peer_scorer(args.peer, threshold=args.birdnet_threshold)

    import soundfile as sf

    with tempfile.TemporaryDirectory(prefix="detector-quality-") as tmp:
        folder = args.clips_dir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for c in clips:
            c.path = str(folder / f"{c.name}.wav")
            sf.write(c.path, c.audio, c.sr, subtype="FLOAT")
        result = run(clips, ours, peer, n_boot=args.boot, seed=args.seed, corpus=args.corpus)

    summary = {
        "benchmark": "detector_quality",
        "corpus": args.corpus,
        **result,
        "clips": len(clips),
        "positives": sum(c.label for c in clips),
        "negatives": sum(1 - c.label for c in clips),
        "split": args.split,
        "clip_seconds": args.seconds,
        **described,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
