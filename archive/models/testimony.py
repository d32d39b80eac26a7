from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Column, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.models.base import Base, utcnow


class Identity(enum.StrEnum):
    ANONYMOUS = "anonymous"
    PSEUDONYM = "pseudonym"
    NAMED = "named"


class VoiceForm(enum.StrEnum):
    DISGUISE = "disguise"
    ORIGINAL = "original"


class VoiceMode(enum.StrEnum):
    """How strongly the voice is disguised, as the witness accepted it (``anonymization.voice.Mode``)."""

    LIGHT = "light"
    STANDARD = "standard"
    STRONG = "strong"


class TermKind(enum.StrEnum):
    """What a sensitive term is: it decides its placeholder ([NOM], [LIEU], [TÉLÉPHONE], [NUMÉRO])."""

    NAME = "name"
    PLACE = "place"
    PHONE = "phone"
    OTHER = "other"


class MediaKind(enum.StrEnum):
    ORIGINAL = "original"
    WORKING = "working"
    CLEANED = "cleaned"  # the working copy with noise, rumble and hum removed (the clean stage)
    ANONYMIZED = "anonymized"
    REVIEW = "review"
    EPISODE = "episode"


class StageName(enum.StrEnum):
    """The pipeline's stages, in order (``pipeline.STAGES`` runs them); also the keys of
    ``StageStatus.stage``."""

    INGEST = "ingest"
    CLEAN = "clean"
    TRANSCRIBE = "transcribe"
    ANONYMIZE = "anonymize"
    REVIEW = "review"
    BUILD_EPISODE = "build_episode"
    PUBLISH = "publish"


class StageState(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"
    NEEDS_HUMAN = "needs_human"
    SKIPPED = "skipped"


testimony_themes = Table(
    "testimony_themes",
    Base.metadata,
    Column("testimony_id", ForeignKey("testimonies.id", ondelete="CASCADE"), primary_key=True),
    Column("theme_slug", ForeignKey("themes.slug"), primary_key=True),
)


class Theme(Base):
    __tablename__ = "themes"

    slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(128))


class Testimony(Base):
    __tablename__ = "testimonies"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str | None] = mapped_column(String(16), unique=True)
    # Random, never exported: mixed with the settings' secret to key the voice disguise.
    internal_key: Mapped[str] = mapped_column(String(64))
    source_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    source_name: Mapped[str] = mapped_column(String(512))
    pseudonym: Mapped[str | None] = mapped_column(String(128))
    recorded_at: Mapped[datetime | None]
    place: Mapped[str | None] = mapped_column(String(256))
    language: Mapped[str | None] = mapped_column(String(8))
    expelled_from: Mapped[str | None] = mapped_column(String(2))
    route: Mapped[str | None] = mapped_column(String(256))
    interviewer: Mapped[str | None] = mapped_column(String(128))
    notes: Mapped[str | None] = mapped_column(Text)
    duration: Mapped[float] = mapped_column(default=0.0)
    # Timecoded stretches the intake worker asked to mute: [[start, end], ...] in seconds.
    muted_spans: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    themes: Mapped[list[Theme]] = relationship(secondary=testimony_themes, order_by=Theme.slug)
    consents: Mapped[list[ConsentRecord]] = relationship(
        back_populates="testimony", order_by="ConsentRecord.version", cascade="all, delete-orphan"
    )
    assets: Mapped[list[MediaAsset]] = relationship(back_populates="testimony", cascade="all, delete-orphan")
    sensitive_terms: Mapped[list[SensitiveTerm]] = relationship(
        back_populates="testimony", cascade="all, delete-orphan", order_by="SensitiveTerm.id"
    )
    stages: Mapped[list[StageStatus]] = relationship(back_populates="testimony", cascade="all, delete-orphan")

    @property
    def consent(self) -> ConsentRecord | None:
        """The latest consent version (the one that rules), or None."""
        return self.consents[-1] if self.consents else None

    def asset(self, kind: MediaKind) -> MediaAsset | None:
        found = [a for a in self.assets if a.kind == kind]
        return max(found, key=lambda a: a.id) if found else None

    def speech_asset(self) -> MediaAsset | None:
        """The audio the voice disguise reads: the cleaned copy when the clean stage made one, else
        the working copy. (Transcription reads the working copy: docs/sound.md.)"""
        return self.asset(MediaKind.CLEANED) or self.asset(MediaKind.WORKING)

    def stage(self, name: str) -> StageStatus | None:
        return next((s for s in self.stages if s.stage == name), None)


class MediaAsset(Base):
    __tablename__ = "media_assets"

    id: Mapped[int] = mapped_column(primary_key=True)
    testimony_id: Mapped[int | None] = mapped_column(ForeignKey("testimonies.id", ondelete="CASCADE"), index=True)
    episode_id: Mapped[int | None] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    role: Mapped[str | None] = mapped_column(String(32))  # e.g. "broadcast", "podcast", "lowband" for episodes
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int]
    format: Mapped[str] = mapped_column(String(16))
    codec: Mapped[str | None] = mapped_column(String(32))
    sample_rate: Mapped[int | None]
    channels: Mapped[int | None]
    duration: Mapped[float | None]
    bitrate: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    testimony: Mapped[Testimony | None] = relationship(back_populates="assets")


class ConsentRecord(Base):
    """One version of a testimony's consent. Append-only: never updated, the latest rules."""

    __tablename__ = "consent_records"
    __table_args__ = (UniqueConstraint("testimony_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    testimony_id: Mapped[int] = mapped_column(ForeignKey("testimonies.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    archive: Mapped[bool] = mapped_column(default=False)
    advocacy: Mapped[bool] = mapped_column(default=False)
    broadcast: Mapped[bool] = mapped_column(default=False)
    online: Mapped[bool] = mapped_column(default=False)
    identity: Mapped[str] = mapped_column(String(16), default=Identity.ANONYMOUS)
    voice: Mapped[str] = mapped_column(String(16), default=VoiceForm.DISGUISE)
    voice_mode: Mapped[str] = mapped_column(String(16), default=VoiceMode.STANDARD,
                                            server_default=VoiceMode.STANDARD.value)
    withdrawn_at: Mapped[datetime | None]
    collected_by: Mapped[str | None] = mapped_column(String(128))
    method: Mapped[str | None] = mapped_column(String(64))
    recorded_by: Mapped[str] = mapped_column(String(128))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)

    testimony: Mapped[Testimony] = relationship(back_populates="consents")


class SensitiveTerm(Base):
    """A name, place or number that must never leave the archive. Never exported."""

    __tablename__ = "sensitive_terms"
    __table_args__ = (UniqueConstraint("testimony_id", "term"),
                      CheckConstraint(f"kind IN ({', '.join(repr(k.value) for k in TermKind)})", name="kind"))

    id: Mapped[int] = mapped_column(primary_key=True)
    testimony_id: Mapped[int] = mapped_column(ForeignKey("testimonies.id", ondelete="CASCADE"), index=True)
    term: Mapped[str] = mapped_column(String(256))
    kind: Mapped[str] = mapped_column(String(16), default=TermKind.NAME)
    source: Mapped[str] = mapped_column(String(16), default="intake")  # intake / review
    ignored: Mapped[bool] = mapped_column(default=False)  # a reviewer marked a detection as a false positive
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    testimony: Mapped[Testimony] = relationship(back_populates="sensitive_terms")


class StageStatus(Base):
    """Where a testimony stands in one pipeline stage."""

    __tablename__ = "stage_status"
    __table_args__ = (UniqueConstraint("testimony_id", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    testimony_id: Mapped[int] = mapped_column(ForeignKey("testimonies.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default=StageState.PENDING)
    reason: Mapped[str | None] = mapped_column(Text)
    fingerprint: Mapped[str | None] = mapped_column(String(64))  # inputs+options hash: idempotency
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    testimony: Mapped[Testimony] = relationship(back_populates="stages")


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64), index=True)
    testimony_id: Mapped[int | None] = mapped_column(
        ForeignKey("testimonies.id", ondelete="SET NULL"), index=True
    )
    target: Mapped[str | None] = mapped_column(String(256))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
