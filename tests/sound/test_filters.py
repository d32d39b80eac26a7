"""sound.filters and clean_speech's filtering: rumble and 50 Hz mains hum."""
import numpy as np
import pytest

from sound import SpeechFilters, clean_speech, highpass, remove_hum
from tests.conftest import speechlike
from tests.sound.helpers import si_snr

RATE = 16_000


def hum(samples: int, rate: int, mains: float = 50.0) -> np.ndarray:
    """Mains hum: 50 Hz and its harmonics, as a ground loop or a charger puts on a recording."""
    t = np.arange(samples) / rate
    return sum(0.05 / k * np.sin(2 * np.pi * k * mains * t + k) for k in range(1, 6)).astype(np.float32)


def level_at(audio: np.ndarray, rate: int, hz: float) -> float:
    """Level in dB of the ``hz`` component (Hann-windowed DFT over the whole signal)."""
    t = np.arange(audio.size) / rate
    window = np.hanning(audio.size)
    return float(20 * np.log10(abs(np.sum(audio * window * np.exp(-2j * np.pi * hz * t))) + 1e-12))


@pytest.fixture(scope="module")
def voice():
    return speechlike(4.0, RATE, seed=7, f0=210.0)  # a voice whose harmonics miss 50 Hz multiples


def test_hum_is_reduced_by_20_db_at_50_100_150_hz(voice):
    humming = voice + hum(voice.size, RATE)
    cleaned = remove_hum(humming, RATE)
    for hz in (50, 100, 150):
        assert level_at(humming, RATE, hz) - level_at(cleaned, RATE, hz) >= 20, hz


def test_hum_removal_leaves_the_voice(voice):
    """Its level: the voice's harmonics that sweep across a notch lose a little there, and their
    phase turns near it (inaudible, but SI-SNR of the filtered voice is ~11 dB)."""
    kept = np.std(remove_hum(voice, RATE)) / np.std(voice)
    assert 20 * np.log10(kept) > -0.5


def test_clean_speech_removes_hum_too(voice):
    humming = voice + hum(voice.size, RATE)
    cleaned = clean_speech(humming, RATE)
    assert cleaned.shape == humming.shape
    for hz in (50, 100, 150):
        assert level_at(humming, RATE, hz) - level_at(cleaned, RATE, hz) >= 20, hz


def test_highpass_cuts_rumble_and_keeps_speech_band():
    t = np.arange(RATE * 2) / RATE
    rumble, tone = np.sin(2 * np.pi * 20 * t), np.sin(2 * np.pi * 1000 * t)
    assert level_at(rumble, RATE, 20) - level_at(highpass(rumble, RATE), RATE, 20) >= 10
    assert abs(level_at(tone, RATE, 1000) - level_at(highpass(tone, RATE), RATE, 1000)) < 0.1


def test_filters_stream_in_chunks_as_one_shot(voice):
    humming = voice + hum(voice.size, RATE)
    whole = SpeechFilters(RATE).filter(humming)
    filters = SpeechFilters(RATE)
    chunks = np.array_split(humming, [1, 100, 1234, 1235, 40_000])
    streamed = np.concatenate(list(filters.stream(chunks)))
    assert streamed.shape == humming.shape
    np.testing.assert_allclose(streamed, whole, atol=1e-6)
