"""Access tables: API keys and roles (issue 7), people's accounts and web sessions (issue 18), and
the search index's rows.

The search index is derived data: ``archive.search.index_testimony`` rewrites a testimony's
rows from its current transcript, rendition and consent. On SQLite an FTS5 table
(``search_fts``, external content over ``search_segments``, kept in step by triggers) indexes
the texts; on PostgreSQL two generated ``tsvector`` columns with GIN indexes do (migration 0006).
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

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


PEOPLE_ROLES = (Role.ADMIN, Role.PRODUCER, Role.ADVOCATE)  # a radio station signs in with its feed token, not as a person


class User(Base):
    """A person who signs in to the web studio. ``password_hash`` is an argon2id hash (api/users.py);
    ``failed_logins`` and ``locked_until`` slow down password guessing."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(f"role IN ({', '.join(repr(r.value) for r in PEOPLE_ROLES)})", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(256))
    created_by: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[datetime | None]
    failed_logins: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]

    sessions: Mapped[list[WebSession]] = relationship(back_populates="user", cascade="all, delete-orphan")


class WebSession(Base):
    """A signed-in browser: the cookie carries a random token, only its sha256 is stored, with the
    session's CSRF token (every form posts it back)."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]

    user: Mapped[User] = relationship(back_populates="sessions")
