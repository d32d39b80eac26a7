"""Loudness measurement (ITU-R BS.1770-4 / EBU R128): the one home of pyebur128 (libebur128).

:class:`Meter` is fed chunks of shape (n,) or (n, channels) and keeps libebur128's streaming
state, so a 60-minute programme is measured without holding it in memory: integrated loudness
(LUFS), true peak (dBTP, libebur128's 4x oversampling for 48 kHz and below) and loudness range (LU).
:func:`measure_file` decodes an encoded file (PyAV, archive.audio) and measures what a radio gets.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyebur128

from archive.audio import iter_decode, iter_range, probe

BLOCK_S = 0.4  # one BS.1770 gating block: shorter material has no integrated loudness
_MODE = pyebur128.MeasurementMode.MODE_I | pyebur128.MeasurementMode.MODE_LRA | pyebur128.MeasurementMode.MODE_TRUE_PEAK


def gain_to_db(gain: float) -> float:
    return 20 * math.log10(gain) if gain > 0 else float("-inf")


@dataclass
class Loudness:
    integrated: float  # LUFS (-inf: silent or shorter than a gating block)
    true_peak: float  # dBTP
    loudness_range: float  # LU

    def report(self) -> dict:
        return {"integrated": _round(self.integrated), "true_peak": _round(self.true_peak),
                "lra": _round(self.loudness_range)}


class Meter:
    """Streaming loudness of a signal with ``channels`` channels (mono measured as mono)."""

    def __init__(self, rate: int, channels: int):
        self.channels = channels
        self.state = pyebur128.R128State(channels, rate, _MODE)

    def feed(self, samples: np.ndarray) -> None:
        data = np.ascontiguousarray(np.asarray(samples, dtype=np.float64).reshape(len(samples), self.channels))
        if len(data):
            self.state.add_frames(data.reshape(-1), len(data))

    def result(self) -> Loudness:
        integrated = pyebur128.get_loudness_global(self.state)
        peak = max(pyebur128.get_true_peak(self.state, ch) for ch in range(self.channels))
        try:
            lra = pyebur128.get_loudness_range(self.state)
        except (ValueError, RuntimeError):
            lra = float("nan")
        return Loudness(_finite(integrated), gain_to_db(peak), lra)


def measure(samples: np.ndarray, rate: int) -> Loudness:
    data = np.asarray(samples)
    meter = Meter(rate, 1 if data.ndim == 1 else data.shape[1])
    meter.feed(data)
    return meter.result()


def measure_file(path: Path, channels: int) -> Loudness:
    """Decode ``path`` at its own rate and measure it with ``channels`` channels."""
    rate = probe(path).sample_rate
    meter = Meter(rate, channels)
    for chunk in iter_decode(path, rate=rate, channels=channels):
        meter.feed(chunk)
    return meter.result()


def _finite(value: float) -> float:
    return float(value) if value is not None and math.isfinite(value) and value > -200 else float("-inf")


def _round(value: float) -> float | None:
    return round(float(value), 2) if value is not None and math.isfinite(value) else None


CLIP_LEVEL = 0.999  # a sample this close to full scale, held for CLIP_RUN samples, is clipping
CLIP_RUN = 3


@dataclass
class Survey:
    """What the level check of a rundown item found in its played range."""

    seconds: float
    integrated: float  # LUFS (-inf: silent, or shorter than a gating block)
    clipped_s: float  # seconds of samples held at full scale


def survey(path: Path, offset: float, duration: float) -> Survey:
    """Loudness and clipped duration of ``path`` from ``offset`` for ``duration`` seconds. Loudness
    as the item sounds in a stereo mix: a mono source measured as mono (the mix plays it at -3 dB
    on each side, which BS.1770 sums back to the same loudness), a stereo one as stereo."""
    info = probe(path)
    rate, channels = info.sample_rate, 1 if info.channels == 1 else 2
    meter, seen, clipped = Meter(rate, channels), 0, 0
    for chunk in iter_range(path, offset, duration, rate=rate, channels=channels):
        data = chunk.reshape(len(chunk), -1)
        meter.feed(data)
        clipped += _clipped(np.abs(data).max(axis=1))
        seen += len(data)
    return Survey(seen / rate, meter.result().integrated, clipped / rate)


def _clipped(peaks: np.ndarray) -> int:
    """Samples in runs of at least CLIP_RUN consecutive samples at full scale."""
    hot = np.concatenate([[0], (peaks >= CLIP_LEVEL).astype(np.int8), [0]])
    edges = np.flatnonzero(np.diff(hot))
    runs = edges[1::2] - edges[::2]
    return int(runs[runs >= CLIP_RUN].sum())


PROFILE_HOP_S = 0.1  # libebur128's block step: short-term and momentary loudness move every 100 ms


@dataclass
class Profile:
    """A mono signal's loudness over time: one value per ``PROFILE_HOP_S`` hop, in LUFS (-inf: silence)."""

    integrated: float
    momentary: np.ndarray  # 400 ms window ending at each hop's end
    seconds: float


class Profiler:
    """Feeds mono chunks of any size; ``result()`` gives the :class:`Profile` (streaming, flat memory)."""

    _MODE = pyebur128.MeasurementMode.MODE_I | pyebur128.MeasurementMode.MODE_M

    def __init__(self, rate: int):
        self.rate, self.hop = rate, int(round(rate * PROFILE_HOP_S))
        self.state = pyebur128.R128State(1, rate, self._MODE)
        self.pending = np.zeros(0, np.float64)
        self.momentary: list[float] = []
        self.samples = 0

    def feed(self, chunk: np.ndarray) -> None:
        self.pending = np.concatenate([self.pending, np.asarray(chunk, np.float64).reshape(-1)])
        whole = len(self.pending) - len(self.pending) % self.hop
        for start in range(0, whole, self.hop):
            self._hop(self.pending[start:start + self.hop])
        self.pending = self.pending[whole:]

    def _hop(self, block: np.ndarray) -> None:
        self.state.add_frames(np.ascontiguousarray(block), len(block))
        self.samples += len(block)
        self.momentary.append(_finite(pyebur128.get_loudness_momentary(self.state)))

    def result(self) -> Profile:
        if len(self.pending):
            self._hop(self.pending)
            self.pending = np.zeros(0, np.float64)
        return Profile(_finite(pyebur128.get_loudness_global(self.state)), np.array(self.momentary), self.samples / self.rate)
