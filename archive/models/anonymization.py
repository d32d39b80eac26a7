from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.models.base import Base, utcnow
from archive.models.testimony import MediaAsset, Testimony
from archive.models.transcript import Transcript


class ReviewStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"


class Rendition(Base):
    """An anonymized rendition of a testimony: disguised audio + redacted transcript, reviewed by a human.

    ``fingerprint`` hashes everything it was made from (consent version, transcript version,
    sensitive terms, parameters); when any of those changes the rendition goes back to pending.
    """

    __tablename__ = "renditions"

    id: Mapped[int] = mapped_column(primary_key=True)
    testimony_id: Mapped[int] = mapped_column(ForeignKey("testimonies.id", ondelete="CASCADE"), index=True)
    audio_asset_id: Mapped[int | None] = mapped_column(ForeignKey("media_assets.id", ondelete="SET NULL"))
    transcript_id: Mapped[int | None] = mapped_column(ForeignKey("transcripts.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default=ReviewStatus.PENDING)
    fingerprint: Mapped[str] = mapped_column(String(64))
    # The redacted transcript as stored segments [{idx, start, end, text}], and the list of redactions.
    redacted_segments: Mapped[list[Any]] = mapped_column(default=list)
    redactions: Mapped[list[Any]] = mapped_column(default=list)
    # What the reviewer must check besides the redactions: weaker term matches, unknown proper
    # nouns, low-confidence transcript segments [{n, segment, start, end, timecode, source, reason, ...}].
    flags: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'"))
    # The intelligibility gate (anonymization/intelligibility.py): the disguised audio re-transcribed and its
    # word error rate against the ruling transcript, with the model used; None before migration 0009.
    intelligibility: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    approved_by: Mapped[str | None] = mapped_column(String(128))
    approved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    testimony: Mapped[Testimony] = relationship()
    audio: Mapped[MediaAsset | None] = relationship()
    transcript: Mapped[Transcript | None] = relationship()
