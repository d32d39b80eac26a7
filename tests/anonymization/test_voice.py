"""Voice disguise: the signal processing itself, its keying and modes, and its strength on real speakers.

v4 (the source-filter disguise the pipeline runs) first; the v3 transform and the McAdams baseline
stay in anonymization.voice as what the benchmark compares against, and keep their own tests below."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy.linalg import solve_toeplitz
from scipy.signal import lfilter

from archive.audio import decode
from anonymization import voice
from tests.conftest import speechlike


def test_lpc_roots_and_filters_match_reference_implementations():
    frames = voice._frames(np.concatenate([speechlike(1.0, seed=2).astype(float), np.zeros(320)]))[:40]
    frames = frames * voice._sqrt_hann()
    a = voice.lpc(frames)
    r = np.array([np.correlate(f, f, "full")[len(f) - 1:len(f) + 20] for f in frames])
    r *= np.exp(-0.5 * (2 * np.pi * 60 / voice.RATE * np.arange(21)) ** 2)
    r[:, 0] = r[:, 0] * (1 + 1e-9) + 1e-12
    for i in (5, 20, 35):
        assert np.allclose(a[i, 1:], solve_toeplitz(r[i, :20], -r[i, 1:21]), atol=1e-6)
        assert np.allclose(np.sort_complex(voice.roots(a)[i]), np.sort_complex(np.roots(a[i])), atol=1e-6)
        assert np.allclose(voice.all_pole(frames[i:i + 1], a[i:i + 1])[0], lfilter([1], a[i], frames[i]))
    assert np.allclose(voice.poly(voice.roots(a)), a, atol=1e-9)


def test_mcadams_with_alpha_one_is_the_identity():
    x = speechlike(2.0, seed=1)
    frames = voice._frames(np.concatenate([np.zeros(160), x.astype(float), np.zeros(480)])) * voice._sqrt_hann()
    a = voice.lpc(frames)
    assert np.allclose(voice.all_pole(voice.fir(frames, a), voice.poly(voice.warp_poles(voice.roots(a), 1.0))),
                       frames, atol=1e-7)
    assert np.allclose(voice.mcadams(x, 1.0), x, atol=1e-6)  # framing + overlap-add reconstruct exactly


def test_pole_warp_moves_angles_keeps_magnitudes_and_conjugates():
    poles = np.array([[0.9 * np.exp(0.3j), 0.9 * np.exp(-0.3j), 0.5 + 0j, -0.4 + 0j]])
    warped = voice.warp_poles(poles, 0.7)
    assert np.allclose(np.abs(warped), np.abs(poles))
    assert np.isclose(np.angle(warped[0, 0]), 0.3 ** 0.7) and np.isclose(warped[0, 1], np.conj(warped[0, 0]))
    assert np.allclose(warped[0, 2:], poles[0, 2:])


def test_keys_come_from_secret_and_internal_key():
    key = voice.VoiceKey.derive("secret", "internal-1")
    assert key == voice.VoiceKey.derive("secret", "internal-1")
    assert key != voice.VoiceKey.derive("other secret", "internal-1")
    alphas = {voice.VoiceKey.derive("secret", f"internal-{i}").alpha for i in range(200)}
    assert len(alphas) == 200 and min(alphas) >= 0.5 and max(alphas) <= 0.9
    assert min(alphas) < 0.55 and max(alphas) > 0.85  # spread over the whole range
    assert "0." not in repr(key) and "0." not in str(key)  # never printed


def test_block_processing_matches_whole_signal_processing():
    x = speechlike(7.0, seed=5)
    whole = voice.mcadams(x, 0.7)
    chunks = [x[i:i + 3000] for i in range(0, len(x), 3000)]
    streamed = np.concatenate(list(voice.blockwise(chunks, lambda s: voice.mcadams(s, 0.7), block=16000, margin=320)))
    assert np.allclose(streamed, whole, atol=1e-6)
    key = voice.VoiceKey.derive("s", "a")
    long = np.concatenate(list(voice.disguise_stream(chunks, key, block_s=2.0)))
    assert len(long) == len(x) and np.abs(long).max() <= 1.0
    assert np.sqrt(np.mean(long ** 2)) == pytest.approx(np.sqrt(np.mean(x ** 2)), rel=0.35)  # level kept


def _harmonic(f0: float, seconds: float = 2.0, tilt: float = 1.0) -> np.ndarray:
    """A voiced sound with a slow ±4 % vibrato and harmonic amplitudes k^-tilt."""
    t = np.arange(int(seconds * voice.RATE)) / voice.RATE
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.04 * np.sin(2 * np.pi * 3 * t))) / voice.RATE
    harmonics = range(1, int(7000 / (1.04 * f0)))  # all below Nyquist
    x = sum(np.sin(k * phase) / k ** tilt for k in harmonics)
    return (0.3 * x / np.abs(x).max()).astype(np.float32)


def _median_f0(y: np.ndarray) -> float:
    measured, _ = voice.pyworld().dio(y.astype(np.float64), voice.RATE, frame_period=10.0)
    return float(np.median(measured[measured > 0]))


def test_world_transform_normalizes_the_speakers_register_to_the_keyed_target():
    """A low and a high voice come out at the same keyed register: the speaker's own mean F0 is
    discarded, not shifted (a shift would keep the 120 Hz / 210 Hz difference)."""
    key = voice.VoiceKey.derive("s", "register")
    low, high = (voice.world_transform(_harmonic(f0), key) for f0 in (120.0, 210.0))
    assert _median_f0(low) == pytest.approx(key.f0_mean, rel=0.05)
    assert _median_f0(high) == pytest.approx(key.f0_mean, rel=0.05)
    other = voice.VoiceKey.derive("s", "another register")
    assert abs(other.f0_mean - key.f0_mean) > 5  # (these two keys do differ)
    assert _median_f0(voice.world_transform(_harmonic(120.0), other)) == pytest.approx(other.f0_mean, rel=0.05)


def _long_term_spectrum_db(y: np.ndarray) -> np.ndarray:
    frames = voice._frames(np.asarray(y, dtype=np.float64)) * np.hanning(voice.FRAME)
    power = np.mean(np.abs(np.fft.rfft(frames, axis=1)) ** 2, axis=0)
    bands = np.array_split(power[4:128], 12)  # 200 Hz - 6.4 kHz in 12 bands
    db = 10 * np.log10([band.mean() for band in bands])
    return db - db.mean()


def test_world_transform_replaces_the_long_term_envelope_by_the_keyed_target():
    """Two timbres (a dark and a bright voice) come out with nearly the same long-term spectrum."""
    key = voice.VoiceKey.derive("s", "timbre")
    dark, bright = _harmonic(150.0, tilt=2.0), _harmonic(150.0, tilt=0.5)
    before = np.abs(_long_term_spectrum_db(dark) - _long_term_spectrum_db(bright)).mean()
    out_dark, out_bright = voice.world_transform(dark, key), voice.world_transform(bright, key)
    after = np.abs(_long_term_spectrum_db(out_dark) - _long_term_spectrum_db(out_bright)).mean()
    assert before > 6.0  # the inputs differ by several dB per band
    assert after < before / 4, (before, after)


def _speaker_deviations(content: np.ndarray, mixing: np.ndarray) -> np.ndarray:
    """Log-envelope deviations (frames × 257 bins) of one "speaker": the shared phonetic content
    (frames × 40 latent values) seen through the speaker's own correlations between cepstral terms."""
    from scipy.fft import idct

    cepstrum = np.zeros((len(content), voice.SYNTHESIS_BINS))
    cepstrum[:, :voice.CEPSTRAL_TERMS] = content @ mixing * voice.target_cepstral_spread()
    return idct(cepstrum, type=2, norm="ortho", axis=1)


def test_envelope_whitening_gives_every_speaker_the_same_covariance_and_keeps_the_content():
    """Two speakers saying the same thing differ by how their resonances move together (the
    covariance of the envelope's cepstral terms). After whitening both have the fixed target
    covariance, and the same content gives nearly the same deviations again."""
    from scipy.fft import dct

    rng = np.random.default_rng(11)
    terms = voice.CEPSTRAL_TERMS
    content = rng.normal(size=(4000, terms))
    speakers = [np.eye(terms) + 0.05 * rng.normal(size=(terms, terms)) for _ in range(2)]
    before = [_speaker_deviations(content, mixing) for mixing in speakers]
    everyone = np.ones(len(content), dtype=bool)
    after = [voice.whiten_deviations(deviation, everyone) for deviation in before]

    def covariance(deviation):
        cepstrum = dct(deviation, type=2, norm="ortho", axis=1)[:, :terms]
        return np.cov(cepstrum / voice.target_cepstral_spread(), rowvar=False)

    def mismatch(a, b):
        return np.linalg.norm(a - b) / np.linalg.norm(b)

    def distance(a, b):
        return np.linalg.norm(a - b) / np.linalg.norm(a)

    assert mismatch(covariance(before[0]), covariance(before[1])) > 0.3  # the speakers do differ
    assert max(mismatch(covariance(deviation), np.eye(terms)) for deviation in after) < 0.03
    # the content stays: unrelated deviations would be √2 apart
    assert distance(after[0], after[1]) < distance(before[0], before[1]) < 0.6
    assert distance(after[0], voice.whiten_deviations(before[0][::-1], everyone)) > 1.3


def _band_statistics_db(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per band (200 Hz - 6.4 kHz, 12 bands), over the louder 70 % of the frames: long-term mean
    level and its frame-to-frame spread."""
    frames = voice._frames(np.asarray(y, dtype=np.float64)) * np.hanning(voice.FRAME)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    bands = 10 * np.log10(np.stack([band.mean(axis=1) for band in np.array_split(power[:, 4:128], 12, axis=1)], 1))
    bands = bands[bands.max(axis=1) >= np.quantile(bands.max(axis=1), 0.3)]
    mean = bands.mean(axis=0)
    return mean - mean.mean(), bands.std(axis=0)


def test_output_step_replaces_the_long_term_spectrum_and_its_spread():
    """What WORLD's synthesis leaves of a voice's long-term spectrum and of how much each band
    varies is set to the key's target on the output itself: two recordings differing in both come
    out alike."""
    rng = np.random.default_rng(3)
    t = np.arange(4 * voice.RATE) / voice.RATE
    noise = rng.normal(size=t.size)
    syllables = np.sin(2 * np.pi * 3 * t) * np.sqrt(2)  # level swings of unit standard deviation
    dark = lfilter([1.0], [1.0, -0.9], noise) * 10 ** (11 * syllables / 20)  # ± 11 dB
    bright = np.diff(noise, prepend=0.0) * 10 ** (20 * syllables / 20)  # ± 20 dB
    key = voice.VoiceKey.derive("s", "output")
    (mean_a, spread_a), (mean_b, spread_b) = _band_statistics_db(dark), _band_statistics_db(bright)
    out = [voice.normalize_output_spectrum(x, key) for x in (dark, bright)]
    (out_mean_a, out_spread_a), (out_mean_b, out_spread_b) = (_band_statistics_db(y) for y in out)
    assert np.abs(mean_a - mean_b).mean() > 8 and np.abs(spread_a - spread_b).mean() > 2
    assert np.abs(out_mean_a - out_mean_b).mean() < 2.5
    assert np.abs(out_spread_a - out_spread_b).mean() < np.abs(spread_a - spread_b).mean() / 3
    assert len(out[0]) == len(dark)


def _equal_error_rate(embeddings, speakers) -> float:
    scores = voice.cosine_scores(embeddings, embeddings, np.mean(embeddings, axis=0))
    pairs = np.triu_indices(len(embeddings), 1)
    return voice.equal_error_rate(scores[pairs], np.equal.outer(speakers, speakers)[pairs])


def test_v3_an_attacker_with_the_same_key_barely_separates_two_speakers(shared_media, monkeypatch):
    """v3, the lazy-informed attacker: every utterance of ../shared/media/speakers disguised with one
    key. The verifier's equal-error rate stays near chance (50 %); without the output step it
    would fall to about 20 %."""
    paths = sorted((shared_media / "speakers").glob("spk*.wav"))
    audio, speakers = [decode(p, rate=voice.RATE) for p in paths], np.array([p.name[:4] for p in paths])
    key = voice.VoiceKey.derive("test", "lazy attacker")

    def same_key_eer() -> float:
        return _equal_error_rate([voice.speaker_embedding(voice.disguise_v3(x, key)) for x in audio], speakers)

    assert _equal_error_rate([voice.speaker_embedding(x) for x in audio], speakers) < 0.1
    with_step = same_key_eer()
    monkeypatch.setattr(voice, "normalize_output_spectrum", lambda y, key: y)
    without_step = same_key_eer()
    assert with_step >= 0.35 and without_step < with_step - 0.1, (with_step, without_step)


def test_block_joins_are_click_free():
    """Blocks are normalised with their own statistics; the joins must not add a jump."""
    x = speechlike(6.0, seed=7)
    key = voice.VoiceKey.derive("s", "joins")
    y = np.concatenate(list(voice.disguise_stream([x[i:i + 4000] for i in range(0, len(x), 4000)], key, block_s=1.0)))
    step = np.abs(np.diff(y.astype(np.float64)))
    joins = np.arange(1, 6) * voice.RATE
    near = np.concatenate([step[j - 32:j + 32] for j in joins])
    assert near.max() <= 1.3 * np.percentile(step, 99.9)  # without the crossfade: 1.6×


# ------------------------------------------------------------------------------------------ v4
def test_every_mode_keeps_length_is_deterministic_and_differs_by_key():
    x = speechlike(3.0, seed=4)
    key, other = voice.VoiceKey.derive("s", "a"), voice.VoiceKey.derive("s", "b")
    outputs = {}
    for mode in voice.Mode:
        first, second = voice.disguise(x, key, mode), voice.disguise(x, key, mode)
        assert len(first) == len(x) and first.dtype == np.float32 and np.array_equal(first, second)
        assert not np.allclose(first, voice.disguise(x, other, mode), atol=1e-2)
        outputs[mode] = first
    assert not np.allclose(outputs[voice.Mode.LIGHT], outputs[voice.Mode.STRONG], atol=1e-2)


def test_pseudo_voices_stay_inside_their_modes_ranges_and_cover_both_registers():
    for mode, strength in voice.STRENGTHS.items():
        voices = [voice.pseudo_voice(voice.VoiceKey.derive("s", f"t{i}"), mode) for i in range(200)]
        low = [v for v in voices if v.f0_mean < strength.f0_high[0]]
        high = [v for v in voices if v.f0_mean >= strength.f0_high[0]]
        assert 60 < len(low) < 140 and 60 < len(high) < 140  # both registers, about half each
        assert all(strength.f0_low[0] <= v.f0_mean <= strength.f0_low[1] and v.warp < 1 for v in low)
        assert all(strength.f0_high[0] <= v.f0_mean <= strength.f0_high[1] and v.warp > 1 for v in high)
        assert all(strength.warp[0] - 1e-9 <= abs(np.log(v.warp)) <= strength.warp[1] + 1e-9 for v in voices)


def test_describe_is_json_and_gives_nothing_of_the_secret():
    import json

    key = voice.VoiceKey.derive("a secret", "label")
    described = json.dumps(voice.pseudo_voice(key, voice.DEFAULT_MODE).describe())
    assert "secret" not in described and "label" not in described
    assert all(f"{u:.6f}"[2:] not in described for u in key.draws)  # the key's raw draws stay inside


def test_v4_maps_every_speakers_register_to_the_pseudo_voice():
    """A low and a high voice come out at the key's register: the speaker's own mean F0 is
    discarded, not shifted."""
    key = voice.VoiceKey.derive("s", "register")
    target = voice.pseudo_voice(key, voice.DEFAULT_MODE)
    for f0 in (120.0, 210.0):
        assert _median_f0(voice.world_disguise(_harmonic(f0), target)) == pytest.approx(target.f0_mean, rel=0.06)


def _envelope_peak_hz(y: np.ndarray) -> float:
    frames = voice._frames(np.asarray(y, dtype=np.float64)) * np.hanning(voice.FRAME)
    power = np.mean(np.abs(np.fft.rfft(frames, 1024, axis=1)) ** 2, axis=0)
    smooth = np.convolve(power, np.hanning(41), mode="same")  # wider than the harmonics' spacing
    return float(np.argmax(smooth[20:]) + 20) * voice.RATE / 1024


def _vowel(f0: float, formant: float, seconds: float = 2.0) -> np.ndarray:
    """A harmonic voice through a single resonance at ``formant`` Hz."""
    from scipy.signal import iirpeak

    b, a = iirpeak(formant, 4.0, fs=voice.RATE)
    y = lfilter(b, a, _harmonic(f0, seconds, tilt=0.5))
    return (0.3 * y / np.abs(y).max()).astype(np.float32)


def test_v4_moves_formants_by_the_keys_warp_without_the_long_term_replacement():
    key = voice.VoiceKey.derive("s", "formant")
    for mode in voice.Mode:
        target = dataclasses.replace(voice.pseudo_voice(key, mode), ltas=False, output_step=False)
        measured = _envelope_peak_hz(voice.world_disguise(_vowel(150.0, 1200.0), target))
        assert measured == pytest.approx(1200.0 * target.warp, rel=0.06), (mode, target.warp)


def test_v4_replaces_the_long_term_envelope_by_the_keyed_target():
    """Two timbres (a dark and a bright voice) come out with nearly the same long-term spectrum,
    over the bands both contain (200 Hz - 4.8 kHz: a band a recording lacks is not boosted into
    noise). The long-term replacement alone, without the spread steps."""
    key = voice.VoiceKey.derive("s", "timbre")
    target = dataclasses.replace(voice.pseudo_voice(key, voice.DEFAULT_MODE), spread_pull=0.0, output_step=False)
    dark, bright = _harmonic(150.0, tilt=2.0), _harmonic(150.0, tilt=0.5)

    def difference(a, b):
        d = (_long_term_spectrum_db(a) - _long_term_spectrum_db(b))[:9]
        return np.abs(d - d.mean()).mean()

    before = difference(dark, bright)
    after = difference(voice.world_disguise(dark, target), voice.world_disguise(bright, target))
    assert before > 6.0 and after < before / 4, (before, after)


def test_a_loud_recording_is_not_clipped_and_a_quiet_one_keeps_its_level():
    x = speechlike(4.0, seed=8)
    loud, quiet = (0.99 * x / np.abs(x).max()).astype(np.float32), (0.05 * x / np.abs(x).max()).astype(np.float32)
    rms = lambda y: np.sqrt(np.mean(np.asarray(y, dtype=np.float64) ** 2))
    for i in range(6):
        key = voice.VoiceKey.derive("s", f"loud {i}")
        assert np.abs(voice.disguise(loud, key)).max() <= voice.PEAK_CEILING + 1e-6
        assert rms(voice.disguise(quiet, key)) == pytest.approx(rms(quiet), rel=0.02)


def test_v4_hides_who_speaks_from_the_mfcc_verifier(shared_media):
    """../shared/media/speakers, each utterance its own key (as two testimonies are): the MFCC
    verifier cannot tell whether a disguised utterance and an original come from the same speaker
    (equal-error rate ≥ 30 %; on the originals it is below 10 %)."""
    paths = sorted((shared_media / "speakers").glob("spk*.wav"))
    audio, speakers = [decode(p, rate=voice.RATE) for p in paths], np.array([p.name[:4] for p in paths])
    original = [voice.speaker_embedding(x) for x in audio]
    disguised = [voice.speaker_embedding(voice.disguise(x, voice.VoiceKey.derive("test", p.name)))
                 for x, p in zip(audio, paths)]
    assert _equal_error_rate(original, speakers) < 0.1
    scores = voice.cosine_scores(original, disguised, np.mean(original + disguised, axis=0))
    off_diagonal = ~np.eye(len(paths), dtype=bool)
    rate = voice.equal_error_rate(scores[off_diagonal], np.equal.outer(speakers, speakers)[off_diagonal])
    assert rate >= 0.3, rate
