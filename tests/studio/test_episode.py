"""The build stage end to end: rundown -> plan -> mix -> master -> renditions and side files."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import yaml

from archive.audio import decode, encode, probe
from archive.errors import ConsentRefused, ReviewRequired, RundownError
from archive.models import Episode
from archive.testimonies import add_consent, get, withdraw
from studio.episode import build_episode, episode_asset, episode_by_ref
from scipy.signal import resample_poly
from studio.tags import read_chapters
from tests.conftest import speechlike

RATE = 48000


def tone(seconds: float, freq: float, *, stereo: bool = True, level: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    signal = (level * np.sin(2 * np.pi * freq * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 2 * t))).astype(np.float32)
    return np.stack([signal, signal], axis=1) if stereo else signal


def write_rundown(folder: Path, items: list[dict], **fields) -> Path:
    data = {"number": fields.pop("number", 7), "title": "Partir, revenir", "date": "2026-11-27",
            "description": "Deux voix sur le retour.", **fields, "items": items}
    path = folder / "episode.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def studio_files(tmp_path) -> Path:
    folder = tmp_path / "studio"
    (folder / "sons").mkdir(parents=True)
    encode(tone(3.0, 660), folder / "sons" / "jingle.flac", rate=RATE)
    encode(speechlike(5.0, RATE, seed=42, f0=180), folder / "sons" / "animation.wav", rate=RATE)
    encode(tone(12.0, 220, level=0.2), folder / "sons" / "nappe.ogg", rate=RATE)
    return folder


def standard_items(first: str, second: str) -> list[dict]:
    return [
        {"type": "jingle", "file": "sons/jingle.flac", "title": "Générique", "fade_out": 0.5},
        {"type": "host", "file": "sons/animation.wav", "title": "Présentation", "crossfade": 0.5},
        {"type": "excerpt", "testimony": first, "in": "00:00.5", "out": "00:03.5", "title": "Le départ"},
        {"type": "bed", "file": "sons/nappe.ogg", "duration": 2, "duck": 12, "fade_in": 0.5, "fade_out": 1},
        {"type": "excerpt", "testimony": second, "segments": [0], "title": "Le retour"},
        {"type": "silence", "duration": 0.5},
        {"type": "jingle", "file": "sons/jingle.flac", "title": "Fin", "crossfade": 0.25},
    ]


@pytest.fixture
def built(archive, seed_testimony, studio_files):
    first, second = seed_testimony(), seed_testimony(seconds=5.0)
    rundown = write_rundown(studio_files, standard_items(first, second))
    result = build_episode(archive, rundown)
    return archive, result, rundown, (first, second)


def asset_path(archive, episode_id: int, role: str) -> Path:
    with archive.session() as session:
        episode = session.get(Episode, episode_id)
        return archive.store.path(episode_asset(episode, role).sha256)


def loudness_of(path: Path, channels: int) -> tuple[float, float]:
    """Independent meter: pyloudnorm's public API on the whole decoded file, true peak by 4x
    oversampling (scipy)."""
    rate = probe(path).sample_rate
    samples = decode(path, rate=rate, channels=channels).astype(np.float64)
    oversampled = resample_poly(samples, 4, 1, axis=0)
    return pyloudnorm.Meter(rate).integrated_loudness(samples), 20 * np.log10(np.abs(oversampled).max())


def test_cue_sheet_matches_rundown_and_audio(built):
    archive, result, _, (first, second) = built
    with archive.session() as session:
        episode = session.get(Episode, result.episode_id)
        cue = episode.cue
        assert [c["kind"] for c in cue] == ["jingle", "host", "excerpt", "bed", "excerpt", "silence", "jingle"]
        assert [c["testimony"] for c in cue if c["kind"] == "excerpt"] == [first, second]
        # jingle 3 s; host overlaps it by 0.5 s; excerpt 3 s; bed 2 s; segment 0 of a 5 s seed
        assert cue[1]["start"] == pytest.approx(2.5)
        assert cue[2]["start"] == pytest.approx(7.5) and cue[2]["duration"] == pytest.approx(3.0)
        assert cue[3]["start"] == pytest.approx(10.5)
        assert cue[4]["start"] == pytest.approx(12.5)
        assert cue[6]["start"] == pytest.approx(cue[5]["start"] + 0.5 - 0.25, abs=1e-3)
        end = cue[-1]["start"] + cue[-1]["duration"]
        assert episode.duration == pytest.approx(end)
        assert {c.testimony.public_id for c in episode.testimonies} == {first, second}
    for role in ("broadcast", "podcast", "lowband"):
        assert probe(asset_path(archive, result.episode_id, role)).duration == pytest.approx(end, abs=0.08)


def test_renditions_formats(built):
    archive, result, *_ = built
    broadcast = probe(asset_path(archive, result.episode_id, "broadcast"))
    assert (broadcast.codec, broadcast.sample_rate, broadcast.channels) == ("pcm_s16le", 48000, 2)
    podcast = probe(asset_path(archive, result.episode_id, "podcast"))
    assert (podcast.codec, podcast.sample_rate, podcast.channels) == ("mp3float", 44100, 2) or (
        podcast.codec.startswith("mp3") and podcast.sample_rate == 44100 and podcast.channels == 2)
    lowband = probe(asset_path(archive, result.episode_id, "lowband"))
    assert lowband.codec.startswith("mp3") and lowband.channels == 1 and lowband.bitrate <= 56000


def test_loudness_targets_and_true_peak(built):
    archive, result, *_ = built
    figures = result.loudness
    for role, target, channels in (("broadcast", -23.0, 2), ("podcast", -16.0, 2), ("lowband", -19.0, 1)):
        assert figures[role]["integrated"] == pytest.approx(target, abs=0.5)
        assert figures[role]["true_peak"] <= -1.0
        measured, peak = loudness_of(asset_path(archive, result.episode_id, role), channels)
        assert measured == pytest.approx(target, abs=0.5), role
        assert peak <= -1.0 + 0.3, role  # decoded MP3 may overshoot the master by a little


def test_chapters_and_tags_read_back(built):
    from mutagen.id3 import ID3

    archive, result, *_ = built
    path = asset_path(archive, result.episode_id, "podcast")
    chapters = read_chapters(path)
    assert [c["title"] for c in chapters] == ["Générique", "Présentation", "Le départ", "Musique", "Le retour", "Fin"]
    with archive.session() as session:
        cue = [c for c in session.get(Episode, result.episode_id).cue if c["chapter"]]
    assert [c["start"] for c in chapters] == pytest.approx([c["start"] for c in cue])
    tags = ID3(str(path))
    assert str(tags["TIT2"]) == "Partir, revenir" and str(tags["TRCK"]) == "7"
    assert str(tags["TALB"]) == "Démystification du mieux-être ailleurs"
    assert tags.getall("APIC")[0].data.startswith(b"\x89PNG")
    assert tags.getall("CTOC")[0].child_element_ids == [c["id"] for c in chapters]
    data = json.loads(asset_path(archive, result.episode_id, "chapters").read_text())
    assert [c["title"] for c in data["chapters"]] == [c["title"] for c in chapters]


def test_transcript_offsets(built):
    import srt
    import webvtt

    archive, result, *_ = built
    doc = json.loads(asset_path(archive, result.episode_id, "transcript-json").read_text())
    first, second = doc["segments"]
    # seed segment 0.25..3.75 s (4 s seed); excerpt 1 plays source 0.5..3.5 from 7.5 s on the programme:
    # the segment is cut to the excerpt on both sides
    assert first["startTime"] == pytest.approx(7.5)
    assert first["endTime"] == pytest.approx(7.5 + 3.0)
    # excerpt 2 is segment 0 alone (0.25..4.75 s of a 5 s seed): it fills the whole excerpt
    assert second["startTime"] == pytest.approx(12.5)
    assert second["endTime"] == pytest.approx(12.5 + 4.5)
    assert first["speaker"].startswith("Témoin")
    subs = list(srt.parse(asset_path(archive, result.episode_id, "transcript-srt").read_text()))
    assert subs[1].start.total_seconds() == pytest.approx(12.5)
    captions = webvtt.read(str(asset_path(archive, result.episode_id, "transcript-vtt")))
    assert len(captions) == 2 and "Kayes" in captions[0].text  # the seed's "redacted" text as given


def test_rebuild_is_skipped_then_byte_identical(built):
    archive, result, rundown, _ = built
    again = build_episode(archive, rundown)
    assert not again.built and again.episode_id == result.episode_id
    before = {role: asset_path(archive, result.episode_id, role).name
              for role in ("broadcast", "podcast", "lowband", "lowband-opus", "transcript-vtt", "shownotes-md")}
    forced = build_episode(archive, rundown, force=True)
    assert forced.built
    after = {role: asset_path(archive, result.episode_id, role).name for role in before}
    assert after == before  # content addresses: the same sha256, byte for byte


def test_a_changed_rebuild_releases_the_previous_files(built):
    from sqlalchemy import select

    from archive.models import MediaAsset

    archive, result, rundown, (first, second) = built
    old = asset_path(archive, result.episode_id, "podcast")  # its ID3 tags carry the title
    data = yaml.safe_load(rundown.read_text(encoding="utf-8"))
    data["title"] = "Partir, revenir (nouvelle version)"
    rundown.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert build_episode(archive, rundown).built
    assert not old.exists()
    with archive.session() as session:
        expected = set(session.scalars(select(MediaAsset.sha256)))
    assert archive.store.verify(expected).ok  # nothing missing, no orphan left behind


# --- refusals --------------------------------------------------------------------------------

def test_no_broadcast_consent_refused(archive, seed_testimony, studio_files):
    refused = seed_testimony(consent={"archive": True, "broadcast": False, "online": False})
    rundown = write_rundown(studio_files, [{"type": "excerpt", "testimony": refused}], public=False)
    with pytest.raises(ConsentRefused) as caught:
        build_episode(archive, rundown)
    assert not isinstance(caught.value, ReviewRequired)
    assert "diffusion radio refusée" in str(caught.value)


def test_not_approved_needs_review(archive, seed_testimony, studio_files):
    pending = seed_testimony(approved=False)
    rundown = write_rundown(studio_files, [{"type": "excerpt", "testimony": pending}])
    with pytest.raises(ReviewRequired):
        build_episode(archive, rundown)


def test_public_episode_needs_online_consent(archive, seed_testimony, studio_files):
    radio_only = seed_testimony(consent={"archive": True, "broadcast": True, "online": False})
    rundown = write_rundown(studio_files, [{"type": "excerpt", "testimony": radio_only}], public=True)
    with pytest.raises(ConsentRefused, match="publication en ligne"):
        build_episode(archive, rundown)
    result = build_episode(archive, rundown, public=False)  # --radio-only: allowed
    assert result.built


def test_withdrawn_refused(archive, seed_testimony, studio_files):
    gone = seed_testimony()
    with archive.session() as session:
        withdraw(session, get(session, gone), "test")
    rundown = write_rundown(studio_files, [{"type": "excerpt", "testimony": gone}])
    with pytest.raises(ConsentRefused, match="retiré"):
        build_episode(archive, rundown)


def test_consent_change_after_approval_sends_back_to_review(archive, seed_testimony, studio_files):
    changed = seed_testimony()
    with archive.session() as session:
        add_consent(session, get(session, changed), "test", identity="anonymous")
    rundown = write_rundown(studio_files, [{"type": "excerpt", "testimony": changed}])
    with pytest.raises(ReviewRequired):
        build_episode(archive, rundown)


def test_bad_rundown_lists_every_problem(archive, seed_testimony, studio_files):
    known = seed_testimony()
    rundown = write_rundown(studio_files, [
        {"type": "excerpt", "testimony": "T-999999"},
        {"type": "excerpt", "testimony": known, "in": "00:01", "out": "00:09"},
        {"type": "jingle", "file": "sons/absent.mp3"},
        {"type": "excerpt", "testimony": known, "segments": [0, 5]},
        {"type": "host", "file": "sons/animation.wav", "in": 2, "out": 60},
    ])
    with pytest.raises(RundownError) as caught:
        build_episode(archive, rundown)
    problems = caught.value.problems
    assert len(problems) == 5, problems
    assert "témoignage inconnu : T-999999" in problems[0]
    assert problems[1].startswith("items[2] : in/out hors de l'enregistrement")
    assert problems[2] == "items[3].file : fichier introuvable : sons/absent.mp3"
    assert problems[3] == "items[4] : segment(s) inconnu(s) : 5"
    assert problems[4].startswith("items[5] : in/out hors du fichier")


def test_bad_timecode_is_a_rundown_error(archive, studio_files):
    rundown = write_rundown(studio_files, [{"type": "excerpt", "testimony": "T-000001", "in": "1:75"}])
    with pytest.raises(RundownError, match=r"items\[1\]\.in : timecode invalide"):
        build_episode(archive, rundown)


def test_show_notes_french_and_free_of_sensitive_terms(archive, seed_testimony, studio_files):
    named = seed_testimony(sensitive_terms=["Kayes"], text="bonjour je viens de [LIEU]")
    anonymous = seed_testimony(consent={"archive": True, "broadcast": True, "online": True,
                                        "identity": "anonymous", "voice": "disguise"},
                               pseudonym="Moussa Traoré", text="on nous a renvoyés sans rien")
    rundown = write_rundown(studio_files, [{"type": "excerpt", "testimony": named},
                                           {"type": "excerpt", "testimony": anonymous}])
    result = build_episode(archive, rundown)
    markdown = asset_path(archive, result.episode_id, "shownotes-md").read_text()
    html = asset_path(archive, result.episode_id, "shownotes-html").read_text()
    for text in (markdown, html):
        assert "Au sommaire" in text and "Expulsion" in text
        assert "témoin anonyme" in text and "Moussa" not in text
        assert "Kayes" not in text
    with archive.session() as session:
        pseudonym = get(session, named).pseudonym
    assert pseudonym in markdown


def test_unredacted_term_in_transcript_blocks_the_build(archive, seed_testimony, studio_files):
    # a rendition whose "redacted" text still carries a sensitive term must not leave
    leaky = seed_testimony(sensitive_terms=["Kayes"], text="je suis parti de Kayes")
    rundown = write_rundown(studio_files, [{"type": "excerpt", "testimony": leaky}])
    with pytest.raises(ConsentRefused, match="terme sensible"):
        build_episode(archive, rundown)
    with archive.session() as session:
        assert session.query(Episode).count() == 0


def test_sensitive_term_in_rundown_text_refused(archive, seed_testimony, studio_files):
    known = seed_testimony(sensitive_terms=["Kayes"])
    rundown = write_rundown(studio_files, [{"type": "excerpt", "testimony": known, "title": "Retour à Kayes"}])
    with pytest.raises(RundownError, match=r"items\[1\]\.title : contient un terme sensible"):
        build_episode(archive, rundown)


def test_real_speech_from_shared_media(archive, shared_media, tmp_path, studio_files):
    from tests.studio.test_episode_helpers import approve_recording

    source = shared_media / "common_voice_fr_17299458.wav"
    public_id = approve_recording(archive, source, tmp_path, text="une phrase en français")
    rundown = write_rundown(studio_files, [{"type": "jingle", "file": "sons/jingle.flac"},
                                           {"type": "excerpt", "testimony": public_id, "crossfade": 0.3}])
    result = build_episode(archive, rundown)
    measured, peak = loudness_of(asset_path(archive, result.episode_id, "broadcast"), 2)
    assert measured == pytest.approx(-23.0, abs=0.5) and peak <= -1.0
    with archive.session() as session:
        assert episode_by_ref(session, result.slug).cue[1]["duration"] == pytest.approx(probe(source).duration, abs=0.1)
