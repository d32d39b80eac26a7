"""Station sync benchmark: 50 episodes over a throttled, lossy link, as a rural station gets them.

A real ``kuma serve`` (subprocess) publishes 50 radio episodes (distinct low-band MP3s of
``--minutes`` each); the fault-injecting proxy of the tests stands for the link: ``--rate`` bytes
per second shared by all connections, each 64 KiB of an answer cut (RST) with probability
``--loss``, and ``--stalls`` answers that stop sending mid-file. Side by side, on the same link
and the same draw of faults:

- **kuma-station** (Range resume, backoff, sha256 check);
- **reference**: a plain client that, like the podcast import of common playout systems, starts a
  broken download over from the first byte (no resume).

Printed per run and as medians: bytes the link carried against the minimum (the sum of the
files; documents and headers count as overhead; goal ≤ 1.05×), wall time, resumed requests. Then
the time to execute a takedown once it is published: with the station idle (one sync), and while
the station is in the middle of a long sync (it re-reads takedown.json between two downloads).

    .venv/bin/python benchmarks/station.py [--episodes 50] [--minutes 3] [--rate 3e6] [--loss 0.01] [--runs 3]
"""
from __future__ import annotations

import argparse
import hashlib
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archive.audio import encode, probe  # noqa: E402
from archive.db import Archive  # noqa: E402
from archive.models import Episode, MediaAsset, MediaKind, utcnow  # noqa: E402
from archive.settings import Settings  # noqa: E402
from feeds import radios  # noqa: E402
from feeds.publish import publish  # noqa: E402
from station.config import Config  # noqa: E402
from station.feed import parse_feed  # noqa: E402
from station.sync import sync  # noqa: E402
from tests.api.web.browser import free_port  # noqa: E402
from tests.conftest import speechlike  # noqa: E402
from tests.station.conftest import Server  # noqa: E402
from tests.station.proxy import FaultProxy, Stall  # noqa: E402


def build_archive(home: Path, base_url: str, episodes: int, minutes: float) -> tuple[Archive, str, int]:
    """50 episodes, each with its own low-band MP3; returns the archive, a station token, the bytes."""
    archive = Archive(Settings(home=home, secret_key="bench", base_url=base_url))
    total = 0
    with archive.session() as session:
        for number in range(1, episodes + 1):
            path = encode(speechlike(minutes * 60, 24000, seed=number), home / f"ep{number}.mp3", rate=24000,
                          fmt="mp3", bitrate=48000)
            stored = archive.store.put_file(path)
            info = probe(path)
            path.unlink()
            total += stored.size
            episode = Episode(slug=f"ep-{number:04d}", programme="bench", number=number, season=1,
                              title=f"Épisode {number}", date=date(2025, 1, 1) + timedelta(days=7 * number),
                              description="Démystification du mieux-être ailleurs.", duration=info.duration,
                              cue=[{"title": "Ouverture", "start": 0.0}])
            session.add(episode)
            session.flush()
            session.add(MediaAsset(episode_id=episode.id, kind=MediaKind.EPISODE, role="lowband", sha256=stored.sha256,
                                   size=stored.size, format="mp3", codec="mp3", bitrate=48000, duration=info.duration))
        _, token = radios.add(session, "Radio de mesure", slug="mesure")
    publish(archive)
    return archive, token, total


def reference_sync(feed_url: str, folder: Path, timeout: float) -> int:
    """A plain client: every enclosure fetched with one GET, started over from zero after a break."""
    folder.mkdir(parents=True, exist_ok=True)
    page = parse_feed(urllib.request.urlopen(feed_url, timeout=timeout).read())
    restarts = 0
    for episode in page.episodes:
        rendition = episode.pick("lowband")
        while True:
            try:
                with urllib.request.urlopen(rendition.url, timeout=timeout) as answer:
                    body = answer.read()
                if len(body) == rendition.size and hashlib.sha256(body).hexdigest() == rendition.sha256:
                    (folder / rendition.name).write_bytes(body)
                    break
            except (urllib.error.URLError, OSError, ConnectionError):
                pass
            restarts += 1
            time.sleep(0.1)
    return restarts


def one_run(run: int, args, root: Path) -> dict:
    proxy = FaultProxy(free_port(), rate=args.rate, loss=args.loss, seed=run).start()
    home = root / f"run{run}"
    archive, token, minimum = build_archive(home / "kuma", proxy.url, args.episodes, args.minutes)
    server = Server(archive.settings, proxy.upstream[1]).start()
    feed = f"{proxy.url}/radio/{token}/feed.xml"
    results = {"minimum": minimum}
    try:
        for name in ("reference", "kuma-station"):
            proxy.rng.seed(run)  # the same draw of cuts for both clients
            proxy.plan.clear()
            for number in range(1, args.stalls + 1):  # a few answers stop mid-file
                proxy.inject(f"ep-{number * 7:04d}-lowband.mp3", Stall(200_000 * number, seconds=args.timeout + 1))
            before, requests_before, started = proxy.to_client, len(proxy.requests), time.monotonic()
            if name == "reference":
                resumed = reference_sync(feed, home / "reference", args.timeout)
            else:
                config = Config(feed=feed, folder=home / "station", state=home / "state", rendition="lowband",
                                timeout=args.timeout, retries=20, backoff=0.2, max_backoff=2.0)
                outcome = sync(config)
                assert outcome.ok and len(outcome.installed) == args.episodes, outcome.failed
                resumed = sum(1 for _, headers in proxy.requests[requests_before:] if "range" in headers)
                results["config"] = config
            results[name] = {"bytes": proxy.to_client - before, "seconds": time.monotonic() - started,
                             "resumed_or_restarted": resumed}
        results["takedown_idle"] = takedown_idle(archive, results["config"], proxy, f"ep-{args.episodes:04d}")
        results["takedown_busy"] = takedown_busy(archive, results["config"], proxy, args)
    finally:
        server.stop()
        proxy.stop()
        archive.dispose()
    return results


def take_down(archive: Archive, slug: str) -> float:
    with archive.session() as session:
        session.query(Episode).filter_by(slug=slug).one().taken_down_at = utcnow()
    publish(archive)
    return time.monotonic()


def takedown_idle(archive: Archive, config: Config, proxy: FaultProxy, slug: str) -> dict:
    """A station with everything: the takedown is published, its next sync runs."""
    published = take_down(archive, slug)
    before = proxy.to_client
    executed = {}
    sync(config, say=lambda text: executed.setdefault("at", time.monotonic()) if text.startswith("retrait") else None)
    assert not (config.folder / f"{slug}.mp3").exists()
    return {"seconds": executed["at"] - published, "bytes": proxy.to_client - before}


def takedown_busy(archive: Archive, config: Config, proxy: FaultProxy, args) -> dict:
    """Ten files to fetch again; a takedown published once the second download has started."""
    again = min(10, args.episodes - 2)
    slug = f"ep-{args.episodes - 1:04d}"
    for number in range(1, again + 1):
        (config.folder / f"ep-{number:04d}.mp3").unlink()
    marks: dict[str, float] = {}

    def watch(text: str) -> None:
        if text.startswith("téléchargement"):
            marks["downloads"] = marks.get("downloads", 0) + 1
            if marks["downloads"] == 2:
                threading.Thread(target=lambda: marks.setdefault("published", take_down(archive, slug))).start()
        if text.startswith(f"retrait exécuté : {slug}"):
            marks["executed"] = time.monotonic()

    started = time.monotonic()
    sync(config, say=watch)
    assert not (config.folder / f"{slug}.mp3").exists()
    file_seconds = (time.monotonic() - started) / again
    return {"seconds": marks["executed"] - marks["published"], "one_file_seconds": file_seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=3.0, help="length of each episode's MP3 (48 kbit/s)")
    parser.add_argument("--rate", type=float, default=3e6, help="link throughput, bytes per second")
    parser.add_argument("--loss", type=float, default=0.01, help="probability of a cut per 64 KiB of answer")
    parser.add_argument("--stalls", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=2.0, help="client's stall timeout, seconds")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="kuma-station-bench-"))
    runs = []
    try:
        for run in range(1, args.runs + 1):
            result = one_run(run, args, root)
            runs.append(result)
            shutil.rmtree(root / f"run{run}", ignore_errors=True)
            minimum = result["minimum"]
            print(f"run {run}: minimum {minimum / 1e6:.1f} MB over {args.rate / 1e6:g} MB/s, loss {args.loss:g}/64 KiB")
            for name in ("kuma-station", "reference"):
                item = result[name]
                print(f"  {name:13} {item['bytes'] / 1e6:7.1f} MB  {item['bytes'] / minimum:5.3f}x minimum  "
                      f"{item['seconds']:6.1f} s  {item['resumed_or_restarted']} resumed/restarted")
            print(f"  takedown, idle station: executed {result['takedown_idle']['seconds']:.2f} s after publication "
                  f"({result['takedown_idle']['bytes']} bytes on the link)")
            busy = result["takedown_busy"]
            print(f"  takedown during a long sync: executed {busy['seconds']:.2f} s after publication "
                  f"(one file takes {busy['one_file_seconds']:.2f} s)")
    finally:
        shutil.rmtree(root, ignore_errors=True)

    def median(name: str, key: str) -> float:
        return statistics.median(r[name][key] / (r["minimum"] if key == "bytes" else 1) for r in runs)

    print(f"median of {len(runs)} runs:")
    ours, reference = median("kuma-station", "bytes"), median("reference", "bytes")
    print(f"  bytes/minimum: kuma-station {ours:.3f}x (goal <= 1.05), reference {reference:.3f}x; "
          f"ratio reference/ours {reference / ours:.2f}")
    print(f"  time: kuma-station {median('kuma-station', 'seconds'):.1f} s, reference {median('reference', 'seconds'):.1f} s")
    print(f"  takedown: idle {statistics.median(r['takedown_idle']['seconds'] for r in runs):.2f} s, "
          f"during a sync {statistics.median(r['takedown_busy']['seconds'] for r in runs):.2f} s after publication")


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)  # figures appear as each run ends
    main()
