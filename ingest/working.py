"""The clean working copy: 16 kHz mono FLAC, no tags, made in one streaming decode pass
that also reads the source's header and measures the level (to reject silent recordings)
and the true decoded length."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from archive.audio import AudioInfo, transcode

FULL_SCALE = 32768.0


@dataclass
class WorkingCopy:
    path: Path
    source: AudioInfo  # the source's header
    duration: float
    peak_dbfs: float
    loudest_second_dbfs: float


class _LevelMeter:
    """Peak and loudest one-second mean square, over int16 chunks of any size."""

    def __init__(self, rate: int):
        self.rate = rate
        self.peak = 0
        self.loudest = 0.0
        self.carry = np.zeros(0, dtype=np.int16)

    def __call__(self, chunk: np.ndarray) -> None:
        if chunk.size:
            self.peak = max(self.peak, int(chunk.max()), -int(chunk.min()))
        self.carry = np.concatenate([self.carry, chunk])
        whole = (self.carry.shape[0] // self.rate) * self.rate
        if whole:
            self._measure(self.carry[:whole].reshape(-1, self.rate))
            self.carry = self.carry[whole:]

    def _measure(self, seconds: np.ndarray) -> None:
        values = seconds.astype(np.float64)
        power = np.einsum("ij,ij->i", values, values).max() / (seconds.shape[1] * FULL_SCALE**2)
        self.loudest = max(self.loudest, float(power))

    def finish(self) -> None:
        if self.carry.size:
            self._measure(self.carry.reshape(1, -1))


def make_working_copy(source: Path, destination: Path, *, rate: int,
                      check: Callable[[AudioInfo], None] | None = None, label: str | None = None) -> WorkingCopy:
    """``check`` sees the source's header before any decoding and may raise to refuse the file;
    errors name the source as ``label`` (default: its name)."""
    meter = _LevelMeter(rate)
    info, samples = transcode(source, destination, rate=rate, fmt="flac", on_header=check, on_chunk=meter,
                              label=label)
    meter.finish()
    return WorkingCopy(
        path=destination,
        source=info,
        duration=samples / rate,
        peak_dbfs=_db((meter.peak / FULL_SCALE) ** 2),
        loudest_second_dbfs=_db(meter.loudest),
    )


def _db(power: float) -> float:
    return 10 * np.log10(power) if power > 0 else float("-inf")
