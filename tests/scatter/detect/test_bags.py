"""Tests of scatter.detect.bags: clips become padded bags of window features, reproducibly."""

import numpy as np
import pytest
import soundfile as sf

from scatter import ScatterError
from scatter.detect.bags import extract_bags
from scatter.detect.data import Record
from scatter.detect.features import FeatureConfig, FeatureExtractor

CFG = FeatureConfig(sr=16000, window=2048, hop=2048, J=4, Q=(2, 1), pool=2)


@pytest.fixture(scope="module")
def fx():
    return FeatureExtractor(CFG)


def test_bags(fx, tmp_path):
    rng = np.random.default_rng(0)
    sf.write(tmp_path / "a.wav", (0.1 * rng.normal(size=5000)).astype(np.float32), 16000)
    sf.write(tmp_path / "b.wav", (0.1 * rng.normal(size=20000)).astype(np.float32), 16000)
    (tmp_path / "bad.wav").write_bytes(b"nope")
    recs = [Record(str(tmp_path / "a.wav"), 1), Record(str(tmp_path / "bad.wav"), 0),
            Record(str(tmp_path / "b.wav"), 0)]
    bags = extract_bags(recs, fx, copies=1, seed=1, max_windows=4, batch_size=4)
    assert bags.feats.shape == (2, 2, 4, fx.n_features, fx.n_frames)
    assert bags.feats.dtype == np.float16
    assert bags.valid.tolist() == [[True, True, True, False], [True] * 4]  # b.wav is cut
    assert bags.labels.tolist() == [1, 0] and len(bags.skipped) == 1
    assert bags.skipped[0][0].endswith("bad.wav")
    # copy 0 is the clean clip: its first window equals the extractor's output
    y, _ = sf.read(tmp_path / "a.wav", dtype="float32")
    want = np.asarray(fx(y[None, :2048]))[0]
    np.testing.assert_allclose(bags.feats[0, 0, 0].astype(np.float32), want, atol=5e-3,
                               rtol=5e-3)
    assert not np.array_equal(bags.feats[0, 0], bags.feats[0, 1])  # the augmented copy
    assert not bags.feats[0, :, 3].any()  # padding stays zero
    again = extract_bags(recs, fx, copies=1, seed=1, max_windows=4, batch_size=4)
    np.testing.assert_array_equal(again.feats, bags.feats)


def test_no_decodable_clip(fx, tmp_path):
    (tmp_path / "bad.wav").write_bytes(b"nope")
    with pytest.raises(ScatterError, match="none of the 1 clips could be decoded"):
        extract_bags([Record(str(tmp_path / "bad.wav"), 0)], fx)
