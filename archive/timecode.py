"""Timecodes as people write them: "75", "75.5", "01:15", "00:01:15.500"."""
from __future__ import annotations

import re

from archive.errors import InputError

_TIMECODE = re.compile(r"^(?:(\d+):)?(?:(\d{1,2}):)?(\d+(?:[.,]\d+)?)$")


def parse_timecode(value: str | int | float) -> float:
    if isinstance(value, bool):
        raise InputError(f"timecode invalide : {value!r}")
    if isinstance(value, (int, float)):
        if value < 0:
            raise InputError(f"timecode négatif : {value}")
        return float(value)
    text = str(value).strip()
    match = _TIMECODE.match(text)
    if not match:
        raise InputError(f"timecode invalide : {text!r} (attendu HH:MM:SS.mmm ou secondes)")
    first, second, seconds = match.groups()
    hours, minutes = (int(first), int(second)) if second is not None else (0, int(first or 0))
    secs = float(seconds.replace(",", "."))
    if (first is not None and secs >= 60) or (second is not None and minutes >= 60):
        raise InputError(f"timecode invalide : {text!r}")
    return hours * 3600 + minutes * 60 + secs


def format_timecode(seconds: float, *, millis: bool = True) -> str:
    total_ms = int(round(seconds * 1000))
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{ms:03d}" if millis else f"{hours:02d}:{minutes:02d}:{secs:02d}"
