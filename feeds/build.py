"""Feed documents as bytes: public, low-band and radio, each paged per RFC 5005.

Byte-stable: everything in a document comes from the catalog (dates included), items are in a
fixed order (newest first, ties by episode number then slug), so an unchanged archive rebuilds
to identical bytes and ETags stay valid.

URL layout under ``base_url`` (the published directory mirrors it):

- ``/podcast/feed.xml``, ``/podcast/feed-lowband.xml`` and ``/podcast/archive/<name>-<n>.xml``;
- ``/podcast/media/<slug>/<file>`` and ``/podcast/cover.png`` (public, static-server friendly);
- ``/radio/<token>/feed.xml``, ``/radio/<token>/archive/feed-<n>.xml``,
  ``/radio/<token>/media/<slug>/<file>``, ``/radio/<token>/takedown.json`` (private: the
  stored documents carry :data:`TOKEN_PLACEHOLDER`, replaced by the server for the caller's token).
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from feedgen.feed import FeedGenerator

from archive.settings import Settings
from archive.timecode import format_timecode
from feeds import namespace
from feeds.catalog import RENDITION_TITLES, Catalog, FeedEpisode, MediaFile

TOKEN_PLACEHOLDER = "__KUMA_RADIO_TOKEN__"
EPOCH = datetime(2020, 1, 1, tzinfo=timezone.utc)
DESCRIPTION_LIMIT = 4000  # bytes, Apple's limit
PUBLIC_ENCLOSURE = ("podcast", "lowband", "opus", "broadcast")
RADIO_ENCLOSURE = ("broadcast", "podcast", "lowband", "opus")


@dataclass(frozen=True)
class FeedSpec:
    """One feed family: where it lives and which rendition is its main enclosure."""

    kind: str  # "public" | "lowband" | "radio"
    area: str  # "podcast" | "radio"
    name: str  # document name without .xml
    title_suffix: str

    def enclosure(self, episode: FeedEpisode) -> MediaFile:
        if self.kind == "lowband":
            return episode.smallest()
        return episode.preferred(RADIO_ENCLOSURE if self.kind == "radio" else PUBLIC_ENCLOSURE)


PUBLIC = FeedSpec("public", "podcast", "feed", "")
LOWBAND = FeedSpec("lowband", "podcast", "feed-lowband", " (bas débit)")
RADIO = FeedSpec("radio", "radio", "feed", " — radios partenaires")
SPECS = (PUBLIC, LOWBAND, RADIO)


@dataclass(frozen=True)
class Document:
    path: str  # relative to the published version directory, e.g. "podcast/feed.xml"
    content: bytes


class Urls:
    def __init__(self, settings: Settings):
        self.base = settings.base_url.rstrip("/")
        self.cover_name = cover_name(settings)

    def area(self, area: str) -> str:
        return f"{self.base}/podcast" if area == "podcast" else f"{self.base}/radio/{TOKEN_PLACEHOLDER}"

    def feed(self, spec: FeedSpec, page: int | None = None) -> str:
        return f"{self.area(spec.area)}/{_feed_name(spec, page)}"

    def media(self, area: str, episode: FeedEpisode, name: str) -> str:
        return f"{self.area(area)}/media/{episode.slug}/{name}"

    def cover(self) -> str:
        return f"{self.base}/podcast/{self.cover_name}"

    def takedown(self) -> str:
        return f"{self.area('radio')}/takedown.json"

    def guid_url(self, spec: FeedSpec) -> str:
        """The URL podcast:guid is derived from (never the token-bearing one)."""
        return f"{self.base}/{feed_path(spec)}"


def cover_name(settings: Settings) -> str:
    suffix = Path(settings.feed_image).suffix.lower() if settings.feed_image else ".png"
    return f"cover{suffix if suffix in ('.png', '.jpg', '.jpeg') else '.png'}"


def feed_path(spec: FeedSpec, page: int | None = None) -> str:
    return f"{spec.area}/{_feed_name(spec, page)}"


def _feed_name(spec: FeedSpec, page: int | None) -> str:
    return f"{spec.name}.xml" if page is None else f"archive/{spec.name}-{page}.xml"


def build_all(catalog: Catalog, settings: Settings) -> list[Document]:
    """Every feed document of every family, plus the radio takedown list."""
    documents = []
    for spec in SPECS:
        episodes = catalog.radio if spec.kind == "radio" else catalog.public
        documents += build_family(spec, episodes, catalog, settings)
    documents.append(Document("radio/takedown.json", takedown_json(catalog, settings)))
    return documents


def build_family(spec: FeedSpec, episodes: list[FeedEpisode], catalog: Catalog, settings: Settings) -> list[Document]:
    """The subscription document (latest N) and its archive pages (older ones, oldest page first)."""
    size = settings.feed_page_size
    ordered = sorted(episodes, key=lambda e: (e.published, e.number, e.slug))
    current, older = ordered[-size:] if ordered else [], ordered[:-size] if len(ordered) > size else []
    pages = [older[i:i + size] for i in range(0, len(older), size)]
    urls = Urls(settings)
    # dated from what this family shows, so a public feed never reveals a radio-only episode's date
    taken_down = [t for t in catalog.taken_down if spec.kind == "radio" or t.public]
    stamp = _content_date(episodes, taken_down)
    documents = []
    for number, items in enumerate(pages, start=1):
        paging = [("current", urls.feed(spec))]
        if number > 1:
            paging.append(("prev-archive", urls.feed(spec, number - 1)))
        if number < len(pages):
            paging.append(("next-archive", urls.feed(spec, number + 1)))
        documents.append(Document(feed_path(spec, number),
                                  render(spec, items, settings, urls, stamp, paging=paging, archive=True, page=number)))
    paging = [("prev-archive", urls.feed(spec, len(pages)))] if pages else []
    documents.append(Document(feed_path(spec), render(spec, current, settings, urls, stamp, paging=paging,
                                                      complete=not pages)))
    return documents


def render(spec: FeedSpec, episodes: list[FeedEpisode], settings: Settings, urls: Urls, stamp: datetime, *,
           paging: list[tuple[str, str]], archive: bool = False, complete: bool = False,
           page: int | None = None) -> bytes:
    generator = _channel(spec, settings, urls, stamp, page)
    extension = generator.podcastindex
    extension.paging = paging + ([("related", urls.takedown())] if spec.kind == "radio" else [])
    extension.archive, extension.complete = archive, complete
    for episode in sorted(episodes, key=lambda e: (e.published, e.number, e.slug), reverse=True):
        _item(generator.add_entry(order="append"), spec, episode, settings, urls)
    return generator.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)


def _channel(spec: FeedSpec, settings: Settings, urls: Urls, stamp: datetime, page: int | None) -> FeedGenerator:
    generator = FeedGenerator()
    generator.load_extension("podcast")
    namespace.install(generator)
    title = settings.programme_title + spec.title_suffix
    generator.title(title if page is None else f"{title} — archives {page}")
    generator.link(href=urls.base + "/", rel="alternate")
    generator.link(href=urls.feed(spec, page), rel="self", type="application/rss+xml")
    generator.description(truncate_bytes(settings.feed_description, DESCRIPTION_LIMIT))
    generator.language("fr")
    generator.copyright(f"© {settings.feed_author}")
    generator.generator("Kuma")
    generator.image(url=urls.cover(), title=title, link=urls.base + "/")
    generator.lastBuildDate(stamp)
    generator.pubDate(stamp)
    itunes = generator.podcast
    itunes.itunes_author(settings.feed_author)
    itunes.itunes_owner(name=settings.feed_author, email=settings.feed_owner_email)
    itunes.itunes_image(urls.cover())
    category = {"cat": settings.feed_category}
    if settings.feed_subcategory:
        category["sub"] = settings.feed_subcategory
    itunes.itunes_category(category)
    itunes.itunes_explicit("yes" if settings.feed_explicit else "no")
    itunes.itunes_type("episodic")
    if spec.kind == "radio":
        itunes.itunes_block(True)  # a private feed: never listed in a directory
    extension = generator.podcastindex
    extension.guid = namespace.podcast_guid(urls.guid_url(spec))
    extension.locked = (True, settings.feed_owner_email)
    extension.medium = "podcast"
    extension.persons = [{"name": settings.feed_host, "role": "host"}]
    extension.location = {"name": settings.feed_location, "country": settings.feed_country, "rel": "creator"}
    return generator


def _item(entry, spec: FeedSpec, episode: FeedEpisode, settings: Settings, urls: Urls) -> None:
    main = spec.enclosure(episode)
    entry.guid(episode.guid, permalink=False)
    entry.title(episode.title)
    entry.description(truncate_bytes(episode.description or episode.title, DESCRIPTION_LIMIT))
    entry.enclosure(urls.media(spec.area, episode, main.name), str(main.size), main.mime)
    entry.pubDate(episode.published)
    itunes = entry.podcast
    if duration := episode.duration or main.duration:
        itunes.itunes_duration(hms(duration))
    itunes.itunes_episode(episode.number)
    if episode.season is not None:
        itunes.itunes_season(episode.season)
    itunes.itunes_episode_type("full")
    itunes.itunes_explicit("yes" if settings.feed_explicit else "no")
    extension = entry.podcastindex
    extension.transcripts = [
        {"url": urls.media(spec.area, episode, m.name), "type": m.mime, "language": episode.language,
         **({"rel": "captions"} if m.role != "transcript-json" else {})}
        for m in episode.media if m.role.startswith("transcript-")
    ]
    if episode.by_role("chapters") or episode.chapters:
        extension.chapters = {"url": urls.media(spec.area, episode, chapters_name(episode)),
                              "type": "application/json+chapters"}
    extension.alternates = [
        {"type": m.mime, "length": m.size, "bitrate": m.bitrate, "title": RENDITION_TITLES.get(m.role, m.role),
         "lang": episode.language, "default": "true" if m is main else None,
         "sources": [urls.media(spec.area, episode, m.name)], "integrity": sri(m.sha256)}
        for m in sorted(episode.audio(), key=lambda m: (m is not main, m.size, m.role))
    ]


def chapters_name(episode: FeedEpisode) -> str:
    found = episode.by_role("chapters")
    return found.name if found else f"{episode.slug}-chapters.json"


def chapters_json(episode: FeedEpisode) -> bytes:
    """Podcasting 2.0 JSON chapters made from the episode's cue (when the studio wrote none)."""
    payload = {"version": "1.2.0", "chapters": list(episode.chapters)}
    return json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8") + b"\n"


def takedown_json(catalog: Catalog, settings: Settings) -> bytes:
    """The machine-readable list of episodes taken down: stations delete these files."""
    urls = Urls(settings)
    payload = {
        "version": 1,
        "description": "Épisodes retirés (consentement retiré, ou diffusion radio plus autorisée) : "
                       "supprimez ces fichiers et ne les diffusez plus.",
        "updated": _iso(_content_date(catalog.episodes, catalog.taken_down)),
        "episodes": [
            {"slug": item.slug, "guid": item.guid, "taken_down_at": _iso(item.taken_down_at), "reason": item.reason,
             "files": list(item.files),
             "urls": [f"{urls.area('radio')}/media/{item.slug}/{name}" for name in item.files]}
            for item in catalog.taken_down
        ],
    }
    return json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8") + b"\n"


def sri(sha256_hex: str) -> str:
    """Subresource Integrity string (what podcast:integrity type="sri" expects)."""
    return "sha256-" + base64.b64encode(bytes.fromhex(sha256_hex)).decode("ascii")


def hms(seconds: float) -> str:
    """HH:MM:SS to the nearest second (itunes:duration)."""
    return format_timecode(seconds, millis=False, nearest=True)


def truncate_bytes(text: str, limit: int) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    return encoded[: limit - 3].decode("utf-8", "ignore") + "…"


def _content_date(episodes: list[FeedEpisode], taken_down: list) -> datetime:
    moments = [e.published for e in episodes] + [t.taken_down_at for t in taken_down]
    return max(moments, default=EPOCH).astimezone(timezone.utc).replace(microsecond=0)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
