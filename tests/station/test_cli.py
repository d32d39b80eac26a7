"""``kuma-station`` as a station runs it: init, sync from another process killed mid-download, status."""
from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time

from station.cli import main
from station.config import save
from tests.station.test_sync import URL2, WAV2, digest, published_digests


def run_cli(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "station", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_init_checks_the_feed_and_keeps_the_token_private(station_config, tmp_path, capsys):
    path = tmp_path / "conf" / "config.json"
    code = main(["--config", str(path), "init", "--feed", station_config.feed, "--folder", str(tmp_path / "f"),
                 "--state", str(tmp_path / "s"), "--limit-rate", "200k", "--keep", "4"])
    out = capsys.readouterr().out
    assert code == 0 and "2 émission(s) proposée(s)" in out
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = json.loads(path.read_text())
    assert stored["feed"] == station_config.feed and stored["rate_limit"] == 200_000 and stored["keep"] == 4
    assert (tmp_path / "f").is_dir()


def test_init_refuses_a_wrong_address_and_saves_nothing(station_config, tmp_path, capsys):
    path = tmp_path / "config.json"
    wrong = station_config.feed.replace("/radio/", "/radio/x")
    assert main(["--config", str(path), "init", "--feed", wrong]) == 3
    assert "refuse" in capsys.readouterr().err and not path.exists()
    assert main(["--config", str(path), "init", "--feed", "https://exemple.org/podcast/feed.xml"]) == 2
    assert "adresse de flux invalide" in capsys.readouterr().err
    assert main(["--config", str(path), "sync"]) == 2
    assert "kuma-station init" in capsys.readouterr().err


def test_kill_9_mid_download_then_rerun_resumes_where_it_stopped(archive, link, station_config, capsys):
    station_config.rate_limit = 1_000_000  # the 8.6 MB WAV takes about 9 s
    path = save(station_config, station_config.state.parent / "config.json")
    process = run_cli("--config", str(path), "sync")
    partial_dir = station_config.state / "partial"
    deadline = time.monotonic() + 60
    have = 0
    while have < 2_000_000 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.1)
        have = sum(p.stat().st_size for p in partial_dir.glob("*.part")) if partial_dir.exists() else 0
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert have >= 2_000_000, process.stderr.read().decode()
    kept = sum(p.stat().st_size for p in partial_dir.glob("*.part"))
    assert not (station_config.folder / WAV2).exists()  # nothing half-there in the watch folder

    assert main(["--config", str(path), "sync"]) == 0
    ranges = link.ranges(URL2)
    assert len(ranges) == 2 and ranges[0] is None and int(ranges[1][6:-1]) == kept
    assert {p.stem: digest(p) for p in station_config.folder.glob("*.wav")} == published_digests(archive)
    assert not list(partial_dir.glob("*.part"))

    assert main(["--config", str(path), "status"]) == 0
    out = capsys.readouterr().out
    assert "2 émission(s) détenue(s)" in out and WAV2 in out and station_config.feed.split("/radio/")[1][:8] not in out


def test_two_syncs_at_once_do_not_both_run(station_config, capsys):
    from station import state

    path = save(station_config, station_config.state.parent / "config.json")
    with state.locked(station_config.state):
        assert main(["--config", str(path), "sync"]) == 75
    assert "en cours" in capsys.readouterr().err
