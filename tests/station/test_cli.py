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


def test_the_served_client_runs_on_a_bare_python(station_archive, link, tmp_path):
    """The one-file client from ``kuma serve`` runs with the standard library alone (-I -S: no
    site-packages, no project on the path), as on a Raspberry Pi's own Python."""
    import urllib.request

    with urllib.request.urlopen(f"{link.url}/station/kuma-station.pyz") as answer:
        body = answer.read()
        assert answer.headers["content-type"] == "application/zip"
    client = tmp_path / "kuma-station.pyz"
    client.write_bytes(body)
    version = subprocess.run([sys.executable, "-I", "-S", str(client), "--version"], capture_output=True, text=True,
                             cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("kuma-station/")
    _, token, _ = station_archive
    config = tmp_path / "config.json"
    init = subprocess.run([sys.executable, "-I", "-S", str(client), "--config", str(config), "init",
                           "--feed", f"{link.url}/radio/{token}/feed.xml", "--folder", str(tmp_path / "emissions"),
                           "--state", str(tmp_path / "state")], capture_output=True, text=True, cwd=tmp_path)
    assert init.returncode == 0, init.stderr
    synced = subprocess.run([sys.executable, "-I", "-S", str(client), "--config", str(config), "sync"],
                            capture_output=True, text=True, cwd=tmp_path)
    assert synced.returncode == 0, synced.stderr
    assert "2 installée(s)" in synced.stdout and (tmp_path / "emissions" / WAV2).is_file()


def test_init_every_installs_one_crontab_line_and_replaces_it_next_time(station_config, tmp_path, monkeypatch, capsys):
    """A stand-in ``crontab`` (same -l / - interface) keeps the table in a file."""
    table = tmp_path / "crontab.txt"
    table.write_text("0 3 * * * /usr/bin/sauvegarde\n")
    fake = tmp_path / "bin" / "crontab"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\nif [ "$1" = "-l" ]; then cat {table}; else cat > {table}; fi\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:{os.environ['PATH']}")
    path = tmp_path / "config.json"
    for every in ("30", "120"):
        assert main(["--config", str(path), "init", "--feed", station_config.feed, "--no-check",
                     "--every", every, "--state", str(tmp_path / "s"), "--folder", str(tmp_path / "f")]) == 0
    lines = table.read_text().splitlines()
    assert lines[0] == "0 3 * * * /usr/bin/sauvegarde" and len(lines) == 2
    assert lines[1].startswith("0 */2 * * * ") and lines[1].endswith(f"--config {path} sync --quiet # kuma-station")
    assert main(["--config", str(path), "init", "--feed", station_config.feed, "--no-check", "--every", "90"]) == 2


def test_an_unreachable_archive_is_one_clear_line_and_nothing_is_touched(station_config, capsys):
    from tests.api.web.browser import free_port

    sync_ok = main(["--config", str(save(station_config, station_config.state.parent / "config.json")), "sync"])
    assert sync_ok == 0
    capsys.readouterr()
    before = sorted(p.name for p in station_config.folder.iterdir())
    station_config.feed = station_config.feed.replace(station_config.feed.split("/")[2], f"127.0.0.1:{free_port()}")
    station_config.retries = 2
    path = save(station_config, station_config.state.parent / "config.json")
    assert main(["--config", str(path), "sync"]) == 4
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "injoignable après 2 essais" in error[0] and "/radio/***/" in error[0]
    assert sorted(p.name for p in station_config.folder.iterdir()) == before
