"""The published directory over HTTP (TestClient on the feeds router)."""
from __future__ import annotations

import logging

import feedparser
import pytest

from api.routes.public import RedactRadioTokens
from feeds import radios
from feeds.publish import publish
from tests.conftest import FULL_CONSENT
from tests.feeds.helpers import client_for

NO_ONLINE = {**FULL_CONSENT, "online": False}


@pytest.fixture
def served(archive, seed_testimony, make_episode):
    make_episode(1, [seed_testimony()], title="Public")
    make_episode(2, [seed_testimony(consent=NO_ONLINE)], title="Radio seulement")
    with archive.session() as session:
        _, token = radios.add(session, "Radio Kayira Ségou")
    publish(archive)
    return client_for(archive.settings), token


def test_feed_head_etag_and_conditional_gets(served):
    client, _ = served
    full = client.get("/podcast/feed.xml")
    assert full.status_code == 200
    assert full.headers["content-type"].startswith("application/rss+xml")
    head = client.head("/podcast/feed.xml")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(full.content))
    assert head.headers["etag"] == full.headers["etag"]
    assert client.get("/podcast/feed.xml", headers={"If-None-Match": full.headers["etag"]}).status_code == 304
    assert client.get("/podcast/feed.xml", headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get("/podcast/feed.xml", headers={"If-Modified-Since": full.headers["last-modified"]}).status_code == 304
    assert client.get("/podcast/feed.xml", headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}).status_code == 200


def test_media_range_resume_from_the_middle(served):
    client, _ = served
    enclosure = feedparser.parse(client.get("/podcast/feed.xml").content).entries[0].enclosures[0]
    path = enclosure.href.removeprefix("https://radio.example.org")
    whole = client.get(path)
    assert whole.status_code == 200 and len(whole.content) == int(enclosure.length)
    assert whole.headers["content-type"] == "audio/mpeg" and whole.headers["accept-ranges"] == "bytes"
    middle = len(whole.content) // 2
    rest = client.get(path, headers={"Range": f"bytes={middle}-"})
    assert rest.status_code == 206
    assert rest.headers["content-range"] == f"bytes {middle}-{len(whole.content) - 1}/{len(whole.content)}"
    assert whole.content[:middle] + rest.content == whole.content
    assert client.head(path).headers["content-length"] == enclosure.length


def test_transcripts_and_chapters_carry_cors(served):
    client, _ = served
    for suffix, mime in (("transcript-vtt.vtt", "text/vtt"), ("chapters.json", "application/json+chapters")):
        response = client.get(f"/podcast/media/demystification-0001/demystification-0001-{suffix}")
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "*"
        assert response.headers["content-type"].startswith(mime)
    audio = client.head("/podcast/media/demystification-0001/demystification-0001-podcast.mp3")
    assert "access-control-allow-origin" not in audio.headers


def test_radio_feed_needs_a_valid_token(served, archive):
    client, token = served
    feed = client.get(f"/radio/{token}/feed.xml")
    assert feed.status_code == 200
    entries = feedparser.parse(feed.content).entries
    assert {e.title for e in entries} == {"Public", "Radio seulement"}
    media = entries[0].enclosures[0].href
    assert f"/radio/{token}/media/" in media
    assert client.get(media.removeprefix("https://radio.example.org")).status_code == 200
    assert client.get(f"/radio/{token}/takedown.json").json()["episodes"] == []
    etag = feed.headers["etag"]
    assert client.get(f"/radio/{token}/feed.xml", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/radio/not-a-real-token-at-all-xx/feed.xml").status_code == 404
    with archive.session() as session:
        radios.revoke(session, "radio-kayira-segou")
    publish(archive)
    assert client.get(f"/radio/{token}/feed.xml").status_code == 404
    assert client.get(media.removeprefix("https://radio.example.org")).status_code == 404


def test_no_private_episode_reachable_without_token(served):
    client, token = served
    public = client.get("/podcast/feed.xml").content
    assert b"Radio seulement" not in public and token.encode() not in public
    assert client.get("/podcast/media/demystification-0002/demystification-0002-broadcast.wav").status_code == 404
    assert client.get("/podcast/../radio/feed.xml").status_code == 404
    assert client.get("/radio/feed.xml").status_code == 404
    assert client.get("/podcast/media/demystification-0001/../../../radio/feed.xml").status_code == 404


def test_tokens_are_redacted_from_access_logs(served):
    _, token = served
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", f"/radio/{token}/feed.xml", "1.1", 200), None)
    RedactRadioTokens().filter(record)
    assert token not in record.getMessage() and "/radio/***/feed.xml" in record.getMessage()
