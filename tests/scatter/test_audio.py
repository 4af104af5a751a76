"""Tests of scatter.audio against soundfile + librosa full reads, on audio generated here."""

import os
import tracemalloc
from pathlib import Path

import librosa
import numpy as np
import pytest
import soundfile as sf

from scatter import ScatterError
from scatter.audio import (
    AudioStream,
    Framer,
    StreamResampler,
    audio_info,
    check_readable,
    find_audio,
    load,
    window_count,
)

FORMATS = {  # extension: (format, subtype)
    "wav": ("WAV", "PCM_16"),
    "flac": ("FLAC", "PCM_16"),
    "ogg": ("OGG", "VORBIS"),
    "mp3": ("MP3", "MPEG_LAYER_III"),
}


def tone(rng, n, channels=1, sr=44100):
    t = np.arange(n) / sr
    x = 0.3 * np.sin(2 * np.pi * 1000 * t)[:, None] + 0.05 * rng.standard_normal((n, channels))
    return x.astype(np.float32)


def write(path, x, sr, ext=None):
    ext = ext or os.path.splitext(str(path))[1][1:]
    fmt, subtype = FORMATS[ext]
    sf.write(str(path), x, sr, format=fmt, subtype=subtype)
    return str(path)


def reference(path, sr=None):
    """Full read: soundfile -> librosa.to_mono -> librosa.resample (soxr_hq)."""
    data, native = sf.read(path, dtype="float32", always_2d=True)
    y = librosa.to_mono(data.T) if data.shape[1] > 1 else data[:, 0]
    if sr is not None and sr != native:
        y = librosa.resample(y, orig_sr=native, target_sr=sr, res_type="soxr_hq")
    return y


# ------------------------------------------------------------------------------ discovery


@pytest.fixture
def folder(tmp_path, rng):
    x = tone(rng, 2000)
    write(tmp_path / "b.wav", x, 8000)
    write(tmp_path / "a.FLAC", x, 8000, "flac")
    write(tmp_path / "chant d'oiseau é 鳥.ogg", x, 8000)
    (tmp_path / "notes.txt").write_text("not audio")
    (tmp_path / "._b.wav").write_bytes(b"\x00\x05\x16\x07")
    (tmp_path / "dir.wav").mkdir()
    write(tmp_path / "dir.wav" / "inner.wav", x, 8000)
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    write(tmp_path / "sub" / "deeper" / "c.mp3", x, 8000)
    os.symlink(tmp_path / "b.wav", tmp_path / "link.wav")
    os.symlink(tmp_path / "missing.wav", tmp_path / "broken.wav")
    os.symlink(tmp_path, tmp_path / "sub" / "loop")  # a folder link loop
    os.mkfifo(tmp_path / "pipe.wav")
    return tmp_path


def names(files, root):
    return [os.path.relpath(f, root) for f in files]


def test_find_audio_flat(folder):
    files = find_audio(str(folder))
    assert names(files, folder) == ["a.FLAC", "b.wav", "broken.wav",
                                    "chant d'oiseau é 鳥.ogg", "link.wav"]


def test_find_audio_recursive_follows_links_once(folder):
    files = find_audio([folder], recursive=True)
    assert names(files, folder) == [
        "a.FLAC", "b.wav", "broken.wav", "chant d'oiseau é 鳥.ogg", "link.wav",
        "dir.wav/inner.wav", "sub/deeper/c.mp3"]


def test_find_audio_counts_ignored_files(folder):
    ignored = {}
    find_audio(folder, ignored=ignored)
    assert ignored == {".txt": 1}  # not AppleDouble files, folders or pipes
    (folder / "sub" / "deeper" / "x.M4A").write_bytes(b"")
    (folder / "README").write_text("")
    ignored = {}
    find_audio([folder], recursive=True, ignored=ignored)  # the folder loop is counted once
    assert ignored == {".txt": 1, ".m4a": 1, "": 1}


def test_find_audio_explicit_files_and_dedup(folder):
    files = find_audio([folder / "notes.txt", folder / "b.wav", str(folder / "b.wav"),
                        folder / "broken.wav", folder / "sub" / "deeper"], recursive=True)
    assert names(files, folder) == ["notes.txt", "b.wav", "broken.wav", "sub/deeper/c.mp3"]


def test_find_audio_errors(tmp_path):
    with pytest.raises(ScatterError, match=r"paths: no such file or folder: .*nope"):
        find_audio([tmp_path / "nope"])
    with pytest.raises(ScatterError, match="at least one"):
        find_audio([])


def test_find_audio_lists_unreadable_folder(folder, monkeypatch):
    real_scandir = os.scandir

    def scandir(path):
        if os.path.basename(os.fspath(path)) == "deeper":
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    files = find_audio(folder, recursive=True)
    assert "sub/deeper" in names(files, folder)
    with pytest.raises(ScatterError, match="is a folder"):
        check_readable(str(folder / "sub" / "deeper"))


# ------------------------------------------------------------------------------ bad files


@pytest.fixture
def bad(tmp_path, rng):
    good = write(tmp_path / "good.wav", tone(rng, 44100), 44100)
    flac = write(tmp_path / "good.flac", tone(rng, 44100), 44100)
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "header.wav").write_bytes(Path(good).read_bytes()[:30])
    (tmp_path / "random.wav").write_bytes(rng.bytes(5000))
    (tmp_path / "random.mp3").write_bytes(rng.bytes(20000))
    data = Path(flac).read_bytes()
    (tmp_path / "cut.flac").write_bytes(data[: len(data) // 2])
    (tmp_path / "x.wav").mkdir()
    os.symlink(tmp_path / "gone.wav", tmp_path / "broken.wav")
    os.mkfifo(tmp_path / "pipe.wav")
    return tmp_path


@pytest.mark.parametrize("name, message", [
    ("empty.wav", r"empty file \(0 bytes\)"),
    ("header.wav", "cannot decode audio"),
    ("random.wav", "cannot decode audio"),
    ("random.mp3", "cannot decode audio"),
    ("x.wav", "is a folder"),
    ("broken.wav", "broken symbolic link to .*gone.wav"),
    ("pipe.wav", "not a regular file"),
    ("nothere.wav", "no such file"),
])
def test_undecodable_files_raise(bad, name, message):
    path = str(bad / name)
    with pytest.raises(ScatterError, match=message):
        audio_info(path)
    with pytest.raises(ScatterError, match=message):
        list(AudioStream(path))


def test_failure_midway_raises(bad):
    with pytest.raises(ScatterError, match="cannot decode audio after"):
        list(AudioStream(str(bad / "cut.flac"), block_frames=1024))


def test_permission_denied(bad, monkeypatch):
    import scatter.audio as audio

    def deny(path, mode="r", *args, **kwargs):
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(audio, "open", deny, raising=False)
    with pytest.raises(ScatterError, match="permission denied"):
        check_readable(str(bad / "good.wav"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_permission_denied_for_real(bad):
    path = bad / "good.wav"
    os.chmod(path, 0)
    with pytest.raises(ScatterError, match="permission denied"):
        audio_info(str(path))


def test_non_finite_samples_raise(tmp_path, rng):
    x = tone(rng, 5000)
    x[3000] = np.nan
    path = str(tmp_path / "nan.wav")
    sf.write(path, x, 8000, subtype="FLOAT")
    with pytest.raises(ScatterError, match="non-finite sample .* at frame 3000"):
        list(AudioStream(path, block_frames=1024))
    assert np.isnan(list(AudioStream(path, check_finite=False))[0]).any()


def test_zero_frames_gives_no_blocks(tmp_path):
    path = str(tmp_path / "zero.wav")
    sf.write(path, np.zeros(0, np.float32), 44100)
    with AudioStream(path, sr=22050) as s:
        assert list(s) == []
        assert s.frames_read == 0
    y, sr = load(path)
    assert y.shape == (0,) and sr == 44100


# ------------------------------------------------------------------------------ decoding


@pytest.mark.parametrize("ext", sorted(FORMATS))
def test_info_and_native_stream_equal_full_read(tmp_path, rng, ext):
    path = write(tmp_path / f"a.{ext}", tone(rng, 30000, channels=2), 44100)
    info = audio_info(path)
    assert (info.sample_rate, info.channels) == (44100, 2)
    ref = reference(path)
    with AudioStream(path, block_frames=4096) as s:
        blocks = list(s)
        assert s.frames_read == len(ref)
    assert all(len(b) == 4096 for b in blocks[:-1])
    assert len(blocks) == -(-len(ref) // 4096)
    np.testing.assert_array_equal(np.concatenate(blocks), ref)


@pytest.mark.parametrize("native, target", [(44100, 22050), (48000, 22050), (8000, 22050),
                                            (192000, 22050), (44100, 16000)])
@pytest.mark.parametrize("ext", ["wav", "flac"])
def test_resampled_stream_equals_whole_file_resampling(tmp_path, rng, ext, native, target):
    path = write(tmp_path / f"a.{ext}", tone(rng, 50001, channels=3, sr=native), native)
    ref = reference(path, sr=target)
    with AudioStream(path, sr=target, block_frames=3001) as s:  # many block boundaries
        y = np.concatenate(list(s))
        assert s.samples_out == len(ref)
    assert y.dtype == np.float32 and y.shape == ref.shape
    np.testing.assert_allclose(y, ref, rtol=0, atol=1e-6)


def test_six_channels_mixdown_and_multichannel_output(tmp_path, rng):
    x = tone(rng, 9000, channels=6)
    path = str(tmp_path / "six.wav")
    sf.write(path, x, 48000, subtype="FLOAT")
    y, sr = load(path, block_frames=1000)
    np.testing.assert_array_equal(y, librosa.to_mono(x.T))
    multi, _ = load(path, mono=False, sr=16000, block_frames=1000)
    ref = librosa.resample(x.T, orig_sr=48000, target_sr=16000, res_type="soxr_hq")
    assert multi.shape == ref.shape == (6, 3000)
    np.testing.assert_allclose(multi, ref, rtol=0, atol=1e-6)


def test_one_channel_kept_as_a_channel_axis_and_resampled(tmp_path, rng):
    # mono=False keeps the channel axis for a one-channel file too, resampled like mono
    x = tone(rng, 9000)[:, 0]
    path = str(tmp_path / "one.wav")
    sf.write(path, x, 48000, subtype="FLOAT")
    multi, _ = load(path, mono=False, sr=16000, block_frames=1000)
    ref = librosa.resample(x, orig_sr=48000, target_sr=16000, res_type="soxr_hq")
    assert multi.shape == (1, 3000) == (1,) + ref.shape
    np.testing.assert_allclose(multi[0], ref, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(multi[0], load(path, sr=16000, block_frames=1000)[0])


@pytest.mark.parametrize("n", [1, 3, 7])
def test_few_samples(tmp_path, rng, n):
    path = write(tmp_path / "few.wav", tone(rng, n), 192000)
    y, sr = load(path, sr=22050)
    ref = reference(path, sr=22050)
    assert sr == 22050 and y.shape == ref.shape == (-(-n * 22050 // 192000),)
    np.testing.assert_allclose(y, ref, atol=1e-6)


def test_non_ascii_name(tmp_path, rng):
    path = write(tmp_path / "Grive musicienne – Turdus philomelos 鶫.flac", tone(rng, 800), 8000)
    np.testing.assert_array_equal(load(path)[0], reference(path))


def test_memory_does_not_grow_with_length(tmp_path, rng):
    peaks = []
    for seconds in (10, 40):
        path = str(tmp_path / f"long{seconds}.wav")
        with sf.SoundFile(path, "w", 44100, 1, subtype="PCM_16") as f:
            for _ in range(seconds):
                f.write(tone(rng, 44100))
        tracemalloc.start()
        try:
            framer = Framer(window=22050, hop=11025)
            n_windows = 0
            with AudioStream(path, sr=22050, block_frames=8192) as s:
                for block in s:
                    n_windows += sum(len(w) for _, w in framer.push(block))
            n_windows += sum(len(w) for _, w in framer.finish())
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
        assert n_windows == window_count(seconds * 22050, window=22050, hop=11025)
    # The 40 s file is 3.5 MB as float32; streaming it must stay near the 10 s file's peak.
    assert peaks[1] < 1.3 * peaks[0] + 100_000
    assert peaks[1] < 1_000_000


def test_stream_errors(tmp_path, rng):
    path = write(tmp_path / "a.wav", tone(rng, 100), 8000)
    with pytest.raises(ScatterError, match="block_frames must be a positive integer; got 0"):
        AudioStream(path, block_frames=0)
    with pytest.raises(ScatterError, match=r"sr must be a positive integer; got -5"):
        AudioStream(path, sr=-5)


# ------------------------------------------------------------------------------ resampler


@pytest.mark.parametrize("channels", [1, 2])
def test_stream_resampler_random_chunks(rng, channels):
    x = rng.standard_normal((channels, 20011)).astype(np.float32) * 0.1
    x = x[0] if channels == 1 else x
    rs = StreamResampler(44100, 16000, channels=channels)
    cuts = np.sort(rng.choice(np.arange(1, 20011), size=25, replace=False))
    parts = [rs.process(p) for p in np.split(x, cuts, axis=-1)]
    parts.append(rs.process(x[..., :0], last=True))
    y = np.concatenate(parts, axis=-1)
    ref = librosa.resample(x, orig_sr=44100, target_sr=16000, res_type="soxr_hq")
    assert y.shape == ref.shape
    np.testing.assert_allclose(y, ref, atol=1e-6)
    with pytest.raises(ScatterError, match="after last=True"):
        rs.process(x)


def test_stream_resampler_shape_errors():
    with pytest.raises(ScatterError, match=r"x must have shape \(2, n\).*got shape \(5,\)"):
        StreamResampler(8000, 16000, channels=2).process(np.zeros(5, np.float32))
    with pytest.raises(ScatterError, match=r"shape \(n,\) or \(1, n\).*got shape \(2, 5\)"):
        StreamResampler(8000, 16000).process(np.zeros((2, 5), np.float32))
    with pytest.raises(ScatterError, match="orig_sr must be a positive integer; got 0"):
        StreamResampler(0, 16000)


# ------------------------------------------------------------------------------ windows


def frames_reference(x, window, hop):
    """Windows every ``hop`` samples; the final one holds the last ``window`` samples."""
    n = window_count(len(x), window=window, hop=hop)
    starts = [k * hop for k in range(n)]
    if n and len(x) >= window:
        starts[-1] = len(x) - window
    padded = np.zeros(max(len(x), window), np.float32)
    padded[: len(x)] = x
    return np.stack([padded[s: s + window] for s in starts]) if n else \
        np.zeros((0, window), np.float32)


def test_stream_windows_long_file_counts(tmp_path, rng):
    """Blocks and windows of a long file, checked against one full read."""
    path = str(tmp_path / "long.flac")
    x = tone(rng, 44100 * 12)
    sf.write(path, x, 44100, format="FLAC", subtype="PCM_24")
    ref = reference(path, sr=22050)
    fr = Framer(window=22050, hop=5513)
    n_blocks, windows = 0, []
    with AudioStream(path, sr=22050, block_frames=10000) as s:
        for block in s:
            n_blocks += 1
            assert len(block) <= 10000 // 2 + 1000  # bounded by the block size, not the file
            windows += [w.copy() for _, w in fr.push(block)]
    windows += [w for _, w in fr.finish()]
    assert n_blocks == -(-len(x) // 10000) + 1  # one block per read, plus the resampler's flush
    out = np.concatenate(windows)
    expected = frames_reference(ref, 22050, 5513)
    assert out.shape == expected.shape == (window_count(len(ref), window=22050, hop=5513),
                                           22050)
    np.testing.assert_allclose(out, expected, atol=1e-6)
