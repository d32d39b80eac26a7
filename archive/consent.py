"""The consent policy: the one place that decides whether a testimony may be used, and how.

Every exit (episode build, feed, radio pack, API response, clip) calls :func:`decide`.
No other code reads consent flags to make a decision.

Rules (DESIGN.md):

- no consent recorded: keep the recording, process nothing, expose nothing;
- ``archive`` no, or consent withdrawn: every use refused;
- ``process`` (transcribe, anonymize): needs archive consent;
- ``advocacy`` / ``broadcast`` / ``online``: need their own flag, and a human-approved
  anonymized rendition made from the *current* inputs (consent version, transcript,
  sensitive terms). The decision carries that rendition: it is the only form that may leave;
- a transcript that failed its recognition check (an ASR version flagged "needs human
  transcription": names to bleep cannot be found in it) blocks every exposing use until a
  human version exists.
"""
from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from archive.errors import ConsentRefused, ReviewRequired
from archive.models import (
    ConsentRecord,
    Identity,
    Rendition,
    ReviewStatus,
    Testimony,
    Transcript,
    TranscriptSource,
    VoiceForm,
    as_utc,
)

# Bump when the anonymization itself changes so that every rendition is reviewed again.
# 2: output-spectrum normalisation; 3: envelope covariance whitened, wider output spread;
# 4: source-filter disguise with modes (light/standard/strong), keeps words
ANONYMIZATION_VERSION = 4

ANONYMOUS_LABEL = "témoin anonyme"


class Use(enum.StrEnum):
    ARCHIVE = "archive"  # keep it in the association's private archive
    PROCESS = "process"  # transcribe, anonymize (inside the archive)
    ADVOCACY = "advocacy"  # partner advocates through the API
    BROADCAST = "broadcast"  # partner radios: private feed, radio pack
    ONLINE = "online"  # open internet: public feed

    @property
    def exposes(self) -> bool:
        return self in (Use.ADVOCACY, Use.BROADCAST, Use.ONLINE)


@dataclass(frozen=True)
class Decision:
    use: Use
    allowed: bool
    reason: str
    consent_version: int | None = None
    identity: Identity | None = None
    voice: VoiceForm | None = None
    rendition: Rendition | None = None  # for exposing uses: the one form that may leave

    @property
    def disguise_required(self) -> bool:
        return self.voice != VoiceForm.ORIGINAL

    def speaker_label(self, pseudonym: str | None) -> str:
        """How the speaker may be named in text that leaves the archive."""
        if self.identity in (Identity.PSEUDONYM, Identity.NAMED) and pseudonym:
            return pseudonym
        return ANONYMOUS_LABEL

    @property
    def awaiting_review(self) -> bool:
        """Refused only until a human approves a rendition: the consent itself allows the use."""
        return not self.allowed and self.reason.startswith(REVIEW_REASON)

    def require(self) -> Decision:
        if not self.allowed:
            error = ReviewRequired if self.awaiting_review else ConsentRefused
            raise error(self.reason)
        return self


REVIEW_REASON = "aucune version anonymisée approuvée"


TRANSCRIPT_REASON = "transcription automatique inutilisable"


def rule(consent: ConsentRecord | None, use: Use, *, rendition_approved: bool, now: datetime | None = None,
         transcript_problem: str | None = None) -> Decision:
    """The consent table itself, over plain values (unit-tested row by row)."""
    now = now or datetime.now(timezone.utc)
    if consent is None:
        if use == Use.ARCHIVE:
            return Decision(use, True, "conservé en attente de consentement")
        return Decision(use, False, "aucun consentement enregistré")
    version = consent.version
    withdrawn = consent.withdrawn_at
    if withdrawn is not None and as_utc(withdrawn) <= now:
        return Decision(use, False, f"consentement retiré le {as_utc(withdrawn):%Y-%m-%d}", version)
    if not consent.archive:
        return Decision(use, False, "pas de consentement pour l'archivage", version)
    identity, voice = Identity(consent.identity), VoiceForm(consent.voice)
    if use in (Use.ARCHIVE, Use.PROCESS):
        return Decision(use, True, "autorisé", version, identity, voice)
    if not getattr(consent, use.value):
        return Decision(use, False, f"pas de consentement pour l'usage « {use.value} »", version, identity, voice)
    if transcript_problem:
        return Decision(use, False, f"{TRANSCRIPT_REASON} ({transcript_problem}) : transcription humaine "
                                    f"nécessaire (kuma transcript import)", version, identity, voice)
    if not rendition_approved:
        return Decision(use, False, f"{REVIEW_REASON} (relecture humaine requise)", version, identity, voice)
    return Decision(use, True, "autorisé", version, identity, voice)


def decide(testimony: Testimony, use: Use, *, now: datetime | None = None) -> Decision:
    """May ``testimony`` be used for ``use``, and in which form? The single policy function."""
    consent = testimony.consent
    rendition, problem = None, None
    session = object_session(testimony)
    if use.exposes and consent is not None and session is not None:
        transcript = preferred_transcript(session, testimony.id)  # read once: both checks stand on it
        rendition = _current_rendition(session, testimony, transcript)
        problem = _problem_of(transcript)
    approved = rendition is not None and rendition.status == ReviewStatus.APPROVED
    decision = rule(consent, use, rendition_approved=approved, now=now, transcript_problem=problem)
    if decision.allowed and use.exposes:
        return Decision(**{**decision.__dict__, "rendition": rendition})
    return decision


def preferred_transcript(session: Session, testimony_id: int) -> Transcript | None:
    """The transcript that rules: the latest human version, else the latest ASR version."""
    rows = session.scalars(
        select(Transcript).where(Transcript.testimony_id == testimony_id).order_by(Transcript.version.desc())
    ).all()
    human = [t for t in rows if t.source == TranscriptSource.HUMAN]
    return (human or rows or [None])[0]


def transcript_problem(testimony: Testimony) -> str | None:
    """Why the testimony's ruling transcript cannot be trusted outside the archive, or None."""
    session = object_session(testimony)
    return _problem_of(preferred_transcript(session, testimony.id)) if session is not None else None


def _problem_of(transcript: Transcript | None) -> str | None:
    if transcript is None or not transcript.needs_human:
        return None
    return (transcript.quality or {}).get("reason") or "reconnaissance en échec"


def rendition_fingerprint(testimony: Testimony, transcript: Transcript | None) -> str:
    """Hash of everything an anonymized rendition is made from. A change means: review again."""
    consent = testimony.consent
    payload = {
        "v": ANONYMIZATION_VERSION,
        "consent": consent and [consent.version, consent.identity, consent.voice, consent.voice_mode],
        "transcript": transcript and transcript.id,
        "terms": sorted([t.term, t.kind, t.ignored] for t in testimony.sensitive_terms),
        "muted": testimony.muted_spans,
        "pseudonym": testimony.pseudonym,
        "audio": (speech := testimony.speech_asset()) and speech.sha256,  # the cleaned copy, once made
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def current_rendition(testimony: Testimony) -> Rendition | None:
    """The latest rendition, if it was made from the testimony's current inputs; else None."""
    session = object_session(testimony)
    if session is None:
        return None
    return _current_rendition(session, testimony, preferred_transcript(session, testimony.id))


def _current_rendition(session: Session, testimony: Testimony, transcript: Transcript | None) -> Rendition | None:
    latest = session.scalars(
        select(Rendition).where(Rendition.testimony_id == testimony.id).order_by(Rendition.id.desc()).limit(1)
    ).first()
    if latest is None or latest.fingerprint != rendition_fingerprint(testimony, transcript):
        return None
    return latest
