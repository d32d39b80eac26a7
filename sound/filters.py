"""The one home of pedalboard: the rumble high-pass, the mains-hum notches and the true-peak limiter.

Both are IIR filters (no lookahead, no delay to compensate; the phase shifts near their cut-offs
are inaudible, but a sample-exact measure such as SI-SNR sees them: compare against a reference
passed through the same filters). ``SpeechFilters`` keeps the filter
state between chunks (pedalboard's ``reset=False``), so a stream filtered chunk by chunk equals the
whole signal filtered at once.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
from pedalboard import BrickwallLimiter, HighpassFilter, Pedalboard, PeakFilter

RUMBLE_HZ = 80.0  # below the lowest male voice's fundamental (~85 Hz): handling noise, wind, traffic
MAINS_HZ = 50.0  # Mali's grid (and Europe's)
HUM_HARMONICS = 6  # 50 to 300 Hz: where a phone charger's or a ground loop's hum sits
HUM_CUT_DB = -40.0  # depth of each notch at its centre
HUM_Q = 300.0  # pedalboard's (JUCE's) peak Q: -6 dB at 50 +- 0.5 Hz, a grid's drift; speech beside untouched


def _board(rate: int, *, rumble_hz: float | None, mains_hz: float | None) -> Pedalboard:
    plugins = [] if rumble_hz is None else [HighpassFilter(cutoff_frequency_hz=rumble_hz)]
    if mains_hz is not None:
        plugins += [PeakFilter(cutoff_frequency_hz=k * mains_hz, gain_db=HUM_CUT_DB, q=HUM_Q)
                    for k in range(1, HUM_HARMONICS + 1) if k * mains_hz < rate / 2]
    return Pedalboard(plugins)


class SpeechFilters:
    """High-pass at ``rumble_hz`` and notches at ``mains_hz`` and its harmonics (None: that filter
    off), over a mono float32 stream at ``rate``: ``process(chunk)`` any number of times, then
    ``flush()``; or ``filter(audio)`` for a whole signal.

    pedalboard keeps its filters' state between calls (``reset=False``) only while every call has
    the same size: a chunk of another size starts them again. So chunks are cut into ``BLOCK``
    samples here (``process`` returns up to ``BLOCK - 1`` samples late; ``flush`` returns them)."""

    BLOCK = 1024

    def __init__(self, rate: int, *, rumble_hz: float | None = RUMBLE_HZ, mains_hz: float | None = MAINS_HZ):
        self.rate = rate
        self._board = _board(rate, rumble_hz=rumble_hz, mains_hz=mains_hz)
        self._pending = np.zeros(0, np.float32)
        self._started = False

    def process(self, chunk: np.ndarray) -> np.ndarray:
        self._pending = np.concatenate([self._pending, np.asarray(chunk, np.float32)])
        whole = self._pending.size - self._pending.size % self.BLOCK
        blocks, self._pending = self._pending[:whole], self._pending[whole:]
        return np.concatenate([np.zeros(0, np.float32)] + [self._block(b) for b in blocks.reshape(-1, self.BLOCK)])

    def flush(self) -> np.ndarray:
        """The samples held back, filtered; the next ``process`` starts a new stream."""
        rest = self._pending.size
        out = self._block(np.pad(self._pending, (0, self.BLOCK - rest)))[:rest] if rest else self._pending
        self._pending, self._started = np.zeros(0, np.float32), False
        return out

    def _block(self, block: np.ndarray) -> np.ndarray:
        out = self._board.process(block[np.newaxis, :], self.rate, buffer_size=self.BLOCK, reset=not self._started)
        self._started = True
        return out[0]

    def filter(self, audio: np.ndarray) -> np.ndarray:
        """A whole signal, filtered (same length)."""
        return np.concatenate([self.process(audio), self.flush()])

    def stream(self, chunks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """Filtered chunks of a whole stream, flushed at its end."""
        for chunk in chunks:
            yield self.process(chunk)
        yield self.flush()


def highpass(audio: np.ndarray, rate: int, cutoff_hz: float = RUMBLE_HZ) -> np.ndarray:
    """Rumble below ``cutoff_hz`` removed."""
    return SpeechFilters(rate, rumble_hz=cutoff_hz, mains_hz=None).filter(audio)


def remove_hum(audio: np.ndarray, rate: int, mains_hz: float = MAINS_HZ) -> np.ndarray:
    """Mains hum at ``mains_hz`` and its first harmonics notched out."""
    return SpeechFilters(rate, rumble_hz=None, mains_hz=mains_hz).filter(audio)


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
