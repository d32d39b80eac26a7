"""Publishing: feeds and media into a versioned directory, switched in atomically.

Layout of ``settings.public_path``::

    current -> versions/<stamp>-<digest>     (symlink, swapped with os.replace)
    versions/<stamp>-<digest>/
        podcast/   public feeds, cover, media of online-allowed episodes  (static web root)
        radio/     radio feed documents (token placeholder), takedown.json, radio media
        _meta/     manifest.json (sha256, size, modified per file), radios.json (token hashes)
    pool/<sha256>                             published media, hard-linked into versions

A version is complete before ``current`` points at it, so a reader never sees a half-written
feed or a feed naming a missing file. Older versions are deleted right after the switch and
pool files no version links any more are removed: a taken-down episode's media stop being served.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import struct
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from archive.db import Archive
from archive.errors import IntegrityError
from archive.models import utcnow
from archive.settings import Settings
from archive.store import CHUNK, MediaStore
from feeds import catalog as catalog_module
from feeds import radios
from feeds.build import build_all, chapters_json, chapters_name, cover_name
from feeds.catalog import Catalog

META = "_meta"


@dataclass
class PublishResult:
    root: Path
    version: Path
    changed: bool
    public_episodes: list[str] = field(default_factory=list)
    radio_episodes: list[str] = field(default_factory=list)
    taken_down: list[str] = field(default_factory=list)
    files: int = 0

    @property
    def current(self) -> Path:
        return self.root / "current"


@dataclass(frozen=True)
class Planned:
    """One file of a version: its bytes, or a media file from the store."""

    content: bytes | None = None
    sha256: str | None = None

    def digest(self) -> str:
        return self.sha256 or hashlib.sha256(self.content).hexdigest()


def publish(archive: Archive, *, actor: str | None = None, progress: Callable[[str], None] | None = None) -> PublishResult:
    """Build every feed from the current consent decisions and switch the public directory to it."""
    settings = archive.settings
    root = settings.public_path
    root.mkdir(parents=True, exist_ok=True)
    with _lock(root):
        with archive.session() as session:
            catalog_module.mark_takedowns(session, actor=actor or settings.actor)
            catalog = catalog_module.load(session)
            access = radios.access_map(session)
        plan = plan_files(catalog, settings, access)
        result = PublishResult(root, root / "current", changed=False,
                               public_episodes=[e.slug for e in catalog.public],
                               radio_episodes=[e.slug for e in catalog.radio],
                               taken_down=[t.slug for t in catalog.taken_down], files=len(plan))
        manifest, digest = _digest(root, plan)
        current = (root / "current").resolve() if (root / "current").exists() else None
        if current is not None and current.name.endswith(digest[:16]):
            result.version = current
            _prune(root, keep=current)
            return result
        name = f"{utcnow():%Y%m%dT%H%M%S%f}-{digest[:16]}"
        version = _write_version(root, name, plan, manifest, archive.store, progress)
        _switch(root, version)
        _prune(root, keep=version)
        result.version, result.changed = version, True
        return result


def up_to_date(archive: Archive) -> bool:
    """Whether the published directory is what :func:`publish` would write now (reads only)."""
    root = archive.settings.public_path
    current = (root / "current").resolve() if (root / "current").exists() else None
    if current is None:
        return False
    with archive.session() as session:
        if catalog_module.takedowns_due(session):
            return False
        plan = plan_files(catalog_module.load(session), archive.settings, radios.access_map(session))
    return current.name.endswith(_digest(root, plan)[1][:16])


def _digest(root: Path, plan: dict[str, Planned]) -> tuple[dict[str, dict], str]:
    manifest = _manifest(plan, read_manifest(root / "current"))
    digest = hashlib.sha256(json.dumps({p: m["sha256"] for p, m in manifest.items()}, sort_keys=True).encode()).hexdigest()
    return manifest, digest


def republish_after_consent_change(archive: Archive, *, actor: str | None = None) -> PublishResult:
    """Run after ``kuma consent set`` and ``kuma consent withdraw``: the feeds follow at once.

    Publishing asks the consent policy again for every testimony, marks the episodes whose
    testimonies refuse every use as taken down, drops them from every feed they may no longer be
    in, deletes their media from the public directory and lists the withdrawn ones and those no
    longer allowed on air in radio/takedown.json.
    """
    return publish(archive, actor=actor)


def plan_files(catalog: Catalog, settings: Settings, access: dict[str, str]) -> dict[str, Planned]:
    plan: dict[str, Planned] = {doc.path: Planned(content=doc.content) for doc in build_all(catalog, settings)}
    plan[f"podcast/{cover_name(settings)}"] = Planned(content=cover_bytes(settings))
    for area, episodes in (("podcast", catalog.public), ("radio", catalog.radio)):
        for episode in episodes:
            folder = f"{area}/media/{episode.slug}"
            for media in episode.media:
                plan[f"{folder}/{media.name}"] = Planned(sha256=media.sha256)
            if episode.chapters and not episode.by_role("chapters"):
                plan[f"{folder}/{chapters_name(episode)}"] = Planned(content=chapters_json(episode))
    stations = json.dumps({"stations": dict(sorted(access.items()))}, indent=2, sort_keys=True).encode()
    plan[f"{META}/radios.json"] = Planned(content=stations + b"\n")
    return plan


def read_manifest(version: Path) -> dict[str, dict]:
    try:
        return json.loads((version / META / "manifest.json").read_text("utf-8"))
    except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError):
        return {}


def _manifest(plan: dict[str, Planned], previous: dict[str, dict]) -> dict[str, dict]:
    """sha256, size and modification time per file; the time moves only when the content does."""
    now = _http_time(utcnow())
    manifest = {}
    for path, item in sorted(plan.items()):
        sha = item.digest()
        size = len(item.content) if item.content is not None else None
        before = previous.get(path)
        modified = before["modified"] if before and before["sha256"] == sha else now
        manifest[path] = {"sha256": sha, "size": size, "modified": modified}
    return manifest


def _write_version(root: Path, name: str, plan: dict[str, Planned], manifest: dict[str, dict],
                   store: MediaStore, progress) -> Path:
    versions = root / "versions"
    staging = versions / f".staging-{name}"
    staging.mkdir(parents=True)
    try:
        for path, item in sorted(plan.items()):
            target = staging / path
            target.parent.mkdir(parents=True, exist_ok=True)
            if item.content is not None:
                _write_bytes(target, item.content)
            else:
                os.link(_pooled(root, store, item.sha256), target)
                manifest[path]["size"] = target.stat().st_size
            modified = datetime.strptime(manifest[path]["modified"], "%a, %d %b %Y %H:%M:%S GMT")
            if item.content is not None:
                stamp = modified.replace(tzinfo=timezone.utc).timestamp()
                os.utime(target, (stamp, stamp))  # static servers derive Last-Modified from it
            if progress:
                progress(path)
        _write_bytes(staging / META / "manifest.json",
                     json.dumps(manifest, indent=1, sort_keys=True).encode() + b"\n")
        _fsync_dir(staging)
        final = versions / name
        os.rename(staging, final)
        return final
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _pooled(root: Path, store: MediaStore, sha256: str) -> Path:
    """The world-readable published copy of a stored file (copied once, then hard-linked)."""
    pool = root / "pool"
    pool.mkdir(exist_ok=True)
    final = pool / sha256
    if final.exists():
        return final
    temp = pool / f".{sha256}.tmp"
    digest = hashlib.sha256()
    with store.open(sha256) as source, open(temp, "wb") as target:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            target.write(chunk)
        target.flush()
        os.fsync(target.fileno())
    if digest.hexdigest() != sha256:
        temp.unlink(missing_ok=True)
        raise IntegrityError(f"media {sha256[:12]}… does not match its checksum")
    os.chmod(temp, 0o644)
    os.replace(temp, final)
    return final


def _switch(root: Path, version: Path) -> None:
    link = root / ".current.tmp"
    link.unlink(missing_ok=True)
    os.symlink(Path("versions") / version.name, link)
    os.replace(link, root / "current")
    _fsync_dir(root)


def _prune(root: Path, keep: Path) -> None:
    versions = root / "versions"
    for old in versions.iterdir() if versions.exists() else []:
        if old.name != keep.name:
            shutil.rmtree(old, ignore_errors=True)
    for pooled in (root / "pool").iterdir() if (root / "pool").exists() else []:
        if pooled.stat().st_nlink <= 1:  # no published version links it any more
            pooled.unlink(missing_ok=True)


def _write_bytes(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(path, 0o644)


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@contextmanager
def _lock(root: Path) -> Iterator[None]:
    with open(root / ".publish.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _http_time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT")


def cover_bytes(settings: Settings) -> bytes:
    if settings.feed_image:
        return Path(settings.feed_image).read_bytes()
    return plain_cover_png()


def plain_cover_png(size: int = 1400) -> bytes:
    """A plain square cover (Apple wants 1400–3000 px) for archives without their own artwork."""
    band = size // 7
    rows = []
    for y in range(size):
        colour = b"\xc2\x5b\x1f" if (y // band) % 2 == 0 else b"\xe8\xb0\x4b"  # earth and sand stripes
        rows.append(b"\x00" + colour * size)
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
            + chunk(b"IEND", b""))
