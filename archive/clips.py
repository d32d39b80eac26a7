"""Audio clips: a stretch of one stored recording, cut and encoded once, then served from a cache.

The cache lives in ``<home>/cache/clips/<public id>/``, one folder per testimony, so that a
consent change can drop every clip of a testimony at once (:func:`purge`): a clip cut before a
withdrawal, in whatever voice, must not outlive it. Whether a clip may be cut at all is the
caller's question to :func:`archive.consent.decide`; this module only cuts.
"""
from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from archive.audio import encode_chunks, iter_decode, probe
from archive.db import ensure_private_dir
from archive.errors import InputError
from archive.models import MediaAsset
from archive.settings import Settings


@dataclass(frozen=True)
class Clip:
    path: Path
    etag: str
    start: float
    end: float


def cache_root(settings: Settings) -> Path:
    return settings.home / "cache" / "clips"


def cut(settings: Settings, public_id: str, asset: MediaAsset, source: Path, start: float, end: float) -> Clip:
    """The MP3 of ``source`` between ``start`` and ``end`` (clamped to the recording and to
    ``clip_max_seconds``). The same request gets the same bytes (resumable downloads)."""
    if end <= start:
        raise InputError("la fin de l'extrait doit être après son début")
    duration = asset.duration or probe(source).duration
    if start >= duration:
        raise InputError(f"début hors de l'enregistrement (durée {duration:.3f} s)")
    end = min(end, duration, start + settings.clip_max_seconds)
    bitrate = settings.clip_bitrate
    key = hashlib.sha256(f"{asset.sha256}:{start:.3f}:{end:.3f}:{bitrate}".encode()).hexdigest()[:40]
    folder = cache_root(settings) / public_id
    path = folder / f"{key}.mp3"
    if not path.exists():
        ensure_private_dir(folder)
        rate = asset.sample_rate or probe(source).sample_rate
        temp = folder / f".{key}.{os.getpid()}.tmp"
        try:
            chunks = _slice(iter_decode(source, channels=1), int(start * rate), int(end * rate))
            encode_chunks(chunks, temp, rate=rate, fmt="mp3", bitrate=bitrate)
            os.replace(temp, path)
        finally:
            temp.unlink(missing_ok=True)
    return Clip(path, f'"{key}"', start, end)


def purge(settings: Settings, public_id: str) -> int:
    """Delete every cached clip of one testimony; returns how many files went."""
    root = cache_root(settings)
    folder = root / public_id
    removed = sum(1 for p in folder.iterdir() if p.is_file()) if folder.is_dir() else 0
    shutil.rmtree(folder, ignore_errors=True)
    # clips cached before the per-testimony folders cannot be traced to a testimony: they go too
    for legacy in root.glob("*.mp3") if root.is_dir() else ():
        legacy.unlink(missing_ok=True)
        removed += 1
    return removed


def cached(settings: Settings) -> dict[str, int]:
    """Clips in the cache per testimony folder (for ``kuma verify``)."""
    root = cache_root(settings)
    if not root.is_dir():
        return {}
    return {folder.name: sum(1 for _ in folder.glob("*.mp3")) for folder in sorted(root.iterdir()) if folder.is_dir()}


def _slice(chunks: Iterable[np.ndarray], first: int, stop: int) -> Iterator[np.ndarray]:
    position = 0
    for chunk in chunks:
        low, high = max(first - position, 0), min(stop - position, len(chunk))
        if high > low:
            yield chunk[low:high]
        position += len(chunk)
        if position >= stop:
            return
