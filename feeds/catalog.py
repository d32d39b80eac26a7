"""Which episodes may appear in which feed, as plain data the feed builder can render.

Every testimony of every episode is put to :func:`archive.consent.decide` at each build:
an episode goes to the public feeds only when all its testimonies allow ``Use.ONLINE``, to the
radio feeds only when all allow ``Use.BROADCAST``. An episode one of whose testimonies refuses
every use (consent withdrawn, archive consent revoked) is taken down: ``taken_down_at`` is set,
it leaves every feed, its media leave the published directory and the takedown list names it.
An episode whose consent no longer allows broadcasting (the flag turned off, not a rendition
awaiting review) leaves the radio feeds and is named in the takedown list too, so that stations
delete the copy they already downloaded; it comes back if the consent does.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive import audit
from archive.consent import Use, decide
from archive.models import Episode, EpisodeTestimony, MediaAsset, utcnow
from archive.text import slugify

# Item GUIDs derive from the episode slug only, so they never change once published.
ITEM_NAMESPACE = uuid.UUID("6f0b7f39-3c55-5c5e-9a57-6b756d612d31")

AUDIO_ROLES = ("broadcast", "podcast", "lowband", "opus")
MIME = {
    "mp3": "audio/mpeg", "opus": "audio/ogg", "ogg": "audio/ogg", "wav": "audio/wav", "m4a": "audio/mp4",
    "vtt": "text/vtt", "srt": "application/x-subrip", "json": "application/json", "html": "text/html",
}
EXTENSIONS = {"mp3": "mp3", "opus": "opus", "ogg": "opus", "wav": "wav", "m4a": "m4a"}
RENDITION_TITLES = {"broadcast": "Diffusion (WAV)", "podcast": "Standard", "lowband": "Bas débit", "opus": "Bas débit Opus"}
TRANSCRIPT_ROLES = {"transcript-vtt": "vtt", "transcript-srt": "srt", "transcript-json": "json"}


@dataclass(frozen=True)
class MediaFile:
    """One published file of an episode: where it comes from in the store and its public name."""

    role: str
    sha256: str
    size: int
    name: str  # ASCII file name, e.g. "ep-0001-podcast.mp3"
    mime: str
    bitrate: int | None = None
    duration: float | None = None
    codec: str | None = None

    @property
    def is_audio(self) -> bool:
        return self.role in AUDIO_ROLES


@dataclass(frozen=True)
class FeedEpisode:
    slug: str
    guid: str
    number: int
    season: int | None
    title: str
    description: str
    language: str
    published: datetime
    duration: float | None
    public: bool
    online: bool  # every testimony allows online use
    broadcast: bool  # every testimony allows broadcast
    media: tuple[MediaFile, ...]
    chapters: tuple[dict, ...] = ()  # generated from the cue when the studio made no chapters file

    def audio(self) -> list[MediaFile]:
        return [m for m in self.media if m.is_audio]

    def by_role(self, role: str) -> MediaFile | None:
        return next((m for m in self.media if m.role == role), None)

    def smallest(self) -> MediaFile:
        return min(self.audio(), key=lambda m: (m.size, m.role))

    def preferred(self, roles: tuple[str, ...]) -> MediaFile:
        for role in roles:
            if found := self.by_role(role):
                return found
        return self.smallest()


@dataclass(frozen=True)
class TakenDown:
    slug: str
    guid: str
    taken_down_at: datetime
    files: tuple[str, ...]
    public: bool  # was meant for the public feeds too
    reason: str = "consentement retiré : retiré de toute publication"


OFF_AIR = "diffusion radio plus autorisée par le consentement"


@dataclass
class Catalog:
    episodes: list[FeedEpisode] = field(default_factory=list)  # oldest first
    taken_down: list[TakenDown] = field(default_factory=list)

    @property
    def public(self) -> list[FeedEpisode]:
        return [e for e in self.episodes if e.public and e.online]

    @property
    def radio(self) -> list[FeedEpisode]:
        return [e for e in self.episodes if e.broadcast]


def item_guid(slug: str) -> str:
    return f"urn:uuid:{uuid.uuid5(ITEM_NAMESPACE, slug)}"


def _episodes(session: Session) -> list[Episode]:
    return list(session.scalars(
        select(Episode)
        .options(selectinload(Episode.testimonies).selectinload(EpisodeTestimony.testimony))
        .order_by(Episode.date, Episode.number, Episode.id)
    ))


def takedowns_due(session: Session, now: datetime | None = None) -> list[Episode]:
    """Episodes not yet taken down one of whose testimonies the policy no longer lets the archive
    keep (consent withdrawn, archive consent off)."""
    return [episode for episode in _episodes(session) if episode.taken_down_at is None and any(
        not decide(link.testimony, Use.ARCHIVE, now=now).allowed for link in episode.testimonies)]


def mark_takedowns(session: Session, *, actor: str = "kuma", now: datetime | None = None) -> list[str]:
    """Mark the episodes :func:`takedowns_due` names as taken down; returns their slugs. Run on
    every consent change (``pipeline.ON_CONSENT_CHANGE``) and before every publication."""
    now = now or utcnow()
    due = takedowns_due(session, now)
    for episode in due:
        episode.taken_down_at = now
        audit.record(session, actor, "feed.takedown", target=episode.slug)
    return [episode.slug for episode in due]


def load(session: Session, *, now: datetime | None = None) -> Catalog:
    """Ask the consent policy about every testimony of every episode (reads only: takedowns are
    marked by :func:`mark_takedowns`)."""
    now = now or utcnow()
    assets = _latest_assets(session)
    catalog = Catalog()
    for episode in _episodes(session):
        media = _media_files(episode, assets.get(episode.id, {}))
        testimonies = [link.testimony for link in episode.testimonies]
        if episode.taken_down_at is not None:
            catalog.taken_down.append(TakenDown(slugify(episode.slug), item_guid(episode.slug), episode.taken_down_at,
                                                tuple(m.name for m in media), episode.public))
            continue
        if not any(m.is_audio for m in media):
            continue  # not built yet
        broadcast = [decide(t, Use.BROADCAST, now=now) for t in testimonies]
        off_air = [t for t, d in zip(testimonies, broadcast) if not d.allowed and not d.awaiting_review]
        if off_air:
            since = max((t.consent.recorded_at for t in off_air if t.consent), default=_published(episode.date))
            catalog.taken_down.append(TakenDown(slugify(episode.slug), item_guid(episode.slug), since,
                                                tuple(m.name for m in media), False, OFF_AIR))
        catalog.episodes.append(FeedEpisode(
            slug=slugify(episode.slug), guid=item_guid(episode.slug), number=episode.number, season=episode.season,
            title=episode.title, description=episode.description or "", language=episode.language or "fr",
            published=_published(episode.date), duration=episode.duration, public=episode.public,
            online=all(decide(t, Use.ONLINE, now=now).allowed for t in testimonies),
            broadcast=all(d.allowed for d in broadcast),
            media=media, chapters=_chapters_from_cue(episode.cue),
        ))
    catalog.taken_down.sort(key=lambda t: (t.taken_down_at, t.slug))
    return catalog


def _latest_assets(session: Session) -> dict[int, dict[str, MediaAsset]]:
    """episode id -> role -> its newest asset (a rebuilt episode adds rows; the newest rules)."""
    rows = session.scalars(
        select(MediaAsset).where(MediaAsset.episode_id.is_not(None), MediaAsset.role.is_not(None))
        .order_by(MediaAsset.id)
    ).all()
    found: dict[int, dict[str, MediaAsset]] = {}
    for asset in rows:
        found.setdefault(asset.episode_id, {})[asset.role] = asset
    return found


def _media_files(episode: Episode, assets: dict[str, MediaAsset]) -> tuple[MediaFile, ...]:
    files = []
    for role, asset in sorted(assets.items()):
        extension = _extension(role, asset)
        if extension is None:
            continue
        files.append(MediaFile(
            role=role, sha256=asset.sha256, size=asset.size, name=f"{slugify(episode.slug)}-{role}.{extension}",
            mime=_mime(role, extension), bitrate=asset.bitrate, duration=asset.duration, codec=asset.codec,
        ))
    return tuple(files)


def _extension(role: str, asset: MediaAsset) -> str | None:
    if role in AUDIO_ROLES:
        return EXTENSIONS.get((asset.format or "").lower(), "opus" if role == "opus" else None)
    if role in TRANSCRIPT_ROLES:
        return TRANSCRIPT_ROLES[role]
    return {"chapters": "json", "shownotes-html": "html"}.get(role)


def _mime(role: str, extension: str) -> str:
    if role == "chapters":
        return "application/json+chapters"
    return MIME[extension]


def _published(day: date) -> datetime:
    return datetime.combine(day, time(6, 0), tzinfo=timezone.utc)


def _chapters_from_cue(cue: list | None) -> tuple[dict, ...]:
    chapters = []
    for entry in cue or []:
        if isinstance(entry, dict) and entry.get("title") and entry.get("start") is not None:
            chapters.append({"startTime": round(float(entry["start"]), 3), "title": str(entry["title"])})
    return tuple(chapters)


