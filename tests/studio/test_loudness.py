"""Loudness targets met on the files a radio gets, checked with an independent meter; bad input."""
from __future__ import annotations

import numpy as np
import pytest

from archive.audio import encode
from archive.errors import RundownError
from studio.episode import build_episode, plan
from tests.conftest import speechlike
from tests.studio.test_episode import RATE, asset_path, loudness_of, studio_files, write_rundown  # noqa: F401

# role -> (documented target, channels of the file): mono files at -19 LUFS (AES, docs/studio.md)
TARGETS = {"broadcast": (-23.0, 2), "podcast": (-16.0, 2), "lowband": (-19.0, 1), "lowband-opus": (-19.0, 1)}


def speech_at(seconds: float, peak: float, seed: int) -> np.ndarray:
    voice = speechlike(seconds, RATE, seed=seed, f0=140 + 20 * seed)
    return (voice / np.abs(voice).max() * peak).astype(np.float32)


def with_claps(voice: np.ndarray, every_s: float = 0.5) -> np.ndarray:
    """Full-scale 2 ms bursts (hand claps, a mic knock) over the voice: peaks the limiter must catch."""
    out = voice.copy()
    burst = np.random.default_rng(5).uniform(-1, 1, int(0.002 * RATE)).astype(np.float32)
    for start in range(0, len(out) - len(burst), int(every_s * RATE)):
        out[start:start + len(burst)] = burst * 0.99
    return out


@pytest.fixture
def loud_and_quiet(archive, seed_testimony, studio_files):  # noqa: F811
    """About 40 s: a loud host link with full-scale claps, an excerpt, a host link 30 dB down, a bed."""
    encode(with_claps(speech_at(14.0, 0.6, 1)), studio_files / "sons" / "fort.wav", rate=RATE)
    encode(speech_at(14.0, 0.03, 2), studio_files / "sons" / "faible.wav", rate=RATE)
    testimony = seed_testimony(seconds=6.0)
    items = [{"type": "jingle", "file": "sons/jingle.flac", "title": "Générique"},
             {"type": "host", "file": "sons/fort.wav", "title": "Lancement"},
             {"type": "excerpt", "testimony": testimony, "segments": [0], "title": "Voix"},
             {"type": "host", "file": "sons/faible.wav", "title": "Relance"},
             {"type": "bed", "file": "sons/nappe.ogg", "duration": 4}]
    return archive, build_episode(archive, write_rundown(studio_files, items))


def test_every_encoded_rendition_meets_its_target(loud_and_quiet):
    archive, result = loud_and_quiet
    for role, (target, channels) in TARGETS.items():
        measured, peak = loudness_of(asset_path(archive, result.episode_id, role), channels)
        assert measured == pytest.approx(target, abs=0.5), role
        assert peak <= -1.0, role
        stored = result.loudness[role]
        assert stored["measured_on"] == "file" and stored["on_target"]
        assert stored["integrated"] == pytest.approx(measured, abs=0.3), role  # the stored figure is the file's
        assert stored["true_peak"] <= -1.0


def test_problem_items_are_named(archive, studio_files):  # noqa: F811
    encode(np.zeros(RATE * 3, dtype=np.float32), studio_files / "sons" / "muet.wav", rate=RATE)
    encode(speech_at(0.3, 0.5, 3), studio_files / "sons" / "bref.wav", rate=RATE)
    items = [{"type": "host", "file": "sons/muet.wav"}, {"type": "host", "file": "sons/bref.wav"}]
    with pytest.raises(RundownError) as caught:
        plan(archive, write_rundown(studio_files, items))
    problems = caught.value.problems
    assert any(p.startswith("items[1]") and "silencieux" in p for p in problems)
    assert any(p.startswith("items[2]") and "trop court" in p for p in problems)


def test_clipped_recording_is_flagged_with_its_duration(archive, studio_files):  # noqa: F811
    voice = speech_at(4.0, 1.0, 4) * 3.0  # driven 9.5 dB over full scale, then clipped by the file
    encode(np.clip(voice, -1.0, 1.0), studio_files / "sons" / "sature.wav", rate=RATE)
    clipped_s = float((np.abs(np.clip(voice, -1, 1)) >= 0.999).sum()) / RATE
    planned = plan(archive, write_rundown(studio_files, [{"type": "host", "file": "sons/sature.wav"}]))
    assert len(planned.flags) == 1 and "saturé" in planned.flags[0]
    shown = float(planned.flags[0].split(", ")[1].split(" s")[0])
    assert shown == pytest.approx(clipped_s, rel=0.15)


def test_show_reports_the_figures_measured_on_the_files(loud_and_quiet):
    from io import StringIO

    from rich.console import Console

    from api.commands.episodes import print_loudness

    _, result = loud_and_quiet
    out = StringIO()
    print_loudness({**result.loudness, "flags": ["items[2] (Relance) : enregistrement saturé, 0.42 s écrêtées"]},
                   Console(file=out, width=200))
    text = out.getvalue()
    assert "mesurés sur les fichiers encodés" in text and "lowband-opus" in text and "0.42 s écrêtées" in text
    podcast = next(line for line in text.splitlines() if " podcast " in line)
    assert f"{result.loudness['podcast']['integrated']:.1f}" in podcast
