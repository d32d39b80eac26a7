"""Feed documents: parsed by feedparser and podcastparser, checked with lxml against the specs."""
from __future__ import annotations

import base64
import hashlib
import io
import uuid

import feedparser
import podcastparser
import pytest
from lxml import etree

from feeds.build import TOKEN_PLACEHOLDER
from feeds.namespace import PODCAST_NS, podcast_guid
from feeds import catalog, radios
from feeds.publish import plan_files, publish
from tests.conftest import FULL_CONSENT
from tests.feeds.helpers import feed_bytes

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
ATOM = "http://www.w3.org/2005/Atom"
NO_ONLINE = {**FULL_CONSENT, "online": False}


def test_podcast_guid_matches_the_spec_examples():
    # Both examples from the Podcasting 2.0 spec (docs/tags/guid.md).
    assert podcast_guid("https://podnews.net/rss") == "9b024349-ccf0-5f69-a609-6b82873eab3c"
    assert podcast_guid("http://mp3s.nashownotes.com/pc20rss.xml/") == "917393e3-1b1e-5cef-ace4-edaa54e1f810"


@pytest.fixture
def two_episodes(archive, seed_testimony, make_episode):
    full = seed_testimony()
    radio_only = seed_testimony(consent=NO_ONLINE)
    make_episode(1, [full], title="Retour de Tamanrasset")
    make_episode(2, [radio_only], title="Refoulé à la frontière")
    make_episode(3, [], title="Magazine sans témoignage")
    publish(archive)
    return archive.settings


def test_public_feed_parses_in_both_clients(two_episodes, episode_media):
    settings = two_episodes
    raw = feed_bytes(settings, "podcast/feed.xml")
    parsed = feedparser.parse(raw)
    assert not parsed.bozo, parsed.bozo_exception
    titles = [e.title for e in parsed.entries]
    assert titles == ["Magazine sans témoignage", "Retour de Tamanrasset"]  # newest first, no radio-only one
    podcast_size = episode_media["podcast"].stat().st_size
    for entry in parsed.entries:
        enclosure = entry.enclosures[0]
        assert enclosure.href.startswith("https://radio.example.org/podcast/media/")
        assert enclosure.href.endswith("-podcast.mp3") and enclosure.href.isascii()
        assert int(enclosure.length) == podcast_size and enclosure.type == "audio/mpeg"
        assert entry.itunes_duration == "00:00:03"
        assert entry.id.startswith("urn:uuid:")
    gpodder = podcastparser.parse(settings.base_url + "/podcast/feed.xml", io.BytesIO(raw))
    assert [e["title"] for e in gpodder["episodes"]] == titles
    for episode in gpodder["episodes"]:
        assert episode["total_time"] == 3
        assert episode["enclosures"][0]["file_size"] == podcast_size
        assert episode["enclosures"][0]["mime_type"] == "audio/mpeg"
        assert episode["guid"].startswith("urn:uuid:")
    assert [e["guid"] for e in gpodder["episodes"]] == [e.id for e in parsed.entries]


def test_podcastparser_reads_transcript_and_chapters_links(two_episodes, monkeypatch):
    # podcastparser 0.6 only knows the namespace's old GitHub URI, not the canonical one the spec
    # now mandates: teach it the canonical URI, then let it read our podcast:* links.
    monkeypatch.setitem(podcastparser.Namespace.NAMESPACES, PODCAST_NS, "podcast")
    raw = feed_bytes(two_episodes, "podcast/feed.xml")
    gpodder = podcastparser.parse("https://radio.example.org/podcast/feed.xml", io.BytesIO(raw))
    for episode in gpodder["episodes"]:
        assert episode["transcript_url"].startswith("https://radio.example.org/podcast/media/")
        assert episode["chapters_json_url"].endswith("-chapters.json")
        chapters = (two_episodes.public_path / "current" / episode["chapters_json_url"].removeprefix(
            "https://radio.example.org/")).read_text("utf-8")
        assert '"startTime": 0.0' in chapters and "Ouverture" in chapters


def test_transcript_and_chapters_links(two_episodes):
    tree = etree.fromstring(feed_bytes(two_episodes, "podcast/feed.xml"))
    for item in tree.iter("item"):
        transcripts = item.findall(f"{{{PODCAST_NS}}}transcript")
        assert {t.get("type") for t in transcripts} == {"text/vtt", "application/x-subrip", "application/json"}
        assert all(t.get("url").startswith("https://radio.example.org/podcast/media/") for t in transcripts)
        assert all(t.get("language") == "fr" for t in transcripts)
        chapters = item.find(f"{{{PODCAST_NS}}}chapters")
        assert chapters.get("type") == "application/json+chapters"
        relative = chapters.get("url").removeprefix("https://radio.example.org/")
        assert (two_episodes.public_path / "current" / relative).is_file()


REQUIRED = {  # element -> required attributes (Podcasting 2.0 spec)
    "guid": set(), "locked": set(), "medium": set(), "person": set(), "location": set(),
    "transcript": {"url", "type"}, "chapters": {"url", "type"}, "alternateEnclosure": {"type"},
    "source": {"uri"}, "integrity": {"type", "value"},
}


@pytest.mark.parametrize("relative", ["podcast/feed.xml", "podcast/feed-lowband.xml", "radio/feed.xml"])
def test_podcasting20_elements_in_the_canonical_namespace(two_episodes, relative):
    tree = etree.fromstring(feed_bytes(two_episodes, relative))
    assert tree.nsmap["podcast"] == "https://podcastindex.org/namespace/1.0"
    seen = set()
    for element in tree.iter():
        if not isinstance(element.tag, str) or element.prefix != "podcast":
            continue
        namespace, local = element.tag[1:].split("}")
        assert namespace == PODCAST_NS
        assert REQUIRED[local] <= set(element.attrib), (local, element.attrib)
        if local in ("guid", "locked", "medium", "person", "location"):
            assert element.text and element.text.strip()
        seen.add(local)
    assert seen == set(REQUIRED)
    channel = tree.find("channel")
    guid = channel.find(f"{{{PODCAST_NS}}}guid").text
    assert uuid.UUID(guid).version == 5
    bare = "radio.example.org/" + relative  # the token-free URL, even for the radio feed
    assert guid == podcast_guid(bare)
    assert channel.find(f"{{{PODCAST_NS}}}locked").text == "yes"
    assert channel.find(f"{{{PODCAST_NS}}}medium").text == "podcast"


def test_alternate_enclosures_list_every_rendition_with_integrity(two_episodes, episode_media):
    tree = etree.fromstring(feed_bytes(two_episodes, "podcast/feed.xml"))
    item = tree.find("channel/item")
    alternates = item.findall(f"{{{PODCAST_NS}}}alternateEnclosure")
    types = sorted(a.get("type") for a in alternates)
    assert types == ["audio/mpeg", "audio/mpeg", "audio/ogg", "audio/wav"]
    for alternate in alternates:
        url = alternate.find(f"{{{PODCAST_NS}}}source").get("uri")
        role = url.rsplit("-", 1)[1].split(".")[0]
        data = episode_media[role].read_bytes()
        assert int(alternate.get("length")) == len(data)
        integrity = alternate.find(f"{{{PODCAST_NS}}}integrity")
        assert integrity.get("type") == "sri"
        assert integrity.get("value") == "sha256-" + base64.b64encode(hashlib.sha256(data).digest()).decode()
    lowband = next(a for a in alternates if "lowband.mp3" in a.find(f"{{{PODCAST_NS}}}source").get("uri"))
    assert lowband.get("bitrate") == "24000"
    assert [a.get("default") for a in alternates].count("true") == 1


def test_lowband_feed_uses_the_smallest_rendition(two_episodes, episode_media):
    parsed = feedparser.parse(feed_bytes(two_episodes, "podcast/feed-lowband.xml"))
    smallest = min(episode_media[r].stat().st_size for r in ("broadcast", "podcast", "lowband", "opus"))
    assert parsed.entries and all(int(e.enclosures[0].length) == smallest for e in parsed.entries)
    assert all(e.enclosures[0].href.endswith("-opus.opus") for e in parsed.entries)


def test_radio_feed_has_broadcast_enclosure_and_no_token(two_episodes, episode_media):
    raw = feed_bytes(two_episodes, "radio/feed.xml")
    parsed = feedparser.parse(raw)
    assert [e.title for e in parsed.entries] == ["Magazine sans témoignage", "Refoulé à la frontière",
                                                 "Retour de Tamanrasset"]
    for entry in parsed.entries:
        assert entry.enclosures[0].type == "audio/wav"
        assert int(entry.enclosures[0].length) == episode_media["broadcast"].stat().st_size
        assert TOKEN_PLACEHOLDER in entry.enclosures[0].href
    channel = etree.fromstring(raw).find("channel")
    assert channel.find(f"{{{ITUNES}}}block").text == "yes"
    related = [l for l in channel.findall(f"{{{ATOM}}}link") if l.get("rel") == "related"]
    assert related[0].get("href").endswith("/takedown.json")


def test_public_feed_has_the_itunes_tags_apple_requires(two_episodes):
    channel = etree.fromstring(feed_bytes(two_episodes, "podcast/feed.xml")).find("channel")
    for tag in ("image", "category", "explicit", "author", "owner"):
        assert channel.find(f"{{{ITUNES}}}{tag}") is not None, tag
    assert channel.find(f"{{{ITUNES}}}image").get("href").startswith("https://")
    assert channel.findtext("language") == "fr"
    assert len(channel.findtext("description").encode()) <= 4000
    cover = two_episodes.public_path / "current" / "podcast" / "cover.png"
    assert cover.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    item = channel.find("item")
    assert item.findtext(f"{{{ITUNES}}}episode") == "3" and item.findtext(f"{{{ITUNES}}}season") == "1"
    assert item.findtext("pubDate").endswith("+0000")


def test_hostile_titles_are_escaped(archive, make_episode):
    hostile = 'Tom & Jerry <script>alert("x")</script> — « l\'exil » 🌍 ]]>'
    make_episode(1, [], title=hostile)
    publish(archive)
    raw = feed_bytes(archive.settings, "podcast/feed.xml")
    etree.fromstring(raw)  # well-formed
    assert feedparser.parse(raw).entries[0].title == hostile
    assert podcastparser.parse("https://radio.example.org/podcast/feed.xml", io.BytesIO(raw))["episodes"][0]["title"] == hostile
    assert b"<script>" not in raw
    names = [p.name for p in (archive.settings.public_path / "current").rglob("*")]
    assert all(name.isascii() for name in names)


def test_rebuild_with_nothing_changed_is_byte_identical(archive, seed_testimony, make_episode):
    make_episode(1, [seed_testimony()])
    first = publish(archive)
    published = {str(p.relative_to(first.version)): p.read_bytes() for p in first.version.rglob("*") if p.is_file()}
    with archive.session() as session:
        rebuilt = plan_files(catalog.load(session), archive.settings, radios.access_map(session))
    documents = {path: item.content for path, item in rebuilt.items() if item.content is not None}
    assert documents and all(published[path] == content for path, content in documents.items())
    again = publish(archive)
    assert again.changed is False and again.version == first.version
