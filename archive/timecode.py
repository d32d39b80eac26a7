"""Timecodes as people write them: "75", "75.5", "01:15", "00:01:15.500"."""
from __future__ import annotations

import math
import re

from archive.errors import InputError

_TIMECODE = re.compile(r"^(?:(\d+):)?(?:(\d{1,2}):)?(\d+(?:[.,]\d+)?)$")


def parse_timecode(value: str | int | float) -> float:
    if isinstance(value, bool):
        raise InputError(f"timecode invalide : {value!r}")
    if isinstance(value, (int, float)):
        return _checked(value, value)
    text = str(value).strip()
    match = _TIMECODE.match(text)
    if not match:
        raise InputError(f"timecode invalide : {_shown(text)} (attendu HH:MM:SS.mmm ou secondes)")
    first, second, seconds = match.groups()
    hours, minutes = (int(first), int(second)) if second is not None else (0, int(first or 0))
    secs = float(seconds.replace(",", "."))
    if (first is not None and secs >= 60) or (second is not None and minutes >= 60):
        raise InputError(f"timecode invalide : {_shown(text)}")
    try:
        return _checked(hours * 3600 + minutes * 60 + secs, text)
    except OverflowError:  # more hours than a float holds
        return _checked(math.inf, text)


def _checked(seconds: int | float, shown) -> float:
    """``seconds`` as a float, refused when negative or not a finite number (NaN, infinity, 10**400)."""
    try:
        seconds = float(seconds)
    except OverflowError:
        seconds = math.inf
    if not math.isfinite(seconds):
        raise InputError(f"timecode invalide : {_shown(shown)} (attendu un nombre fini de secondes)")
    if seconds < 0:
        raise InputError(f"timecode négatif : {_shown(shown)}")
    return seconds


def _shown(value, limit: int = 40) -> str:
    """How a message quotes what a person wrote: ``repr``, cut short."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def format_timecode(seconds: float, *, millis: bool = True, separator: str = ".", nearest: bool = False,
                    short: bool = False, hour_digits: int = 2) -> str:
    """The one way times are written (a negative time is 0):

    - ``00:01:15.500`` (the default; WebVTT), ``00:01:15,500`` (``separator=","``: SRT);
    - ``00:01:15`` (``millis=False``): the second it is in; ``nearest=True``: the nearest second
      (durations, podcast chapters);
    - ``1:01:15`` / ``01:15`` (``short=True``): hours only when there are some, unpadded;
    - ``0:01:15`` (``hour_digits=1``): hours always, unpadded.
    """
    hours, rest = divmod(_shown_ms(max(0.0, seconds), millis, nearest), 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    clock = f"{minutes:02d}:{secs:02d}" + (f"{separator}{ms:03d}" if millis else "")
    if short and not hours:
        return clock
    return f"{hours:0{1 if short else hour_digits}d}:{clock}"


def _shown_ms(seconds: float, millis: bool, nearest: bool) -> int:
    """The time in milliseconds, cut to what is shown."""
    if not millis and nearest:
        return int(round(seconds)) * 1000
    total = int(round(seconds * 1000))
    return total if millis else total - total % 1000
