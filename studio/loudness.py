"""Dynamics for mastering: the one home of pedalboard's dynamics processors (until sound/ hosts them).

:class:`Limiter` streams pedalboard's ``BrickwallLimiter`` with its true-peak (4x oversampled)
sidechain and a look-ahead; it keeps the plugin state between chunks and gives back, on ``flush()``,
the samples its look-ahead still holds, so output and input have the same length.
Loudness is measured in studio/meter.py (pyebur128).
"""
from __future__ import annotations

import numpy as np
from pedalboard import BrickwallLimiter


def db_to_gain(db: float) -> float:
    return 10 ** (db / 20)


class Limiter:
    """True-peak brick-wall limiter at ``ceiling_db`` over chunks (n,) or (n, channels)."""

    def __init__(self, rate: int, ceiling_db: float, release_ms: float = 150.0, lookahead_ms: float = 5.0):
        self.rate = rate
        self.plugin = BrickwallLimiter(ceiling_db=ceiling_db, release_ms=release_ms, lookahead_ms=lookahead_ms,
                                       true_peak=True)
        self.taken = self.given = 0
        self.shape: tuple[int, ...] = ()

    def process(self, samples: np.ndarray) -> np.ndarray:
        data = np.asarray(samples, dtype=np.float32)
        self.shape = data.shape[1:]
        self.taken += len(data)
        return self._run(data)

    def flush(self) -> np.ndarray:
        missing = self.taken - self.given
        if missing <= 0:
            return np.zeros((0, *self.shape), dtype=np.float32)
        return self._run(np.zeros((missing, *self.shape), dtype=np.float32))[:missing]

    def _run(self, data: np.ndarray) -> np.ndarray:
        planar = np.ascontiguousarray(data.reshape(len(data), -1).T)
        out = self.plugin.process(planar, self.rate, reset=False).T
        out = out[: max(0, self.taken - self.given)]
        self.given += len(out)
        return out.reshape(len(out), *data.shape[1:]).astype(np.float32, copy=False)
