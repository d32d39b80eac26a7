"""Feed benchmark: build feeds for 500 episodes, then serve the public feed on loopback.

Measures requests/s and p95 latency for full GETs and conditional GETs (304) under 20
concurrent connections, for uvicorn + the feeds router, side by side with Python's
http.server (and nginx when installed) serving the same file. Loopback only.

    .venv/bin/python benchmarks/feeds.py [--episodes 500] [--requests 2000] [--concurrency 20]
"""
from __future__ import annotations

import argparse
import http.server
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from functools import partial
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archive.audio import encode  # noqa: E402
from archive.db import Archive  # noqa: E402
from archive.models import Episode, MediaAsset, MediaKind  # noqa: E402
from archive.settings import Settings  # noqa: E402
from feeds.publish import publish  # noqa: E402


def make_archive(home: Path, episodes: int) -> Archive:
    import numpy as np

    settings = Settings(home=home, secret_key="bench", base_url="http://127.0.0.1")
    archive = Archive(settings)
    tone = (0.1 * np.sin(2 * np.pi * 220 * np.arange(16000 * 2) / 16000)).astype(np.float32)
    stored = {}
    for role, fmt, bitrate in (("podcast", "mp3", 64000), ("lowband", "mp3", 24000)):
        path = encode(tone, home / f"{role}.{fmt}", rate=16000, fmt=fmt, bitrate=bitrate)
        stored[role] = archive.store.put_file(path)
    with archive.session() as session:
        for number in range(1, episodes + 1):
            episode = Episode(slug=f"ep-{number:04d}", programme="bench", number=number, season=1,
                              title=f"Épisode {number} — « retour » & <témoignages>", date=date(2020, 1, 1) + timedelta(days=number),
                              description="Description " * 40, duration=1800.0,
                              cue=[{"title": "Ouverture", "start": 0.0}, {"title": "Témoignage", "start": 60.0}])
            session.add(episode)
            session.flush()
            for role, item in stored.items():
                session.add(MediaAsset(episode_id=episode.id, kind=MediaKind.EPISODE, role=role, sha256=item.sha256,
                                       size=item.size, format="mp3", bitrate=64000 if role == "podcast" else 24000))
    return archive


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_up(url: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not start: {url}")


def load(url: str, requests: int, concurrency: int, headers: dict | None = None) -> tuple[float, float, int]:
    """(requests/s, p95 latency ms, status) with `concurrency` keep-alive clients."""
    per_worker = requests // concurrency
    latencies: list[float] = []
    statuses: set[int] = set()
    lock = threading.Lock()

    def worker() -> None:
        local = []
        with httpx.Client(timeout=10.0) as client:
            for _ in range(per_worker):
                start = time.perf_counter()
                response = client.get(url, headers=headers)
                local.append(time.perf_counter() - start)
                statuses.add(response.status_code)
        with lock:
            latencies.extend(local)

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for future in [pool.submit(worker) for _ in range(concurrency)]:
            future.result()
    elapsed = time.perf_counter() - start
    p95 = statistics.quantiles(latencies, n=20)[18] * 1000
    return len(latencies) / elapsed, p95, max(statuses)


def start_uvicorn(public: Path, port: int) -> subprocess.Popen:
    code = (
        "import uvicorn, logging; from pathlib import Path; from fastapi import FastAPI;"
        "from api.routes import public as p; app = FastAPI(); app.include_router(p.router);"
        f"app.dependency_overrides[p.published_root] = lambda: Path({str(public)!r});"
        f"uvicorn.run(app, host='127.0.0.1', port={port}, log_level='warning', access_log=False)"
    )
    return subprocess.Popen([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1])


def start_http_server(directory: Path, port: int) -> http.server.ThreadingHTTPServer:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like the others

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), partial(Quiet, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def start_nginx(directory: Path, port: int, work: Path) -> subprocess.Popen | None:
    nginx = shutil.which("nginx")
    if not nginx:
        return None
    conf = work / "nginx.conf"
    conf.write_text(f"""daemon off; worker_processes 1; pid {work}/nginx.pid; error_log {work}/error.log;
events {{ worker_connections 256; }}
http {{ access_log off; client_body_temp_path {work}; proxy_temp_path {work}; fastcgi_temp_path {work};
  uwsgi_temp_path {work}; scgi_temp_path {work}; types {{ application/rss+xml xml; }}
  server {{ listen 127.0.0.1:{port}; root {directory}; }} }}""")
    return subprocess.Popen([nginx, "-c", str(conf), "-p", str(work)])


def measure(name: str, url: str, requests: int, concurrency: int) -> dict:
    first = httpx.get(url)
    validators = {"If-None-Match": first.headers["etag"]} if "etag" in first.headers else \
        {"If-Modified-Since": first.headers["last-modified"]}
    full = load(url, requests, concurrency)
    conditional = load(url, requests, concurrency, validators)
    print(f"{name:<12} full: {full[0]:8.0f} req/s  p95 {full[1]:6.1f} ms (HTTP {full[2]})   "
          f"conditional: {conditional[0]:8.0f} req/s  p95 {conditional[1]:6.1f} ms (HTTP {conditional[2]})")
    return {"full": full, "conditional": conditional}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=500)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kuma-feeds-bench-"))
    try:
        archive = make_archive(work / "home", args.episodes)
        start = time.perf_counter()
        result = publish(archive)
        built = time.perf_counter() - start
        start = time.perf_counter()
        again = publish(archive)
        rebuilt = time.perf_counter() - start
        feed = result.version / "podcast" / "feed.xml"
        print(f"build: {args.episodes} episodes, {result.files} files in {built:.2f} s "
              f"(unchanged rebuild {rebuilt:.2f} s, new version: {again.changed}); "
              f"public feed {feed.stat().st_size} bytes, page size {archive.settings.feed_page_size}")
        archive.dispose()
        current = work / "home" / "public" / "current"
        results = {}
        port = free_port()
        process = start_uvicorn(current, port)
        try:
            wait_up(f"http://127.0.0.1:{port}/podcast/feed.xml")
            results["kuma"] = measure("kuma serve", f"http://127.0.0.1:{port}/podcast/feed.xml", args.requests, args.concurrency)
        finally:
            process.terminate()
            process.wait(10)
        port = free_port()
        server = start_http_server(current / "podcast", port)
        try:
            results["http.server"] = measure("http.server", f"http://127.0.0.1:{port}/feed.xml", args.requests, args.concurrency)
        finally:
            server.shutdown()
        port = free_port()
        nginx = start_nginx(current / "podcast", port, work)
        if nginx is None:
            print("nginx       not installed: skipped")
        else:
            try:
                wait_up(f"http://127.0.0.1:{port}/feed.xml")
                results["nginx"] = measure("nginx", f"http://127.0.0.1:{port}/feed.xml", args.requests, args.concurrency)
            finally:
                nginx.terminate()
                nginx.wait(10)
        for reference in [name for name in results if name != "kuma"]:
            for kind in ("full", "conditional"):
                ratio = results["kuma"][kind][0] / results[reference][kind][0]
                p95 = results["kuma"][kind][1] / results[reference][kind][1]
                print(f"ratio kuma/{reference} {kind:<11}: throughput x{ratio:.2f}, p95 x{p95:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
