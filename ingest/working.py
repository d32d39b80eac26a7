"""The clean working copy: 16 kHz mono FLAC, no tags, made in one streaming decode pass
that also measures the level (to reject silent recordings) and the true decoded length."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from archive.audio import Encoder, iter_decode


@dataclass
class WorkingCopy:
    path: Path
    duration: float
    peak_dbfs: float
    loudest_second_dbfs: float


def make_working_copy(source: Path, destination: Path, *, rate: int) -> WorkingCopy:
    samples = 0
    peak = 0.0
    loudest = 0.0  # mean square of the loudest one-second window (on non-overlapping seconds)
    carry = np.zeros(0, dtype=np.float32)
    with Encoder(destination, rate=rate, channels=1, fmt="flac") as encoder:
        for chunk in iter_decode(source, rate=rate, channels=1):
            encoder.write(chunk)
            samples += chunk.shape[0]
            if chunk.size:
                peak = max(peak, float(np.abs(chunk).max()))
            carry = np.concatenate([carry, chunk])
            whole = (carry.shape[0] // rate) * rate
            if whole:
                seconds = carry[:whole].reshape(-1, rate)
                loudest = max(loudest, float((seconds.astype(np.float64) ** 2).mean(axis=1).max()))
                carry = carry[whole:]
    if carry.size:
        loudest = max(loudest, float((carry.astype(np.float64) ** 2).mean()))
    return WorkingCopy(
        path=destination,
        duration=samples / rate,
        peak_dbfs=_db(peak * peak),
        loudest_second_dbfs=_db(loudest),
    )


def _db(power: float) -> float:
    return 10 * np.log10(power) if power > 0 else float("-inf")
