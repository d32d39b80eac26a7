from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.models.base import Base, utcnow
from archive.models.testimony import MediaAsset, Testimony


class Episode(Base):
    __tablename__ = "episodes"
    __table_args__ = (UniqueConstraint("programme", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(128), unique=True)  # ASCII, used in URLs and file names
    programme: Mapped[str] = mapped_column(String(256))
    number: Mapped[int]
    season: Mapped[int | None]
    title: Mapped[str] = mapped_column(String(512))
    date: Mapped[date]
    language: Mapped[str] = mapped_column(String(8), default="fr")
    description: Mapped[str] = mapped_column(Text, default="")
    public: Mapped[bool] = mapped_column(default=True)  # meant for the public (online) feed
    rundown: Mapped[dict[str, Any]] = mapped_column(default=dict)
    rundown_sha256: Mapped[str | None] = mapped_column(String(64))
    # Hash of everything the renditions are made from (rundown, input files, renditions, settings):
    # an unchanged fingerprint means a rebuild would give the same bytes, so it is skipped.
    build_fingerprint: Mapped[str | None] = mapped_column(String(64))
    duration: Mapped[float | None]
    loudness: Mapped[dict[str, Any]] = mapped_column(default=dict)
    cue: Mapped[list[Any]] = mapped_column(default=list)  # [{title, kind, start, duration, testimony}]
    built_at: Mapped[datetime | None]
    # When set, consent was withdrawn for one of its testimonies: taken down from every feed.
    taken_down_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    testimonies: Mapped[list[EpisodeTestimony]] = relationship(
        back_populates="episode", cascade="all, delete-orphan"
    )
    assets: Mapped[list[MediaAsset]] = relationship(
        primaryjoin="Episode.id == MediaAsset.episode_id", viewonly=True
    )


class EpisodeTestimony(Base):
    __tablename__ = "episode_testimonies"

    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), primary_key=True)
    testimony_id: Mapped[int] = mapped_column(ForeignKey("testimonies.id", ondelete="CASCADE"), primary_key=True)
    # The approved anonymized rendition the episode was built from.
    rendition_id: Mapped[int | None] = mapped_column(ForeignKey("renditions.id", ondelete="SET NULL"))

    episode: Mapped[Episode] = relationship(back_populates="testimonies")
    testimony: Mapped[Testimony] = relationship()
