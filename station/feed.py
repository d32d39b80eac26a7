"""The radio feed as the station needs it: episodes, their renditions with size and sha256 (the
``podcast:alternateEnclosure`` / ``podcast:integrity`` of the Podcasting 2.0 namespace), the RFC 5005
archive page before this one, and the takedown list."""
from __future__ import annotations

import base64
import binascii
import json
import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import unquote, urlsplit

from station.errors import StationError

PODCAST = "{https://podcastindex.org/namespace/1.0}"
ITUNES = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"
ATOM = "{http://www.w3.org/2005/Atom}"
ROLES = ("broadcast", "podcast", "lowband", "opus")
SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")  # what may become a file name in the folder


class FeedError(StationError):
    exit_code = 4


@dataclass(frozen=True)
class Rendition:
    role: str
    url: str
    mime: str
    size: int
    sha256: str | None
    default: bool = False

    @property
    def name(self) -> str:
        return unquote(urlsplit(self.url).path.rsplit("/", 1)[-1])

    @property
    def extension(self) -> str:
        extension = self.name.rsplit(".", 1)[-1].lower() if "." in self.name else ""
        return extension if extension.isalnum() and len(extension) <= 8 else "bin"


@dataclass(frozen=True)
class Episode:
    guid: str
    slug: str
    title: str
    description: str
    number: int | None
    published: datetime | None
    duration: float | None
    renditions: tuple[Rendition, ...]
    chapters_url: str | None = None

    def pick(self, role: str) -> Rendition | None:
        """The rendition the station asked for, else the feed's main one."""
        verified = [r for r in self.renditions if r.sha256]
        for candidate in (role, None):
            for rendition in verified:
                if rendition.role == candidate or (candidate is None and rendition.default):
                    return rendition
        return verified[0] if verified else None


@dataclass(frozen=True)
class Page:
    title: str
    episodes: tuple[Episode, ...]
    prev_archive: str | None  # RFC 5005: the archive page holding the episodes before these
    takedown_url: str | None


@dataclass(frozen=True)
class Takedown:
    guid: str
    slug: str
    taken_down_at: str  # as takedown.json says it: the receipt sends it back unchanged
    reason: str
    files: tuple[str, ...]


def parse_feed(body: bytes) -> Page:
    try:
        channel = ElementTree.fromstring(body).find("channel")
    except ElementTree.ParseError as exc:
        raise FeedError(f"flux illisible (XML invalide : {exc})") from None
    if channel is None:
        raise FeedError("flux illisible : pas de <channel> (est-ce bien l'adresse du flux ?)")
    links = {link.get("rel"): link.get("href") for link in channel.findall(f"{ATOM}link")}
    return Page(title=(channel.findtext("title") or "").strip(),
                episodes=tuple(e for e in (_episode(item) for item in channel.findall("item")) if e is not None),
                prev_archive=links.get("prev-archive"), takedown_url=links.get("related"))


def _episode(item) -> Episode | None:
    guid = (item.findtext("guid") or "").strip()
    enclosure = item.find("enclosure")
    if not guid or enclosure is None:
        return None
    renditions = [_alternate(element) for element in item.findall(f"{PODCAST}alternateEnclosure")]
    renditions = [r for r in renditions if r is not None]
    if not renditions:
        renditions = [Rendition("unknown", enclosure.get("url", ""), enclosure.get("type", ""),
                                _int(enclosure.get("length")) or 0, None, True)]
    slug = _slug_of(renditions[0].url)
    if not SAFE.match(slug):
        return None  # never a file name that could leave the folder
    renditions = [r if r.role != "?" else _with_role(r, slug) for r in renditions]
    chapters = item.find(f"{PODCAST}chapters")
    return Episode(guid=guid, slug=slug, title=(item.findtext("title") or "").strip(),
                   description=(item.findtext("description") or "").strip(),
                   number=_int(item.findtext(f"{ITUNES}episode")), published=_date(item.findtext("pubDate")),
                   duration=_duration(item.findtext(f"{ITUNES}duration")), renditions=tuple(renditions),
                   chapters_url=chapters.get("url") if chapters is not None else None)


def _alternate(element) -> Rendition | None:
    source = element.find(f"{PODCAST}source")
    size = _int(element.get("length"))
    if source is None or not source.get("uri") or size is None:
        return None
    integrity = element.find(f"{PODCAST}integrity")
    sha256 = _sri_sha256(integrity.get("value", "")) if integrity is not None and integrity.get("type") == "sri" else None
    return Rendition("?", source.get("uri"), element.get("type", ""), size, sha256, element.get("default") == "true")


def _with_role(rendition: Rendition, slug: str) -> Rendition:
    """Kuma names an episode's files ``<slug>-<role>.<ext>``: the role is read from the name."""
    stem = rendition.name.rsplit(".", 1)[0]
    role = stem.removeprefix(f"{slug}-") if stem.startswith(f"{slug}-") else stem
    return Rendition(role if role in ROLES else "unknown", rendition.url, rendition.mime, rendition.size,
                     rendition.sha256, rendition.default)


def _slug_of(url: str) -> str:
    """``…/media/<slug>/<file>``."""
    parts = unquote(urlsplit(url).path).split("/")
    return parts[-2] if len(parts) >= 2 and parts[-2] else parts[-1]


def parse_takedowns(body: bytes) -> list[Takedown]:
    try:
        payload = json.loads(body)
        return [Takedown(guid=str(entry["guid"]), slug=str(entry.get("slug", "")),
                         taken_down_at=str(entry.get("taken_down_at", "")), reason=str(entry.get("reason", "")),
                         files=tuple(str(name) for name in entry.get("files", [])))
                for entry in payload.get("episodes", [])]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise FeedError(f"liste des retraits (takedown.json) illisible : {exc}") from None


def _sri_sha256(value: str) -> str | None:
    algorithm, _, encoded = value.strip().partition("-")
    if algorithm != "sha256":
        return None
    try:
        digest = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None
    return digest.hex() if len(digest) == 32 else None


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _date(text: str | None) -> datetime | None:
    try:
        moment = parsedate_to_datetime(text) if text else None
    except (TypeError, ValueError):
        return None
    return moment.astimezone(timezone.utc) if moment and moment.tzinfo else moment


def _duration(text: str | None) -> float | None:
    if not text:
        return None
    try:
        seconds = 0.0
        for part in text.strip().split(":"):
            seconds = seconds * 60 + float(part)
        return seconds
    except ValueError:
        return None
