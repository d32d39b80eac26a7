"""The watch folder a playout system imports from (LibreTime, AzuraCast, Rivendell's dropboxes, or a
person with a file manager).

- one audio file per episode under a stable name, ``<slug>.<ext>`` (``demystification-0007.wav``):
  a rebuilt episode replaces its file under the same name;
- beside it ``<slug>.json``: title, number, date, duration, chapters, sha256 (the sidecar);
- ``kuma.m3u`` and ``kuma.xspf``: the current episodes, newest first.

A file appears only complete and verified: it is moved in with one ``rename`` from the state
directory. When that directory is on another file system, the file is first copied under a hidden
name (``.<name>.kuma-tmp``) in the folder, synced, then renamed.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
from pathlib import Path
from xml.sax.saxutils import escape

from station.feed import Episode, Rendition
from station.files import fsync_dir, fsync_file, write_atomic

def audio_name(episode: Episode, rendition: Rendition) -> str:
    return f"{episode.slug}.{rendition.extension}"


def sidecar_name(slug: str) -> str:
    return f"{slug}.json"


def install(verified: Path, folder: Path, name: str) -> Path:
    """Move a verified download into the folder under ``name``, atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    fsync_file(verified)
    try:
        os.replace(verified, target)
    except OSError as error:
        if error.errno != errno.EXDEV:
            raise
        hidden = folder / f".{name}.kuma-tmp"
        shutil.copyfile(verified, hidden)
        fsync_file(hidden)
        os.replace(hidden, target)
        verified.unlink()
    os.chmod(target, 0o644)
    fsync_dir(folder)
    return target


def holds(path: Path, size: int, sha256: str) -> bool:
    """Whether the folder already has this very file (a crash after the move, a lost state directory):
    checked locally, it saves downloading it again over the link."""
    try:
        if path.stat().st_size != size:
            return False
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
    except OSError:
        return False
    return digest.hexdigest() == sha256


def write_sidecar(folder: Path, episode: Episode, rendition: Rendition, file: str, chapters: list | None) -> str:
    name = sidecar_name(episode.slug)
    payload = {
        "title": episode.title, "guid": episode.guid, "slug": episode.slug, "number": episode.number,
        "published": episode.published.isoformat() if episode.published else None,
        "duration": episode.duration, "description": episode.description,
        "file": file, "rendition": rendition.role, "mime": rendition.mime, "size": rendition.size,
        "sha256": rendition.sha256, "chapters": chapters or [],
        "cue": [f"{_clock(c.get('startTime', 0))} {c.get('title', '')}" for c in chapters or []],
        "source": "Kuma — Démystification du mieux-être ailleurs",
    }
    _write_text(folder / name, json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    return name


def remove(folder: Path, names: list[str]) -> list[str]:
    """Delete these files from the folder; returns the names that were there."""
    deleted = []
    for name in names:
        if not name or "/" in name or name.startswith("."):
            continue
        try:
            (folder / name).unlink()
            deleted.append(name)
        except FileNotFoundError:
            pass
    if deleted:
        fsync_dir(folder)
    return deleted


def write_playlists(folder: Path, held: list[dict]) -> None:
    """``held``: the installed episodes' state entries (file, title, duration, published)."""
    ordered = sorted(held, key=lambda e: (e.get("published") or "", e.get("file", "")), reverse=True)
    m3u = ["#EXTM3U", "#EXTENC: UTF-8", "#PLAYLIST:Démystification du mieux-être ailleurs"]
    for entry in ordered:
        m3u += [f"#EXTINF:{round(entry.get('duration') or -1)},{_one_line(entry.get('title', ''))}", entry["file"]]
    _write_text(folder / "kuma.m3u", "\n".join(m3u) + "\n")
    tracks = "".join(
        "    <track>\n"
        f"      <location>{escape(entry['file'])}</location>\n"
        f"      <title>{escape(entry.get('title', ''))}</title>\n"
        + (f"      <duration>{round(entry['duration'] * 1000)}</duration>\n" if entry.get("duration") else "")
        + "    </track>\n"
        for entry in ordered)
    _write_text(folder / "kuma.xspf", '<?xml version="1.0" encoding="UTF-8"?>\n'
                '<playlist version="1" xmlns="http://xspf.org/ns/0/">\n'
                "  <title>Démystification du mieux-être ailleurs</title>\n"
                f"  <trackList>\n{tracks}  </trackList>\n</playlist>\n")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _clock(seconds: float) -> str:
    seconds = int(round(float(seconds)))
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _write_text(path: Path, text: str) -> None:
    write_atomic(path, text.encode("utf-8"))

