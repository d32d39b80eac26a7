"""The anonymize stage and the review gate.

``anonymize(archive, public_id)`` builds a pending :class:`Rendition` from the testimony's current
inputs: the redacted transcript (transcripts/redact.py) and the audio — disguised (studio/voice.py)
unless consent says ``voice: original`` — with every spoken redaction and every intake muted span
replaced by silence or a tone (studio/bleep.py). Idempotent: if the latest rendition was made
from the same inputs (``rendition_fingerprint``) nothing is done. A testimony without a transcript
is not anonymized (spoken names could not be located): it waits for its transcript.

Review: ``approve`` marks the current rendition approved; adding or ignoring a term, a new
transcript version or a consent change alters the fingerprint, so ``decide()`` stops using the
old rendition at once and the next ``anonymize`` builds a new pending one.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive import audit
from archive.audio import Encoder, decode, iter_decode
from archive.consent import Use, current_rendition, decide, preferred_transcript, rendition_fingerprint
from archive.db import Archive
from archive.errors import InputError, KumaError, NotFound, ReviewRequired
from archive.models import (
    Identity,
    MediaAsset,
    MediaKind,
    Rendition,
    ReviewStatus,
    SensitiveTerm,
    StageState,
    Testimony,
    VoiceForm,
    utcnow,
)
from archive.search import index_testimony
from archive.secrets import secret_key
from archive.testimonies import get, set_stage
from archive.timecode import format_timecode
from studio import bleep, voice
from transcripts.redact import Redactor, Term, redact_segments

STAGE = "anonymize"
REVIEW_STAGE = "review"
WAITING_TRANSCRIPT = "en attente de transcription (les noms prononcés ne peuvent pas être situés sans elle)"
CHUNK_S = 10.0


@dataclass
class AnonymizeResult:
    public_id: str
    status: str  # created / unchanged / waiting / refused / failed
    reason: str | None = None
    rendition_id: int | None = None
    redactions: int = 0


Progress = Callable[[float, float], None]  # (seconds done, total seconds)


def voice_key(archive: Archive, testimony: Testimony) -> voice.VoiceKey:
    return voice.VoiceKey.derive(secret_key(archive.settings), testimony.internal_key)


def redactor_for(testimony: Testimony, identity: str | None) -> Redactor:
    terms = [Term(t.term, t.kind, t.id, t.ignored) for t in testimony.sensitive_terms]
    return Redactor(terms, identity=identity or Identity.ANONYMOUS, pseudonym=testimony.pseudonym)


def anonymize(archive: Archive, public_id: str, *, actor: str = "kuma", progress: Progress | None = None) -> AnonymizeResult:
    """Run the stage for one testimony; errors become a ``failed`` result recorded in its stage status."""
    try:
        return _anonymize(archive, public_id, actor, progress)
    except KumaError as exc:
        with archive.session() as session:
            set_stage(session, get(session, public_id), STAGE, StageState.FAILED, str(exc))
        return AnonymizeResult(public_id, "failed", str(exc))


def _anonymize(archive: Archive, public_id: str, actor: str, progress: Progress | None) -> AnonymizeResult:
    with archive.session() as session:
        testimony = get(session, public_id)
        decision = decide(testimony, Use.PROCESS)
        if not decision.allowed:
            set_stage(session, testimony, STAGE, StageState.SKIPPED, decision.reason)
            return AnonymizeResult(public_id, "refused", decision.reason)
        transcript = preferred_transcript(session, testimony.id)
        if transcript is None:
            set_stage(session, testimony, STAGE, StageState.PENDING, WAITING_TRANSCRIPT)
            return AnonymizeResult(public_id, "waiting", WAITING_TRANSCRIPT)
        fingerprint = rendition_fingerprint(testimony, transcript)
        latest = _latest(session, testimony)
        if latest is not None and latest.fingerprint == fingerprint:
            set_stage(session, testimony, STAGE, StageState.DONE, fingerprint=fingerprint)
            return AnonymizeResult(public_id, "unchanged", rendition_id=latest.id, redactions=len(latest.redactions))
        redacted = redact_segments(transcript.segments, redactor_for(testimony, decision.identity))
        muted = [tuple(span) for span in testimony.muted_spans or []]
        working = testimony.asset(MediaKind.WORKING)
        if working is None:
            raise InputError(f"{public_id} : copie de travail introuvable")
        source = archive.store.path(working.sha256)
        disguised = decision.voice != VoiceForm.ORIGINAL
        key = voice_key(archive, testimony) if disguised else None
        duration = testimony.duration or working.duration or 0.0
        transcript_id = transcript.id

    spans = bleep.padded(redacted.spans + muted, archive.settings.bleep_padding_ms / 1000, duration or None)
    stored = _render_audio(archive, source, key, spans, duration, progress)

    with archive.session() as session:
        testimony = get(session, public_id)
        transcript = preferred_transcript(session, testimony.id)
        if rendition_fingerprint(testimony, transcript) != fingerprint:
            return AnonymizeResult(public_id, "failed", "les données ont changé pendant le traitement : relancez")
        asset = MediaAsset(testimony=testimony, kind=MediaKind.ANONYMIZED, sha256=stored.sha256, size=stored.size,
                           format="flac", codec="flac", sample_rate=voice.RATE, channels=1, duration=duration)
        redactions = redacted.redactions + [
            {"n": len(redacted.redactions) + i + 1, "segment": None, "start": s, "end": e, "kind": "muted",
             "placeholder": None, "source": "muted", "term_id": None, "entity": None, "chars": None,
             "estimated": False, "context": "passage coupé à la demande (saisie)"}
            for i, (s, e) in enumerate(muted)]
        rendition = Rendition(testimony=testimony, audio=asset, transcript_id=transcript_id,
                              status=ReviewStatus.PENDING, fingerprint=fingerprint,
                              redacted_segments=redacted.segments, redactions=redactions)
        session.add_all([asset, rendition])
        set_stage(session, testimony, STAGE, StageState.DONE, fingerprint=fingerprint)
        set_stage(session, testimony, REVIEW_STAGE, StageState.NEEDS_HUMAN, "relecture humaine requise")
        audit.record(session, actor, "rendition.create", testimony=testimony, redactions=len(redactions),
                     disguised=disguised)
        session.flush()
        index_testimony(session, testimony)
        return AnonymizeResult(public_id, "created", rendition_id=rendition.id, redactions=len(redactions))


def _latest(session: Session, testimony: Testimony) -> Rendition | None:
    return session.scalars(select(Rendition).where(Rendition.testimony_id == testimony.id)
                           .order_by(Rendition.id.desc()).limit(1)).first()


def _render_audio(archive: Archive, source: Path, key: voice.VoiceKey | None, spans, duration: float,
                  progress: Progress | None):
    """Working copy → (disguise) → bleeps → FLAC in the store, streaming with bounded memory."""
    store = archive.store
    temp = store.temp_path(".flac")
    try:
        chunks = iter_decode(source, rate=voice.RATE, frame_size=int(CHUNK_S * voice.RATE))
        if key is not None:
            chunks = voice.disguise_stream(chunks, key)
        chunks = bleep.bleep_stream(chunks, spans, rate=voice.RATE, mode=archive.settings.bleep_mode)
        done = 0
        with Encoder(temp, rate=voice.RATE, fmt="flac") as encoder:
            for chunk in chunks:
                encoder.write(chunk)
                done += len(chunk)
                if progress:
                    progress(done / voice.RATE, duration)
        return store.adopt(temp)
    finally:
        temp.unlink(missing_ok=True)


def pending(archive: Archive) -> list[str]:
    """Public ids of testimonies whose anonymized rendition is missing or out of date."""
    with archive.session() as session:
        found = []
        for testimony in session.scalars(select(Testimony).order_by(Testimony.id)):
            if not decide(testimony, Use.PROCESS).allowed:
                continue
            transcript = preferred_transcript(session, testimony.id)
            latest = _latest(session, testimony)
            if transcript is not None and (latest is None or latest.fingerprint != rendition_fingerprint(testimony, transcript)):
                found.append(testimony.public_id)
        return found


# ------------------------------------------------------------------------------ review gate
def current_or_raise(testimony: Testimony) -> Rendition:
    decide(testimony, Use.PROCESS).require()  # withdrawn or no consent: say so, not "re-run anonymize"
    rendition = current_rendition(testimony)
    if rendition is None:
        raise ReviewRequired(f"{testimony.public_id} : aucune version anonymisée à jour (lancez « kuma anonymize "
                             f"{testimony.public_id} »)")
    return rendition


def approve(session: Session, testimony: Testimony, actor: str) -> Rendition:
    rendition = current_or_raise(testimony)
    if rendition.status != ReviewStatus.APPROVED:
        rendition.status = ReviewStatus.APPROVED
        rendition.approved_by = actor
        rendition.approved_at = utcnow()
        set_stage(session, testimony, REVIEW_STAGE, StageState.DONE, fingerprint=rendition.fingerprint)
        audit.record(session, actor, "rendition.approve", testimony=testimony, rendition=rendition.id)
        session.flush()
        index_testimony(session, testimony)
    return rendition


def add_term(session: Session, testimony: Testimony, term: str, kind: str, actor: str) -> SensitiveTerm:
    """A term the reviewer heard or read that must go (or a previously ignored one, restored)."""
    term = term.strip()
    if not term:
        raise InputError("terme vide")
    existing = next((t for t in testimony.sensitive_terms if t.term.casefold() == term.casefold()), None)
    if existing is None:
        existing = SensitiveTerm(testimony=testimony, term=term, kind=kind, source="review")
        session.add(existing)
    existing.ignored = False
    existing.kind = kind
    _back_to_review(session, testimony)
    session.flush()
    audit.record(session, actor, "term.add", testimony=testimony, term_id=existing.id, kind=kind)
    return existing


def ignore_term(session: Session, testimony: Testimony, term: str, actor: str) -> SensitiveTerm:
    """A false positive: the detector must leave this word alone in this testimony."""
    term = term.strip()
    if not term:
        raise InputError("terme vide")
    existing = next((t for t in testimony.sensitive_terms if t.term.casefold() == term.casefold()), None)
    if existing is None:
        existing = SensitiveTerm(testimony=testimony, term=term, kind="other", source="review")
        session.add(existing)
    existing.ignored = True
    _back_to_review(session, testimony)
    session.flush()
    audit.record(session, actor, "term.ignore", testimony=testimony, term_id=existing.id)
    return existing


def _back_to_review(session: Session, testimony: Testimony) -> None:
    set_stage(session, testimony, STAGE, StageState.PENDING, "termes modifiés : à relancer")
    set_stage(session, testimony, REVIEW_STAGE, StageState.NEEDS_HUMAN, "termes modifiés")


def review_items(session: Session, rendition: Rendition) -> list[dict]:
    """Every redaction with its timecode, context and (for the reviewer's eyes only) what was removed."""
    segments = {s.idx: s.text for s in rendition.transcript.segments} if rendition.transcript else {}
    terms = {t.id: t.term for t in session.scalars(select(SensitiveTerm).where(
        SensitiveTerm.testimony_id == rendition.testimony_id))}
    items = []
    for item in rendition.redactions:
        original = None
        if item.get("chars") and item.get("segment") in segments:
            start, end = item["chars"]
            original = segments[item["segment"]][start:end]
        elif item.get("term_id") in terms:
            original = terms[item["term_id"]]
        items.append({**item, "timecode": format_timecode(item["start"], millis=False), "original": original})
    return items


def write_review_audio(archive: Archive, rendition: Rendition, path: Path, *, context_s: float = 2.0,
                       limit_s: float = 180.0) -> Path:
    """A short file of the anonymized audio: every bleep with some context, or the first 30 s."""
    if rendition.audio is None:
        raise NotFound("cette version n'a pas d'audio")
    audio = decode(archive.store.path(rendition.audio.sha256), rate=voice.RATE)
    rate = voice.RATE
    windows = bleep.padded([(r["start"], r["end"]) for r in rendition.redactions], context_s, len(audio) / rate) \
        or [(0.0, min(30.0, len(audio) / rate))]
    gap = np.zeros(int(0.5 * rate), dtype=np.float32)
    parts, total = [], 0.0
    for start, end in windows:
        if total >= limit_s:
            break
        parts += [audio[int(start * rate):int(end * rate)], gap]
        total += end - start
    with Encoder(path, rate=rate) as encoder:
        for part in parts:
            encoder.write(part)
    return Path(path)
