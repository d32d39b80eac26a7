"""The "clean" stage: a testimony's working copy in, its cleaned copy out (a derived MediaAsset).

The working copy (16 kHz mono FLAC) is measured, then streamed through ``sound.clean_stream``
(DeepFilterNet 3, rumble high-pass, mains-hum notches) into a FLAC of the same rate, length and
level, stored as ``MediaKind.CLEANED``. The original and the working copy stay as they are.
The voice disguise then reads the cleaned copy (``Testimony.speech_asset``), so what airs does not
carry the noise. Transcription keeps reading the working copy: Whisper transcribed the cleaned
copy worse at 10 dB SNR, better only at 5 dB (docs/sound.md).

Idempotent: the stage status keeps a fingerprint of the working copy and the cleaning settings;
an up-to-date cleaned copy is not made again. Resumable: the FLAC is written under a temporary
name and adopted into the store, then recorded in one transaction.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from archive import audit
from archive.audio import Encoder, iter_decode
from archive.consent import Use, decide
from archive.db import Archive
from archive.errors import KumaError
from archive.models import MediaAsset, MediaKind, StageName, StageState, Testimony
from archive.testimonies import get, set_stage
from sound import ATTEN_LIMIT_DB, clean_stream
from sound.meter import Meter

STAGE = StageName.CLEAN
CLEAN_VERSION = 1
CHUNK_S = 10.0
DISABLED = "nettoyage désactivé (KUMA_CLEAN_SPEECH=false)"

Progress = Callable[[float, float], None]


@dataclass
class CleanResult:
    public_id: str
    status: str  # "cleaned", "unchanged", "skipped" (consent, or the stage is off), "failed"
    reason: str | None = None
    duration: float = 0.0


def fingerprint(working: MediaAsset) -> str:
    payload = {"v": CLEAN_VERSION, "audio": working.sha256, "atten_limit_db": ATTEN_LIMIT_DB}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def up_to_date(testimony: Testimony) -> bool:
    working, cleaned, status = testimony.asset(MediaKind.WORKING), testimony.asset(MediaKind.CLEANED), testimony.stage(STAGE)
    return (working is not None and cleaned is not None and status is not None
            and status.state == StageState.DONE and status.fingerprint == fingerprint(working))


def pending(archive: Archive) -> list[str]:
    """Public ids of testimonies the policy lets be processed whose cleaned copy is missing or stale."""
    if not archive.settings.clean_speech:
        return []
    with archive.session() as session:
        return [t.public_id for t in session.scalars(select(Testimony).order_by(Testimony.id))
                if t.asset(MediaKind.WORKING) is not None and decide(t, Use.PROCESS).allowed and not up_to_date(t)]


def clean(archive: Archive, public_id: str, *, actor: str = "kuma", progress: Progress | None = None) -> CleanResult:
    """Make one testimony's cleaned copy. Never raises for this testimony's failure (it is recorded)."""
    try:
        return _clean(archive, public_id, actor, progress)
    except KumaError as exc:
        with archive.session() as session:
            set_stage(session, get(session, public_id), STAGE, StageState.FAILED, str(exc)[:2000])
        return CleanResult(public_id, "failed", str(exc))


def _clean(archive: Archive, public_id: str, actor: str, progress: Progress | None) -> CleanResult:
    with archive.session() as session:
        testimony = get(session, public_id)
        public_id = testimony.public_id
        if not archive.settings.clean_speech:
            return CleanResult(public_id, "skipped", DISABLED)
        decision = decide(testimony, Use.PROCESS)
        if not decision.allowed:
            set_stage(session, testimony, STAGE, StageState.SKIPPED, decision.reason)
            return CleanResult(public_id, "skipped", decision.reason)
        working = testimony.asset(MediaKind.WORKING)
        if working is None:
            set_stage(session, testimony, STAGE, StageState.FAILED, "copie de travail absente (relancez l'ingestion)")
            return CleanResult(public_id, "failed", "copie de travail absente (relancez l'ingestion)")
        if up_to_date(testimony):
            return CleanResult(public_id, "unchanged", duration=working.duration or 0.0)
        stamp, source = fingerprint(working), archive.store.path(working.sha256)
        rate, duration = working.sample_rate or archive.settings.working_sample_rate, working.duration or 0.0
    stored = _write_cleaned(archive, source, rate, duration, progress)
    with archive.session() as session:
        testimony = get(session, public_id)
        working = testimony.asset(MediaKind.WORKING)
        if working is None or fingerprint(working) != stamp:
            archive.release_media([stored.sha256])
            return CleanResult(public_id, "failed", "la copie de travail a changé pendant le nettoyage : relancez")
        replaced = [a.sha256 for a in testimony.assets if a.kind == MediaKind.CLEANED]
        for asset in [a for a in testimony.assets if a.kind == MediaKind.CLEANED]:
            testimony.assets.remove(asset)
            session.delete(asset)
        session.add(MediaAsset(testimony=testimony, kind=MediaKind.CLEANED, sha256=stored.sha256, size=stored.size,
                               format="flac", codec="flac", sample_rate=rate, channels=1, duration=duration))
        set_stage(session, testimony, STAGE, StageState.DONE, fingerprint=stamp)
        audit.record(session, actor, "testimony.clean", testimony=testimony)
    archive.release_media([sha for sha in replaced if sha != stored.sha256])
    return CleanResult(public_id, "cleaned", duration=duration)


def _write_cleaned(archive: Archive, source, rate: int, duration: float, progress: Progress | None):
    """Two streaming passes over the working copy: its loudness, then the cleaned FLAC (same level)."""
    meter = Meter(rate, 1)
    for chunk in iter_decode(source, rate=rate):
        meter.feed(chunk)
    store = archive.store
    temp = store.temp_path(".flac")
    try:
        done = 0.0
        chunks = iter_decode(source, rate=rate, frame_size=int(CHUNK_S * rate))
        with Encoder(temp, rate=rate, fmt="flac") as encoder:
            for chunk in clean_stream(chunks, rate, loudness=meter.result().integrated):
                encoder.write(chunk)
                done += len(chunk) / rate
                if progress:
                    progress(min(done, duration), duration)
        return store.adopt(temp)
    finally:
        temp.unlink(missing_ok=True)
