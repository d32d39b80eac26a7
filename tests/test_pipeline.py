"""pipeline.py: the one list of stages, run end to end from the inbox, and what a consent change does."""
from __future__ import annotations

import os
import time

import pytest
from sqlalchemy import func, select

import pipeline
from archive import clips
from archive.consent import Use, decide
from archive.models import AuditEvent, MediaKind, Rendition, SearchSegment, StageName, StageState, Transcript
from archive.testimonies import get
from ingest import inbox
from tests.conftest import FULL_CONSENT
from tests.transcripts.conftest import RANDOM_MODEL_LIMITS


def test_one_ordered_list_of_stages_with_one_contract():
    assert [stage.name for stage in pipeline.STAGES] == list(StageName)
    assert [stage.name.value for stage in pipeline.STAGES] == [
        "ingest", "clean", "transcribe", "anonymize", "review", "build_episode", "publish"]
    for stage in pipeline.STAGES:
        assert callable(stage.pending) and callable(stage.run)
    assert pipeline.stage_named("review") is pipeline.REVIEW


@pytest.fixture
def tiny_archive(archive, tiny_model):
    archive.settings = archive.settings.model_copy(update={
        "whisper_model": str(tiny_model), "whisper_device": "cpu", "whisper_cpu_threads": 1, **RANDOM_MODEL_LIMITS})
    return archive


def _drop(make_audio, archive, name: str, seed: int, sidecar: dict | None, *, settled: bool = True):
    path = make_audio(name, seconds=6, seed=seed, sidecar=sidecar, folder=archive.settings.inbox_path)
    if settled:  # copied in a while ago
        old = time.time() - 60
        for file in path.parent.glob(f"{path.stem}.*"):
            os.utime(file, (old, old))
    return path


def test_from_the_inbox_to_the_review_in_one_pass_and_nothing_twice(tiny_archive, make_audio):
    archive = tiny_archive
    _drop(make_audio, archive, "a.wav", 1, {"language": "fr", "consent": FULL_CONSENT})
    _drop(make_audio, archive, "b.wav", 2, {"language": "fr", "consent": FULL_CONSENT})
    broken = archive.settings.inbox_path / "casse.wav"
    broken.write_bytes(b"RIFF\x00\x00\x00\x00WAVEpas de l'audio")
    os.utime(broken, (time.time() - 60,) * 2)
    copying = _drop(make_audio, archive, "en-cours.wav", 3, None, settled=False)  # still being copied in

    results = pipeline.process(archive)
    by_stage = {name: [r for r in results if r.stage == name] for name in StageName}
    ingested = by_stage[StageName.INGEST]
    assert [(r.state, r.changed) for r in ingested] == [
        (StageState.DONE, True), (StageState.DONE, True), (StageState.FAILED, False)]
    assert "casse.wav" in ingested[2].reason
    assert [(r.testimony, r.state, r.changed) for r in by_stage[StageName.CLEAN]] == [
        ("T-000001", StageState.DONE, True), ("T-000002", StageState.DONE, True)]
    assert [r.testimony for r in by_stage[StageName.TRANSCRIBE]] == ["T-000001", "T-000002"]
    with archive.session() as session:  # disguised from the cleaned copy, transcribed once (from the working copy)
        for public_id in ("T-000001", "T-000002"):
            testimony = get(session, public_id)
            assert testimony.speech_asset().kind == MediaKind.CLEANED
            assert session.scalar(select(func.count()).select_from(Transcript)
                                  .where(Transcript.testimony_id == testimony.id)) == 1
    assert all(r.state == StageState.DONE and r.changed for r in by_stage[StageName.ANONYMIZE])
    assert [(r.ref, r.state) for r in by_stage[StageName.REVIEW]] == [
        ("T-000001", StageState.NEEDS_HUMAN), ("T-000002", StageState.NEEDS_HUMAN)]
    assert [r.state for r in by_stage[StageName.PUBLISH]] == [StageState.DONE]

    left = sorted(p.relative_to(archive.settings.inbox_path).as_posix()
                  for p in archive.settings.inbox_path.rglob("*") if p.is_file())
    assert left == ["en-cours.wav", f"{inbox.REFUSED}/casse.wav", f"{inbox.REFUSED}/casse.wav.raison.txt"]
    reason = (archive.settings.inbox_path / inbox.REFUSED / "casse.wav.raison.txt").read_text(encoding="utf-8")
    assert "casse.wav" in reason

    os.utime(copying)  # the copy goes on
    again = pipeline.process(archive)
    assert not any(r.changed for r in again), [r for r in again if r.changed]
    assert {r.stage for r in again} == {StageName.REVIEW}  # only what waits for a person is said again


@pytest.fixture
def clipped(archive, seed_testimony):
    """A consented, approved testimony with a clip in the cache."""

    def _clipped(**consent) -> str:
        public_id = seed_testimony(consent={**FULL_CONSENT, **consent})
        with archive.session() as session:
            testimony = get(session, public_id)
            working = testimony.asset(MediaKind.WORKING)
            clips.cut(archive.settings, public_id, working, archive.store.path(working.sha256), 0.5, 1.5)
        assert clips.cached(archive.settings)[public_id] == 1
        return public_id

    return _clipped


def _shas(archive, public_id: str) -> dict[str, str]:
    with archive.session() as session:
        return {asset.kind: asset.sha256 for asset in get(session, public_id).assets}


def test_withdrawal_erases_what_was_derived_and_keeps_the_sealed_original(archive, clipped):
    public_id = clipped()
    before = _shas(archive, public_id)
    change = pipeline.withdraw(archive, public_id, "test", "appel du témoin")
    assert any("effacé" in note for note in change.notes) and any("extrait" in note for note in change.notes)

    assert public_id not in clips.cached(archive.settings)
    with archive.session() as session:
        testimony = get(session, public_id)
        assert [a.kind for a in testimony.assets] == [MediaKind.ORIGINAL]
        assert session.scalar(select(func.count()).select_from(Rendition)
                              .where(Rendition.testimony_id == testimony.id)) == 0
        assert session.scalar(select(func.count()).select_from(Transcript)
                              .where(Transcript.testimony_id == testimony.id)) == 0
        assert session.scalar(select(func.count()).select_from(SearchSegment)) == 0
        assert testimony.pseudonym  # the witness still wants it kept (archive: yes): metadata stays
        assert not decide(testimony, Use.ARCHIVE).allowed and not decide(testimony, Use.PROCESS).allowed
        erase = session.scalar(select(AuditEvent).where(AuditEvent.action == "testimony.erase"))
        assert erase is not None and "copie de travail" in str(erase.detail)
    assert archive.store.exists(before[MediaKind.ORIGINAL])
    assert not archive.store.exists(before[MediaKind.WORKING])
    assert pipeline.TRANSCRIBE.pending(archive) == [] and pipeline.ANONYMIZE.pending(archive) == []


def test_refusing_the_archive_erases_the_original_and_personal_metadata_too(archive, clipped):
    public_id = clipped()
    before = _shas(archive, public_id)
    pipeline.change_consent(archive, public_id, "test", {"archive": False})
    with archive.session() as session:
        testimony = get(session, public_id)
        assert testimony.assets == [] and testimony.sensitive_terms == []
        assert testimony.pseudonym is None and testimony.place is None and testimony.public_id == public_id
        assert len(testimony.consents) == 2  # the history says what happened
    assert not any(archive.store.exists(sha) for sha in before.values())


def test_a_change_that_still_allows_processing_erases_nothing_but_the_clips(archive, clipped):
    public_id = clipped()
    before = _shas(archive, public_id)
    change = pipeline.change_consent(archive, public_id, "test", {"online": False})
    assert not any("effacé" in note for note in change.notes)
    assert public_id not in clips.cached(archive.settings)  # a clip may not match the new consent
    assert _shas(archive, public_id) == before and all(archive.store.exists(s) for s in before.values())


def test_clips_left_by_a_crash_after_the_withdrawal_go_at_the_next_process(archive, clipped):
    public_id = clipped()
    pipeline.withdraw(archive, public_id, "test")
    folder = clips.cache_root(archive.settings) / public_id
    folder.mkdir(parents=True)
    (folder / "left-over.mp3").write_bytes(b"ID3")
    pipeline.process(archive, stages=())
    assert not folder.exists()


def test_runner_runs_one_pass_in_the_background(tiny_archive, make_audio):
    _drop(make_audio, tiny_archive, "a.wav", 1, {"language": "fr", "consent": FULL_CONSENT})
    runner = pipeline.Runner(tiny_archive)
    assert runner.start()
    runner.join(120)
    assert not runner.running and runner.error is None
    assert [r.testimony for r in runner.last if r.stage == StageName.INGEST] == ["T-000001"]
