"""kuma-station against a real ``kuma serve`` through the fault-injecting proxy."""
from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ElementTree

import pytest

from archive.models import RadioStation
from archive.testimonies import get, withdraw
from feeds import radios, receipts
from feeds.publish import publish
from station.sync import sync
from tests.station.proxy import Drop, Flip, Stall, Truncate

WAV2 = "demystification-0002.wav"  # in the station's folder
URL2 = "demystification-0002-broadcast.wav"  # as published


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def published_digests(archive) -> dict[str, str]:
    """slug -> sha256 of its broadcast WAV as the archive publishes it."""
    root = archive.settings.public_path / "current" / "radio" / "media"
    return {p.parent.name: digest(p) for p in root.glob("*/*-broadcast.wav")}


def folder_names(config) -> set[str]:
    return {p.name for p in config.folder.iterdir()}


def station_status(archive):
    with archive.session() as session:
        return {s.slug: s for s in receipts.status(session, confirm_days=3)}["kayira"]


def test_first_sync_installs_verified_files_sidecars_playlists_and_reports(archive, link, station_config):
    outcome = sync(station_config)
    assert outcome.ok and sorted(outcome.installed) == ["demystification-0001", "demystification-0002"]
    folder = station_config.folder
    assert folder_names(station_config) == {"demystification-0001.wav", "demystification-0001.json", WAV2,
                                            "demystification-0002.json", "kuma.m3u", "kuma.xspf"}
    assert {p.stem: digest(p) for p in folder.glob("*.wav")} == published_digests(archive)
    sidecar = json.loads((folder / "demystification-0002.json").read_text())
    assert sidecar["title"] == "Le retour" and sidecar["file"] == WAV2 and sidecar["rendition"] == "broadcast"
    assert sidecar["sha256"] == digest(folder / WAV2)
    assert sidecar["chapters"] == [{"startTime": 0.0, "title": "Ouverture"}] and sidecar["cue"] == ["00:00:00 Ouverture"]
    m3u = (folder / "kuma.m3u").read_text().splitlines()
    assert m3u[0] == "#EXTM3U" and [line for line in m3u if not line.startswith("#")] == [WAV2, "demystification-0001.wav"]
    tracks = ElementTree.parse(folder / "kuma.xspf").getroot().iter("{http://xspf.org/ns/0/}location")
    assert [t.text for t in tracks] == [WAV2, "demystification-0001.wav"]
    assert outcome.receipt == "envoyé"
    status = station_status(archive)
    assert status.current == 2 and status.missing == [] and status.last_contact is not None

    before = link.to_client
    again = sync(station_config)
    assert again.ok and again.installed == [] and again.received_bytes == 0
    assert link.to_client - before < 3000  # 304s and the receipt's answer only


@pytest.mark.parametrize("fault", [Drop(1_000_000), Truncate(3_000_000), Stall(5_000_000, seconds=3.0), Flip(2_000_000)],
                         ids=["dropped", "truncated", "stalled", "flipped-byte"])
def test_sync_survives_a_fault_with_byte_identical_files(archive, link, station_config, fault):
    link.inject(URL2, fault)
    outcome = sync(station_config)
    assert outcome.ok, outcome.failed
    assert {p.stem: digest(p) for p in station_config.folder.glob("*.wav")} == published_digests(archive)
    assert not [n for n in folder_names(station_config) if n.startswith(".") or n.endswith((".part", ".tmp"))]
    assert link.faults_done and URL2 in link.faults_done[0]
    ranges = link.ranges(URL2)
    if isinstance(fault, Flip):
        assert ranges == [None, None]  # the corrupt copy was never installed: fetched whole once more
    else:
        assert ranges[0] is None and len(ranges) == 2 and ranges[1].startswith("bytes=")
        assert int(ranges[1][6:-1]) >= min(fault.after, 5_000_000) - 400_000  # resumed, not restarted


def test_a_corrupt_file_is_never_moved_into_the_folder(archive, link, station_config):
    link.inject(URL2, Flip(2_000_000), times=5)  # every copy arrives corrupt
    outcome = sync(station_config)
    assert [slug for slug, _ in outcome.failed] == ["demystification-0002"]
    assert "empreinte" in outcome.failed[0][1]
    assert WAV2 not in folder_names(station_config) and "demystification-0001.wav" in folder_names(station_config)
    assert "demystification-0002" not in (station_config.folder / "kuma.m3u").read_text()


def test_a_takedown_deletes_file_sidecar_and_playlist_entry_and_is_confirmed(archive, station_archive, station_config):
    _, _, testimonies = station_archive
    sync(station_config)
    with archive.session() as session:
        withdraw(session, get(session, testimonies["demystification-0002"]), "test")
    publish(archive)
    outcome = sync(station_config)
    assert outcome.taken_down == ["demystification-0002"]
    assert folder_names(station_config) == {"demystification-0001.wav", "demystification-0001.json", "kuma.m3u", "kuma.xspf"}
    assert "demystification-0002" not in (station_config.folder / "kuma.m3u").read_text()
    assert "demystification-0002" not in (station_config.folder / "kuma.xspf").read_text()
    status = station_status(archive)
    assert [(t.slug, t.state) for t in status.takedowns] == [("demystification-0002", "confirmed")]


def test_a_takedown_published_during_a_long_sync_is_executed_in_the_same_run(archive, link, station_archive,
                                                                             station_config):
    _, _, testimonies = station_archive
    station_config.rate_limit = 4_000_000  # the 8.6 MB WAV takes about 2 s

    def withdraw_the_first_once_the_second_downloads(text: str) -> None:
        if text.startswith("téléchargement : demystification-0002"):
            with archive.session() as session:
                withdraw(session, get(session, testimonies["demystification-0001"]), "test")
            publish(archive)

    sync(station_config)  # both held
    (station_config.folder / WAV2).unlink()  # the operator deleted it: fetched again below
    outcome = sync(station_config, say=withdraw_the_first_once_the_second_downloads)
    assert outcome.installed == ["demystification-0002"] and outcome.taken_down == ["demystification-0001"]
    assert "demystification-0001.wav" not in folder_names(station_config)


def test_a_revoked_token_stops_sync_with_a_clear_message_and_deletes_nothing(archive, station_archive, station_config,
                                                                            capsys):
    from station.cli import main
    from station.config import save

    _, token, _ = station_archive
    sync(station_config)
    before = {p.name: digest(p) for p in station_config.folder.iterdir()}
    with archive.session() as session:
        radios.revoke(session, "kayira")
    publish(archive)
    path = save(station_config, station_config.state / "config.json")
    code = main(["--config", str(path), "sync"])
    error = capsys.readouterr().err
    assert code == 3
    assert "révoqué" in error and "Rien n'a été supprimé" in error and token not in error
    assert {p.name: digest(p) for p in station_config.folder.iterdir()} == before


def test_lowband_rendition_and_keep_the_newest_only(archive, station_config):
    station_config.rendition, station_config.keep = "lowband", 1
    outcome = sync(station_config)
    assert outcome.installed == ["demystification-0002"]
    assert folder_names(station_config) == {"demystification-0002.mp3", "demystification-0002.json", "kuma.m3u", "kuma.xspf"}
    published = archive.settings.public_path / "current" / "radio" / "media" / "demystification-0002"
    assert digest(station_config.folder / "demystification-0002.mp3") == digest(published / "demystification-0002-lowband.mp3")


def test_playout_log_lines_reach_the_archive_as_airings(archive, station_config, tmp_path):
    log = tmp_path / "playout.log"
    station_config.playout_log = log
    sync(station_config)
    log.write_text("2026-12-01 07:00:12 INFO playing /srv/emissions/demystification-0002.wav\n"
                   "2026-12-01 07:30:00 INFO playing jingle.mp3\n"
                   "2026-12-02T19:00 demystification-0001 started\n", encoding="utf-8")
    sync(station_config)
    sync(station_config)  # the same lines are not reported twice
    from sqlalchemy import select

    from archive.models import StationAiring

    with archive.session() as session:
        rows = session.execute(select(StationAiring.slug, StationAiring.aired_at).order_by(StationAiring.aired_at)).all()
        assert [(slug, f"{at:%Y-%m-%d %H:%M:%S}") for slug, at in rows] == [
            ("demystification-0002", "2026-12-01 07:00:12"), ("demystification-0001", "2026-12-02 19:00:00")]
        assert session.query(RadioStation).one().slug == "kayira"


def test_hooks_run_and_a_failing_takedown_hook_withholds_the_confirmation(archive, station_archive, station_config,
                                                                          tmp_path):
    """The takedown hook stands for 'delete it from the playout system too': until it succeeds, the
    archive is not told the takedown was executed."""
    _, _, testimonies = station_archive
    journal = tmp_path / "hooks.txt"
    station_config.on_install = f'echo "installé $KUMA_SLUG $(basename "$KUMA_FILE")" >> {journal}'
    station_config.on_takedown = f"test -e {tmp_path}/playout-ok && echo \"retiré $KUMA_SLUG $KUMA_FILES\" >> {journal}"
    sync(station_config)
    assert sorted(journal.read_text().splitlines()) == ["installé demystification-0001 demystification-0001.wav",
                                                        "installé demystification-0002 demystification-0002.wav"]
    with archive.session() as session:
        withdraw(session, get(session, testimonies["demystification-0002"]), "test")
    publish(archive)
    failed = sync(station_config)
    assert WAV2 not in folder_names(station_config)  # the folder is cleared at once
    assert any("commande de retrait en échec" in p for p in failed.problems)
    assert [t.state for t in station_status(archive).takedowns] == ["pending"]
    (tmp_path / "playout-ok").touch()
    sync(station_config)
    assert journal.read_text().splitlines()[-1] == "retiré demystification-0002 demystification-0002.json demystification-0002.wav"
    assert [t.state for t in station_status(archive).takedowns] == ["confirmed"]


def test_the_bandwidth_cap_holds_the_average_rate(station_config):
    """A lower bound only (a slow machine can only be slower): 8.8 MB under a 3 MB/s cap."""
    import time

    station_config.rate_limit = 3_000_000
    started = time.monotonic()
    outcome = sync(station_config)
    assert outcome.received_bytes > 8_700_000
    assert time.monotonic() - started >= outcome.received_bytes / 3_000_000 * 0.9


def test_rfc5005_archive_pages_are_walked_only_when_more_episodes_are_wanted(archive, link, station_config):
    archive.settings.feed_page_size = 1  # one episode per document: the older one on archive/feed-1.xml
    publish(archive)
    outcome = sync(station_config)
    assert sorted(outcome.installed) == ["demystification-0001", "demystification-0002"]
    assert [line.split()[1].rsplit("/", 2)[-2:] for line, _ in link.requests if "/archive/" in line] == [["archive", "feed-1.xml"]]
    before = link.to_client
    assert sync(station_config).installed == []
    assert link.to_client - before < 3000  # feed, archive page and takedown list: 304s
    station_config.keep = 1
    asked = len(link.requests)
    sync(station_config)
    assert not [line for line, _ in link.requests[asked:] if "/archive/" in line]  # the newest is on the first page
    assert {p.name for p in station_config.folder.glob("*.wav")} == {WAV2}


def test_a_lost_state_directory_does_not_download_the_folder_again(archive, link, station_config):
    import shutil

    sync(station_config)
    shutil.rmtree(station_config.state)  # a reinstall, or a crash right after the move into the folder
    before = link.to_client
    outcome = sync(station_config)
    assert sorted(outcome.installed) == ["demystification-0001", "demystification-0002"]
    assert link.to_client - before < 100_000  # documents only: both files were recognised by their sha256
    (station_config.folder / WAV2).write_bytes(b"\0" * (station_config.folder / WAV2).stat().st_size)
    shutil.rmtree(station_config.state)
    sync(station_config)  # a same-sized but different file is not taken for the episode
    assert {p.stem: digest(p) for p in station_config.folder.glob("*.wav")} == published_digests(archive)


def test_a_broken_feed_still_lets_the_takedowns_through(archive, station_archive, station_config):
    """A captive portal or a half-published feed answers garbage: the sync fails, but the station
    still deletes what the takedown list names."""
    from station.feed import FeedError

    _, _, testimonies = station_archive
    sync(station_config)
    with archive.session() as session:
        withdraw(session, get(session, testimonies["demystification-0002"]), "test")
    publish(archive)
    feed = archive.settings.public_path / "current" / "radio" / "feed.xml"
    feed.write_bytes(b"<html><body>Portail captif : connectez-vous</body></html>")
    with pytest.raises(FeedError, match="pas de <channel>"):
        sync(station_config)
    assert WAV2 not in folder_names(station_config)
    assert "demystification-0002" not in (station_config.folder / "kuma.m3u").read_text()
