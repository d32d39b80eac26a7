"""Consent in the feeds: online-only for public feeds, withdrawal takes episodes down everywhere."""
from __future__ import annotations

import json

import feedparser

from archive.models import Episode
from archive.testimonies import get, withdraw
from feeds import radios
from feeds.publish import publish, republish_after_consent_change
from tests.conftest import FULL_CONSENT
from tests.feeds.helpers import client_for, feed_bytes


def titles(settings, relative):
    return [e.title for e in feedparser.parse(feed_bytes(settings, relative)).entries]


def test_episode_without_online_consent_never_public(archive, seed_testimony, make_episode):
    ok, offline = seed_testimony(), seed_testimony(consent={**FULL_CONSENT, "online": False})
    unreviewed = seed_testimony(approved=False)
    make_episode(1, [ok, offline], title="Mixte")
    make_episode(2, [unreviewed], title="Pas relu")
    make_episode(3, [ok], title="En ligne")
    make_episode(4, [ok], title="Réservé aux radios", public=False)
    publish(archive)
    settings = archive.settings
    for relative in ("podcast/feed.xml", "podcast/feed-lowband.xml"):
        assert titles(settings, relative) == ["En ligne"]
    assert titles(settings, "radio/feed.xml") == ["Réservé aux radios", "En ligne", "Mixte"]
    public_media = {p.parent.name for p in (settings.public_path / "current" / "podcast" / "media").rglob("*.mp3")}
    assert public_media == {"demystification-0003"}


def test_public_feed_dates_never_reveal_a_radio_only_episode(archive, seed_testimony, make_episode):
    from datetime import date

    ok = seed_testimony()
    make_episode(1, [ok], title="En ligne", day=date(2025, 3, 1))
    make_episode(2, [ok], title="Réservé aux radios", public=False, day=date(2025, 6, 1))
    publish(archive)
    public = feedparser.parse(feed_bytes(archive.settings, "podcast/feed.xml")).feed
    radio = feedparser.parse(feed_bytes(archive.settings, "radio/feed.xml")).feed
    assert public.updated_parsed[:3] == (2025, 3, 1)
    assert radio.updated_parsed[:3] == (2025, 6, 1)


def test_withdrawal_removes_from_every_feed_and_blocks_media(archive, seed_testimony, make_episode):
    keep, leave = seed_testimony(), seed_testimony()
    make_episode(1, [keep], title="Reste")
    make_episode(2, [keep, leave], title="Retiré")
    with archive.session() as session:
        _, token = radios.add(session, "Radio Test")
    publish(archive)
    client = client_for(archive.settings)
    media = "/podcast/media/demystification-0002/demystification-0002-podcast.mp3"
    radio_media = f"/radio/{token}/media/demystification-0002/demystification-0002-broadcast.wav"
    assert client.get(media).status_code == 200 and client.get(radio_media).status_code == 200
    with archive.session() as session:
        withdraw(session, get(session, leave), "test")
    result = republish_after_consent_change(archive)
    assert result.taken_down == ["demystification-0002"]
    settings = archive.settings
    for relative in ("podcast/feed.xml", "podcast/feed-lowband.xml", "radio/feed.xml"):
        assert titles(settings, relative) == ["Reste"]
    assert client.get(media).status_code == 404 and client.get(radio_media).status_code == 404
    public_dir = settings.public_path
    assert not [p for p in public_dir.rglob("*demystification-0002*") if p.is_file()]
    takedown = client.get(f"/radio/{token}/takedown.json").json()
    assert [e["slug"] for e in takedown["episodes"]] == ["demystification-0002"]
    assert "demystification-0002-broadcast.wav" in takedown["episodes"][0]["files"]
    assert all(token in url for url in takedown["episodes"][0]["urls"])
    with archive.session() as session:
        episode = session.query(Episode).filter_by(slug="demystification-0002").one()
        assert episode.taken_down_at is not None
    stored = json.loads((public_dir / "current" / "radio" / "takedown.json").read_text())
    assert token not in json.dumps(stored)


def _approve_again(session, testimony):
    """What `kuma anonymize` + `kuma review approve` leave after a consent change: an approved
    rendition made from the current inputs."""
    from archive.consent import preferred_transcript, rendition_fingerprint
    from sqlalchemy import select

    from archive.models import Rendition, ReviewStatus, utcnow

    session.flush()
    session.refresh(testimony)
    previous = session.scalars(select(Rendition).filter_by(testimony_id=testimony.id).order_by(Rendition.id.desc())).first()
    session.add(Rendition(
        testimony_id=testimony.id, audio_asset_id=previous.audio_asset_id, transcript_id=previous.transcript_id,
        status=ReviewStatus.APPROVED, approved_by="test", approved_at=utcnow(),
        fingerprint=rendition_fingerprint(testimony, preferred_transcript(session, testimony.id)),
        redacted_segments=previous.redacted_segments,
    ))


def test_broadcast_consent_turned_off_tells_stations_to_delete_their_copy(archive, seed_testimony, make_episode):
    """Not a withdrawal: the speaker still allows the archive and the internet, no longer the
    radios. Stations already downloaded the episode, so leaving the radio feed is not enough: the
    takedown list names it (with why). A rendition merely awaiting review lists nothing, and when
    the consent comes back, so does the episode."""
    from archive.testimonies import add_consent
    from feeds.catalog import OFF_AIR

    speaker = seed_testimony()
    make_episode(1, [speaker], title="Sur les ondes")
    publish(archive)
    settings = archive.settings

    def takedown() -> list[tuple[str, str]]:
        payload = json.loads(feed_bytes(settings, "radio/takedown.json"))
        return [(e["slug"], e["reason"]) for e in payload["episodes"]]

    with archive.session() as session:
        add_consent(session, get(session, speaker), "test", note="relu avec le témoin")
    publish(archive)
    assert titles(settings, "radio/feed.xml") == [] and takedown() == []  # awaiting review only

    with archive.session() as session:
        testimony = get(session, speaker)
        add_consent(session, testimony, "test", broadcast=False)
        _approve_again(session, testimony)
    publish(archive)
    assert titles(settings, "radio/feed.xml") == []
    assert titles(settings, "podcast/feed.xml") == ["Sur les ondes"]
    assert takedown() == [("demystification-0001", OFF_AIR)]
    assert not list((settings.public_path / "current" / "radio" / "media").rglob("*.wav"))

    with archive.session() as session:
        testimony = get(session, speaker)
        add_consent(session, testimony, "test", broadcast=True)
        _approve_again(session, testimony)
    publish(archive)
    assert titles(settings, "radio/feed.xml") == ["Sur les ondes"] and takedown() == []
