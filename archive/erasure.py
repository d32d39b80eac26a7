"""What a consent change erases at once (docs/archive.md, "Withdrawal").

When the policy no longer allows a testimony to be processed (consent withdrawn, or the archive
consent turned off), everything Kuma derived from the recording is deleted: the working copy,
the transcripts (with their segments, words and theme suggestions), the anonymized renditions and
their audio, and the media of every episode built with it (those episodes are taken down). When
the latest consent also refuses archiving (``archive: no``), the original recording goes too, with
the personal intake metadata (pseudonym, place, route, interviewer, notes, sensitive terms). What
always stays: the testimony's row (its public id), its consent history and the audit log, which
say what was done and when.

Everything here runs inside the caller's transaction; the returned sha256s are the files to
release from the store once it is committed (``Archive.release_media``), so a crash before the
commit loses nothing and one after it leaves at most orphan files that ``kuma verify --repair``
removes.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive import audit
from archive.consent import Use, decide
from archive.models import (
    EpisodeTestimony,
    MediaAsset,
    MediaKind,
    Rendition,
    StageName,
    StageState,
    Testimony,
    Transcript,
)


@dataclass
class Erased:
    released: list[str] = field(default_factory=list)  # sha256s no longer referenced by this testimony
    what: list[str] = field(default_factory=list)  # French, for the person who changed the consent

    def __bool__(self) -> bool:
        return bool(self.what)


def erase_disallowed(session: Session, testimony: Testimony, actor: str) -> Erased:
    """Delete what the testimony's current consent no longer allows to exist."""
    erased = Erased()
    if decide(testimony, Use.PROCESS).allowed:
        return erased
    _drop_renditions(session, testimony, erased)
    _drop_transcripts(session, testimony, erased)
    _drop_episode_media(session, testimony, erased)
    _drop_assets(session, testimony, erased, MediaKind.WORKING, "copie de travail")
    _drop_assets(session, testimony, erased, MediaKind.CLEANED, "copie nettoyée")
    consent = testimony.consent
    if consent is not None and not consent.archive:
        _drop_assets(session, testimony, erased, MediaKind.ORIGINAL, "enregistrement original")
        _drop_personal_metadata(testimony, erased)
    for status in testimony.stages:
        if status.stage != StageName.INGEST:
            status.state, status.reason, status.fingerprint = StageState.SKIPPED, "consentement : effacé", None
    if erased:
        session.flush()
        audit.record(session, actor, "testimony.erase", testimony=testimony, erased=erased.what)
    return erased


def _drop_renditions(session: Session, testimony: Testimony, erased: Erased) -> None:
    renditions = session.scalars(select(Rendition).where(Rendition.testimony_id == testimony.id)).all()
    for rendition in renditions:
        session.execute(EpisodeTestimony.__table__.update()
                        .where(EpisodeTestimony.rendition_id == rendition.id).values(rendition_id=None))
        session.delete(rendition)
    if renditions:
        erased.what.append(f"{len(renditions)} version(s) anonymisée(s)")
    _drop_assets(session, testimony, erased, MediaKind.ANONYMIZED, None)
    _drop_assets(session, testimony, erased, MediaKind.REVIEW, None)


def _drop_transcripts(session: Session, testimony: Testimony, erased: Erased) -> None:
    transcripts = session.scalars(select(Transcript).where(Transcript.testimony_id == testimony.id)).all()
    for transcript in transcripts:
        session.delete(transcript)
    if transcripts:
        erased.what.append(f"{len(transcripts)} transcription(s)")


def _drop_episode_media(session: Session, testimony: Testimony, erased: Erased) -> None:
    episode_ids = session.scalars(select(EpisodeTestimony.episode_id)
                                  .where(EpisodeTestimony.testimony_id == testimony.id)).all()
    if not episode_ids:
        return
    assets = session.scalars(select(MediaAsset).where(MediaAsset.episode_id.in_(episode_ids))).all()
    for asset in assets:
        erased.released.append(asset.sha256)
        session.delete(asset)
    if assets:
        erased.what.append(f"fichiers de {len(episode_ids)} émission(s)")


def _drop_assets(session: Session, testimony: Testimony, erased: Erased, kind: MediaKind, label: str | None) -> None:
    assets = [a for a in testimony.assets if a.kind == kind]
    for asset in assets:
        erased.released.append(asset.sha256)
        testimony.assets.remove(asset)
        session.delete(asset)
    if assets and label:
        erased.what.append(label)


def _drop_personal_metadata(testimony: Testimony, erased: Erased) -> None:
    for name in ("pseudonym", "place", "route", "interviewer", "notes"):
        setattr(testimony, name, None)
    testimony.muted_spans = []
    testimony.sensitive_terms.clear()
    erased.what.append("métadonnées personnelles")
