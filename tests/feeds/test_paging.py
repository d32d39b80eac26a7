"""RFC 5005 paging: latest N in the subscription document, older ones on linked archive pages."""
from __future__ import annotations

import feedparser
import pytest
from lxml import etree

from feeds.publish import publish
from tests.feeds.helpers import feed_bytes

ATOM = "{http://www.w3.org/2005/Atom}"
FH = "{http://purl.org/syndication/history/1.0}"


@pytest.mark.slow
def test_500_episodes_page_correctly(archive, make_episode):
    for number in range(1, 501):
        make_episode(number, [], roles=("podcast", "lowband"), cue=[])
    archive.settings.feed_page_size = 40
    publish(archive)
    settings = archive.settings
    seen, url, pages = [], "https://radio.example.org/podcast/feed.xml", 0
    while url:
        raw = feed_bytes(settings, url.removeprefix("https://radio.example.org/"))
        channel = etree.fromstring(raw).find("channel")
        links = {l.get("rel"): l.get("href") for l in channel.findall(f"{ATOM}link")}
        numbers = [int(e.itunes_episode) for e in feedparser.parse(raw).entries]
        assert numbers == sorted(numbers, reverse=True) and len(numbers) <= 40
        if pages:
            assert channel.find(f"{FH}archive") is not None
            assert links["current"] == "https://radio.example.org/podcast/feed.xml"
        else:
            assert numbers[0] == 500 and len(numbers) == 40 and channel.find(f"{FH}archive") is None
        seen += numbers
        url, pages = links.get("prev-archive"), pages + 1
    assert sorted(seen) == list(range(1, 501)) and len(seen) == 500
    assert pages == 1 + 12  # 40 in the subscription document, 460 on 12 archive pages of at most 40
    first = etree.fromstring(feed_bytes(settings, "podcast/archive/feed-1.xml")).find("channel")
    links = {l.get("rel"): l.get("href") for l in first.findall(f"{ATOM}link")}
    assert "prev-archive" not in links and links["next-archive"].endswith("/archive/feed-2.xml")
