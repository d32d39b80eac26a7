"""The anonymize stage and the review gate.

``anonymize(archive, public_id)`` builds a pending :class:`Rendition` from the testimony's current
inputs: the redacted transcript (anonymization/redact.py) and the audio — disguised in the consent's
voice mode (anonymization/disguise.py, the code ``kuma voice disguise`` runs) unless consent says
``voice: original`` — with every spoken redaction and every intake muted span replaced by silence
or a tone (anonymization/bleep.py). A disguised rendition is then re-transcribed and its word error rate
stored (anonymization/intelligibility.py): above ``KUMA_VOICE_MAX_WER``, or not measurable, it is flagged
and approval needs ``accept_unintelligible``. Idempotent: if the latest rendition was made
from the same inputs (``rendition_fingerprint``) nothing is done. A testimony without a transcript
is not anonymized (spoken names could not be located): it waits for its transcript.

Review: the rendition stores its redactions (every bleep) and its flags (weaker term matches,
unknown proper nouns, the transcript's low-confidence segments), listed with their times by
``review_items`` / ``review_flags``; ``write_rendition_audio`` writes the whole rendition as it
will air. ``approve`` marks the current rendition approved, only when its audio exists; adding or
ignoring a term, a new
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
from archive.audio import Encoder, decode, iter_decode, transcode
from archive.consent import Use, current_rendition, decide, preferred_transcript, rendition_fingerprint, transcript_problem
from archive.db import Archive
from archive.errors import InputError, KumaError, NotFound, ReviewRequired
from archive.models import (
    Identity,
    MediaAsset,
    MediaKind,
    Rendition,
    ReviewStatus,
    SensitiveTerm,
    StageName,
    StageState,
    Testimony,
    VoiceForm,
    utcnow,
)
from archive.search import index_testimony
from archive.testimonies import get, set_stage
from archive.text import partial_similarity, phonetic
from archive.timecode import format_timecode
from anonymization import bleep, disguise, intelligibility, voice
from anonymization.redact import TERM_PLACEHOLDER_KINDS, RedactedTranscript, Redactor, Term, redact_segments
from transcripts.engine import Engine
from transcripts.versions import STAGE as TRANSCRIBE_STAGE

STAGE = StageName.ANONYMIZE
REVIEW_STAGE = StageName.REVIEW
WAITING_TRANSCRIPT = "en attente de transcription (les noms prononcés ne peuvent pas être situés sans elle)"
CHUNK_S = disguise.CHUNK_S
LISTENING_FORMATS = ("wav", "flac", "mp3", "ogg", "opus")


@dataclass
class AnonymizeResult:
    public_id: str
    status: str  # created / unchanged / waiting / refused / failed
    reason: str | None = None
    rendition_id: int | None = None
    redactions: int = 0


Progress = Callable[[float, float], None]  # (seconds done, total seconds)


def voice_key(archive: Archive, testimony: Testimony) -> voice.VoiceKey:
    return disguise.key_for(archive.settings, testimony.internal_key)


def redactor_for(testimony: Testimony, identity: str | None) -> Redactor:
    terms = [Term(t.term, t.kind, t.id, t.ignored) for t in testimony.sensitive_terms]
    return Redactor(terms, identity=identity or Identity.ANONYMOUS, pseudonym=testimony.pseudonym)


def anonymize(archive: Archive, public_id: str, *, actor: str = "kuma", progress: Progress | None = None,
              engine: Engine | None = None) -> AnonymizeResult:
    """Run the stage for one testimony; errors become a ``failed`` result recorded in its stage status.
    ``engine``: the transcription engine of the intelligibility gate (pass one over a batch: it
    keeps the model loaded)."""
    try:
        return _anonymize(archive, public_id, actor, progress, engine or Engine(archive.settings))
    except KumaError as exc:
        with archive.session() as session:
            set_stage(session, get(session, public_id), STAGE, StageState.FAILED, str(exc))
        return AnonymizeResult(public_id, "failed", str(exc))


def _anonymize(archive: Archive, public_id: str, actor: str, progress: Progress | None,
               engine: Engine) -> AnonymizeResult:
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
        flags = redacted.flags + low_confidence_flags(transcript.segments, redacted, start=len(redacted.flags) + 1)
        flags += unheard_term_flags(testimony.sensitive_terms, redacted, transcript.segments, testimony.duration or 0.0,
                                    start=len(flags) + 1)
        muted = [tuple(span) for span in testimony.muted_spans or []]
        working = testimony.speech_asset()
        if working is None:
            raise InputError(f"{public_id} : copie de travail introuvable")
        source = archive.store.path(working.sha256)
        disguised = decision.voice != VoiceForm.ORIGINAL
        key = voice_key(archive, testimony) if disguised else None
        mode = testimony.consent.voice_mode
        duration = testimony.duration or working.duration or 0.0
        transcript_id = transcript.id
        reference = intelligibility.reference_words(transcript.segments)
        language = transcript.language or testimony.language

    spans = bleep.padded(redacted.spans + muted, archive.settings.bleep_padding_ms / 1000, duration or None)
    stored = _render_audio(archive, source, key, mode, spans, duration, progress)
    heard = intelligibility.ORIGINAL
    if disguised:
        audio = decode(archive.store.path(stored.sha256), rate=voice.RATE)
        heard = intelligibility.measure(archive.settings, engine, audio, reference, language, spans)
        flags += _gate_flags(heard, archive.settings.voice_max_wer, duration, len(flags) + 1)

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
                              redacted_segments=redacted.segments, redactions=redactions, flags=flags,
                              intelligibility=heard)
        session.add_all([asset, rendition])
        set_stage(session, testimony, STAGE, StageState.DONE, fingerprint=fingerprint)
        set_stage(session, testimony, REVIEW_STAGE, StageState.NEEDS_HUMAN, "relecture humaine requise")
        audit.record(session, actor, "rendition.create", testimony=testimony, redactions=len(redactions),
                     flags=len(flags), disguised=disguised, voice_mode=mode if disguised else None,
                     wer=heard.get("wer"))
        session.flush()
        index_testimony(session, testimony)
        return AnonymizeResult(public_id, "created", rendition_id=rendition.id, redactions=len(redactions))


def _gate_flags(heard: dict, max_wer: float, duration: float, n: int) -> list[dict]:
    problem = intelligibility.problem(heard, max_wer)
    return [intelligibility.flag(problem, duration, n, heard.get("wer"))] if problem else []


LOW_CONFIDENCE_REASON = "passage mal reconnu (transcription peu sûre) : réécouter, un nom a pu échapper"


def low_confidence_flags(segments, redacted: RedactedTranscript, *, start: int = 1) -> list[dict]:
    """The transcript's low-confidence segments: where a missed name is most likely."""
    texts = {s["idx"]: s["text"] for s in redacted.segments}
    return [{"n": start + i, "segment": s.idx, "start": round(s.start, 3), "end": round(s.end, 3),
             "timecode": format_timecode(s.start, millis=False), "kind": None, "source": "low-confidence",
             "reason": LOW_CONFIDENCE_REASON, "score": None, "term_id": None, "chars": None, "estimated": False,
             "context": " ".join(texts.get(s.idx, "").split()[:12])}
            for i, s in enumerate(x for x in segments if getattr(x, "low_confidence", False))]


UNHEARD_REASON = "jamais reconnu dans la transcription : l'écouter sur tout le témoignage"
HEARD_AS_NAME = 80  # partial similarity of phonetic keys between a term's part and a redacted name


def unheard_term_flags(terms, redacted: RedactedTranscript, segments, duration: float, *, start: int = 1) -> list[dict]:
    """The intake's sensitive terms found nowhere in the transcript, neither redacted nor flagged.

    A term given at intake was most likely said; when the recognizer turned it into words that
    sound like nothing of it ("je m'y en ok" for "je viens de Kayes"), no text match can place it,
    so the reviewer is told to listen for it over the whole recording. A term that a name cue or
    the name lists redacted under another spelling ("Moussabiama" after "je m'appelle") counts as
    found."""
    found = {item.get("term_id") for item in redacted.redactions + redacted.flags}
    removed = _redacted_texts(redacted, segments)
    unheard = [t for t in terms if not t.ignored and t.id not in found and not _heard_as(t, removed)]
    return [{"n": start + i, "segment": None, "start": 0.0, "end": round(duration, 3), "timecode": "00:00:00",
             "kind": TERM_PLACEHOLDER_KINDS.get(t.kind, "name"), "source": "unheard-term", "reason": UNHEARD_REASON,
             "score": None, "term_id": t.id, "chars": None, "estimated": True, "context": ""}
            for i, t in enumerate(unheard)]


def _redacted_texts(redacted: RedactedTranscript, segments) -> list[tuple[str, str]]:
    """(kind, internal text) of every redaction located in the transcript."""
    texts = {s.idx: s.text or "" for s in segments}
    return [(item["kind"], texts[item["segment"]][item["chars"][0]:item["chars"][1]])
            for item in redacted.redactions if item.get("chars") and item.get("segment") in texts]


def _heard_as(term, removed: list[tuple[str, str]]) -> bool:
    kind = TERM_PLACEHOLDER_KINDS.get(term.kind, "name")
    if kind == "phone":
        return any(k == "phone" for k, _ in removed)
    parts = [phonetic(p) for p in term.term.split() if len(phonetic(p)) >= 4]
    return any(k == kind and any(partial_similarity(part, phonetic(text)) >= HEARD_AS_NAME for part in parts)
               for k, text in removed)


def _latest(session: Session, testimony: Testimony) -> Rendition | None:
    return session.scalars(select(Rendition).where(Rendition.testimony_id == testimony.id)
                           .order_by(Rendition.id.desc()).limit(1)).first()


def _render_audio(archive: Archive, source: Path, key: voice.VoiceKey | None, mode: str, spans, duration: float,
                  progress: Progress | None):
    """Working copy → (disguise) → bleeps → FLAC in the store, streaming with bounded memory."""
    store = archive.store
    temp = store.temp_path(".flac")
    try:
        if key is None:
            chunks = iter_decode(source, rate=voice.RATE, frame_size=int(CHUNK_S * voice.RATE))
        else:
            chunks = disguise.disguised_chunks(source, key, mode)
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
@dataclass
class QueueEntry:
    """One testimony waiting for a person: a transcription to do, or a rendition to review."""

    public_id: str
    task: str  # "transcrire" or "relire"
    reason: str
    bleeps: int = 0
    flags: int = 0

    @property
    def priority(self) -> int:
        # a transcript nobody can trust blocks everything else; then renditions with doubts
        return 0 if self.task == "transcrire" else 1 if self.flags else 2

    def as_dict(self) -> dict:
        return {"id": self.public_id, "task": self.task, "reason": self.reason, "bleeps": self.bleeps,
                "flags": self.flags, "priority": self.priority}


def review_queue(session: Session) -> list[QueueEntry]:
    """What waits for a person, most urgent first: testimonies whose recognition failed (a person
    must transcribe them), then pending renditions with flagged spans, then the others."""
    queue = []
    for testimony in session.scalars(select(Testimony).order_by(Testimony.id)):
        if not decide(testimony, Use.PROCESS).allowed:
            continue
        transcribe = testimony.stage(TRANSCRIBE_STAGE)
        problem = transcript_problem(testimony)
        if problem or (transcribe is not None and transcribe.state == StageState.NEEDS_HUMAN):
            queue.append(QueueEntry(testimony.public_id, "transcrire", problem or transcribe.reason or ""))
            continue
        rendition = current_rendition(testimony)
        if rendition is not None and rendition.status == ReviewStatus.PENDING:
            flags = len(rendition.flags or [])
            reason = f"{flags} passage(s) douteux à vérifier" if flags else "version anonymisée à écouter"
            queue.append(QueueEntry(testimony.public_id, "relire", reason, len(rendition.redactions or []), flags))
    return sorted(queue, key=lambda entry: entry.priority)  # stable: oldest first within a priority


def current_or_raise(testimony: Testimony) -> Rendition:
    decide(testimony, Use.PROCESS).require()  # withdrawn or no consent: say so, not "re-run anonymize"
    rendition = current_rendition(testimony)
    if rendition is None:
        raise ReviewRequired(f"{testimony.public_id} : aucune version anonymisée à jour (lancez « kuma anonymize "
                             f"{testimony.public_id} »)")
    return rendition


def approve(archive: Archive, session: Session, testimony: Testimony, actor: str, *,
            accept_unintelligible: bool = False) -> Rendition:
    """Approve the current rendition; only one whose audio exists can be approved (it is what airs,
    and the reviewer must have been able to hear it: ``kuma review audio``). A disguised rendition
    that failed the intelligibility gate, or could not be measured, needs ``accept_unintelligible``
    (recorded in the audit log)."""
    rendition = current_or_raise(testimony)
    problem = transcript_problem(testimony)
    if problem:
        raise ReviewRequired(f"{testimony.public_id} : transcription humaine nécessaire avant l'approbation ({problem}) : "
                             f"kuma transcript import {testimony.public_id} FICHIER")
    if not _has_audio(archive, rendition):
        raise ReviewRequired(f"{testimony.public_id} : la version anonymisée n'a pas d'audio à écouter "
                             f"(relancez « kuma anonymize {testimony.public_id} »)")
    if rendition.status != ReviewStatus.APPROVED:
        unintelligible = intelligibility.problem(rendition.intelligibility, archive.settings.voice_max_wer)
        if unintelligible and not accept_unintelligible:
            raise ReviewRequired(f"{testimony.public_id} : {unintelligible}. Écoutez la version entière (kuma review "
                                 f"audio {testimony.public_id} --out FICHIER) ; pour l'approuver quand même : "
                                 f"kuma review approve {testimony.public_id} --accept-unintelligible")
        rendition.status = ReviewStatus.APPROVED
        rendition.approved_by = actor
        rendition.approved_at = utcnow()
        set_stage(session, testimony, REVIEW_STAGE, StageState.DONE, fingerprint=rendition.fingerprint)
        accepted = {"accept_unintelligible": True, "intelligibility": unintelligible} if unintelligible else {}
        audit.record(session, actor, "rendition.approve", testimony=testimony, rendition=rendition.id, **accepted)
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


FLAG_LABELS = {"term": "terme proche", "proper-noun": "nom propre ?", "low-confidence": "transcription peu sûre",
               "unheard-term": "terme non trouvé", intelligibility.SOURCE: "intelligibilité"}


def intelligibility_of(rendition: Rendition, max_wer: float) -> dict:
    """The gate's stored result, its one-line summary, and why approval needs accepting it."""
    return {**(rendition.intelligibility or {}), "max_wer": max_wer,
            "summary": intelligibility.describe(rendition.intelligibility, max_wer),
            "problem": intelligibility.problem(rendition.intelligibility, max_wer)}


def review_items(session: Session, rendition: Rendition) -> list[dict]:
    """Every redaction (every bleep) with its timecode, context and (for the reviewer's eyes only)
    what was removed."""
    return [{**item, "timecode": format_timecode(item["start"], millis=False),
             "original": _original(session, rendition, item)} for item in rendition.redactions]


def review_flags(session: Session, rendition: Rendition) -> list[dict]:
    """Every flagged span (weaker term matches, unknown proper nouns, low-confidence segments) with
    its timecode and, for the reviewer's eyes only, the words flagged."""
    return [{**item, "timecode": format_timecode(item["start"], millis=False),
             "original": _original(session, rendition, item)} for item in rendition.flags or []]


def _original(session: Session, rendition: Rendition, item: dict) -> str | None:
    """The internal transcript's words behind a redaction or flag (never stored with the rendition)."""
    segments = {s.idx: s.text for s in rendition.transcript.segments} if rendition.transcript else {}
    if item.get("chars") and item.get("segment") in segments:
        start, end = item["chars"]
        return segments[item["segment"]][start:end]
    if item.get("term_id") is not None:
        term = session.get(SensitiveTerm, item["term_id"])
        return term.term if term is not None else None
    return None


def _has_audio(archive: Archive, rendition: Rendition) -> bool:
    return rendition.audio is not None and archive.store.exists(rendition.audio.sha256)


def write_rendition_audio(archive: Archive, rendition: Rendition, path: Path) -> Path:
    """The exact anonymized rendition, whole (disguise and bleeps as they will air), in the format
    the file name asks for (wav, flac, mp3, ogg/opus), without metadata."""
    if not _has_audio(archive, rendition):
        raise NotFound("cette version anonymisée n'a pas d'audio")
    fmt = Path(path).suffix.lstrip(".").lower()
    if fmt not in LISTENING_FORMATS:
        raise InputError(f"{Path(path).name} : format d'écoute inconnu (attendu : {', '.join(LISTENING_FORMATS)})")
    transcode(archive.store.path(rendition.audio.sha256), Path(path), rate=voice.RATE, fmt=fmt)
    return Path(path)


def write_review_audio(archive: Archive, rendition: Rendition, path: Path, *, context_s: float = 2.0,
                       limit_s: float = 180.0) -> Path:
    """A short file of the anonymized audio: every bleep and flag with some context, or the first 30 s."""
    if rendition.audio is None:
        raise NotFound("cette version n'a pas d'audio")
    audio = decode(archive.store.path(rendition.audio.sha256), rate=voice.RATE)
    rate = voice.RATE
    marks = [(r["start"], r["end"]) for r in list(rendition.redactions) + list(rendition.flags or [])]
    windows = bleep.padded(marks, context_s, len(audio) / rate) or [(0.0, min(30.0, len(audio) / rate))]
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
