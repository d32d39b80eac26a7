"""feedgen extensions: the Podcasting 2.0 namespace and RFC 5005 feed paging.

Registered on a FeedGenerator with ``register_extension`` (see :func:`install`). Values are
plain dicts set by the builder; the extensions only turn them into elements in the right
namespace, with the attributes the specifications require.
"""
from __future__ import annotations

import uuid

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.util import xml_elem

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
ATOM_NS = "http://www.w3.org/2005/Atom"
HISTORY_NS = "http://purl.org/syndication/history/1.0"  # RFC 5005
# The namespace the Podcasting 2.0 spec defines for podcast:guid (UUIDv5 of the feed URL).
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")


def podcast_guid(feed_url: str) -> str:
    """podcast:guid per the spec: UUIDv5 of the feed URL without its scheme and trailing slashes."""
    bare = feed_url.split("://", 1)[-1].rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, bare))


def _p(name: str) -> str:
    return "{%s}%s" % (PODCAST_NS, name)


def _set(element, attributes: dict) -> None:
    for key, value in attributes.items():
        if value is not None:
            element.set(key, str(value))


class PodcastIndexExtension(BaseExtension):
    """Channel level: guid, locked, medium, person, location, plus RFC 5005 paging links."""

    def __init__(self):
        self.guid: str | None = None
        self.locked: tuple[bool, str | None] | None = None
        self.medium: str | None = None
        self.persons: list[dict] = []
        self.location: dict | None = None
        self.paging: list[tuple[str, str]] = []  # (rel, href): current, prev-archive, next-archive
        self.archive = False  # this document is an RFC 5005 archive page
        self.complete = False  # RFC 5005 complete feed (all entries in this one document)

    def extend_ns(self):
        return {"podcast": PODCAST_NS, "fh": HISTORY_NS}

    def extend_rss(self, feed):
        channel = feed[0]
        if self.guid:
            xml_elem(_p("guid"), channel).text = self.guid
        if self.locked is not None:
            locked, owner = self.locked
            element = xml_elem(_p("locked"), channel)
            element.text = "yes" if locked else "no"
            _set(element, {"owner": owner})
        if self.medium:
            xml_elem(_p("medium"), channel).text = self.medium
        for person in self.persons:
            _person(channel, person)
        if self.location:
            _location(channel, self.location)
        for rel, href in self.paging:
            kind = "application/json" if href.endswith(".json") else "application/rss+xml"
            xml_elem("{%s}link" % ATOM_NS, channel, rel=rel, href=href, type=kind)
        if self.archive:
            xml_elem("{%s}archive" % HISTORY_NS, channel)
        if self.complete:
            xml_elem("{%s}complete" % HISTORY_NS, channel)
        return feed

    def extend_atom(self, feed):
        return feed


class PodcastIndexEntryExtension(BaseEntryExtension):
    """Item level: transcript, chapters, person, location, alternateEnclosure (+ source, integrity)."""

    def __init__(self):
        self.transcripts: list[dict] = []  # {url, type, language, rel}
        self.chapters: dict | None = None  # {url, type}
        self.persons: list[dict] = []
        self.location: dict | None = None
        self.alternates: list[dict] = []  # {type, length, bitrate, title, default, sources: [uri], integrity}

    def extend_rss(self, entry):
        for transcript in self.transcripts:
            _set(xml_elem(_p("transcript"), entry), transcript)
        if self.chapters:
            _set(xml_elem(_p("chapters"), entry), self.chapters)
        for person in self.persons:
            _person(entry, person)
        if self.location:
            _location(entry, self.location)
        for alternate in self.alternates:
            element = xml_elem(_p("alternateEnclosure"), entry)
            _set(element, {k: v for k, v in alternate.items() if k not in ("sources", "integrity")})
            for uri in alternate["sources"]:
                xml_elem(_p("source"), element, uri=uri)
            if alternate.get("integrity"):
                xml_elem(_p("integrity"), element, type="sri", value=alternate["integrity"])
        return entry

    def extend_atom(self, entry):
        return entry


def _person(parent, person: dict) -> None:
    element = xml_elem(_p("person"), parent)
    element.text = person["name"]
    _set(element, {k: v for k, v in person.items() if k != "name"})


def _location(parent, location: dict) -> None:
    element = xml_elem(_p("location"), parent)
    element.text = location["name"]
    _set(element, {k: v for k, v in location.items() if k != "name"})


def install(generator) -> None:
    """Register the extensions on a FeedGenerator (entries added later get the entry extension)."""
    generator.register_extension("podcastindex", PodcastIndexExtension, PodcastIndexEntryExtension,
                                 atom=False, rss=True)
