"""Finding testimonies and recording their consent and stage status."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive import audit
from archive.errors import InputError, NotFound
from archive.models import ConsentRecord, Identity, StageState, StageStatus, Testimony, VoiceForm, VoiceMode

PUBLIC_ID_FORMAT = "T-{:06d}"


def public_id_for(internal_id: int) -> str:
    return PUBLIC_ID_FORMAT.format(internal_id)


def get(session: Session, public_id: str) -> Testimony:
    found = session.scalar(select(Testimony).where(Testimony.public_id == public_id.strip().upper()))
    if found is None:
        raise NotFound(f"témoignage inconnu : {public_id}")
    return found


def consent_fields() -> tuple[str, ...]:
    return ("archive", "advocacy", "broadcast", "online", "identity", "voice", "voice_mode", "collected_by", "method",
            "note")


def add_consent(session: Session, testimony: Testimony, actor: str, **changes) -> ConsentRecord:
    """Append a consent version: the latest version's values, overridden by ``changes``. Only the
    record: its consequences (search index, takedowns, erasure, feeds) are ``pipeline.change_consent``'s."""
    unknown = set(changes) - set(consent_fields()) - {"withdrawn_at"}
    if unknown:
        raise InputError(f"champ de consentement inconnu : {', '.join(sorted(unknown))}")
    if "identity" in changes:
        _check_enum(Identity, changes["identity"], "identity")
    if "voice" in changes:
        _check_enum(VoiceForm, changes["voice"], "voice")
    if "voice_mode" in changes:
        _check_enum(VoiceMode, changes["voice_mode"], "voice_mode")
    previous = testimony.consent
    values = {name: getattr(previous, name) for name in consent_fields()} if previous else {}
    if previous and previous.withdrawn_at and "withdrawn_at" not in changes:
        values["withdrawn_at"] = previous.withdrawn_at  # a withdrawal is final
    values.update(changes)
    version = (session.scalar(
        select(func.max(ConsentRecord.version)).where(ConsentRecord.testimony_id == testimony.id)
    ) or 0) + 1
    record = ConsentRecord(testimony=testimony, version=version, recorded_by=actor, **values)
    session.add(record)
    session.flush()
    session.refresh(testimony, ["consents"])
    audit.record(session, actor, "consent.set", testimony=testimony, version=version,
                 changes={k: str(v) for k, v in changes.items()})
    return record


def withdraw(session: Session, testimony: Testimony, actor: str, note: str | None = None) -> ConsentRecord:
    return add_consent(session, testimony, actor, withdrawn_at=datetime.now(timezone.utc),
                       **({"note": note} if note else {}))


def set_stage(session: Session, testimony: Testimony, stage: str, state: StageState,
              reason: str | None = None, fingerprint: str | None = None) -> StageStatus:
    status = testimony.stage(stage)
    if status is None:
        status = StageStatus(testimony=testimony, stage=stage)
        session.add(status)
    status.state = state
    status.reason = reason
    status.fingerprint = fingerprint
    status.updated_at = datetime.now(timezone.utc)
    return status


def _check_enum(enum_type, value, name: str) -> None:
    allowed = [member.value for member in enum_type]
    if value not in allowed:
        raise InputError(f"valeur inconnue pour {name} : {value!r} (attendu : {', '.join(allowed)})")
