"""The working copy's signal: channels averaged, resampled with a real anti-alias filter."""
from pathlib import Path

import numpy as np
import pytest

from archive.audio import decode, encode, probe
from ingest.working import make_working_copy


def tone(freq: float, rate: int, seconds: float = 2.0, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def rms_dbfs(samples: np.ndarray) -> float:
    middle = samples[len(samples) // 4: -len(samples) // 4].astype(np.float64)  # away from filter edges
    return 10 * np.log10(np.mean(middle**2) + 1e-20)


@pytest.mark.parametrize("fmt", ["wav", "m4a", "flac"])
def test_stereo_is_averaged_to_mono(tmp_path, fmt):
    left, right = tone(440, 44100), np.zeros(88200, dtype=np.float32)
    source = encode(np.stack([left, right], axis=1), tmp_path / f"stereo.{fmt}", rate=44100)
    working = make_working_copy(source, tmp_path / "working.flac", rate=16000)
    samples = decode(working.path)
    assert (working.source.channels, probe(working.path).channels) == (2, 1)
    assert working.duration == pytest.approx(2.0, abs=0.05)
    assert rms_dbfs(samples) == pytest.approx(rms_dbfs(left / 2), abs=0.2)


@pytest.mark.parametrize(("freq", "kept"), [(1000, True), (7000, True), (8600, False), (12000, False)])
def test_resampling_keeps_the_band_and_filters_out_what_would_alias(tmp_path, freq, kept):
    source = encode(tone(freq, 48000), tmp_path / "tone.wav", rate=48000)
    working = make_working_copy(source, tmp_path / "working.flac", rate=16000)
    level = rms_dbfs(decode(working.path)) - rms_dbfs(tone(freq, 48000))
    assert level > -0.5 if kept else level < -90  # 8.6 kHz would fold back to 7.4 kHz


def test_the_header_check_runs_before_any_decoding(tmp_path):
    source = encode(tone(440, 16000), tmp_path / "long.wav", rate=16000)

    def refuse(info):
        assert info.duration == pytest.approx(2.0)
        raise ValueError("too long")

    with pytest.raises(ValueError, match="too long"):
        make_working_copy(source, tmp_path / "working.flac", rate=16000, check=refuse)
    assert not Path(tmp_path / "working.flac").exists()
