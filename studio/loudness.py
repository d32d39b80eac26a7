"""Loudness (ITU-R BS.1770 / EBU R128) over streamed chunks, true peak, and a peak limiter.

pyloudnorm measures a whole array at once; a 60-minute programme does not fit in memory as
one array, so :class:`LoudnessMeter` runs pyloudnorm's own K-weighting filters chunk by chunk
(keeping the filter state) and applies the same 400 ms / 75 % overlap gating at the end.
"""
from __future__ import annotations

import math

import numpy as np
import pyloudnorm
from scipy.signal import firwin, lfilter, lfilter_zi

BLOCK_S = 0.4
HOP_S = 0.1  # 75 % overlap
ABSOLUTE_GATE = -70.0
OVERSAMPLE = 4


def db_to_gain(db: float) -> float:
    return 10 ** (db / 20)


def gain_to_db(gain: float) -> float:
    return 20 * math.log10(gain) if gain > 0 else float("-inf")


class LoudnessMeter:
    """Integrated loudness (LUFS) of a signal fed in chunks of shape (n,) or (n, channels)."""

    def __init__(self, rate: int, channels: int):
        self.rate, self.channels = rate, channels
        meter = pyloudnorm.Meter(rate)
        self.stages = [(f.b, f.a, f.passband_gain) for f in meter._filters.values()]
        self.state = [[lfilter_zi(b, a) * 0.0 for _ in range(channels)] for b, a, _ in self.stages]
        self.hop = int(round(HOP_S * rate))
        self.pending = np.zeros(0)  # weighted power not yet forming a complete hop
        self.hops: list[float] = []  # mean weighted power per 100 ms hop

    def feed(self, samples: np.ndarray) -> None:
        data = np.asarray(samples, dtype=np.float64).reshape(len(samples), -1)
        power = np.zeros(len(data))
        for ch in range(self.channels):
            signal = data[:, ch]
            for index, (b, a, gain) in enumerate(self.stages):
                signal, self.state[index][ch] = lfilter(b, a, signal, zi=self.state[index][ch])
                signal = signal * gain
            power += signal * signal * (1.41 if ch >= 3 else 1.0)
        power = np.concatenate([self.pending, power])
        whole = len(power) // self.hop * self.hop
        if whole:
            self.hops.extend(power[:whole].reshape(-1, self.hop).mean(axis=1).tolist())
        self.pending = power[whole:]

    def blocks(self) -> np.ndarray:
        """Mean power of each 400 ms gating block (4 consecutive hops)."""
        hops = np.asarray(self.hops)
        per_block = int(round(BLOCK_S / HOP_S))
        if len(hops) < per_block:
            return np.zeros(0)
        return np.convolve(hops, np.ones(per_block) / per_block, mode="valid")

    def integrated(self) -> float:
        blocks = self.blocks()
        with np.errstate(divide="ignore"):
            loudness = -0.691 + 10 * np.log10(blocks)
        gated = blocks[loudness >= ABSOLUTE_GATE]
        if not gated.size:
            return float("-inf")
        relative = -0.691 + 10 * np.log10(gated.mean()) - 10
        with np.errstate(divide="ignore"):
            final = gated[-0.691 + 10 * np.log10(gated) > relative]
        return float(-0.691 + 10 * np.log10(final.mean())) if final.size else float("-inf")


class PeakMeter:
    """True peak (dBTP) estimated with 4x oversampling, across chunk boundaries."""

    CONTEXT = 32

    def __init__(self):
        self.peak = 0.0
        self.tail: np.ndarray | None = None

    def feed(self, samples: np.ndarray) -> None:
        data = np.asarray(samples, dtype=np.float64).reshape(len(samples), -1)
        if not len(data):
            return
        floor = max(self.peak, float(np.abs(data).max()))
        self.peak = max(self.peak, float(block_true_peaks(data, PEAK_BLOCK, self.tail, floor).max()))
        self.tail = data[-self.CONTEXT:]

    @property
    def dbtp(self) -> float:
        return gain_to_db(self.peak)


# 4x interpolation filter, 12 taps per phase (the size of BS.1770-4 Annex 2's 48-tap filter).
_TAPS = firwin(48, 1 / OVERSAMPLE, window=("kaiser", 6.0)) * OVERSAMPLE
_PHASES = [_TAPS[p::OVERSAMPLE] for p in range(OVERSAMPLE)]
_HISTORY = len(_PHASES[0]) - 1
# Interpolated points exceed the samples around them by far less than 6 dB on real material,
# so only blocks whose sample peak is within 6 dB of what matters are oversampled (the costly part).
OVERSHOOT = 2.0
PEAK_BLOCK = 480


def block_true_peaks(data: np.ndarray, block: int, context: np.ndarray | None = None,
                     floor: float = 0.0) -> np.ndarray:
    """Per block of ``block`` samples: the 4x oversampled peak (linear, all channels).
    Blocks whose sample peak is below ``floor / OVERSHOOT`` keep their sample peak."""
    data = np.asarray(data, dtype=np.float64).reshape(len(data), -1)
    blocks = -(-len(data) // block)
    head = np.zeros((_HISTORY, data.shape[1]))
    if context is not None and len(context):
        tail = np.asarray(context, dtype=np.float64).reshape(len(context), -1)[-_HISTORY:]
        head[_HISTORY - len(tail):] = tail
    padded = np.concatenate([head, data, np.zeros((blocks * block - len(data), data.shape[1]))])
    peaks = np.abs(padded[_HISTORY:]).reshape(blocks, block * data.shape[1]).max(axis=1)
    chosen = np.flatnonzero(peaks >= floor / OVERSHOOT)
    if not chosen.size:
        return peaks
    rows = chosen[:, None] * block + np.arange(block + _HISTORY)[None, :]
    gathered = padded[rows]  # (k, history + block, channels)
    valid = (chosen[:, None] * block + np.arange(block)[None, :] < len(data))[:, :, None]  # not the padding
    best = np.zeros(len(chosen))
    for taps in _PHASES:
        phase = np.zeros((len(chosen), block, data.shape[1]))
        for j, tap in enumerate(taps[::-1]):
            phase += tap * gathered[:, j:j + block, :]
        best = np.maximum(best, np.abs(phase * valid).max(axis=(1, 2)))
    peaks[chosen] = np.maximum(peaks[chosen], best)
    return peaks


def true_peak(data: np.ndarray, context: np.ndarray | None = None) -> float:
    """Largest absolute value of the 4x oversampled signal (linear)."""
    data = np.asarray(data)
    floor = float(np.abs(data).max(initial=0.0))
    return float(block_true_peaks(data, PEAK_BLOCK, context, floor).max(initial=0.0))


class Limiter:
    """Look-ahead peak limiter over 5 ms blocks: the gain at each block boundary never exceeds
    what keeps the oversampled peak of the blocks on either side under ``ceiling_db``; it ramps
    linearly between boundaries and recovers at most ``release_db_per_s``. The release recursion
    g[k] = min(need[k], g[k-1] + r) (in dB) is a running minimum, so it is vectorized.
    Output lags input by one block; ``flush()`` returns the rest."""

    def __init__(self, rate: int, ceiling_db: float, release_db_per_s: float = 24.0, block_s: float = 0.005):
        self.ceiling_db = ceiling_db
        self.ceiling = db_to_gain(ceiling_db)
        self.block = max(1, int(rate * block_s))
        self.step_db = release_db_per_s * self.block / rate
        self.pending = np.zeros(0)
        self.context: np.ndarray | None = None
        self.boundary_db = 0.0  # gain at the start of ``pending``
        self.reduced_samples = 0

    def process(self, samples: np.ndarray) -> np.ndarray:
        data = np.asarray(samples, dtype=np.float64)
        buffer = np.concatenate([self.pending, data]) if len(self.pending) else data
        blocks = len(buffer) // self.block
        if blocks < 2:
            self.pending = buffer
            return data[:0]
        emitted = (blocks - 1) * self.block
        need = self._need_db(buffer[: blocks * self.block], blocks)
        raw = np.minimum(need[:-1], need[1:])  # boundaries 1 .. blocks-1
        first = min(self.boundary_db, float(need[0]))
        k = np.arange(1, blocks)
        gains_db = k * self.step_db + np.minimum(first, np.minimum.accumulate(raw - k * self.step_db))
        boundaries = np.concatenate([[first], gains_db])
        out = self._apply(buffer[:emitted], boundaries)
        self.boundary_db = float(boundaries[-1])
        self.context = buffer[max(0, emitted - PeakMeter.CONTEXT):emitted]
        self.pending = buffer[emitted:]
        return out

    def flush(self) -> np.ndarray:
        if not len(self.pending):
            return self.pending
        need = float(self._need_db(self.pending, -(-len(self.pending) // self.block)).min())
        end = min(need, self.boundary_db + self.step_db)
        boundaries = np.array([min(self.boundary_db, need), end])
        out = self._apply_ramp(self.pending, boundaries[0], boundaries[1])
        self.pending = self.pending[:0]
        return out

    def _need_db(self, buffer: np.ndarray, blocks: int) -> np.ndarray:
        peaks = block_true_peaks(buffer, self.block, self.context, self.ceiling)[:blocks]
        with np.errstate(divide="ignore"):
            return np.minimum(0.0, self.ceiling_db - 20 * np.log10(np.maximum(peaks, 1e-12)))

    def _apply(self, data: np.ndarray, boundaries_db: np.ndarray) -> np.ndarray:
        if boundaries_db.min() >= 0.0:
            return data
        positions = np.arange(len(boundaries_db)) * self.block
        gain = 10 ** (np.interp(np.arange(len(data)), positions, boundaries_db) / 20)
        self.reduced_samples += int((gain < 1.0).sum())
        return data * (gain[:, None] if data.ndim == 2 else gain)

    def _apply_ramp(self, data: np.ndarray, start_db: float, end_db: float) -> np.ndarray:
        gain = 10 ** (np.linspace(start_db, end_db, len(data)) / 20)
        return data * (gain[:, None] if data.ndim == 2 else gain)
