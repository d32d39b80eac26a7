"""Transcript file formats: WebVTT, SRT, plain text, Podcasting 2.0 JSON, full JSON — written from
a plain list of cues, so that the same writers serve the raw (staff) transcript and the redacted
segments of an approved rendition (``[{idx, start, end, text}]``); and VTT/SRT/TXT read back for
human corrections, with the line number of any malformed timing.
"""
from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archive.errors import InputError
from archive.timecode import format_timecode, parse_timecode

FORMATS = ("vtt", "srt", "txt", "json", "podcast-json")
IMPORT_FORMATS = ("vtt", "srt", "txt")
MIME_TYPES = {
    "vtt": "text/vtt",
    "srt": "application/x-subrip",
    "txt": "text/plain",
    "json": "application/json",
    "podcast-json": "application/json",  # Podcasting 2.0 <podcast:transcript type=...>
}
SUFFIXES = {"vtt": ".vtt", "srt": ".srt", "txt": ".txt", "json": ".json", "podcast-json": ".json"}


@dataclass
class Cue:
    """One timed piece of transcript. ``words`` only travels in the full JSON."""

    idx: int
    start: float
    end: float
    text: str
    speaker: str | None = None
    words: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def as_cues(items: Iterable[Any]) -> list[Cue]:
    """Cues from dicts (``{idx, start, end, text[, speaker]}``), ORM segments or cues."""
    cues = []
    for position, item in enumerate(items):
        if isinstance(item, Cue):
            cues.append(item)
            continue
        get = item.get if isinstance(item, Mapping) else (lambda name, default=None: getattr(item, name, default))
        idx = get("idx")
        cues.append(Cue(idx=position if idx is None else int(idx), start=float(get("start")),
                        end=float(get("end")), text=str(get("text") or ""), speaker=get("speaker")))
    return cues


# --- timecodes ------------------------------------------------------------------------------

def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- writers --------------------------------------------------------------------------------

def write_vtt(cues: Iterable[Cue]) -> str:
    blocks = ["WEBVTT"]
    for cue in as_cues(cues):
        text = _one_line(cue.text).replace("-->", "→")
        if not text:
            continue
        text = html.escape(text, quote=False)
        if cue.speaker:
            text = f"<v {html.escape(_one_line(cue.speaker), quote=False)}>{text}"
        end = max(cue.end, cue.start)
        blocks.append(f"{cue.idx + 1}\n{format_timecode(cue.start)} --> {format_timecode(end)}\n{text}")
    return "\n\n".join(blocks) + "\n"


def write_srt(cues: Iterable[Cue]) -> str:
    blocks = []
    number = 0
    for cue in as_cues(cues):
        text = _one_line(cue.text)
        if not text:
            continue
        number += 1
        if cue.speaker:
            text = f"{_one_line(cue.speaker)} : {text}"
        end = max(cue.end, cue.start)
        timing = f"{format_timecode(cue.start, separator=',')} --> {format_timecode(end, separator=',')}"
        blocks.append(f"{number}\n{timing}\n{text}")
    return "\n\n".join(blocks) + ("\n" if blocks else "")


def write_txt(cues: Iterable[Cue]) -> str:
    """One line per segment, prefixed by its start time: readable, and importable again."""
    lines = []
    for cue in as_cues(cues):
        text = _one_line(cue.text)
        if text:
            speaker = f"{_one_line(cue.speaker)} : " if cue.speaker else ""
            lines.append(f"[{format_timecode(cue.start)}] {speaker}{text}")
    return "\n".join(lines) + ("\n" if lines else "")


def write_podcast_json(cues: Iterable[Cue]) -> str:
    """Podcasting 2.0 JSON transcript: ``{"version": "1.0.0", "segments": [...]}``."""
    segments = []
    for cue in as_cues(cues):
        text = _one_line(cue.text)
        if not text:
            continue
        segment: dict[str, Any] = {}
        if cue.speaker:
            segment["speaker"] = cue.speaker
        segment.update(startTime=round(cue.start, 3), endTime=round(max(cue.end, cue.start), 3), body=text)
        segments.append(segment)
    return json.dumps({"version": "1.0.0", "segments": segments}, ensure_ascii=False, indent=2) + "\n"


def write_full_json(cues: Iterable[Cue], meta: Mapping[str, Any] | None = None) -> str:
    segments = []
    for cue in as_cues(cues):
        segments.append({"idx": cue.idx, "start": round(cue.start, 3), "end": round(cue.end, 3), "text": cue.text,
                         "speaker": cue.speaker, **cue.extra, "words": cue.words})
    return json.dumps({**(meta or {}), "segments": segments}, ensure_ascii=False, indent=2, default=str) + "\n"


def render(fmt: str, cues: Iterable[Cue], meta: Mapping[str, Any] | None = None) -> str:
    if fmt == "vtt":
        return write_vtt(cues)
    if fmt == "srt":
        return write_srt(cues)
    if fmt == "txt":
        return write_txt(cues)
    if fmt == "podcast-json":
        return write_podcast_json(cues)
    if fmt == "json":
        return write_full_json(cues, meta)
    raise InputError(f"format inconnu : {fmt} (attendu : {', '.join(FORMATS)})")


# --- readers --------------------------------------------------------------------------------

_VTT_TIME = r"(?:(\d+):)?(\d{2}):(\d{2})[.,](\d{3})"
_TIMING = re.compile(rf"^\s*{_VTT_TIME}\s+-->\s+{_VTT_TIME}(?:\s+.*)?$")
_TAG = re.compile(r"<[^>]*>")
_SRT_TAG = re.compile(r"</?(?:i|b|u|font)(?:\s[^>]*)?>|\{\\[^}]*\}", re.IGNORECASE)  # <i>, <font ...>, {\an8}
_VOICE = re.compile(r"^<v(?:\.[^\s>]+)?\s+([^>]+)>")
_TXT_LINE = re.compile(r"^\[([^\]]*)\]\s*(.*)$")


def _seconds(hours: str | None, minutes: str, seconds: str, millis: str) -> float:
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(millis) / 1000


def _parse_timing(line: str, number: int, name: str) -> tuple[float, float]:
    match = _TIMING.match(line)
    if not match:
        raise InputError(f"{name}, ligne {number} : horodatage invalide « {line.strip()[:80]} » "
                         f"(attendu « 00:00:01.000 --> 00:00:04.000 »)")
    groups = match.groups()
    if any(int(groups[i]) >= 60 for i in (1, 2, 5, 6)):
        raise InputError(f"{name}, ligne {number} : horodatage invalide « {line.strip()[:80]} » (minutes ou secondes ≥ 60)")
    start, end = _seconds(*groups[:4]), _seconds(*groups[4:])
    if end < start:
        raise InputError(f"{name}, ligne {number} : la fin ({end:.3f} s) précède le début ({start:.3f} s)")
    return start, end


def _blocks(text: str) -> list[list[tuple[int, str]]]:
    """Blank-line separated blocks of (line number, line)."""
    blocks: list[list[tuple[int, str]]] = [[]]
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            blocks[-1].append((number, line.rstrip()))
        elif blocks[-1]:
            blocks.append([])
    return [b for b in blocks if b]


def _check_order(cues: list[Cue], number: int, name: str) -> None:
    if len(cues) > 1 and cues[-1].start < cues[-2].start:
        raise InputError(f"{name}, ligne {number} : ce passage commence avant le précédent "
                         f"({cues[-1].start:.3f} s < {cues[-2].start:.3f} s)")


def parse_vtt(text: str, name: str = "fichier VTT") -> list[Cue]:
    text = text.lstrip("\ufeff")
    blocks = _blocks(text)
    if not blocks or not blocks[0][0][1].startswith("WEBVTT"):
        raise InputError(f"{name}, ligne 1 : un fichier WebVTT commence par « WEBVTT »")
    cues: list[Cue] = []
    for block in blocks[1:]:
        first = block[0][1]
        if first.startswith(("NOTE", "STYLE", "REGION")):
            continue
        lines = block
        if "-->" not in first:  # a cue identifier
            lines = block[1:]
            if not lines:
                raise InputError(f"{name}, ligne {block[0][0]} : passage sans horodatage")
        number, timing = lines[0]
        start, end = _parse_timing(timing, number, name)
        payload = " ".join(line for _, line in lines[1:])
        speaker = None
        voice = _VOICE.match(payload)
        if voice:
            speaker = voice.group(1).strip()
        body = _one_line(html.unescape(_TAG.sub("", payload)))
        cues.append(Cue(len(cues), start, end, body, speaker))
        _check_order(cues, number, name)
    return cues


def parse_srt(text: str, name: str = "fichier SRT") -> list[Cue]:
    cues: list[Cue] = []
    for block in _blocks(text.lstrip("\ufeff")):
        lines = block
        if lines[0][1].strip().isdigit():
            lines = lines[1:]
        if not lines:
            raise InputError(f"{name}, ligne {block[0][0]} : numéro de sous-titre sans horodatage")
        number, timing = lines[0]
        start, end = _parse_timing(timing, number, name)
        body = _one_line(_SRT_TAG.sub("", " ".join(line for _, line in lines[1:])))
        cues.append(Cue(len(cues), start, end, body))
        _check_order(cues, number, name)
    return cues


def parse_txt(text: str, duration: float, name: str = "fichier texte") -> list[Cue]:
    """Lines ``[HH:MM:SS.mmm] text`` (as :func:`write_txt` writes them): each line lasts until the
    next one starts. Without any timecode, lines share the duration in proportion to their length."""
    entries: list[tuple[int, float | None, str]] = []
    for number, raw in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        match = _TXT_LINE.match(line)
        if match:
            try:
                start = parse_timecode(match.group(1).strip())
            except InputError as exc:
                raise InputError(f"{name}, ligne {number} : horodatage invalide « [{match.group(1)}] » ({exc})") from exc
            entries.append((number, start, match.group(2).strip()))
        elif entries and entries[-1][1] is not None:
            number0, start0, body0 = entries[-1]
            entries[-1] = (number0, start0, f"{body0} {line}")  # a wrapped line
        else:
            entries.append((number, None, line))
    timed = [e for e in entries if e[1] is not None]
    if timed and len(timed) != len(entries):
        number = next(n for n, start, _ in entries if start is None)
        raise InputError(f"{name}, ligne {number} : ligne sans horodatage alors que d'autres en ont")
    if not timed:
        return _spread(entries, duration)
    cues: list[Cue] = []
    for position, (number, start, body) in enumerate(timed):
        end = timed[position + 1][1] if position + 1 < len(timed) else max(duration, start)
        if start > duration > 0:
            raise InputError(f"{name}, ligne {number} : {start:.3f} s dépasse la durée de l'enregistrement ({duration:.3f} s)")
        cues.append(Cue(position, start, end, _one_line(body)))
        _check_order(cues, number, name)
    return cues


def _spread(entries: list[tuple[int, float | None, str]], duration: float) -> list[Cue]:
    total = sum(len(body) for _, _, body in entries) or 1
    cues, at = [], 0.0
    for position, (_, _, body) in enumerate(entries):
        length = duration * len(body) / total
        cues.append(Cue(position, round(at, 3), round(at + length, 3), _one_line(body)))
        at += length
    return cues


def detect_format(path: Path, text: str) -> str:
    suffix = path.suffix.lower().lstrip(".")
    if suffix in IMPORT_FORMATS:
        return suffix
    if text.lstrip("\ufeff").startswith("WEBVTT"):
        return "vtt"
    if "-->" in text:
        return "srt"
    return "txt"


def parse(fmt: str, text: str, *, duration: float, name: str) -> list[Cue]:
    if fmt == "vtt":
        return parse_vtt(text, name)
    if fmt == "srt":
        return parse_srt(text, name)
    if fmt == "txt":
        return parse_txt(text, duration, name)
    raise InputError(f"format d'import inconnu : {fmt} (attendu : {', '.join(IMPORT_FORMATS)})")
