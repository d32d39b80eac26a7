"""The drop folder: recordings left in ``KUMA_INBOX_DIR`` (with their sidecars) are ingested by the
pipeline, one file at a time.

A file leaves the inbox only once its testimony is committed (the archive then holds the
original, byte for byte, under its sha256) or once it was found to be a copy of one already in.
A refused file moves to ``refusés/`` beside a ``.raison.txt`` that says why, so it is neither
retried forever nor lost; putting it back in the inbox retries it.
"""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import BinaryIO

from archive.db import ensure_private_dir
from archive.errors import InputError, file_label
from archive.yamlfile import dump_yaml
from ingest.pipeline import AUDIO_SUFFIXES, IngestResult
from ingest.sidecar import find_sidecar

REFUSED = "refusés"
SETTLE_S = 10.0  # a file changed more recently than this may still be being copied in


def waiting(inbox: Path, *, settle_s: float = SETTLE_S) -> list[Path]:
    """Audio files in the inbox (its subfolders too, not ``refusés/`` nor hidden ones) that have
    not changed for ``settle_s`` seconds, in name order."""
    if not inbox.is_dir():
        return []
    refused, now = inbox / REFUSED, time.time()
    return sorted(p for p in inbox.rglob("*")
                  if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES and refused not in p.parents
                  and not p.name.startswith(".") and now - p.stat().st_mtime >= settle_s)


def drop(inbox: Path, name: str, source: BinaryIO, metadata: dict) -> Path:
    """Put a recording and its sidecar into the inbox (the web studio's upload), ready to be taken
    at once: the sidecar first, then the audio written under a hidden name and renamed, so the
    pipeline never sees half a file; its time set back past ``SETTLE_S``."""
    inbox = ensure_private_dir(inbox)
    stem, suffix = Path(Path(name).name).stem or "enregistrement", Path(name).suffix.lower()
    if suffix not in AUDIO_SUFFIXES:
        raise InputError(f"{file_label(name)} : format audio non reconnu (attendu : {', '.join(AUDIO_SUFFIXES)})")
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in stem)[:80].lstrip(".") or "enregistrement"
    target, n = inbox / f"{stem}{suffix}", 1
    while target.exists() or target.with_suffix(".yaml").exists():
        n += 1
        target = inbox / f"{stem}-{n}{suffix}"
    target.with_suffix(".yaml").write_text(dump_yaml(metadata), encoding="utf-8")
    hidden = inbox / f".{target.name}.part"
    with open(hidden, "wb") as out:
        shutil.copyfileobj(source, out, 1 << 20)
    os.replace(hidden, target)
    past = time.time() - SETTLE_S - 1
    os.utime(target, (past, past))
    return target


def settle(inbox: Path, result: IngestResult) -> Path | None:
    """Take the file out of the inbox after its ingest: deleted when the archive holds it, moved
    to ``refusés/`` with its reason when it was refused. Returns where a refused file went."""
    path, sidecar = result.path, find_sidecar(result.path)
    if result.status in ("ingested", "duplicate"):
        path.unlink(missing_ok=True)
        if sidecar is not None:
            sidecar.unlink(missing_ok=True)
        return None
    target = ensure_private_dir(inbox / REFUSED)
    moved = _move(path, target)
    if sidecar is not None:
        _move(sidecar, target)
    (target / f"{moved.name}.raison.txt").write_text(f"{result.reason}\n", encoding="utf-8", errors="backslashreplace")
    return moved


def _move(path: Path, folder: Path) -> Path:
    target = folder / path.name
    stem, n = path.stem, 1
    while target.exists():
        n += 1
        target = folder / f"{stem}-{n}{path.suffix}"
    os.replace(path, target)
    return target
