"""API access tables (issue 7): API keys and roles, and the search index's rows.

The search index is derived data: ``archive.search.index_testimony`` rewrites a testimony's
rows from its current transcript, rendition and consent. On SQLite an FTS5 table
(``search_fts``, external content over ``search_segments``, kept in step by triggers) indexes
the texts; on PostgreSQL two generated ``tsvector`` columns with GIN indexes do (migration 0006).
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from archive.models.base import Base, utcnow


class Role(enum.StrEnum):
    ADMIN = "admin"  # everything: originals, sensitive terms
    PRODUCER = "producer"  # processing, reviews, rundowns: raw transcripts, anonymized audio
    ADVOCATE = "advocate"  # testimonies with advocacy consent: redacted text, anonymized clips
    RADIO = "radio"  # the private radio feed and its media


class ApiKey(Base):
    """An API key. Only the sha256 of the token is stored; ``prefix`` identifies it in listings."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    prefix: Mapped[str] = mapped_column(String(24))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class SearchAccess(Base):
    """Per testimony: which texts are indexed, and which uses the policy allowed at index time.

    The flags only pre-filter in SQL; every response asks ``archive.consent.decide`` again.
    """

    __tablename__ = "search_access"

    testimony_id: Mapped[int] = mapped_column(ForeignKey("testimonies.id", ondelete="CASCADE"), primary_key=True)
    transcript_id: Mapped[int | None]
    rendition_id: Mapped[int | None]
    archive_ok: Mapped[bool] = mapped_column(default=False)
    process_ok: Mapped[bool] = mapped_column(default=False)
    advocacy_ok: Mapped[bool] = mapped_column(default=False)
    indexed_at: Mapped[datetime] = mapped_column(default=utcnow)


class SearchSegment(Base):
    """One transcript segment as indexed: the raw text and the redacted text (empty when no
    approved rendition exists). Timecodes come from the transcript segment."""

    __tablename__ = "search_segments"

    id: Mapped[int] = mapped_column(primary_key=True)
    testimony_id: Mapped[int] = mapped_column(ForeignKey("testimonies.id", ondelete="CASCADE"), index=True)
    idx: Mapped[int]
    start: Mapped[float]
    end: Mapped[float]
    text: Mapped[str] = mapped_column(Text, default="")
    redacted: Mapped[str] = mapped_column(Text, default="")
