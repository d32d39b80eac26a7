"""ID3v2 tags for the MP3 renditions (mutagen): title, programme, number, date, language,
cover art and chapters (CHAP + CTOC frames). Deterministic: no timestamps, fixed padding."""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from mutagen.id3 import APIC, CHAP, COMM, CTOC, ID3, TALB, TDRC, TIT2, TLAN, TPE1, TRCK, CTOCFlags

COVER_SIZE = 300
# Kuma's colours: a warm ochre field with a darker band (a stand-in until the producer sets a cover).
COVER_BACKGROUND = (196, 120, 40)
COVER_BAND = (90, 45, 20)


@dataclass
class EpisodeTags:
    title: str
    programme: str
    number: int
    date: str  # ISO date
    language: str
    description: str = ""


def default_cover(size: int = COVER_SIZE) -> bytes:
    """A small PNG (solid colour with a band), written with zlib: no imaging dependency."""
    band = range(size * 2 // 3, size * 2 // 3 + size // 10)
    rows = []
    for y in range(size):
        colour = COVER_BAND if y in band else COVER_BACKGROUND
        rows.append(b"\x00" + bytes(colour) * size)
    raw = b"".join(rows)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def image_mime(data: bytes) -> str:
    return "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"


def tag_mp3(path: Path, tags: EpisodeTags, chapters: list[dict], cover: bytes) -> None:
    """Replace every tag of ``path`` with Kuma's. ``chapters``: [{title, start, duration}] in seconds."""
    id3 = ID3()
    id3.add(TIT2(encoding=3, text=tags.title))
    id3.add(TALB(encoding=3, text=tags.programme))
    id3.add(TPE1(encoding=3, text=tags.programme))
    id3.add(TRCK(encoding=3, text=str(tags.number)))
    id3.add(TDRC(encoding=3, text=tags.date))
    id3.add(TLAN(encoding=3, text=tags.language))
    if tags.description:
        id3.add(COMM(encoding=3, lang="fre", desc="", text=tags.description))
    id3.add(APIC(encoding=3, mime=image_mime(cover), type=3, desc="Couverture", data=cover))
    ids = []
    for number, chapter in enumerate(chapters, 1):
        element = f"ch{number}"
        ids.append(element)
        start = int(round(chapter["start"] * 1000))
        end = int(round((chapter["start"] + chapter["duration"]) * 1000))
        id3.add(CHAP(element_id=element, start_time=start, end_time=end, start_offset=0xFFFFFFFF,
                     end_offset=0xFFFFFFFF, sub_frames=[TIT2(encoding=3, text=chapter["title"])]))
    if ids:
        id3.add(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED, child_element_ids=ids,
                     sub_frames=[TIT2(encoding=3, text=tags.title)]))
    id3.save(str(path), v2_version=4, padding=lambda info: 0)


def read_chapters(path: Path) -> list[dict]:
    """Chapters back from an MP3 (for tests and ``kuma episode show``)."""
    id3 = ID3(str(path))
    out = []
    for frame in sorted(id3.getall("CHAP"), key=lambda f: f.start_time):
        title = frame.sub_frames.get("TIT2")
        out.append({"id": frame.element_id, "start": frame.start_time / 1000, "end": frame.end_time / 1000,
                    "title": str(title.text[0]) if title else ""})
    return out
