"""The ``scatter`` command line: ``scatter detect``, ``scatter train``, ``scatter evaluate``.

A thin layer over :mod:`scatter.detect`: ``main(argv)`` parses the options, calls the library
and returns the exit status.

Two ways in, with one difference. The ``scatter`` program (the console script and ``python -m
scatter``, :func:`run_program`) first sets up its process (:mod:`scatter.runtime`): glibc's
allocator keeps large buffers for reuse (``SYMSCATTER_KEEP_MALLOC=1`` keeps glibc's
defaults); ``scatter detect`` splits the host CPU into one JAX device per core and shards its
batches over them (``SYMSCATTER_CPU_DEVICES=N`` sets the count, ``1`` turns the split off; an
``XLA_FLAGS=--xla_force_host_platform_device_count=N`` already set is kept);
``scatter train`` and ``scatter evaluate`` turn on JAX's persistent compilation cache. A call
of :func:`main` inside a running Python process (a notebook, a test) does none of this and
leaves JAX's global configuration as it found it; a program of your own can call
:func:`scatter.runtime.configure` first.

Either way, ``scatter detect`` keeps its compiled programs in the ``programs`` folder of the
package's cache (:func:`scatter.runtime.program_cache_dir`: ``$SYMSCATTER_CACHE_DIR``, else
``$XDG_CACHE_HOME/symscatter``, else ``~/.cache/symscatter``; in
``$JAX_COMPILATION_CACHE_DIR/symscatter-programs`` when that is set), so only the first run
pays the compilation and the tracing; the program's JAX cache (``train``, ``evaluate``) is the
``jax`` folder beside it, or ``JAX_COMPILATION_CACHE_DIR``. ``SYMSCATTER_NO_JAX_CACHE=1`` turns
both caches off.

Exit status: 0 when every file was processed; 3 when some files could not be read (each has a
results row with its ``error`` text); 2 for usage errors (bad option, no such path or model);
130 when interrupted (Ctrl-C; the outputs hold every finished file: rerun with ``--resume``).

Examples
--------
::

    scatter detect --demo
    scatter detect recordings/ --recursive --out results.csv --segments segments.csv \
        --raven raven/ --resume
    scatter detect deployment/ --recursive --out results.csv --audacity labels/ \
        --raven-table run.selections.txt --activity activity.csv --plots figs/ \
        --timezone Europe/Berlin --clips clips/ --resume --dask local:2
    scatter train corpus/ --labels corpus/labels.csv --out model.npz
    scatter evaluate corpus/ --labels corpus/test.csv --model model.npz --plots figs/
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import tempfile
import warnings

from scatter import runtime
from scatter.errors import ScatterError

__all__ = ["build_parser", "main", "run_program"]

EXIT_OK, EXIT_USAGE, EXIT_SOME_FAILED, EXIT_INTERRUPTED = 0, 2, 3, 130


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise _UsageError(f"{self.prog}: error: {message}")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}")
    return value


def _count(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0; got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0; got {text!r}")
    return value


def _number(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number; got {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"expected a finite number; got {text!r}")
    return value


def _shipped_settings():
    """The shipped model's feature settings and training config as recorded in its sidecar
    (dicts; empty when it cannot be read), for ``scatter train --help``."""
    from scatter.detect.io import default_model_path, read_metadata

    try:
        meta = read_metadata(default_model_path())
    except ScatterError:
        return {}, {}
    return meta.get("features", {}), meta.get("training", {}).get("config", {})


def build_parser():
    """The argument parser of the ``scatter`` command (for documentation and tests)."""
    p = _Parser(prog="scatter", description="Bird-activity detection with wavelet scattering.")
    shipped_features, shipped_training = _shipped_settings()
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    d = sub.add_parser("detect", help="score audio files and folders",
                       description="Score every audio file; one results row per file.")
    d.add_argument("paths", nargs="*", metavar="PATH", help="audio files and folders")
    d.add_argument("--out", help="results CSV (path, score, label, ...), one row per file")
    d.add_argument("--recursive", action="store_true", help="search folders recursively")
    d.add_argument("--resume", action="store_true",
                   help="keep the finished rows of --out and process only the rest; "
                        "refused if the earlier run used another --model, --hop or "
                        "--threshold (its settings are kept in OUT.settings.json)")
    d.add_argument("--segments", metavar="CSV", help="per-window scores CSV")
    d.add_argument("--raven", metavar="DIR", help="one Raven Pro selection table per file")
    d.add_argument("--json", action="store_true",
                   help="also write OUT with .json (settings, summary, rows) and print the "
                        "summary as one JSON line")
    d.add_argument("--threshold", type=_number, default=None,
                   help="decision threshold (default: the model's)")
    d.add_argument("--model", default="default", help="'default' or a model .npz")
    d.add_argument("--hop", type=_number, default=None, metavar="SECONDS",
                   help=_hop_help("finer segments", shipped_features))
    d.add_argument("--batch-size", type=_positive_int, default=32,
                   help="windows per batch; a batch of more than 32 windows per device "
                        "is scored in pieces, so that peak memory stays about 1 GB with the "
                        "default model")
    d.add_argument("--workers", type=_positive_int, default=2, help="decoding threads")
    d.add_argument("--plots", metavar="DIR",
                   help="a PNG timeline per file and, with --activity, a diel activity plot "
                        "per site (matplotlib)")
    d.add_argument("--audacity", metavar="DIR",
                   help="one Audacity label file per audio file (NAME.txt): start, end and "
                        "score of each detection")
    d.add_argument("--raven-table", metavar="FILE",
                   help="one Raven Pro selection table for the whole run (Begin Path, File "
                        "Offset, cumulative Begin Time)")
    d.add_argument("--activity", metavar="FILE",
                   help="activity CSV per site (the recording's folder) and clock hour")
    d.add_argument("--timezone", metavar="TZ", default=None,
                   help="time zone of recorder file names that carry none, e.g. "
                        "Europe/Berlin or +02:00 (default UTC, as AudioMoth writes them); "
                        "also the clock of --activity")
    d.add_argument("--channels", choices=("mix", "each"), default="mix",
                   help="mix: average the channels (one row per file, default); each: "
                        "score every channel on its own (one row per file and channel)")
    d.add_argument("--clips", metavar="DIR",
                   help="WAV clips of each file's best detections, padded by 0.5 s")
    d.add_argument("--clips-top", metavar="K", type=_count, default=10,
                   help="clips per file at most (default 10)")
    d.add_argument("--features", metavar="DIR",
                   help="the classifier's features of every window, one .npz per file")
    d.add_argument("--features-pool", choices=("mean", "max", "none"), default="mean",
                   help="how each window's feature frames are pooled in --features "
                        "(default mean; none keeps every frame)")
    d.add_argument("--dask", metavar="ADDRESS",
                   help="score on a Dask cluster: a scheduler address (tcp://host:8786) or "
                        "local:N for N local worker processes (needs symscatter[distributed])")
    d.add_argument("--quiet", action="store_true", help="no progress bar")
    d.add_argument("--demo", action="store_true",
                   help="run on a few generated clips (nothing to download)")

    t = sub.add_parser("train", help="train a detector on labelled clips",
                       description="Train a detector; writes MODEL.npz and MODEL.json.")
    t.add_argument("data", metavar="DATA", help="folder the labels' paths are relative to")
    t.add_argument("--labels", required=True, metavar="CSV", help="labels CSV (path,label)")
    t.add_argument("--out", required=True, metavar="MODEL.npz", help="model to write")
    f, c = shipped_features, shipped_training

    def default(value):
        value = " ".join(map(str, value)) if isinstance(value, (list, tuple)) else value
        return f" (default: the shipped model's, {value})"

    t.add_argument("--epochs", type=_positive_int, default=None,
                   help="most epochs" + default(c.get("epochs")))
    t.add_argument("--batch-size", type=_positive_int, default=None,
                   help="clips per step" + default(c.get("batch_size")))
    t.add_argument("--lr", type=_number, default=None,
                   help="learning rate" + default(c.get("learning_rate")))
    t.add_argument("--weight-decay", type=_number, default=None,
                   help="AdamW weight decay" + default(c.get("weight_decay")))
    t.add_argument("--dropout", type=_number, default=None,
                   help="input dropout while training" + default(c.get("dropout")))
    t.add_argument("--patience", type=_positive_int, default=None,
                   help="epochs without a better validation AUC before stopping"
                        + default(c.get("patience")))
    t.add_argument("--seed", type=int, default=None, help="random seed" + default(c.get("seed")))
    t.add_argument("--val-fraction", type=_number, default=None,
                   help="share of source recordings held out when the CSV has no split"
                        + default(c.get("val_fraction")))
    t.add_argument("--copies", type=int, default=None,
                   help="augmented copies per clip" + default(c.get("copies")))
    t.add_argument("--hidden", type=_positive_int, nargs="+", default=None,
                   help="hidden layer widths" + default(c.get("hidden")))
    t.add_argument("--sr", type=_positive_int, default=None,
                   help="sample rate of the features" + default(f.get("sr")))
    t.add_argument("--window-s", type=_number, default=None,
                   help="window length in seconds" + default(
                       round(f["window"] / f["sr"], 3) if "window" in f and "sr" in f else None))
    t.add_argument("--J", type=_positive_int, default=None, dest="J",
                   help="octaves of the scattering" + default(f.get("J")))
    t.add_argument("--Q", type=_positive_int, nargs=2, default=None, dest="Q",
                   help="wavelets per octave, orders 1 and 2" + default(f.get("Q")))
    t.add_argument("--max-order", type=int, choices=(1, 2), default=None,
                   help="scattering orders" + default(f.get("max_order")))
    t.add_argument("--mask", choices=("sure", "universal", "bayes", "none"), default=None,
                   help="activity-mask threshold selector" + default(f.get("mask")))
    t.add_argument("--subsampling", choices=("kymatio", "coarse"), default=None,
                   help="time subsampling of the wavelet moduli" + default(f.get("subsampling")))
    t.add_argument("--top-db", type=_number, default=None,
                   help="dynamic range kept per window, dB; 0: no limit" + default(f.get("top_db")))
    t.add_argument("--filter-epochs", type=int, default=None,
                   help="epochs of end-to-end fine-tuning of the first-order wavelets with the "
                        "classifier after training (learnable filters; 0: designed filters)"
                        + default(c.get("filter_epochs")))
    t.add_argument("--filter-lr", type=_number, default=None,
                   help="learning rate of the wavelet parameters while fine-tuning"
                        + default(c.get("filter_learning_rate")))
    t.add_argument("--resume", action="store_true",
                   help="continue from the checkpoint MODEL.ckpt.npz (+ MODEL.ckpt.json)")
    t.add_argument("--quiet", action="store_true")
    t.add_argument("--json", action="store_true", help="print the summary as one JSON line")

    e = sub.add_parser("evaluate", help="AUC of a detector on labelled clips",
                       description="Score labelled clips and print AUC and other metrics.")
    e.add_argument("data", metavar="DATA")
    e.add_argument("--labels", required=True, metavar="CSV")
    e.add_argument("--model", default="default")
    e.add_argument("--split", default=None, help="only rows of this split (e.g. test)")
    e.add_argument("--threshold", type=_number, default=None)
    e.add_argument("--hop", type=_number, default=None, metavar="SECONDS",
                   help=_hop_help("clips are scored as scatter detect --hop scores files",
                                  shipped_features))
    e.add_argument("--batch-size", type=_positive_int, default=32)
    e.add_argument("--out", default=None, metavar="CSV", help="per-clip results CSV")
    e.add_argument("--plots", metavar="DIR", help="write DIR/roc.png")
    e.add_argument("--quiet", action="store_true")
    e.add_argument("--json", action="store_true", help="print the report as one JSON line")
    return p


def _err(msg):
    print(f"scatter: error: {msg}", file=sys.stderr)


def _hop_help(command_does, shipped_features):
    f = shipped_features
    shipped = (f"; the default model's is {f['hop'] / f['sr']:.1f} s, "
               f"{'one window' if f['hop'] == f['window'] else 'its own'}"
               if f.get("hop") and f.get("window") and f.get("sr") else "")
    return (f"seconds between window starts (default: the model's hop{shipped}). A "
            f"smaller hop overlaps the windows: {command_does}, and a call cut by one window's "
            f"edge lies whole in another, at proportionally more time (half a window: twice "
            f"the time)")


def _check_hop(args, det):
    """``--hop`` must lie between one sample and the model's window."""
    window_s = det.config.window / det.config.sr
    if args.hop is not None and not (1.0 / det.config.sr <= args.hop <= window_s):
        raise _UsageError(f"scatter {args.command}: error: --hop must be between one sample "
                          f"and the model's window ({window_s:.3f} s); got {args.hop!r}")


def _report_ignored(summary, recursive):
    """On stderr: the folders' files skipped for their extension, and an empty run."""
    from scatter.audio import AUDIO_EXTENSIONS

    ignored = summary.get("ignored_files") or {}
    if ignored:
        kinds = ", ".join(f"{ext or 'no extension'}: {n}" for ext, n in ignored.items())
        n = sum(ignored.values())
        files = "1 file in the folders was" if n == 1 else f"{n} files in the folders were"
        print(f"scatter: note: {files} skipped for their extension ({kinds}); audio files end "
              f"with {' '.join(AUDIO_EXTENSIONS)}. Name a file explicitly to try it anyway.",
              file=sys.stderr)
    if summary["files"] == 0:
        hint = "" if recursive else " (subfolders are searched only with --recursive)"
        print(f"scatter: warning: no audio files were found in the given folders{hint}",
              file=sys.stderr)


def _detect(args):
    from scatter.detect import detect, load_model
    from scatter.recorders import parse_timezone

    paths = list(args.paths)
    demo_dir = None
    if args.demo:
        if paths:
            raise _UsageError("scatter detect: error: --demo makes its own clips; "
                              "give no PATH with it")
        from scatter.detect.synth import write_demo_clips

        demo_dir = tempfile.mkdtemp(prefix="symscatter-demo-")
        clips = write_demo_clips(demo_dir)
        paths = [demo_dir]
        expected = {os.path.normpath(p): label for p, label in clips}
        if args.out is None:
            args.out = os.path.join(demo_dir, "results.csv")
        if not args.quiet:
            print(f"demo: wrote {len(clips)} generated clips (3 with bird-like calls, 3 "
                  f"without) to {demo_dir}")
    elif not paths:
        raise _UsageError("scatter detect: error: give at least one PATH (or --demo)")
    if args.out is None:
        raise _UsageError("scatter detect: error: --out results.csv is required")
    if args.timezone is not None:  # refused before the model is loaded
        try:
            parse_timezone(args.timezone)
        except ScatterError as exc:
            raise _UsageError(f"scatter detect: error: --timezone: {exc}") from None
    det = load_model(args.model, program_cache=runtime.program_cache_dir())
    _check_hop(args, det)
    json_out = os.path.splitext(args.out)[0] + ".json" if args.json else None
    options = dict(out=args.out, segments_out=args.segments, raven_dir=args.raven,
                   json_out=json_out, threshold=args.threshold, hop_s=args.hop,
                   batch_size=args.batch_size, workers=args.workers, resume=args.resume,
                   quiet=args.quiet, recursive=args.recursive, plots_dir=args.plots,
                   audacity_dir=args.audacity, raven_table=args.raven_table,
                   activity_out=args.activity, timezone=args.timezone, channels=args.channels,
                   clips_dir=args.clips, clips_top=args.clips_top, features_dir=args.features,
                   features_pool=args.features_pool)
    if args.dask is None:
        summary = detect(paths, model=det, **options)
    else:
        try:
            from scatter.run.dask import connect
        except ImportError:
            raise ScatterError("--dask needs dask.distributed: pip install "
                               "'symscatter[distributed]'") from None
        with connect(args.dask) as client:
            summary = detect(paths, model=det, client=client, **options)
    _report_ignored(summary, args.recursive)
    if args.json:
        info = {k: v for k, v in summary.items() if k != "results"}
        info["devices"] = det.n_devices
        print(json.dumps(info))
    elif not args.quiet:
        if demo_dir is not None:
            print(f"{'file':40s} {'score':>6s}  label  expected")
            for r in summary["results"]:
                exp = expected.get(os.path.normpath(r["path"]), "")
                score = "" if r["score"] is None else f"{r['score']:.3f}"
                print(f"{os.path.basename(r['path']):40s} {score:>6s}  {r['label']!s:5s}  "
                      f"{exp}")
        rows = " (one row per channel)" if summary["channels"] == "each" else ""
        print(f"{summary['files']} files{rows}: {summary['ok']} scored "
              f"({summary['positives']} with birds), {summary['errors']} errors, "
              f"{summary['skipped']} kept from an earlier run; "
              f"{summary['audio_hours']:.3f} h of audio in {summary['wall_s']:.1f} s "
              f"({summary['speed_x_realtime']:.0f}x real time)")
        print(f"results: {args.out}")
    return EXIT_SOME_FAILED if summary["errors"] else EXIT_OK


def _train(args):
    """``scatter train``: the shipped model's settings (:func:`scatter.detect.training.
    default_settings`), with the options given replacing theirs."""
    import dataclasses

    from scatter.detect.training import default_settings, train

    shipped, base = default_settings()

    def given(**options):
        return {k: v for k, v in options.items() if v is not None}

    sr = args.sr if args.sr is not None else shipped.sr
    window_s = args.window_s if args.window_s is not None else shipped.window / shipped.sr
    window = round(window_s * sr)
    features = dataclasses.replace(shipped, sr=sr, window=window, hop=window, **given(
        J=args.J, Q=None if args.Q is None else tuple(args.Q), max_order=args.max_order,
        mask=args.mask, subsampling=args.subsampling, top_db=args.top_db))
    config = dataclasses.replace(base, **given(
        epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.lr,
        weight_decay=args.weight_decay, dropout=args.dropout, patience=args.patience,
        seed=args.seed, val_fraction=args.val_fraction, copies=args.copies,
        hidden=None if args.hidden is None else tuple(args.hidden),
        filter_epochs=args.filter_epochs, filter_learning_rate=args.filter_lr))
    summary = train(args.data, labels=args.labels, out=args.out, features=features,
                    config=config, resume=args.resume, quiet=args.quiet)
    if args.json:
        print(json.dumps({k: v for k, v in summary.items()}))
    else:
        b = summary["best"]
        print(f"trained on {summary['n_train']} clips, validated on {summary['n_val']}: "
              f"best validation AUC {b['val_auc']:.4f} at epoch {b['epoch']}; "
              f"threshold {summary['threshold']:.3f}")
        if summary["skipped"]:
            print(f"{len(summary['skipped'])} clips could not be decoded and were skipped")
        print(f"model: {summary['out']} (+ {summary['sidecar']})")
    return EXIT_OK


def _evaluate(args):
    from scatter.detect import load_model
    from scatter.detect.evaluation import evaluate

    model = args.model
    if args.hop is not None:  # the model is needed to check the hop against its window
        model = load_model(args.model)
        _check_hop(args, model)
    report = evaluate(args.data, labels=args.labels, model=model,
                      batch_size=args.batch_size, threshold=args.threshold, out=args.out,
                      plots=args.plots, quiet=args.quiet, split=args.split, hop_s=args.hop)
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{report['n']} clips ({report['positives']} with birds), "
              f"{report['errors']} unreadable")
        print(f"AUC {report['auc']:.4f}  average precision {report['average_precision']:.4f}")
        print(f"at threshold {report['threshold']:.3f}: accuracy {report['accuracy']:.4f}, "
              f"TPR {report['tpr']:.4f}, FPR {report['fpr']:.4f}")
        if "roc_plot" in report:
            print(f"ROC: {report['roc_plot']}")
    return EXIT_SOME_FAILED if report["errors"] else EXIT_OK


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _show_warning(previous, message, category, filename, lineno, file=None, line=None):
    """The package's own warnings as ``scatter: warning: ...`` lines; others go to
    ``previous`` (the ``warnings.showwarning`` in place when :func:`main` was called)."""
    if os.path.abspath(filename).startswith(_PACKAGE_DIR + os.sep):
        print(f"scatter: warning: {message}", file=sys.stderr if file is None else file)
    else:
        previous(message, category, filename, lineno, file, line)


def main(argv=None):
    """Run the ``scatter`` command in this process; return the exit status.

    JAX's global configuration and the allocator are left as they are (module docstring); the
    program entry point is :func:`run_program`.

    Parameters
    ----------
    argv : list of str or None
        Arguments without the program name (None: ``sys.argv[1:]``).

    Returns
    -------
    int
        0, 2, 3 or 130 (module docstring).
    """
    return _run(argv, own_process=False)


def run_program():
    """The ``scatter`` program (console script and ``python -m scatter``): :func:`main` on
    ``sys.argv``, in a process set up for the command (module docstring).

    Returns
    -------
    int
        The exit status.
    """
    import gc

    runtime.reuse_large_allocations()  # before JAX allocates anything
    status = _run(None, own_process=True)
    # every output is written and closed by now; moving the (JAX-sized) heap out of the
    # collector's sight spares the interpreter's exit a full collection of it (0.2-0.4 s)
    gc.freeze()
    return status


def _set_up_process(command):
    """The process-wide runtime of the ``scatter`` program for ``command``
    (:mod:`scatter.runtime`); called by :func:`run_program` once the arguments are parsed.

    ``detect``: one JAX CPU device per core, and JAX's persistent cache off (the detector's
    own program cache is used instead: an executable JAX loaded from its cache could not be
    saved there). ``train`` and ``evaluate``: JAX's persistent cache on.

    Parameters
    ----------
    command : {"detect", "train", "evaluate"}

    Raises
    ------
    ScatterError
        For an invalid ``SYMSCATTER_CPU_DEVICES``.
    """
    if command == "detect":
        runtime.configure(cpu_devices=True, jax_cache=False, allocator=False)
    else:
        runtime.configure(cpu_devices=False, jax_cache=True, allocator=False)


def _run(argv, *, own_process):
    """Parse ``argv`` and run the command; ``own_process``: set the process up first."""
    parser = build_parser()
    with warnings.catch_warnings():
        warnings.showwarning = functools.partial(_show_warning, warnings.showwarning)
        return _main(parser, argv, own_process)


def _main(parser, argv, own_process):
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        run = {"detect": _detect, "train": _train, "evaluate": _evaluate}[args.command]
        if own_process:
            _set_up_process(args.command)
        return run(args)
    except _UsageError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    except ScatterError as exc:
        _err(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        _err("interrupted; the outputs hold every finished file (rerun with --resume)")
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run_program())
