"""A real ``kuma serve`` (a subprocess on the test archive, SQLite) behind the fault-injecting proxy;
the published feeds name the proxy's address, so every byte a station fetches crosses it."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from archive.audio import encode
from archive.settings import Settings
from feeds import radios
from feeds.publish import publish
from station.config import Config
from tests.api.web.browser import free_port
from tests.conftest import speechlike
from tests.feeds.conftest import episode_media, make_episode  # noqa: F401  (fixtures)
from tests.station.proxy import FaultProxy


@pytest.fixture
def link():
    """The proxy, started before the archive so that the feeds carry its address."""
    proxy = FaultProxy(free_port()).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def settings(tmp_path, link) -> Settings:
    return Settings(home=tmp_path / "kuma-home", secret_key="test-secret", base_url=link.url)


@pytest.fixture(scope="session")
def long_broadcast(tmp_path_factory) -> Path:
    """A 90 s broadcast WAV (8.6 MB): long enough to break, stall and kill mid-download."""
    return encode(speechlike(90.0, 48000, seed=3), tmp_path_factory.mktemp("long") / "broadcast.wav",
                  rate=48000, fmt="wav")


class Server:
    """``kuma serve`` in a subprocess, on the port the proxy relays to."""

    def __init__(self, settings: Settings, port: int):
        self.settings, self.port = settings, port
        self.process: subprocess.Popen | None = None

    def start(self) -> Server:
        env = {**os.environ, "KUMA_HOME": str(self.settings.home), "KUMA_SECRET_KEY": "test-secret",
               "KUMA_BASE_URL": self.settings.base_url}
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from api.cli import run; run()", "serve", "--host", "127.0.0.1",
             "--port", str(self.port)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"kuma serve stopped: {self.process.stderr.read().decode()[-2000:]}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/health", timeout=2).close()
                return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("kuma serve did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


@pytest.fixture
def station_archive(archive, link, seed_testimony, make_episode, long_broadcast):
    """Two radio episodes (the newer one with the long WAV), one station, the feeds published and
    served. Returns (server, token, {slug: testimony id})."""
    testimonies = {"demystification-0001": seed_testimony(), "demystification-0002": seed_testimony()}
    make_episode(1, [testimonies["demystification-0001"]], title="Le départ")
    make_episode(2, [testimonies["demystification-0002"]], title="Le retour", media={"broadcast": long_broadcast})
    with archive.session() as session:
        _, token = radios.add(session, "Radio Kayira Ségou", slug="kayira")
    publish(archive)
    server = Server(archive.settings, link.upstream[1]).start()
    yield server, token, testimonies
    server.stop()


@pytest.fixture
def station_config(tmp_path, link, station_archive) -> Config:
    _, token, _ = station_archive
    return Config(feed=f"{link.url}/radio/{token}/feed.xml", folder=tmp_path / "emissions",
                  state=tmp_path / "station-state", timeout=2.0, retries=4, backoff=0.05, max_backoff=0.2)
