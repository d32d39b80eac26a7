"""Station receipts over real HTTP (TestClient on the whole app): what a station holds, which
takedowns it confirmed, what the archive concludes (pending, confirmed, overdue)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.app import create_app
from archive.models import AuditEvent, StationAiring, StationReceipt, utcnow
from archive.testimonies import get, withdraw
from feeds import radios, receipts
from feeds.publish import publish

KEPT, GONE = "demystification-0001", "demystification-0002"


@pytest.fixture
def station(archive, seed_testimony, make_episode):
    """Two published radio episodes and one station; returns (client, token, the second's testimony)."""
    keep, leave = seed_testimony(), seed_testimony()
    make_episode(1, [keep])
    make_episode(2, [leave])
    with archive.session() as session:
        _, token = radios.add(session, "Radio Kayira Ségou", slug="kayira")
    publish(archive)
    with TestClient(create_app(archive.settings, archive=archive)) as client:
        yield client, token, leave


def feed_items(client, token) -> dict[str, dict]:
    """slug -> {guid, sha256 of the broadcast WAV} from the station's own feed."""
    import feedparser

    feed = feedparser.parse(client.get(f"/radio/{token}/feed.xml").content)
    items = {}
    for entry in feed.entries:
        url = entry.enclosures[0].href
        slug = url.rsplit("/", 2)[-2]
        body = client.get(url.removeprefix("https://radio.example.org")).content
        import hashlib

        items[slug] = {"guid": entry.id, "sha256": hashlib.sha256(body).hexdigest(), "size": len(body)}
    return items


def held(items, *slugs):
    return [{"guid": items[s]["guid"], "slug": s, "sha256": items[s]["sha256"], "file": f"{s}.wav",
             "size": items[s]["size"]} for s in slugs]


def take_down(archive, testimony):
    with archive.session() as session:
        withdraw(session, get(session, testimony), "test")
    publish(archive)


def station_status(archive, now=None):
    with archive.session() as session:
        return {s.slug: s for s in receipts.status(session, confirm_days=archive.settings.takedown_confirm_days,
                                                    now=now)}["kayira"]


def test_receipt_confirms_a_takedown_the_station_executed(archive, station):
    client, token, leave = station
    items = feed_items(client, token)
    first = client.post(f"/radio/{token}/receipt", json={"client": "kuma-station/test", "held": held(items, KEPT, GONE)})
    assert first.status_code == 201 and first.json()["held"] == 2 and first.json()["takedowns_pending"] == []
    status = station_status(archive)
    assert [(h.slug, h.state) for h in status.held] == [(KEPT, "current"), (GONE, "current")]
    assert status.last_contact is not None and status.takedowns == []

    take_down(archive, leave)
    listed = client.get(f"/radio/{token}/takedown.json").json()["episodes"][0]
    status = station_status(archive)
    assert [(t.slug, t.state) for t in status.takedowns] == [(GONE, "pending")]
    assert [(h.slug, h.state) for h in status.held] == [(KEPT, "current"), (GONE, "taken_down")]

    done = client.post(f"/radio/{token}/receipt", json={
        "client": "kuma-station/test", "held": held(items, KEPT),
        "takedowns": [{"guid": listed["guid"], "slug": GONE, "listed_at": listed["taken_down_at"],
                       "executed_at": utcnow().isoformat(), "files_deleted": [f"{GONE}.wav"]}]})
    assert done.status_code == 201 and done.json()["takedowns_confirmed"] == 1
    assert done.json()["takedowns_pending"] == []
    status = station_status(archive)
    assert [(t.slug, t.state) for t in status.takedowns] == [(GONE, "confirmed")]
    assert not status.flagged
    with archive.session() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "radio.takedown_confirmed")).all()
        assert [(e.actor, e.target) for e in events] == [("radio:kayira", GONE)]
        assert receipts.holders(receipts.status(session, confirm_days=3)) == {KEPT: ["kayira"]}


def test_unconfirmed_takedown_is_flagged_after_the_configured_days(archive, station):
    client, token, leave = station
    items = feed_items(client, token)
    take_down(archive, leave)
    client.post(f"/radio/{token}/receipt", json={"client": "old", "held": held(items, KEPT, GONE)})
    days = archive.settings.takedown_confirm_days
    assert [t.state for t in station_status(archive, utcnow() + timedelta(days=days - 0.5)).takedowns] == ["pending"]
    late = station_status(archive, utcnow() + timedelta(days=days + 0.5))
    assert [t.state for t in late.takedowns] == ["overdue"] and late.flagged


def test_an_acknowledgement_while_still_holding_the_file_is_not_a_confirmation(archive, station):
    client, token, leave = station
    items = feed_items(client, token)
    take_down(archive, leave)
    listed = client.get(f"/radio/{token}/takedown.json").json()["episodes"][0]
    answer = client.post(f"/radio/{token}/receipt", json={
        "client": "buggy", "held": held(items, KEPT, GONE),
        "takedowns": [{"guid": listed["guid"], "slug": GONE, "listed_at": listed["taken_down_at"],
                       "executed_at": utcnow().isoformat()}]})
    assert answer.json()["takedowns_pending"] == [GONE]


def test_an_acknowledgement_of_an_earlier_listing_does_not_confirm_a_later_one(archive, station):
    client, token, leave = station
    items = feed_items(client, token)
    take_down(archive, leave)
    listed = client.get(f"/radio/{token}/takedown.json").json()["episodes"][0]
    stale = (utcnow() - timedelta(days=30)).isoformat()
    answer = client.post(f"/radio/{token}/receipt", json={
        "client": "kuma-station/test", "held": held(items, KEPT),
        "takedowns": [{"guid": listed["guid"], "slug": GONE, "listed_at": stale, "executed_at": stale}]})
    assert answer.json()["takedowns_pending"] == [GONE]


def test_a_station_registered_after_a_takedown_is_not_asked_to_confirm_it(archive, station):
    _, _, leave = station
    take_down(archive, leave)
    with archive.session() as session:
        radios.add(session, "Radio Nouvelle", slug="nouvelle")
        statuses = {s.slug: s for s in receipts.status(session, confirm_days=3)}
    assert [t.slug for t in statuses["kayira"].takedowns] == [GONE]
    assert statuses["nouvelle"].takedowns == [] and statuses["nouvelle"].last_contact is None


def test_outdated_build_and_unknown_episode_are_told_apart(archive, station):
    client, token, _ = station
    items = feed_items(client, token)
    stale = dict(held(items, KEPT)[0], sha256="0" * 64)
    stranger = {"guid": "urn:uuid:00000000-0000-0000-0000-000000000000", "slug": "ailleurs", "sha256": "1" * 64,
                "file": "ailleurs.wav", "size": 1}
    client.post(f"/radio/{token}/receipt", json={"client": "t", "held": [stale, stranger]})
    status = station_status(archive)
    assert [(h.slug, h.state) for h in status.held] == [(KEPT, "outdated"), ("ailleurs", "unknown")]
    assert sorted(status.missing) == [KEPT, GONE]  # an outdated copy is not a copy of what airs now


def test_revoked_and_unknown_tokens_get_the_same_404(archive, station):
    client, token, _ = station
    body = {"client": "t"}
    unknown = client.post("/radio/" + "x" * 32 + "/receipt", json=body)
    with archive.session() as session:
        radios.revoke(session, "kayira")
    revoked = client.post(f"/radio/{token}/receipt", json=body)
    assert unknown.status_code == revoked.status_code == 404
    assert unknown.json() == revoked.json()
    with archive.session() as session:
        assert session.scalar(select(func.count()).select_from(StationReceipt)) == 0


def test_bad_receipts_are_refused_with_the_field_named(station):
    client, token, _ = station
    answer = client.post(f"/radio/{token}/receipt", json={"client": "t", "held": [
        {"guid": "g", "slug": "s", "sha256": "not-a-digest", "file": "f", "size": 1}]})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"][-1] == "sha256"


def test_airings_are_kept_once_and_receipts_are_pruned(archive, station, monkeypatch):
    client, token, _ = station
    items = feed_items(client, token)
    monkeypatch.setattr(receipts, "RECEIPTS_KEPT", 3)
    aired = [{"guid": items[KEPT]["guid"], "slug": KEPT, "at": "2026-11-30T07:00:00Z"}]
    for _ in range(5):
        assert client.post(f"/radio/{token}/receipt", json={"client": "t", "aired": aired}).status_code == 201
    with archive.session() as session:
        assert session.scalar(select(func.count()).select_from(StationReceipt)) == 3
        assert session.scalar(select(func.count()).select_from(StationAiring)) == 1
    assert station_status(archive).airings == 1
