"""Feed tables: partner radio stations and their tokens (issue 6), what their clients report back (issue 19)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
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


class StationReceipt(Base):
    """What a station's client said after one sync (issue 19): the episodes it holds, its problems.

    ``received_at`` is the archive's clock (last contact); ``synced_at`` the station's own.
    Only the latest receipts of each station are kept (:data:`feeds.receipts.RECEIPTS_KEPT`).
    """

    __tablename__ = "station_receipts"

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("radio_stations.id", ondelete="CASCADE"), index=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    synced_at: Mapped[datetime | None]
    client: Mapped[str] = mapped_column(String(64), default="")
    held: Mapped[list[Any]] = mapped_column(default=list)  # [{guid, slug, sha256, file, size}]
    problems: Mapped[list[Any]] = mapped_column(default=list)  # [str], as the station worded them


class StationTakedown(Base):
    """A takedown a station confirmed it executed: one row per station and episode, moved forward
    when the episode is listed again (``listed_at`` is the takedown's date in takedown.json).
    Confirmed by its client's receipt, or by a person of the team (``confirmed_by``) who called a
    station that cannot report any more (revoked, client broken)."""

    __tablename__ = "station_takedowns"
    __table_args__ = (UniqueConstraint("station_id", "guid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("radio_stations.id", ondelete="CASCADE"), index=True)
    guid: Mapped[str] = mapped_column(String(80))
    slug: Mapped[str] = mapped_column(String(128))
    listed_at: Mapped[datetime]
    executed_at: Mapped[datetime]  # the station's clock
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    files_deleted: Mapped[list[Any]] = mapped_column(default=list)
    confirmed_by: Mapped[str | None] = mapped_column(String(128))  # a person (by phone); None: the station's client


class StationAiring(Base):
    """An "aired at" line a station's playout log reported for an episode."""

    __tablename__ = "station_airings"
    __table_args__ = (UniqueConstraint("station_id", "guid", "aired_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("radio_stations.id", ondelete="CASCADE"), index=True)
    guid: Mapped[str] = mapped_column(String(80))
    slug: Mapped[str] = mapped_column(String(128))
    aired_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
