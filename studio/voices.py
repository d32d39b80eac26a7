"""Every voice at the same level: speech items cleaned, leveled and set to one speech loudness.

Before the mix, each speech item of a plan (host link, testimony excerpt) is read once over its
played range at the studio's rate, mono, and

1. cleaned (``sound.clean_stream``: DeepFilterNet 3, rumble high-pass, mains-hum notches) when the
   item asks for it: host links by default, excerpts when their testimony has no cleaned copy
   (renditions are disguised from the cleaned copy, see docs/sound.md), ``clean: false`` never;
2. profiled (integrated and momentary loudness) while it is written to a float WAV in the build's
   work folder;
3. read again through the leveler (``sound.level``: soft passages lifted, loud ones lowered, at
   most 6 dB, pauses left alone) into a second float WAV, measured again;
4. given the gain that brings it to ``SPEECH_LUFS``. An item that would need more than
   ``MAX_BOOST_DB`` is lifted by that much only and flagged for the producer: lifting it further
   would lift its background with it.

The piece then plays from that prepared file. Music items (jingle, bed) are not processed: their
gain puts them ``music_level`` LU relative to speech (set in plan, from their measured loudness).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from archive.audio import Encoder, iter_decode, iter_range
from sound import clean_stream
from sound.level import Rider, ride
from sound.meter import Meter, Profiler

SPEECH_LUFS = -23.0  # every speech item's integrated loudness in the mix (the master then sets the whole)
MAX_BOOST_DB = 20.0  # an item quieter than SPEECH_LUFS - 20 (-43 LUFS) is lifted only that much, and flagged
SPEECH_KINDS = ("host", "excerpt")
MUSIC_KINDS = ("jingle", "bed")
CHUNK_S = 5.0

Progress = Callable[[str, float, float], None]


@dataclass
class Voice:
    """What preparing one speech item did (kept in ``Episode.loudness["items"]``)."""

    title: str
    kind: str
    cleaned: bool
    measured: float  # LUFS of the played range as recorded (after cleaning when cleaned)
    gain_db: float  # applied after leveling to reach SPEECH_LUFS
    flag: str | None = None

    def report(self) -> dict:
        return {"title": self.title, "kind": self.kind, "cleaned": self.cleaned,
                "measured": round(self.measured, 2) if np.isfinite(self.measured) else None,
                "gain_db": round(self.gain_db, 2), "flag": self.flag}


def speech_seconds(pieces) -> float:
    return sum(p.duration for p in pieces if p.kind in SPEECH_KINDS and p.source is not None)


def prepare(pieces: list, workdir: Path, rate: int, progress: Progress | None = None) -> tuple[list, list[Voice]]:
    """The pieces with every speech item replaced by its prepared file; what was done to each."""
    total, done = speech_seconds(pieces), 0.0
    prepared, voices = [], []
    for index, piece in enumerate(pieces):
        if piece.kind not in SPEECH_KINDS or piece.source is None:
            prepared.append(piece)
            continue

        def advance(seconds: float, before: float = done) -> None:
            if progress:
                progress("mise à niveau des voix", before + seconds, total)

        piece, voice = prepare_speech(piece, workdir / f"voix-{index:03d}", rate, advance)
        prepared.append(piece)
        voices.append(voice)
        done += piece.duration
    return prepared, voices


def prepare_speech(piece, stem: Path, rate: int, advance: Callable[[float], None] | None = None):
    """(the piece playing its prepared file, the :class:`Voice` report) for one speech item."""
    raw, leveled = stem.with_suffix(".brut.wav"), stem.with_suffix(".wav")
    chunks = iter_range(piece.source, piece.offset, piece.duration, rate=rate, channels=1)
    if piece.clean:
        chunks = clean_stream(chunks, rate, loudness=piece.loudness)
    profiler = Profiler(rate)
    with Encoder(raw, rate=rate, channels=1, fmt="wav32") as out:
        for chunk in chunks:
            profiler.feed(chunk)
            out.write(chunk)
            if advance:
                advance(0.5 * len(chunk) / rate)
    profile = profiler.result()
    rider, meter = Rider(ride(profile), rate), Meter(rate, 1)
    with Encoder(leveled, rate=rate, channels=1, fmt="wav32") as out:
        for chunk in iter_decode(raw, rate=rate, channels=1):
            chunk = rider.process(chunk)
            meter.feed(chunk)
            out.write(chunk)
            if advance:
                advance(0.5 * len(chunk) / rate)
    raw.unlink()
    level = meter.result().integrated
    gain, flag = _gain(level, profile.integrated, piece.title)
    voice = Voice(piece.title, piece.kind, piece.clean, profile.integrated, gain, flag)
    return replace(piece, source=leveled, offset=0.0, available=piece.duration, gain_db=piece.gain_db + gain), voice


def _gain(level: float, measured: float, title: str) -> tuple[float, str | None]:
    if not np.isfinite(level):
        return 0.0, None  # silent items are refused by plan(); a cleaned one may become silent
    needed = SPEECH_LUFS - level
    if needed <= MAX_BOOST_DB:
        return needed, None
    return MAX_BOOST_DB, (f"{title} : niveau trop faible ({measured:.1f} LUFS) ; relevé de {MAX_BOOST_DB:.0f} dB "
                          f"au lieu de {needed:.0f} dB pour ne pas remonter le bruit de fond — à réenregistrer "
                          "ou à écouter")


def music_gain(measured: float, music_level: float) -> float:
    """Gain that sets a music item (measured LUFS) ``music_level`` LU relative to the speech level."""
    return SPEECH_LUFS + music_level - measured if np.isfinite(measured) else 0.0
