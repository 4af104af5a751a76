"""Tests of scatter.detect.detector: window scores equal features + model, batching does not
change them, files of every kind get a row, and the batch axis is sharded over devices."""

import csv
import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest
import soundfile as sf

from scatter import ScatterError
from scatter.detect import Detector, FeatureConfig, load_model, save_model
from scatter.detect.model import init_params, window_logits
from scatter.framing import window_count

CFG = FeatureConfig(sr=16000, window=2048, hop=1024, J=4, Q=(2, 1), pool=2)


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    from scatter.detect.features import FeatureExtractor

    n = FeatureExtractor(CFG).n_features
    params = init_params(jax.random.PRNGKey(3), n_features=n, hidden=(6,), pieces=2)
    path = str(tmp_path_factory.mktemp("model") / "tiny.npz")
    save_model(path, params, {"features": CFG.to_dict(),
                              "model": {"threshold": 0.5, "aggregate": "max"}})
    return path


@pytest.fixture(scope="module")
def det(model_path):
    return load_model(model_path)


def test_scores_are_features_then_model(det):
    rng = np.random.default_rng(0)
    x = (0.05 * rng.normal(size=(6, CFG.window))).astype(np.float32)
    got = det.score_windows(x, batch_size=4)  # two batches, the second padded
    feats = det.features(x)
    want = jax.nn.sigmoid(window_logits(det.params, feats))
    np.testing.assert_allclose(det.window_features(x, batch_size=6), np.asarray(feats))
    np.testing.assert_allclose(got, np.asarray(want), rtol=1e-5, atol=1e-6)
    # a window's score does not depend on its batch companions
    np.testing.assert_allclose(det.score_windows(x[3:5], batch_size=4), got[3:5], rtol=1e-5,
                               atol=1e-6)
    assert np.all((got > 0) & (got < 1))


def test_large_batches_run_in_pieces_of_one_shape(model_path, det, monkeypatch):
    import scatter.detect.detector as D

    x = (0.05 * np.random.default_rng(5).normal(size=(16, CFG.window))).astype(np.float32)
    want = det.score_windows(x, batch_size=16)  # one call of 16 rows
    monkeypatch.setattr(D, "MAX_ROWS_PER_DEVICE", 4)
    capped = load_model(model_path)
    n = capped.n_devices  # 1, or 2 once an earlier test split the host into devices
    # one device: three pieces of 4 rows, one of them a padding row; two: two pieces of 6
    got = capped.score_windows(x[:11], batch_size=11)
    np.testing.assert_allclose(got, want[:11], rtol=1e-5, atol=1e-6)
    shapes = [shape for shape, _ in capped._programs]
    assert len(shapes) == 1 and shapes[0][1] == CFG.window
    size = shapes[0][0]
    assert size % n == 0 and size // n <= 4 and (n > 1 or size == 4)
    assert size * -(-capped.round_batch(11) // size) < 11 + size  # no whole piece of padding
    np.testing.assert_allclose(capped.scorer(x[:2 * size]), want[:2 * size], rtol=1e-5,
                               atol=1e-6)  # two pieces, no padding
    assert [shape for shape, _ in capped._programs] == shapes


def test_frame_and_score_signal(det):
    y = np.random.default_rng(1).normal(size=5000).astype(np.float32) * 0.1
    windows, starts, ends = det.frame(y)
    assert len(windows) == window_count(5000, window=CFG.window, hop=CFG.hop)
    np.testing.assert_array_equal(windows[1], y[1024:1024 + 2048])
    assert starts[1] == 1024 / 16000 and ends[-1] == 5000 / 16000
    # the last window is the signal's last 2048 samples, not a zero-padded one at 4096
    np.testing.assert_array_equal(windows[-1], y[-2048:])
    assert starts[-1] == (5000 - 2048) / 16000
    short, s_starts, s_ends = det.frame(y[:1000])  # under one window: zero-padded
    np.testing.assert_array_equal(short[0], np.concatenate([y[:1000], np.zeros(1048)]))
    assert (s_starts.tolist(), s_ends.tolist()) == ([0.0], [1000 / 16000])
    s0, e0, scores = det.score_signal(y, batch_size=4)
    np.testing.assert_allclose(scores, det.score_windows(windows, batch_size=4))
    with pytest.raises(ScatterError, match="non-empty 1-D"):
        det.frame(np.zeros(0))
    with pytest.raises(ScatterError, match=r"windows must have shape \(n, 2048\)"):
        det.score_windows(np.zeros((2, 10)))
    with pytest.raises(ScatterError, match="finite"):
        det.score_windows(np.full((1, 2048), np.nan))


def test_detect_rows_for_every_kind_of_file(det, tmp_path):
    rng = np.random.default_rng(2)
    d = tmp_path / "in"
    d.mkdir()
    sf.write(d / "silence.wav", np.zeros(8000, np.float32), 16000)
    sf.write(d / "few_samples.wav", rng.normal(size=10).astype(np.float32) * 0.1, 16000)
    sf.write(d / "six_channels_48k.flac", (0.1 * rng.normal(size=(9000, 6))).astype(np.float32),
             48000)
    sf.write(d / "oiseau_é.ogg", (0.1 * rng.normal(size=8000)).astype(np.float32), 16000)
    (d / "corrupt.wav").write_bytes(b"RIFF\x00\x00garbage")
    (d / "notes.txt").write_text("not audio")
    os.symlink(d / "silence.wav", d / "link.wav")
    out = tmp_path / "results.csv"
    summary = det.detect([str(d)], out=str(out), segments_out=str(tmp_path / "seg.csv"),
                         quiet=True, batch_size=4)
    with open(out, newline="") as fh:
        rows = {os.path.basename(r["path"]): r for r in csv.DictReader(fh)}
    assert set(rows) == {"silence.wav", "few_samples.wav", "six_channels_48k.flac",
                         "oiseau_é.ogg", "corrupt.wav", "link.wav"}
    assert rows["corrupt.wav"]["error"] and rows["corrupt.wav"]["score"] == ""
    for name, r in rows.items():
        if name != "corrupt.wav":
            assert r["error"] == "" and 0 <= float(r["score"]) <= 1
    assert rows["six_channels_48k.flac"]["channels"] == "6"
    assert summary["errors"] == 1 and summary["ok"] == 5
    assert rows["silence.wav"]["score"] == rows["link.wav"]["score"]


def test_options_and_errors(det, model_path):
    n = det.n_devices  # 1, or 2 once an earlier test split the host into devices
    assert n == len(jax.local_devices())
    # the smallest multiple of the device count that holds the batch
    assert [det.round_batch(b) for b in (1, 2, 3, 4, 5)] == [
        min(m for m in range(n, b + n, n) if m >= b) for b in (1, 2, 3, 4, 5)]
    assert det.threshold == 0.5 and det.aggregate == "max"
    with pytest.raises(ScatterError, match="batch_size must be a positive integer"):
        det.round_batch(0)
    with pytest.raises(ScatterError, match="holding 'features'"):
        Detector({}, {})
    params = dict(det.params)
    params["w0"] = params["w0"][:5]
    with pytest.raises(ScatterError, match="feature channels"):
        Detector(params, det.metadata)
    with pytest.raises(ScatterError, match="does not exist"):
        load_model(model_path + ".missing.npz")
    assert "tiny.npz" in repr(det)


_SHARDED = """
import json, sys
import numpy as np
from scatter.detect import load_model
det = load_model(sys.argv[1])
x = np.load(sys.argv[2])
print(json.dumps({"devices": det.n_devices, "round": det.round_batch(3),
                  "scores": det.score_windows(x, batch_size=3).tolist()}))
"""


def test_batch_is_sharded_over_two_devices(det, model_path, tmp_path):
    x = (0.05 * np.random.default_rng(4).normal(size=(5, CFG.window))).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2",
               JAX_PLATFORMS="cpu")
    res = subprocess.run([sys.executable, "-c", _SHARDED, model_path, str(tmp_path / "x.npy")],
                         env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout.strip().splitlines()[-1])
    assert got["devices"] == 2 and got["round"] == 4
    np.testing.assert_allclose(got["scores"], det.score_windows(x, batch_size=4), rtol=1e-4,
                               atol=1e-6)


def test_package_level_entry_points(det, tmp_path):
    import scatter.detect as D
    import scatter.detect.evaluation
    import scatter.detect.training  # noqa: F401  (a submodule must not shadow the functions)

    assert D.train.__module__ == D.evaluate.__module__ == "scatter.detect"

    y = (0.1 * np.random.default_rng(5).normal(size=3000)).astype(np.float32)
    sf.write(tmp_path / "a.wav", y, 16000)
    summary = D.detect([str(tmp_path / "a.wav")], model=det, quiet=True, batch_size=4)
    assert summary["ok"] == 1
    _, _, scores = det.score_signal(y, batch_size=4)
    # results rows carry 6 significant digits
    assert summary["results"][0]["score"] == pytest.approx(scores.max(), rel=1e-5, abs=1e-5)
    with pytest.raises(ScatterError, match="data folder"):
        D.train(str(tmp_path / "none"), labels="l.csv", out=str(tmp_path / "m.npz"))
    with pytest.raises(ScatterError, match="data folder"):
        D.evaluate(str(tmp_path / "none"), labels="l.csv", model=det)


#: Windows that the program-cache tests score, in batches of 4 (the module detector's
#: compiled batch shape): two batches, the second padded.
_X = (0.05 * np.random.default_rng(5).normal(size=(5, CFG.window))).astype(np.float32)


@pytest.fixture(scope="module")
def filled_cache(model_path, det, tmp_path_factory):
    """``(cache, want, first)``: a program cache that one detector filled by scoring ``_X`` in
    batches of 4 (compiled once for the module; each test works on its own copy,
    :func:`_copy_cache`), the scores of ``_X`` by the module's detector, which has no cache,
    and those of the detector that filled the cache."""
    want = det.score_windows(_X, batch_size=4)
    cache = tmp_path_factory.mktemp("filled") / "programs"
    first = load_model(model_path, program_cache=cache).score_windows(_X, batch_size=4)
    np.testing.assert_allclose(first, want, rtol=1e-6, atol=1e-7)
    return cache, want, first


def _copy_cache(filled_cache, tmp_path):
    import shutil

    return shutil.copytree(filled_cache[0], tmp_path / "programs")


def test_program_cache_skips_the_filters_and_the_tracing(model_path, det, filled_cache,
                                                         tmp_path):
    x, want = _X, filled_cache[1]
    cache = filled_cache[0]
    # one weights entry; per batch shape, the program's three stages (envelopes, activity,
    # classify)
    assert len(list(cache.glob("*.npz"))) == 1 and len(list(cache.glob("*.xla"))) == 3
    cache = _copy_cache(filled_cache, tmp_path)
    second = load_model(model_path, program_cache=cache)
    np.testing.assert_allclose(second.score_windows(x, batch_size=4), want, rtol=1e-6,
                               atol=1e-7)
    assert second._features is None  # weights and program came from the cache
    assert second.features.n_features == det.features.n_features  # still built on demand
    # another batch shape: one more program (three stages), same weights entry
    np.testing.assert_allclose(second.score_windows(x, batch_size=2), want, rtol=1e-6,
                               atol=1e-7)
    assert len(list(cache.glob("*.xla"))) == 6
    # corrupt entries are misses: rebuilt, rewritten, same scores
    for f in cache.iterdir():
        f.write_bytes(b"corrupt")
    third = load_model(model_path, program_cache=cache)
    np.testing.assert_allclose(third.score_windows(x, batch_size=4), want, rtol=1e-6,
                               atol=1e-7)
    assert third._features is not None
    assert load_model(model_path, program_cache=cache)._features is None


def test_program_cache_that_cannot_be_written_is_ignored(model_path, det, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    x = np.zeros((2, CFG.window), np.float32)
    got = load_model(model_path, program_cache=blocker / "programs").score_windows(
        x, batch_size=4)
    np.testing.assert_allclose(got, det.score_windows(x, batch_size=4), rtol=1e-6, atol=1e-7)


def test_features_of_a_detector_whose_cache_has_arrays_but_no_program(model_path, det,
                                                                      filled_cache, tmp_path):
    """With the filter arrays cached but not the program, the FeatureExtractor is built when
    the program is traced; built inside the trace, its arrays were tracers that leaked into
    later calls (window_features, plots: UnexpectedTracerError)."""
    plain = det
    cache = _copy_cache(filled_cache, tmp_path)
    x, want = _X, filled_cache[2]
    programs = list(cache.glob("*.xla"))
    assert programs
    for path in programs:
        path.unlink()
    det = load_model(model_path, program_cache=str(cache))
    np.testing.assert_array_equal(det.score_windows(x, batch_size=4), want)
    feats = det.window_features(x, batch_size=4)
    want_feats = plain.window_features(x, batch_size=4)  # the module's detector, no cache
    np.testing.assert_array_equal(feats, want_feats)


def test_program_cache_without_serialization_still_scores(model_path, filled_cache, tmp_path,
                                                          monkeypatch):
    """A backend that cannot serialize its compiled programs (JAX raises ValueError) scores
    as usual and only skips saving them."""
    from scatter.detect.programs import ProgramCache

    def unsupported(self, key, compiled):
        raise ValueError("Compilation does not support serialization")

    monkeypatch.setattr(ProgramCache, "save_executable", unsupported)
    x, want = _X, filled_cache[1]  # want: the module's detector, no cache (plain jit)
    det = load_model(model_path, program_cache=str(tmp_path / "programs"))
    got = det.score_windows(x, batch_size=4)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    assert not list((tmp_path / "programs").glob("*.xla"))


_SCORE_WITH_BOTH_CACHES = """
import sys
import jax
import numpy as np
from scatter.detect import load_model
jax.config.update("jax_compilation_cache_dir", sys.argv[2])
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
x = (0.05 * np.random.default_rng(10).normal(size=(4, int(sys.argv[4])))).astype(np.float32)
np.save(sys.argv[5], load_model(sys.argv[1], program_cache=sys.argv[3]).score_windows(x))
"""


@pytest.mark.slow  # three fresh processes, each compiling the detector
def test_program_cache_beside_jax_persistent_cache(model_path, tmp_path):
    """With JAX's persistent cache also on, a stage that JAX's cache served is not saved to
    the program cache: its executable cannot be serialized again (the saved copy failed when
    called, "Function ... not found"). Every run scores alike. Each run is its own process,
    as JAX reads its cache once per process."""
    jax_dir, programs = tmp_path / "jax", tmp_path / "programs"

    def run(name):
        out = tmp_path / f"{name}.npy"
        res = subprocess.run([sys.executable, "-c", _SCORE_WITH_BOTH_CACHES, model_path,
                              str(jax_dir), str(programs), str(CFG.window), str(out)],
                             capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, res.stderr
        return np.load(out)

    first = run("first")  # compiled: saved in both caches
    assert len(list(programs.glob("*.xla"))) == 3 and any(jax_dir.iterdir())
    for f in programs.glob("*.xla"):
        f.unlink()
    np.testing.assert_array_equal(run("second"), first)  # JAX's cache served both stages
    assert not list(programs.glob("*.xla"))
    np.testing.assert_array_equal(run("third"), first)


def test_program_cache_is_keyed_by_the_host_cpu(model_path, filled_cache, tmp_path,
                                                monkeypatch):
    """Compiled CPU code is only reused on a like CPU: another CPU (another fingerprint)
    compiles and saves its own programs."""
    from scatter.detect import detector as detector_module

    cache = _copy_cache(filled_cache, tmp_path)  # this CPU's programs
    x = _X
    want = load_model(model_path, program_cache=cache).score_windows(x, batch_size=4)
    np.testing.assert_array_equal(want, filled_cache[2])
    assert len(list(cache.glob("*.xla"))) == 3
    monkeypatch.setattr(detector_module, "host_fingerprint", lambda: "another cpu")
    got = load_model(model_path, program_cache=cache).score_windows(x, batch_size=4)
    np.testing.assert_array_equal(got, want)
    assert len(list(cache.glob("*.xla"))) == 6
