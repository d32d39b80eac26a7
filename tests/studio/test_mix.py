"""Timeline layout, windowed rendering with pydub, streaming loudness (pyebur128) and the limiter (pedalboard)."""
from __future__ import annotations

import numpy as np
import pyloudnorm
import pytest

from archive.audio import encode
from scipy.signal import resample_poly

from sound.filters import Limiter
from sound.meter import Meter, gain_to_db, measure
from studio.mix import Piece, gain_at, layout, render

RATE = 48000


@pytest.fixture
def sources(tmp_path):
    t = np.arange(4 * RATE) / RATE
    encode((0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), tmp_path / "a.wav", rate=RATE)
    encode(np.full(4 * RATE, 0.25, dtype=np.float32), tmp_path / "dc.wav", rate=RATE)
    return tmp_path


def test_layout_crossfades_and_ducking(sources):
    pieces = [Piece("jingle", "A", sources / "a.wav", duration=3, available=4, fade_out=0.2),
              Piece("bed", "B", sources / "dc.wav", duration=1, available=4, crossfade=0.5, duck_db=12, duck_fade=0.5,
                    fade_out=0.5),
              Piece("host", "C", sources / "a.wav", duration=2, available=4),
              Piece("silence", "S", None, duration=1),
              Piece("host", "D", sources / "a.wav", offset=1, duration=2, available=3, crossfade=0.25)]
    timeline = layout(pieces)
    assert [c["start"] for c in timeline.cue] == [0.0, 2.5, 3.5, 5.5, 6.25]
    assert timeline.duration == pytest.approx(8.25)
    jingle, bed, host, last = timeline.clips
    assert gain_at(jingle.envelope, 2500) == pytest.approx(1.0) and gain_at(jingle.envelope, 3000) == 0.0
    assert gain_at(bed.envelope, 0) == 0.0 and gain_at(bed.envelope, 500) == pytest.approx(1.0)  # crossfade in
    assert bed.length_ms == 3000  # plays on under "C"
    assert gain_at(bed.envelope, 1500) == pytest.approx(10 ** (-12 / 20))  # ducked 12 dB
    assert gain_at(bed.envelope, 3000) == 0.0
    assert last.offset_ms == 1000


def test_render_matches_envelope_in_any_window_size(sources):
    pieces = [Piece("bed", "B", sources / "dc.wav", duration=3, available=4, fade_in=1.0, fade_out=1.0)]
    timeline = layout(pieces)
    whole = np.concatenate(list(render(timeline, rate=RATE, window_ms=3000)))
    pieces_small = np.concatenate(list(render(timeline, rate=RATE, window_ms=700)))
    assert whole.shape == (3 * RATE, 2)
    # pydub steps long fades once per millisecond: cutting a fade between windows moves a step by < 0.2 %
    np.testing.assert_allclose(whole, pieces_small, atol=2e-3 * np.abs(whole).max())
    level = whole[:, 0]
    # swresample upmixes mono at -3 dB: 0.25 / sqrt(2) at full gain
    full = 0.25 / np.sqrt(2)
    assert level[int(0.5 * RATE)] == pytest.approx(full / 2, rel=0.02)
    assert level[int(1.5 * RATE)] == pytest.approx(full, rel=0.01)
    assert level[int(2.75 * RATE)] == pytest.approx(full / 4, rel=0.05)


def true_peak(signal: np.ndarray) -> float:
    return float(np.abs(resample_poly(signal, 4, 1, axis=0)).max())


def test_streaming_meter_equals_pyloudnorm():
    rng = np.random.default_rng(1)
    t = np.arange(RATE * 12) / RATE
    signal = np.stack([0.2 * np.sin(2 * np.pi * 300 * t) * (np.sin(2 * np.pi * 0.4 * t) > 0),
                       0.05 * rng.normal(size=t.size)], axis=1)
    meter = Meter(RATE, 2)
    for start in range(0, len(signal), 10_007):
        meter.feed(signal[start:start + 10_007])
    found = meter.result()
    assert found.integrated == pytest.approx(pyloudnorm.Meter(RATE).integrated_loudness(signal.copy()), abs=0.05)
    assert found.loudness_range > 0


def test_true_peak_sees_intersample_peaks():
    t = np.arange(RATE) / RATE
    signal = np.sin(2 * np.pi * RATE / 4 * t + np.pi / 4)  # samples at ±0.707, real peak 1.0
    assert np.abs(signal).max() == pytest.approx(0.7071, abs=1e-3)
    assert measure(signal, RATE).true_peak == pytest.approx(gain_to_db(true_peak(signal)), abs=0.2)
    assert measure(signal, RATE).true_peak > -0.5


def test_silence_and_short_material_have_no_loudness():
    assert measure(np.zeros(RATE * 2), RATE).integrated == float("-inf")
    assert measure(0.3 * np.ones(RATE // 4), RATE).integrated == float("-inf")


def test_limiter_keeps_true_peak_under_ceiling_and_length():
    rng = np.random.default_rng(2)
    loud = np.stack([rng.normal(0, 0.6, RATE * 3)] * 2, axis=1)
    limiter = Limiter(RATE, -1.5)
    out = np.concatenate([limiter.process(loud[i:i + 12_345]) for i in range(0, len(loud), 12_345)] + [limiter.flush()])
    assert out.shape == loud.shape
    assert gain_to_db(true_peak(out)) <= -1.5 + 0.3
    quiet = loud * 0.05
    untouched = Limiter(RATE, -1.5)
    again = np.concatenate([untouched.process(quiet), untouched.flush()])
    np.testing.assert_allclose(again, quiet, atol=1e-6)
