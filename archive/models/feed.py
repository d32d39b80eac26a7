"""Feed tables (issue 6): partner radio stations and their tokens."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from archive.models.base import Base, utcnow


class RadioStation(Base):
    """A partner radio allowed to pull the private radio feed.

    Only the SHA-256 of its token is stored: the token itself is shown once, at creation.
    A revoked station keeps its row (history) but its token opens nothing any more.
    """

    __tablename__ = "radio_stations"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)  # ASCII name used in the CLI
    name: Mapped[str] = mapped_column(String(256))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    @property
    def active(self) -> bool:
        return self.revoked_at is None
