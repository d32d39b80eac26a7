"""A gentle speech leveler: loud and soft passages of one voice evened out, pauses left alone.

Two passes over one speech item (the studio keeps the item in a file between them):

1. ``Profiler`` (sound/meter.py, libebur128) measures the item's integrated loudness and its
   momentary loudness (400 ms window) every 100 ms;
2. :func:`ride` turns that profile into a slow gain curve: each moment is moved towards the item's
   own integrated loudness by at most ``MAX_RIDE_DB``, using the loudness of the ``WINDOW_S``
   window *centred* on it, averaged from the momentary blocks' power (the
   whole item is known, so the curve looks ahead as much as behind: a soft passage is lifted from
   its first syllable, not after it). Moments quieter than the item by more than ``ACTIVE_LU``
   (pauses, the room between sentences) keep the gain of the speech around them: noise is never
   ridden up. The curve is smoothed over ``SMOOTH_S`` so no syllable is pumped;
   :class:`Rider` applies it, sample by sample, to the same signal read again.

What a radio hears: the item's level no longer sags when the witness turns away from the phone, and
the integrated loudness of the whole item (set afterwards by the studio) holds for all of it.
Nothing here is a compressor: peaks are the master limiter's job.
"""
from __future__ import annotations

import numpy as np

from sound.meter import PROFILE_HOP_S, Profile

MAX_RIDE_DB = 6.0  # the most a passage is lifted or lowered towards the item's own level
ACTIVE_LU = 15.0  # a 3 s window this far under the item's loudness is a pause or background
WINDOW_S = 3.0  # EBU short-term window length
SMOOTH_S = 1.0


def ride(profile: Profile, *, max_db: float = MAX_RIDE_DB) -> np.ndarray:
    """Gain in dB for each hop of ``profile`` (all zeros when the item has no measurable loudness)."""
    centred = centred_loudness(profile.momentary)
    if not centred.size or not np.isfinite(profile.integrated):
        return np.zeros(centred.size)
    active = np.isfinite(centred) & (centred > profile.integrated - ACTIVE_LU)
    if not active.any():
        return np.zeros(centred.size)
    wanted = np.where(active, np.clip(profile.integrated - np.where(active, centred, 0.0), -max_db, max_db), np.nan)
    held = _hold(wanted)
    width = max(1, int(round(SMOOTH_S / PROFILE_HOP_S)))
    padded = np.pad(held, (width // 2, width - 1 - width // 2), mode="edge")
    return np.convolve(padded, np.ones(width) / width, mode="valid")


def centred_loudness(momentary: np.ndarray) -> np.ndarray:
    """Loudness (LUFS) of the ``WINDOW_S`` window centred on each hop, from the momentary values
    (each covers the 400 ms ending at its hop); at the edges, of the part of the window inside."""
    power = np.where(np.isfinite(momentary), 10 ** ((momentary + 0.691) / 10), 0.0)
    hops = int(round(WINDOW_S / PROFILE_HOP_S))
    lag = int(round(0.4 / PROFILE_HOP_S)) // 2  # a momentary value is centred 200 ms before its hop
    sums = np.concatenate([[0.0], np.cumsum(power)])
    centre = np.arange(power.size) + lag
    low, high = np.clip(centre - hops // 2, 0, power.size), np.clip(centre + hops // 2, 0, power.size)
    mean = (sums[high] - sums[low]) / np.maximum(high - low, 1)
    with np.errstate(divide="ignore"):
        return np.where(mean > 0, 10 * np.log10(np.maximum(mean, 1e-30)) - 0.691, -np.inf)


def _hold(values: np.ndarray) -> np.ndarray:
    """NaNs replaced by the last value before them (by the first value, at the start)."""
    index = np.where(np.isnan(values), 0, np.arange(values.size))
    np.maximum.accumulate(index, out=index)
    held = values[index]
    first = values[np.flatnonzero(~np.isnan(values))[0]]
    return np.where(np.isnan(held), first, held)


class Rider:
    """Applies a per-hop gain curve (dB) to a mono stream at ``rate``, interpolated between hop centres."""

    def __init__(self, gains_db: np.ndarray, rate: int):
        gains_db = np.asarray(gains_db, dtype=np.float64) if len(gains_db) else np.zeros(1)  # no curve: unity
        self.centres = (np.arange(gains_db.size) + 0.5) * PROFILE_HOP_S * rate
        self.gains = 10 ** (gains_db / 20)
        self.position = 0

    def process(self, chunk: np.ndarray) -> np.ndarray:
        positions = self.position + np.arange(len(chunk))
        self.position += len(chunk)
        return (chunk * np.interp(positions, self.centres, self.gains)).astype(np.float32)
