"""Tests of scatter.clips: the best detections cut from the source file, frame-exact, at its
native rate, channels and sample format, padded within the file, reading only their frames."""

import os

import numpy as np
import pytest
import soundfile as sf

from scatter import ScatterError
from scatter.clips import clip_name, clip_prefixes, top_selections, write_clips

SR = 8000
SECONDS = 10


def _source(path, subtype="PCM_16", fmt=None, channels=2):
    """A recording whose samples say where they are: channel 0 counts up, channel 1 down."""
    i = np.arange(SR * SECONDS)
    ramp = ((i % 20000) - 10000).astype(np.int16)
    data = np.stack([ramp, -ramp], axis=1)[:, :channels]
    sf.write(path, data, SR, subtype=subtype, format=fmt)
    return sf.read(path, dtype="int16", always_2d=True)[0]


SELECTIONS = [(1.0, 2.0, 0.7), (5.0, 6.0, 0.95), (0.2, 0.5, 0.8), (9.5, 10.0, 0.6)]


def test_clips_are_the_padded_frames_of_the_best_detections(tmp_path, monkeypatch):
    src = tmp_path / "rec" / "20190721_192255.WAV"
    src.parent.mkdir()
    ref = _source(src)
    requested = []
    read = sf.SoundFile.read

    def spy(self, frames=-1, *args, **kwargs):
        requested.append(frames)
        return read(self, frames, *args, **kwargs)

    monkeypatch.setattr(sf.SoundFile, "read", spy)
    prefix = clip_prefixes([str(src)], tmp_path / "clips")[str(src)]
    assert prefix == str(tmp_path / "clips" / "20190721_192255")
    paths = write_clips(src, SELECTIONS, prefix=prefix, top=3)
    assert [os.path.basename(p) for p in paths] == [
        "20190721_192255_5.000s_0.950.wav", "20190721_192255_0.200s_0.800.wav",
        "20190721_192255_1.000s_0.700.wav"]
    spans = [(4.5, 6.5), (0.0, 1.0), (0.5, 2.5)]  # padded by 0.5 s, cut at the file start
    assert requested == [round((b - a) * SR) for a, b in spans]  # only the clips' frames
    for path, (a, b) in zip(paths, spans, strict=True):
        info = sf.info(path)
        assert (info.samplerate, info.channels, info.subtype) == (SR, 2, "PCM_16")
        clip = sf.read(path, dtype="int16", always_2d=True)[0]
        np.testing.assert_array_equal(clip, ref[round(a * SR):round(b * SR)])
    last = write_clips(src, SELECTIONS, prefix=prefix, top=10, pad_s=1.0)
    assert len(last) == 4 and last[-1].endswith("_9.500s_0.600.wav")
    np.testing.assert_array_equal(sf.read(last[-1], dtype="int16", always_2d=True)[0],
                                  ref[round(8.5 * SR):])  # cut at the file end
    assert sorted(os.listdir(tmp_path / "clips")) == sorted(os.path.basename(p) for p in last)


@pytest.mark.parametrize(("fmt", "subtype", "want"), [
    ("FLAC", "PCM_24", "PCM_24"), ("WAV", "FLOAT", "FLOAT"), ("OGG", "VORBIS", "PCM_16")])
def test_clip_keeps_the_source_format_when_wav_can(tmp_path, fmt, subtype, want):
    src = tmp_path / f"take.{fmt.lower()}"
    _source(src, subtype=subtype, fmt=fmt, channels=1)
    (path,) = write_clips(src, [(2.0, 3.0, 0.9)], prefix=tmp_path / "c" / "take", top=1)
    info = sf.info(path)
    assert (info.format, info.subtype, info.samplerate, info.channels) == ("WAV", want, SR, 1)
    assert info.frames == 2 * SR
    if fmt == "FLAC":  # lossless: the very samples
        ref = sf.read(src, dtype="int32")[0]
        np.testing.assert_array_equal(sf.read(path, dtype="int32")[0],
                                      ref[round(1.5 * SR):round(3.5 * SR)])


def test_stale_clips_are_replaced_and_names_are_safe(tmp_path):
    src = tmp_path / "site 1$take.wav"
    _source(src, channels=1)
    prefix = tmp_path / "c" / "site 1$take"
    first = write_clips(src, SELECTIONS, prefix=prefix, top=2)
    assert [os.path.basename(p) for p in first] == ["site_1_take_5.000s_0.950.wav",
                                                    "site_1_take_0.200s_0.800.wav"]
    other = tmp_path / "c" / "site_1_take_2_1.000s_0.500.wav"  # another file's clip
    other.write_bytes(b"keep")
    assert write_clips(src, [(3.0, 4.0, 0.51)], prefix=prefix) == [
        str(tmp_path / "c" / "site_1_take_3.000s_0.510.wav")]
    assert sorted(os.listdir(tmp_path / "c")) == ["site_1_take_2_1.000s_0.500.wav",
                                                  "site_1_take_3.000s_0.510.wav"]
    assert write_clips(src, [], prefix=prefix) == []  # no detection now: no clip
    assert os.listdir(tmp_path / "c") == ["site_1_take_2_1.000s_0.500.wav"]


def test_clip_helpers_and_errors(tmp_path):
    assert clip_name("a b", 0.0, 1.0) == "a_b_0.000s_1.000.wav"
    assert top_selections(SELECTIONS, 0) == []
    assert top_selections([(3, 4, 0.5), (1, 2, 0.5)], 5) == [(1, 2, 0.5), (3, 4, 0.5)]
    src = tmp_path / "a.wav"
    _source(src, channels=1)
    with pytest.raises(ScatterError, match="top must be a non-negative integer; got -1"):
        write_clips(src, SELECTIONS, prefix=tmp_path / "a", top=-1)
    with pytest.raises(ScatterError, match="pad_s must be a number of seconds >= 0; got -0.5"):
        write_clips(src, SELECTIONS, prefix=tmp_path / "a", pad_s=-0.5)
    with pytest.raises(ScatterError, match=r"0 <= begin_s <= end_s .*got \(2, 1, 0.5\)"):
        write_clips(src, [(2, 1, 0.5)], prefix=tmp_path / "a")
    with pytest.raises(ScatterError, match=r"triples; got \(1, 2\)"):
        write_clips(src, [(1, 2)], prefix=tmp_path / "a")
    with pytest.raises(ScatterError, match="missing.wav.*cannot cut clips"):
        write_clips(tmp_path / "missing.wav", SELECTIONS, prefix=tmp_path / "m")
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
