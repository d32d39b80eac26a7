"""The transcribe stage end to end: the real faster-whisper load and transcribe path (tiny
random-weight model), real audio, real database. Text is meaningless; structure is not."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from archive.models import AuditEvent, StageState, Transcript, Word
from archive.testimonies import get
from tests.transcripts.conftest import TEST_OPTIONS
from transcripts.engine import Engine
from transcripts.stage import Transcriber
from transcripts.versions import STAGE, transcripts_of


def _transcriber(archive, **kwargs) -> Transcriber:
    return Transcriber(archive, options=TEST_OPTIONS, actor="test", **kwargs)


def _check_timing(transcript, duration: float) -> None:
    previous = 0.0
    for segment in transcript.segments:
        assert 0.0 <= segment.start <= segment.end <= duration + 1e-6
        assert segment.start >= previous
        previous = segment.start
        word_previous = segment.start
        for word in segment.words:
            assert segment.start - 1e-6 <= word.start <= word.end <= segment.end + 1e-6
            assert word.start >= word_previous - 1e-6
            word_previous = word.start


def test_transcribes_a_testimony_end_to_end(asr_archive, ingest_testimony):
    public_id = ingest_testimony(asr_archive, seconds=12)
    result = _transcriber(asr_archive).run(public_id)
    assert result.status == "done", result.reason
    with asr_archive.session() as session:
        testimony = get(session, public_id)
        [transcript] = transcripts_of(session, testimony)
        assert (transcript.version, transcript.source, transcript.language) == (1, "asr", "fr")
        assert transcript.language_probability is None  # given by the intake, not detected
        assert transcript.model.endswith("tiny-whisper") and transcript.model_version.startswith("fw")
        assert transcript.options["vad_filter"] is True and transcript.options["condition_on_previous_text"] is False
        assert transcript.segments, "the tiny model always emits some tokens on speech-like audio"
        assert [s.idx for s in transcript.segments] == list(range(len(transcript.segments)))
        assert sum(len(s.words) for s in transcript.segments) > 0
        for segment in transcript.segments:
            assert segment.avg_logprob is not None and segment.no_speech_prob is not None
            assert segment.compression_ratio is not None and segment.temperature is not None
            # random weights: the decoder is never confident, and the flag says so
            assert segment.low_confidence
        _check_timing(transcript, testimony.duration)
        status = testimony.stage(STAGE)
        assert status.state == StageState.DONE and len(status.fingerprint) == 64
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "transcript.asr")) == 1


def test_unknown_language_is_detected_and_stored_with_probability(asr_archive, ingest_testimony):
    public_id = ingest_testimony(asr_archive, seconds=6, language=None)
    assert _transcriber(asr_archive).run(public_id).status == "done"
    with asr_archive.session() as session:
        [transcript] = transcripts_of(session, get(session, public_id))
        assert transcript.language and len(transcript.language) in (2, 3)
        assert 0.0 < transcript.language_probability <= 1.0


def test_idempotent_unless_forced(asr_archive, ingest_testimony):
    public_id = ingest_testimony(asr_archive, seconds=6)
    transcriber = _transcriber(asr_archive)
    assert transcriber.run(public_id).status == "done"
    assert transcriber.pending() == []
    assert transcriber.run(public_id).status == "up-to-date"
    forced = transcriber.run(public_id, force=True)
    assert (forced.status, forced.version) == ("done", 2)
    # other options: the transcript is no longer up to date
    other = Transcriber(asr_archive, options=TEST_OPTIONS.__class__(max_new_tokens=12), actor="test")
    assert other.pending() == [public_id]
    with asr_archive.session() as session:
        assert [t.version for t in transcripts_of(session, get(session, public_id))] == [1, 2]


def test_bambara_needs_a_human_then_takes_an_import(asr_archive, ingest_testimony, tmp_path):
    public_id = ingest_testimony(asr_archive, seconds=4, language="bm")
    result = _transcriber(asr_archive).run(public_id)
    assert result.status == "needs-human"
    with asr_archive.session() as session:
        testimony = get(session, public_id)
        status = testimony.stage(STAGE)
        assert status.state == StageState.NEEDS_HUMAN
        assert "bm" in status.reason and "transcription humaine" in status.reason
        assert transcripts_of(session, testimony) == []
    correction = tmp_path / "bm.vtt"
    correction.write_text("WEBVTT\n\n00:00.500 --> 00:02.000\nI ni ce, n tɔgɔ ye [NOM]\n", encoding="utf-8")
    from transcripts.versions import import_transcript

    with asr_archive.session() as session:
        transcript = import_transcript(session, get(session, public_id), correction, actor="test")
        assert transcript.source == "human" and transcript.segments[0].text == "I ni ce, n tɔgɔ ye [NOM]"
    assert _transcriber(asr_archive).pending() == []


def test_language_model_mapping_sends_bambara_to_its_own_model(asr_archive, ingest_testimony, tiny_model):
    asr_archive.settings = asr_archive.settings.model_copy(update={
        "whisper_model": "/nonexistent/stock-model", "language_models": {"bm": str(tiny_model)}})
    public_id = ingest_testimony(asr_archive, seconds=4, language="bam")
    result = _transcriber(asr_archive).run(public_id)
    assert result.status == "done", result.reason
    with asr_archive.session() as session:
        [transcript] = transcripts_of(session, get(session, public_id))
        assert transcript.language == "bm" and transcript.model == str(tiny_model.resolve())


def test_missing_language_model_fails_only_that_language(asr_archive, ingest_testimony):
    asr_archive.settings = asr_archive.settings.model_copy(update={"language_models": {"bm": "/nonexistent/bambara"}})
    bambara = ingest_testimony(asr_archive, seconds=3, language="bm")
    french = ingest_testimony(asr_archive, seconds=3, language="fr")
    results = {r.public_id: r for r in _transcriber(asr_archive).run_many([bambara, french])}
    assert results[bambara].status == "failed" and "introuvable" in results[bambara].reason
    assert results[french].status == "done"
    with asr_archive.session() as session:
        assert get(session, bambara).stage(STAGE).state == StageState.FAILED


def test_missing_main_model_stops_the_batch(asr_archive, ingest_testimony):
    from archive.errors import ConfigError

    asr_archive.settings = asr_archive.settings.model_copy(update={"whisper_model": "/nonexistent/stock-model"})
    public_id = ingest_testimony(asr_archive, seconds=3, language="fr")
    with pytest.raises(ConfigError, match="introuvable"):
        _transcriber(asr_archive).run(public_id)


def test_missing_consent_is_not_processed(asr_archive, ingest_testimony):
    public_id = ingest_testimony(asr_archive, seconds=3, consent=None)
    result = _transcriber(asr_archive).run(public_id)
    assert result.status == "skipped" and "consentement" in result.reason
    with asr_archive.session() as session:
        testimony = get(session, public_id)
        assert testimony.stage(STAGE).state == StageState.SKIPPED
        assert "aucun consentement" in testimony.stage(STAGE).reason
        assert transcripts_of(session, testimony) == []


def test_failure_is_recorded_and_the_batch_resumes(asr_archive, ingest_testimony, monkeypatch):
    ids = [ingest_testimony(asr_archive, seconds=4) for _ in range(3)]
    real = Engine.transcribe
    calls = []

    def flaky(self, audio, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disque plein (panne simulée)")
        return real(self, audio, **kwargs)

    monkeypatch.setattr(Engine, "transcribe", flaky)
    transcriber = _transcriber(asr_archive)
    statuses = [r.status for r in transcriber.run_many(ids)]
    assert statuses == ["done", "failed", "done"]
    with asr_archive.session() as session:
        failed = get(session, ids[1]).stage(STAGE)
        assert failed.state == StageState.FAILED and "panne simulée" in failed.reason
    assert transcriber.pending() == [ids[1]]
    assert [r.status for r in transcriber.run_many(transcriber.pending())] == ["done"]
    assert transcriber.pending() == []
    with asr_archive.session() as session:
        assert session.scalar(select(func.count()).select_from(Transcript)) == 3


def test_crash_inside_the_model_loses_only_that_testimony(asr_archive, ingest_testimony, monkeypatch):
    ids = [ingest_testimony(asr_archive, seconds=3) for _ in range(2)]
    transcriber = _transcriber(asr_archive)
    assert transcriber.run(ids[0]).status == "done"

    def interrupted(self, audio, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Engine, "transcribe", interrupted)
    with pytest.raises(KeyboardInterrupt):
        transcriber.run(ids[1])
    monkeypatch.undo()
    assert transcriber.pending() == [ids[1]]
    with asr_archive.session() as session:
        assert session.scalar(select(func.count()).select_from(Transcript)) == 1


def test_progress_reports_audio_time(asr_archive, ingest_testimony):
    ids = [ingest_testimony(asr_archive, seconds=5), ingest_testimony(asr_archive, seconds=3, language="bm")]
    advanced = []
    list(_transcriber(asr_archive).run_many(ids, progress=advanced.append))
    assert all(step >= 0 for step in advanced)
    assert sum(advanced) == pytest.approx(8.0, abs=0.05)


@pytest.mark.slow
def test_real_speech_recording(asr_archive, ingest_testimony, shared_media):
    public_id = ingest_testimony(asr_archive, path=shared_media / "jfk.flac", language="en")
    assert _transcriber(asr_archive).run(public_id).status == "done"
    with asr_archive.session() as session:
        testimony = get(session, public_id)
        [transcript] = transcripts_of(session, testimony)
        assert transcript.segments and session.scalar(select(func.count()).select_from(Word)) > 0
        _check_timing(transcript, testimony.duration)
