"""What the station keeps between runs, in its state directory:

    state.json        episodes held, takedowns executed, feed validators, airings not yet reported
    cache/<name>      the last body of each feed document (a 304 answer reuses it)
    partial/<sha256>  downloads in progress (resumed by the next run, even after a kill -9)
    lock              one sync at a time (cron and a manual run may overlap)

state.json is replaced atomically after every change, so a crash loses at most the step in progress,
which the next run redoes.
"""
from __future__ import annotations

import fcntl
import json
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from station.errors import Busy, StationError
from station.files import write_atomic

VERSION = 1
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class State:
    directory: Path
    documents: dict[str, dict] = field(default_factory=dict)  # cache name -> {etag, modified}
    episodes: dict[str, dict] = field(default_factory=dict)  # guid -> what is installed
    takedowns: dict[str, dict] = field(default_factory=dict)  # guid -> {slug, listed_at, executed_at, files_deleted}
    aired_pending: list[dict] = field(default_factory=list)  # {guid, slug, at} not yet accepted by the archive
    log_position: dict = field(default_factory=dict)  # {inode, offset} in the playout log
    last_sync: dict = field(default_factory=dict)
    last_receipt: dict = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return self.directory / "state.json"

    @property
    def partial_dir(self) -> Path:
        return self.directory / "partial"

    def cached(self, name: str) -> bytes | None:
        try:
            return (self.directory / "cache" / _safe(name)).read_bytes()
        except FileNotFoundError:
            return None

    def cache(self, name: str, body: bytes, etag: str | None, modified: str | None) -> None:
        target = self.directory / "cache" / _safe(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, body, mode=0o600)
        self.documents[name] = {"etag": etag, "modified": modified}

    def save(self) -> None:
        payload = {"version": VERSION, "documents": self.documents, "episodes": self.episodes,
                   "takedowns": self.takedowns, "aired_pending": self.aired_pending,
                   "log_position": self.log_position, "last_sync": self.last_sync, "last_receipt": self.last_receipt}
        write_atomic(self.path, json.dumps(payload, indent=1, sort_keys=True, ensure_ascii=False).encode("utf-8"),
                     mode=0o600)


def load(directory: Path) -> State:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        payload = json.loads((directory / "state.json").read_text("utf-8"))
    except FileNotFoundError:
        return State(directory)
    except ValueError as exc:
        raise StationError(f"état illisible ({directory / 'state.json'}) : {exc}") from None
    payload.pop("version", None)
    return State(directory, **{k: v for k, v in payload.items() if k in State.__dataclass_fields__})


@contextmanager
def locked(directory: Path):
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(directory / "lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy("une autre synchronisation est en cours (elle finira le travail)") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _safe(name: str) -> str:
    return SAFE_NAME.sub("_", name)
