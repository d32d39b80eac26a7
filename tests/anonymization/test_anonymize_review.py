"""Issue 15, item 6: what the reviewer sees and hears. Flags (weaker term matches, low-confidence
segments) are stored with the rendition and listed with their times; `kuma review audio` writes
the whole rendition exactly as it will air; approval needs a rendition whose audio exists."""
from __future__ import annotations

import json

import numpy as np
import pytest

from archive.audio import decode, probe
from archive.consent import current_rendition, preferred_transcript
from archive.errors import ReviewRequired
from archive.testimonies import get
from anonymization import stage
from anonymization.voice import RATE
from tests.anonymization.conftest import disguised_without_bleeps

CONSENT = {"archive": True, "advocacy": True, "broadcast": True, "online": True,
           "identity": "pseudonym", "voice": "disguise"}
TEXT = "bonjour je suis parti de Kayes avec fofena le soixante-seize douze trente-quatre cinquante-six merci beaucoup"


@pytest.fixture
def testimony(archive, measured_gate, seed_testimony):
    public_id = seed_testimony(consent=CONSENT, text=TEXT, approved=False, seconds=10.0,
                               sensitive_terms=["Fofana", {"term": "Kayes", "kind": "place"}])
    with archive.session() as session:
        segment = preferred_transcript(session, get(session, public_id).id).segments[0]
        segment.low_confidence = True
    return public_id


def _word(archive, public_id, text):
    with archive.session() as session:
        segment = preferred_transcript(session, get(session, public_id).id).segments[0]
        return next((w.start, w.end) for w in segment.words if w.word == text)


def test_flags_are_stored_with_the_rendition_and_listed_with_their_times(archive, testimony):
    assert stage.anonymize(archive, testimony).status == "created"
    with archive.session() as session:
        rendition = current_rendition(get(session, testimony))
        flags = stage.review_flags(session, rendition)
    by_source = {f["source"]: f for f in flags}
    assert set(by_source) == {"term", "low-confidence"}
    weak = by_source["term"]
    assert (weak["start"], weak["end"]) == pytest.approx(_word(archive, testimony, "fofena"), abs=1e-3)
    assert weak["original"] == "fofena" and "Fofana" in weak["reason"] and weak["timecode"] == "00:00:04"
    stored = next(f for f in rendition.flags if f["source"] == "term")
    assert "fofena" not in json.dumps(stored) and "«…»" in stored["context"]  # the flag does not repeat the words
    assert by_source["low-confidence"]["start"] == 0.25 and "[LIEU]" in by_source["low-confidence"]["context"]
    text = " ".join(s["text"] for s in rendition.redacted_segments)
    assert "fofena" in text  # a weaker match is flagged, not redacted


def test_review_audio_is_the_whole_rendition_with_its_bleeps(archive, testimony, tmp_path):
    archive.settings.bleep_mode = "silence"
    stage.anonymize(archive, testimony)
    with archive.session() as session:
        rendition = current_rendition(get(session, testimony))
        stored = decode(archive.store.path(rendition.audio.sha256), rate=RATE)
        written = stage.write_rendition_audio(archive, rendition, tmp_path / "écoute.wav")
        spans = [(r["start"], r["end"]) for r in rendition.redactions]
    audio = decode(written, rate=RATE)
    assert probe(written).duration == pytest.approx(len(stored) / RATE, abs=0.01)
    assert len(audio) == len(stored) and np.allclose(audio, stored, atol=1 / 32768)  # the exact rendition
    assert len(audio) / RATE > 9.5  # the whole recording, not excerpts
    pad = archive.settings.bleep_padding_ms / 1000
    assert len(spans) >= 2
    for start, end in spans:
        assert np.abs(audio[int((start - pad + 0.01) * RATE):int((end + pad - 0.01) * RATE)]).max() == 0, (start, end)
    start, end = _word(archive, testimony, "beaucoup")  # speech elsewhere stays: the disguised voice itself
    window = slice(int(start * RATE), int(end * RATE))
    unbleeped = disguised_without_bleeps(archive, testimony)
    assert np.sqrt(np.mean(unbleeped[window] ** 2)) > 1e-3
    assert np.allclose(audio[window], unbleeped[window], atol=2e-4)  # FLAC keeps 16 bits


@pytest.mark.parametrize("suffix", [".flac", ".mp3", ".ogg"])
def test_review_audio_other_formats_keep_the_duration(archive, testimony, tmp_path, suffix):
    stage.anonymize(archive, testimony)
    with archive.session() as session:
        rendition = current_rendition(get(session, testimony))
        path = stage.write_rendition_audio(archive, rendition, tmp_path / f"écoute{suffix}")
    assert len(decode(path, rate=RATE)) / RATE == pytest.approx(rendition.audio.duration, abs=0.1)


def test_review_audio_refuses_an_unknown_format(archive, testimony, tmp_path):
    from archive.errors import InputError

    stage.anonymize(archive, testimony)
    with archive.session() as session:
        with pytest.raises(InputError, match="format"):
            stage.write_rendition_audio(archive, current_rendition(get(session, testimony)), tmp_path / "x.txt")


def test_approval_needs_a_rendition_whose_audio_exists(archive, testimony):
    with archive.session() as session:
        with pytest.raises(ReviewRequired, match="kuma anonymize"):
            stage.approve(archive, session, get(session, testimony), "producer")  # nothing built yet
    stage.anonymize(archive, testimony)
    with archive.session() as session:
        sha = current_rendition(get(session, testimony)).audio.sha256
    audio_file = archive.store.path(sha)
    kept = audio_file.read_bytes()
    audio_file.unlink()
    with archive.session() as session:
        with pytest.raises(ReviewRequired, match="audio"):
            stage.approve(archive, session, get(session, testimony), "producer")
    audio_file.write_bytes(kept)
    with archive.session() as session:
        assert stage.approve(archive, session, get(session, testimony), "producer").approved_by == "producer"


def test_cli_review_audio_and_show_list_bleeps_and_flags(archive, testimony, archive_cli, tmp_path):
    cli = archive_cli
    stage.anonymize(archive, testimony)
    out_file = tmp_path / "version-entiere.wav"
    code, out, err = cli("review", "audio", testimony, "--out", out_file)
    assert code == 0, err
    assert out_file.stat().st_size > 0 and "version anonymisée entière" in out
    code, out, err = cli("review", "show", testimony, "--json", "--no-audio")
    assert code == 0, err
    shown = json.loads(out)
    assert shown["flag_count"] == 2 and {f["source"] for f in shown["flags"]} == {"term", "low-confidence"}
    assert {i["placeholder"] for i in shown["data"]} >= {"[LIEU]", "[TÉLÉPHONE]"}
    code, out, err = cli("review", "show", testimony, "--no-audio")
    assert code == 0 and "signalé" in out and "fofena" in out and "transcription peu sûre" in out, out
    code, out, err = cli("review", "audio", "T-999999", "--out", tmp_path / "x.wav")
    assert code == 4
