"""Placing rundown items on a timeline and rendering it in bounded memory.

``layout()`` turns resolved pieces into clips (where each one sits on the programme timeline,
with its gain envelope: fades, crossfades, ducking) and the cue sheet. ``render()`` then walks
the timeline in windows of a few seconds: for each window only the overlapping clips are read
(each source is decoded once, sequentially, by a streaming reader), cut and shaped with pydub
(fades, gains) and overlaid; the window leaves as a float32 array. A 60-minute programme never
exists in memory as a whole.

All positions are integer milliseconds (pydub's unit), so windows, fades and cue times line up.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import warnings

import numpy as np

with warnings.catch_warnings():  # pydub looks for an ffmpeg binary at import; we decode with PyAV
    warnings.simplefilter("ignore", RuntimeWarning)
    from pydub import AudioSegment

from archive.audio import iter_range

# pydub works on integers: 32-bit samples scaled so that 1.0 == 2**24 leave 42 dB of headroom
# for overlaid clips before anything saturates (mastering sets the final level).
SAMPLE_WIDTH = 4
SCALE = float(1 << 24)
SILENT_DB = -120.0


@dataclass
class Piece:
    """One rundown item resolved against the archive: what to play, and how."""

    kind: str
    title: str
    source: Path | None  # None: silence
    offset: float = 0.0  # seconds into the source
    duration: float = 0.0  # seconds on the timeline (a ducked bed plays on under the next piece)
    available: float = 0.0  # seconds of source from offset (how long a ducked bed can go on)
    gain_db: float = 0.0
    fade_in: float = 0.0
    fade_out: float = 0.0
    crossfade: float = 0.0
    duck_db: float | None = None
    duck_fade: float = 1.0
    chapter: bool = True
    testimony: str | None = None  # public id
    speaker: str | None = None  # how the speaker may be named in public text
    transcript: list[dict] = field(default_factory=list)  # redacted segments, relative to offset
    clean: bool = False  # a speech item to clean before leveling (studio.voices)
    loudness: float = float("nan")  # LUFS of the played range as recorded (measured by plan)


@dataclass
class Clip:
    source: Path
    offset_ms: int
    start_ms: int
    length_ms: int
    envelope: list[tuple[int, float]]  # (ms from clip start, linear gain), piecewise linear

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.length_ms


@dataclass
class Timeline:
    clips: list[Clip]
    cue: list[dict]  # [{title, kind, start, duration, testimony, speaker, chapter}]
    length_ms: int

    @property
    def duration(self) -> float:
        return self.length_ms / 1000


def ms(seconds: float) -> int:
    return int(round(seconds * 1000))


def layout(pieces: list[Piece]) -> Timeline:
    """Place pieces one after another; a piece's crossfade overlaps the end of the previous one."""
    starts, lengths = [], []
    cursor = 0
    for index, piece in enumerate(pieces):
        length = ms(piece.duration)
        overlap = 0 if index == 0 else min(ms(piece.crossfade), length, lengths[-1])
        start = max(0, cursor - overlap)
        starts.append(start)
        lengths.append(length)
        cursor = start + length
    clips, cue = [], []
    for index, piece in enumerate(pieces):
        start, length = starts[index], lengths[index]
        cue.append({"title": piece.title, "kind": piece.kind, "start": start / 1000, "duration": length / 1000,
                    "testimony": piece.testimony, "speaker": piece.speaker, "chapter": piece.chapter})
        if piece.source is None or length <= 0:
            continue
        incoming = _overlap(starts, lengths, index - 1, index)
        outgoing = _overlap(starts, lengths, index, index + 1)
        fade_in = max(ms(piece.fade_in), incoming)
        if piece.duck_db and index + 1 < len(pieces):
            clips.append(_ducked_bed(piece, start, length, starts[index + 1], lengths[index + 1], fade_in))
            continue
        fade_out = max(ms(piece.fade_out), outgoing)
        clips.append(Clip(piece.source, ms(piece.offset), start, length,
                          _fades(length, fade_in, fade_out, piece.gain_db)))
    ends = [c.end_ms for c in clips] + [s + l for s, l in zip(starts, lengths)]
    return Timeline(clips, cue, max(ends, default=0))


def _overlap(starts, lengths, first, second) -> int:
    if first < 0 or second >= len(starts):
        return 0
    return max(0, starts[first] + lengths[first] - starts[second])


def _fades(length: int, fade_in: int, fade_out: int, gain_db: float) -> list[tuple[int, float]]:
    level = 10 ** (gain_db / 20)
    fade_in, fade_out = min(fade_in, length), min(fade_out, length)
    if fade_in + fade_out > length:  # both fades cannot fit: meet in the middle
        fade_in = fade_out = length // 2
    points = [(0, 0.0 if fade_in else level), (fade_in, level), (length - fade_out, level), (length, 0.0 if fade_out else level)]
    return _clean(points)


def _ducked_bed(piece: Piece, start: int, length: int, next_start: int, next_length: int, fade_in: int) -> Clip:
    """A bed that plays alone, then ``duck_db`` lower under the next piece, fading out at its end."""
    level = 10 ** (piece.gain_db / 20)
    ducked = level * 10 ** (-piece.duck_db / 20)
    total = min(next_start + next_length - start, ms(piece.available)) if piece.available else length
    total = max(total, length)
    duck_at = max(0, next_start - start)
    ramp = min(ms(piece.duck_fade), max(0, total - duck_at))
    fade_in = min(fade_in, duck_at)
    fade_out = min(max(ms(piece.fade_out), 1), max(0, total - duck_at - ramp))
    points = [(0, 0.0 if fade_in else level), (fade_in, level), (duck_at, level), (duck_at + ramp, ducked),
              (total - fade_out, ducked), (total, 0.0)]
    return Clip(piece.source, ms(piece.offset), start, total, _clean(points))


def _clean(points: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """Sorted breakpoints without zero-length steps that would confuse interpolation."""
    cleaned: list[tuple[int, float]] = []
    for position, gain in points:
        if cleaned and position <= cleaned[-1][0]:
            if position == cleaned[-1][0] and len(cleaned) > 1:
                cleaned[-1] = (position, gain) if gain < cleaned[-1][1] else cleaned[-1]
            continue
        cleaned.append((position, gain))
    return cleaned


def gain_at(envelope: list[tuple[int, float]], position: int) -> float:
    xs, ys = zip(*envelope)
    return float(np.interp(position, xs, ys))


class SourceReader:
    """Sequential reads of one decoded source, from an offset; zeros after the end of the file."""

    def __init__(self, path: Path, offset_ms: int, rate: int, channels: int):
        self.chunks = iter_range(path, offset_ms / 1000, None, rate=rate, channels=channels)
        self.channels = channels
        self.buffer = np.zeros((0, channels), dtype=np.float32)
        self.done = False

    def read(self, count: int) -> np.ndarray:
        while len(self.buffer) < count and not self.done:
            chunk = next(self.chunks, None)
            if chunk is None:
                self.done = True
                break
            self.buffer = np.concatenate([self.buffer, chunk.reshape(len(chunk), self.channels)])
        out, self.buffer = self.buffer[:count], self.buffer[count:]
        if len(out) < count:
            out = np.concatenate([out, np.zeros((count - len(out), self.channels), dtype=np.float32)])
        return out

    def close(self) -> None:
        self.chunks.close()


def render(timeline: Timeline, *, rate: int = 48000, channels: int = 2, window_ms: int = 5000,
           progress: Callable[[float], None] | None = None) -> Iterator[np.ndarray]:
    """Yield the programme as consecutive float32 windows of shape (n, channels)."""
    if rate % 1000:
        raise ValueError("the mix rate must be a whole number of samples per millisecond")
    per_ms = rate // 1000
    readers: dict[int, SourceReader] = {}
    try:
        for w0 in range(0, timeline.length_ms, window_ms):
            w1 = min(w0 + window_ms, timeline.length_ms)
            mix = _segment(np.zeros(((w1 - w0) * per_ms, channels), dtype=np.float32), rate)
            for index, clip in enumerate(timeline.clips):
                if clip.end_ms <= w0 or clip.start_ms >= w1:
                    continue
                a, b = max(w0, clip.start_ms), min(w1, clip.end_ms)
                if index not in readers:
                    readers[index] = SourceReader(clip.source, clip.offset_ms + a - clip.start_ms, rate, channels)
                piece = _shape(_segment(readers[index].read((b - a) * per_ms), rate), clip.envelope,
                               a - clip.start_ms, b - clip.start_ms)
                mix = mix.overlay(piece, position=a - w0)
            for index in [i for i in readers if timeline.clips[i].end_ms <= w1]:
                readers.pop(index).close()
            yield _samples(mix, channels)
            if progress:
                progress((w1 - w0) / 1000)
    finally:
        for reader in readers.values():
            reader.close()


def _shape(segment: AudioSegment, envelope: list[tuple[int, float]], begin: int, end: int) -> AudioSegment:
    """Apply the clip's gain envelope to the part [begin, end) (ms from clip start) with pydub."""
    edges = sorted({begin, end, *[p for p, _ in envelope if begin < p < end]})
    parts = []
    for left, right in zip(edges, edges[1:]):
        part = segment[left - begin:right - begin]
        g0, g1 = gain_at(envelope, left), gain_at(envelope, right)
        if abs(g0 - g1) < 1e-9:
            part = part if abs(g0 - 1.0) < 1e-9 else part.apply_gain(_db(g0))
        else:  # pydub ramps amplitude linearly between the two gains: the same curve as the envelope
            part = part.fade(from_gain=_db(g0), to_gain=_db(g1), start=0, end=len(part))
        parts.append(part)
    shaped = parts[0]
    for part in parts[1:]:
        shaped = shaped + part
    return shaped


def _db(gain: float) -> float:
    return SILENT_DB if gain <= 1e-6 else 20 * np.log10(gain)


def _segment(samples: np.ndarray, rate: int) -> AudioSegment:
    ints = np.clip(np.round(samples * SCALE), -2**31, 2**31 - 1).astype("<i4")
    return AudioSegment(data=ints.tobytes(), sample_width=SAMPLE_WIDTH, frame_rate=rate,
                        channels=samples.shape[1] if samples.ndim == 2 else 1)


def _samples(segment: AudioSegment, channels: int) -> np.ndarray:
    ints = np.frombuffer(segment.raw_data, dtype="<i4")
    return (ints.astype(np.float32) / SCALE).reshape(-1, channels)
