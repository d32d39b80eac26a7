"""Every voice at the same level, the noisy one cleaned: checked on the broadcast file itself.

The programme of issue 21: a host link at -12 LUFS, a second one at -36 LUFS buried in noise at
10 dB SNR, two testimony excerpts and a jingle; built, then the broadcast WAV is decoded and each
item's stretch measured with an independent meter (pyloudnorm).
"""
from __future__ import annotations

import numpy as np
import pyloudnorm
import pytest

from archive.audio import decode, encode
from sound.filters import SpeechFilters
from sound.level import Rider, ride
from sound.meter import Profiler
from studio.episode import build_episode
from studio.voices import MAX_BOOST_DB, SPEECH_LUFS
from tests.conftest import speechlike
from tests.sound.helpers import babble, espeak, mix, pink_noise, segmental_si_snr
from tests.studio.test_episode import RATE, asset_path, studio_files, write_rundown  # noqa: F401

EDGE_S = 0.5  # fades and crossfades left out of each item's measured stretch
LOUD_TEXT = ("Bonjour à toutes et à tous, bienvenue dans Démystification du mieux-être ailleurs, "
             "l'émission qui donne la parole à celles et ceux qui sont revenus.")
NOISY_TEXT = ("Nous sommes à l'aéroport de Bamako, où les avions de rapatriés arrivent chaque semaine; "
              "écoutons ce que les voyageurs ont à nous dire.")


def at_lufs(signal: np.ndarray, lufs: float) -> np.ndarray:
    meter = pyloudnorm.Meter(RATE)
    return pyloudnorm.normalize.loudness(signal.astype(np.float64), meter.integrated_loudness(signal), lufs).astype(np.float32)


def lufs(signal: np.ndarray) -> float:
    return pyloudnorm.Meter(RATE).integrated_loudness(signal.astype(np.float64))


def stretch(programme: np.ndarray, entry: dict) -> np.ndarray:
    start, end = entry["start"] + EDGE_S, entry["start"] + entry["duration"] - EDGE_S
    return programme[int(start * RATE):int(end * RATE)]


def aligned(estimate: np.ndarray, reference: np.ndarray, search: int = 4800) -> np.ndarray:
    """``estimate`` shifted to line up with ``reference`` (cross-correlation over +-100 ms)."""
    window = reference[:RATE * 4]
    scores = [np.dot(estimate[lag:lag + window.size], window) for lag in range(search)]
    lag = int(np.argmax(scores))
    return estimate[lag:lag + reference.size]


def airport_noise(samples: int) -> np.ndarray:
    """Ventilation and engines (pink noise), a far-off crowd (babble, 12 dB under) and 50 Hz mains hum.
    The crowd stays low: DeepFilterNet keeps other voices, rightly, as speech."""
    t = np.arange(samples) / RATE
    hum = sum(np.sin(2 * np.pi * 50 * k * t) / k for k in (1, 2, 3))
    pink = pink_noise(samples, seed=3)
    crowd = babble(samples, RATE, seed=4)
    crowd *= 10 ** (-12 / 20) * np.std(pink) / np.std(crowd)
    return (pink + crowd + 0.3 * np.std(pink) * hum).astype(np.float32)


@pytest.fixture(scope="module")
def voices_programme(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("voices")
    loud, clean = espeak(LOUD_TEXT, RATE, tmp), espeak(NOISY_TEXT, RATE, tmp)
    if loud is None:
        pytest.skip("espeak-ng is not installed (apt install espeak-ng): no speech to build the programme from")
    noise = airport_noise(clean.size)
    noisy = mix(clean, noise, 10.0)
    gain = 10 ** ((-36.0 - lufs(noisy)) / 20)
    return {"loud": at_lufs(loud, -12.0), "noisy": noisy * gain, "clean": clean * gain}


@pytest.fixture
def built_voices(archive, seed_testimony, studio_files, voices_programme):  # noqa: F811
    encode(voices_programme["loud"], studio_files / "sons" / "fort.wav", rate=RATE, fmt="wav32")
    encode(voices_programme["noisy"], studio_files / "sons" / "aeroport.wav", rate=RATE)
    first, second = seed_testimony(seconds=6.0), seed_testimony(seconds=5.0)
    items = [{"type": "jingle", "file": "sons/jingle.flac", "title": "Générique"},
             {"type": "host", "file": "sons/fort.wav", "title": "Lancement"},
             {"type": "excerpt", "testimony": first, "title": "Première voix"},
             {"type": "host", "file": "sons/aeroport.wav", "title": "Aéroport"},
             {"type": "excerpt", "testimony": second, "title": "Deuxième voix"}]
    result = build_episode(archive, write_rundown(studio_files, items, music_level=-3))
    programme = decode(asset_path(archive, result.episode_id, "broadcast"), rate=RATE, channels=2)
    with archive.session() as session:
        from archive.models import Episode

        cue = session.get(Episode, result.episode_id).cue
    return result, programme, {entry["title"]: entry for entry in cue}


def test_speech_items_within_3_lu_and_music_where_the_rundown_sets_it(built_voices, voices_programme):
    result, programme, cue = built_voices
    before = [lufs(voices_programme["loud"]), lufs(voices_programme["noisy"])]
    assert before[0] - before[1] > 23  # the inputs really are 24 LU apart
    speech = {title: lufs(stretch(programme, cue[title]))
              for title in ("Lancement", "Première voix", "Aéroport", "Deuxième voix")}
    print("speech items on air (LUFS):", {k: round(v, 1) for k, v in speech.items()})
    assert max(speech.values()) - min(speech.values()) <= 3.0, speech
    jingle = lufs(stretch(programme, cue["Générique"]))
    assert jingle - np.median(list(speech.values())) == pytest.approx(-3.0, abs=1.0)
    items = {item["title"]: item for item in result.loudness["items"]}
    assert items["Aéroport"]["cleaned"] and items["Lancement"]["cleaned"]
    assert items["Première voix"]["cleaned"]  # no cleaned copy of that testimony: its rendition is raw
    assert not [flag for flag in result.loudness["flags"] if "trop faible" in flag]


def test_the_noisy_link_is_at_least_5_db_cleaner_on_air(built_voices, voices_programme):
    _, programme, cue = built_voices
    entry = cue["Aéroport"]
    clean, noisy = voices_programme["clean"], voices_programme["noisy"]
    start = int(entry["start"] * RATE)
    reference = SpeechFilters(RATE).filter(clean)  # the cleanup's filters change the source on purpose
    on_air = aligned(programme[start:start + clean.size + 4800].mean(axis=1), reference)  # (their phase too)
    inner = slice(int(EDGE_S * RATE), clean.size - int(EDGE_S * RATE))
    # segmental (1 s windows): the leveler's slow gain changes are not noise, a global SI-SNR would count them
    before = segmental_si_snr(noisy[inner], clean[inner], RATE)
    after = segmental_si_snr(on_air[inner], reference[inner], RATE)
    assert before == pytest.approx(10.0, abs=1.5)
    print(f"segmental SI-SNR of the noisy link: {before:.1f} dB in, {after:.1f} dB on air")
    assert after >= before + 5.0, (before, after)


def test_a_far_too_quiet_item_is_flagged_not_silently_boosted(archive, studio_files):  # noqa: F811
    voice = speechlike(6.0, RATE, seed=8, f0=150)
    encode(at_lufs(voice, SPEECH_LUFS - MAX_BOOST_DB - 8), studio_files / "sons" / "lointain.wav", rate=RATE,
           fmt="wav32")
    encode(at_lufs(speechlike(6.0, RATE, seed=9, f0=120), -20.0), studio_files / "sons" / "proche.wav", rate=RATE)
    items = [{"type": "host", "file": "sons/proche.wav", "title": "Proche", "clean": False},
             {"type": "host", "file": "sons/lointain.wav", "title": "Lointain", "clean": False}]
    result = build_episode(archive, write_rundown(studio_files, items))
    flags = result.loudness["flags"]
    assert len(flags) == 1 and flags[0].startswith("Lointain : niveau trop faible") and "20 dB" in flags[0]
    items = {item["title"]: item for item in result.loudness["items"]}
    assert items["Lointain"]["gain_db"] == pytest.approx(MAX_BOOST_DB)
    assert not items["Lointain"]["cleaned"] and not items["Proche"]["cleaned"]


def test_the_leveler_evens_soft_and_loud_passages_and_leaves_pauses():
    rate = 16000
    voice = speechlike(24.0, rate, seed=3)
    envelope = np.ones(voice.size, np.float32)
    envelope[8 * rate:16 * rate] = 10 ** (-12 / 20)  # the witness turns away from the phone
    pause = slice(19 * rate, 21 * rate)
    signal = voice * envelope
    signal[pause] = np.random.default_rng(1).normal(0, 1e-4, pause.stop - pause.start)
    profiler = Profiler(rate)
    profiler.feed(signal)
    leveled = Rider(ride(profiler.result()), rate).process(signal)
    meter = pyloudnorm.Meter(rate)
    gap = lambda x: meter.integrated_loudness(x[2 * rate:6 * rate]) - meter.integrated_loudness(x[10 * rate:14 * rate])
    assert gap(signal) == pytest.approx(12.0, abs=0.5)
    assert gap(leveled) < 6.5  # the soft passage lifted and the loud one lowered: half the gap or less
    pause_gain = np.abs(leveled[pause]).max() / np.abs(signal[pause]).max()
    assert 20 * np.log10(pause_gain) < 6.5  # the pause gets the gain of the speech around it, not more
