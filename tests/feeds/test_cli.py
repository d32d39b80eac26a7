"""`kuma publish`, `kuma radios add/list/revoke` and the consent-change hook, through the real CLI."""
from __future__ import annotations

import json

import feedparser
import pytest

from api import context
from api.cli import main
from archive.db import Archive
from feeds.catalog import OFF_AIR


@pytest.fixture
def cli(sqlite_settings, monkeypatch, capsys):
    monkeypatch.setenv("KUMA_HOME", str(sqlite_settings.home))
    monkeypatch.setenv("KUMA_BASE_URL", sqlite_settings.base_url)
    context.reset()

    def run(*args: str) -> tuple[int, str]:
        code = main(list(args))
        return code, capsys.readouterr().out

    yield run
    context.reset()


def test_radios_lifecycle_and_publish(cli, sqlite_settings):
    code, out = cli("radios", "add", "Radio Jèkafo Kati", "--json")
    assert code == 0
    added = json.loads(out)
    assert added["slug"] == "radio-jekafo-kati"
    token = added["feed_url"].split("/radio/")[1].split("/")[0]
    code, out = cli("radios", "list", "--json")
    listed = json.loads(out)
    assert listed["count"] == 1 and token not in out and listed["data"][0]["revoked_at"] is None
    code, out = cli("publish", "--json")
    result = json.loads(out)
    assert code == 0 and result["public_feed"] == "https://radio.example.org/podcast/feed.xml"
    current = sqlite_settings.public_path / "current"
    assert feedparser.parse((current / "podcast" / "feed.xml").read_bytes()).feed.title
    assert token not in (current / "_meta" / "radios.json").read_text()
    code, _ = cli("radios", "revoke", "radio-jekafo-kati")
    assert code == 0
    stations = json.loads((sqlite_settings.public_path / "current" / "_meta" / "radios.json").read_text())
    assert stations["stations"] == {}
    assert cli("radios", "revoke", "inconnue")[0] == 4


@pytest.fixture
def archive_with_published_episode(cli, sqlite_settings, make_audio) -> str:
    """A testimony in a built, published episode "ep-1"; returns the testimony's public id."""
    from tests.conftest import FULL_CONSENT
    from archive.models import Episode, EpisodeTestimony, MediaAsset, MediaKind
    from archive.testimonies import get
    from ingest.pipeline import ingest_file

    archive = Archive(sqlite_settings)
    path = make_audio("t.wav", sidecar={"language": "fr", "consent": FULL_CONSENT})
    public_id = ingest_file(archive, path).public_id
    stored = archive.store.put_file(make_audio("ep.mp3"))
    with archive.session() as session:
        episode = Episode(slug="ep-1", programme="p", number=1, title="Épisode", date=__import__("datetime").date(2025, 1, 1))
        episode.testimonies.append(EpisodeTestimony(testimony=get(session, public_id)))
        session.add(episode)
        session.flush()
        session.add(MediaAsset(episode_id=episode.id, kind=MediaKind.EPISODE, role="podcast", sha256=stored.sha256,
                               size=stored.size, format="mp3"))
    archive.dispose()
    assert cli("publish")[0] == 0
    return public_id


def test_consent_withdraw_republishes(cli, sqlite_settings, archive_with_published_episode):
    public_id = archive_with_published_episode
    code, out = cli("consent", "withdraw", public_id)
    assert code == 0 and "ep-1" in out
    takedown = json.loads((sqlite_settings.public_path / "current" / "radio" / "takedown.json").read_text())
    assert [e["slug"] for e in takedown["episodes"]] == ["ep-1"]


def test_consent_set_republishes_at_once(cli, sqlite_settings, archive_with_published_episode):
    """No `kuma publish` needed: turning broadcasting off lists the episode for the stations."""
    public_id = archive_with_published_episode
    code, out = cli("consent", "set", public_id, "--broadcast", "non")
    assert code == 0 and "ep-1" in out
    takedown = json.loads((sqlite_settings.public_path / "current" / "radio" / "takedown.json").read_text())
    assert [(e["slug"], e["reason"]) for e in takedown["episodes"]] == [("ep-1", OFF_AIR)]


def test_radios_status_shows_contact_and_flags_an_overdue_takedown(cli, sqlite_settings, monkeypatch):
    from datetime import timedelta

    from archive.models import RadioStation, utcnow
    from feeds import receipts

    cli("radios", "add", "Radio Jèkafo Kati", "--slug", "jekafo")
    code, out = cli("radios", "status")
    assert code == 0 and "jekafo" in out and "jamais" in out
    archive = Archive(sqlite_settings)
    with archive.session() as session:
        station = session.query(RadioStation).one()
        receipts.record(session, station, receipts.Report(client="kuma-station/test", synced_at=None,
                                                          problems=("disque plein",)))
    code, out = cli("radios", "status", "jekafo")
    assert code == 0 and "jamais" not in out and "problème signalé : disque plein" in out
    overdue = receipts.TakedownState("ep", "g", utcnow() - timedelta(days=9), "retiré", "overdue")
    real_status = receipts.status

    def with_overdue(session, **kwargs):
        found = real_status(session, **kwargs)
        for entry in found[:1]:
            entry.takedowns.append(overdue)
        return found

    monkeypatch.setattr(receipts, "status", with_overdue)
    code, out = cli("radios", "status", "--json")
    assert code == 8 and json.loads(out)["data"][0]["flagged"] is True
    code, _ = cli("radios", "status", "inconnue")
    assert code == 4
    code, _ = cli("radios", "confirm", "jekafo", "demystification-0009")
    assert code == 4  # no such takedown
    archive.dispose()
