"""Spoken personal data: the samples of each span are REPLACED (never overlaid, never reversed).

Each span is padded on both sides (``bleep_padding_ms``); inside the padded span there is only
silence or a tone. A short raised-cosine crossfade just *outside* the padded span avoids clicks,
so not one sample of the word itself stays audible. Works on a stream with bounded memory.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np

TONE_HZ = 1000.0
TONE_LEVEL = 0.1  # about -20 dBFS: clearly a bleep, never louder than speech
FADE_S = 0.01


def padded(spans: Iterable[Sequence[float]], padding_s: float, duration: float | None = None) -> list[tuple[float, float]]:
    """Pad, clip to the recording and merge overlapping spans."""
    out: list[list[float]] = []
    for start, end in sorted((float(s) - padding_s, float(e) + padding_s) for s, e in spans if float(e) > float(s)):
        start = max(0.0, start)
        end = min(end, duration) if duration is not None else end
        if end <= start:
            continue
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [(s, e) for s, e in out]


def replacement_weight(positions: np.ndarray, spans: Sequence[tuple[float, float]], rate: int,
                       fade_s: float = FADE_S) -> np.ndarray:
    """1 inside every span, raised-cosine ramps of ``fade_s`` just outside, 0 elsewhere."""
    t = positions / rate
    weight = np.zeros(len(positions))
    for start, end in spans:
        if end + fade_s < t[0] or start - fade_s > t[-1]:
            continue
        ramp = np.clip(np.minimum(t - (start - fade_s), (end + fade_s) - t) / fade_s, 0.0, 1.0)
        weight = np.maximum(weight, 0.5 - 0.5 * np.cos(np.pi * ramp))
    return weight


def bleep_stream(chunks: Iterable[np.ndarray], spans: Sequence[tuple[float, float]], *, rate: int,
                 mode: str = "tone", fade_s: float = FADE_S) -> Iterator[np.ndarray]:
    """Replace the (already padded) ``spans`` of a mono stream with silence or a tone."""
    offset = 0
    for chunk in chunks:
        chunk = np.asarray(chunk, dtype=np.float32)
        positions = np.arange(offset, offset + len(chunk))
        offset += len(chunk)
        if len(chunk) == 0 or not spans:
            yield chunk
            continue
        weight = replacement_weight(positions, spans, rate, fade_s)
        if not weight.any():
            yield chunk
            continue
        fill = TONE_LEVEL * np.sin(2 * np.pi * TONE_HZ * positions / rate) if mode == "tone" else 0.0
        yield (chunk * (1.0 - weight) + fill * weight).astype(np.float32)


def bleep(samples: np.ndarray, spans: Sequence[tuple[float, float]], *, rate: int, mode: str = "tone") -> np.ndarray:
    return next(bleep_stream([samples], spans, rate=rate, mode=mode), np.zeros(0, dtype=np.float32))
