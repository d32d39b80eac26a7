"""Content-addressed media store: every file lives at ``<root>/<aa>/<bb>/<sha256>``.

Writes are atomic (temp file in the store, fsync, rename), files are owner-only (0600)
and never modified once stored: the same content always has the same address.

A write interrupted by a crash leaves a temporary in ``<root>/tmp/``, and a file stored just
before its database record was committed leaves an orphan (a stored file no record refers to).
Both are only treated as abandoned once untouched for ``STALE_AFTER_S``: a younger one may be
in use by a process writing or recording it right now.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, NamedTuple

from archive.errors import IntegrityError, NotFound

CHUNK = 1 << 20
STALE_AFTER_S = 3600  # a temporary or orphan untouched this long is abandoned, not being written


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class Stored(NamedTuple):
    sha256: str
    size: int
    created: bool  # False when the same content was already in the store


class Temporary(NamedTuple):
    """A leftover in the store's tmp/ (a file, or a build's folder)."""

    path: Path
    size: int  # bytes (a folder: everything in it)
    age_s: float  # since it was last written


@dataclass
class VerifyReport:
    checked: int = 0
    missing: list[str] = field(default_factory=list)
    corrupt: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    temporaries: list[Temporary] = field(default_factory=list)  # stale ones only

    @property
    def temporary_bytes(self) -> int:
        return sum(t.size for t in self.temporaries)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.corrupt or self.orphans or self.temporaries)


class MediaStore:
    def __init__(self, root: Path):
        self.root = Path(root)

    def _ensure_root(self) -> None:
        for path in (self.root, self.root / "tmp"):
            path.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(path, 0o700)

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def open(self, sha256: str) -> BinaryIO:
        try:
            return open(self.path(sha256), "rb")
        except FileNotFoundError as exc:
            raise NotFound(f"media {sha256[:12]}… is missing from the store") from exc

    def temp_path(self, suffix: str = "") -> Path:
        """A fresh path inside the store's tmp/ (same filesystem, so ``adopt`` is a rename), named
        after the writing process: what a killed writer left is cleared by the next one at once."""
        self._ensure_root()
        self.clean_temp()
        fd, name = tempfile.mkstemp(dir=self.root / "tmp", prefix=f"{_HOST}.{os.getpid()}.", suffix=suffix)
        os.close(fd)
        return Path(name)

    def adopt(self, temp: Path) -> Stored:
        """Move a finished temp file into its content address."""
        sha = sha256_file(temp)
        size = temp.stat().st_size
        return Stored(sha, size, self._commit(temp, sha))

    def put_file(self, source: Path) -> Stored:
        """Copy ``source`` into the store, byte for byte."""
        self._ensure_root()
        digest = hashlib.sha256()
        temp = self.temp_path()
        try:
            with open(source, "rb") as src, open(temp, "wb") as dst:
                while chunk := src.read(CHUNK):
                    digest.update(chunk)
                    dst.write(chunk)
                dst.flush()
                os.fsync(dst.fileno())
            size = temp.stat().st_size
            sha = digest.hexdigest()
            return Stored(sha, size, self._commit(temp, sha))
        finally:
            temp.unlink(missing_ok=True)

    def put_bytes(self, data: bytes) -> Stored:
        temp = self.temp_path()
        try:
            with open(temp, "wb") as dst:
                dst.write(data)
                dst.flush()
                os.fsync(dst.fileno())
            return self.adopt(temp)
        finally:
            temp.unlink(missing_ok=True)

    def _commit(self, temp: Path, sha: str) -> bool:
        final = self.path(sha)
        if final.exists():
            temp.unlink(missing_ok=True)
            _touch(final)  # in use again: not an abandoned orphan for the next hour
            return False
        final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(temp, 0o600)
        with open(temp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, final)
        dir_fd = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return True

    def remove(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)

    def copy_out(self, sha256: str, destination: Path) -> Path:
        with self.open(sha256) as src, open(destination, "wb") as dst:
            shutil.copyfileobj(src, dst, CHUNK)
        return destination

    def stored(self) -> Iterator[str]:
        if not self.root.exists():
            return
        for path in self.root.glob("??/??/*"):
            if path.is_file() and len(path.name) == 64:
                yield path.name

    def age_s(self, sha256: str) -> float:
        """Seconds since the stored file was written (or stored again)."""
        return time.time() - self.path(sha256).stat().st_mtime

    def stale_temps(self, older_than_s: float = STALE_AFTER_S) -> list[Temporary]:
        """The temporaries in tmp/ left by interrupted writes: those whose writer (a process of
        this machine, named in the temporary's name) is gone, and any untouched for ``older_than_s``."""
        tmp = self.root / "tmp"
        if not tmp.exists():
            return []
        now, found = time.time(), []
        for path in sorted(tmp.iterdir()):
            try:
                size, newest = _footprint(path)
            except FileNotFoundError:  # finished (renamed or removed) meanwhile
                continue
            if now - newest >= older_than_s or _writer_gone(path.name):
                found.append(Temporary(path, size, now - newest))
        return found

    def clean_temp(self, older_than_s: float = STALE_AFTER_S) -> list[Temporary]:
        """Remove the stale temporaries (``stale_temps``); returns them."""
        stale = self.stale_temps(older_than_s)
        for temp in stale:
            if temp.path.is_dir() and not temp.path.is_symlink():
                shutil.rmtree(temp.path, ignore_errors=True)
            else:
                temp.path.unlink(missing_ok=True)
        return stale

    def verify(self, expected: Iterable[str], progress=None, older_than_s: float = STALE_AFTER_S) -> VerifyReport:
        """Re-hash every expected file; report missing, corrupt and unreferenced (orphan) files, and
        the stale temporaries."""
        expected = set(expected)
        report = VerifyReport()
        for sha in sorted(expected):
            path = self.path(sha)
            report.checked += 1
            if not path.is_file():
                report.missing.append(sha)
            elif sha256_file(path) != sha:
                report.corrupt.append(sha)
            if progress:
                progress(sha)
        report.orphans = sorted(set(self.stored()) - expected)
        report.temporaries = self.stale_temps(older_than_s)
        return report

    def check(self, sha256: str) -> None:
        if sha256_file(self.path(sha256)) != sha256:
            raise IntegrityError(f"media {sha256[:12]}… does not match its checksum")


_HOST = socket.gethostname().replace(".", "_")


def _writer_gone(name: str) -> bool:
    """Whether the temporary ``name`` was written by a process of this machine that has ended."""
    host, _, rest = name.partition(".")
    pid = rest.partition(".")[0]
    if host != _HOST or not pid.isdigit():
        return False  # another machine's (a shared store), or an older name: only age counts
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def _footprint(path: Path) -> tuple[int, float]:
    """(bytes, newest modification time) of a file, or of a folder and everything in it."""
    info = path.lstat()
    size, newest = info.st_size, info.st_mtime
    if path.is_dir() and not path.is_symlink():
        size = 0
        for inner in path.rglob("*"):
            try:
                inner_info = inner.lstat()
            except FileNotFoundError:
                continue
            size += inner_info.st_size if not inner.is_dir() else 0
            newest = max(newest, inner_info.st_mtime)
    return size, newest


def _touch(path: Path) -> None:
    try:
        os.utime(path)
    except OSError:  # a read-only store: nothing is removed from it either
        pass
