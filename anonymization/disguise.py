"""Disguising a file's voice: what ``kuma voice disguise`` and the anonymize stage both run.

:func:`key_for` derives the voice key from the archive's secret and a label (the pipeline's label
is the testimony's internal key); :func:`disguised_chunks` decodes any audio file, resamples it to
the disguise's 16 kHz mono and streams it through ``voice.disguise_stream`` in a mode. The stage
adds the bleeps and stores 16 kHz FLAC; :func:`disguise_file` resamples back to the input's rate
and writes exactly as many samples as the input had. Memory stays bounded on hour-long files.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from archive.audio import Encoder, iter_decode, probe, resample
from archive.errors import InputError
from archive.secrets import secret_key
from archive.settings import Settings
from anonymization import voice

CHUNK_S = 10.0
OUTPUT_FORMATS = ("wav", "flac")

Progress = Callable[[float, float], None]  # (seconds done, total seconds)


def key_for(settings: Settings, label: str) -> voice.VoiceKey:
    """The voice key of ``label`` under the archive's secret (deterministic: same label, same voice)."""
    return voice.VoiceKey.derive(secret_key(settings), label)


def disguised_chunks(source: Path, key: voice.VoiceKey, mode: voice.Mode | str, *,
                     on_decoded: Callable[[np.ndarray], None] | None = None,
                     disguiser: voice.Disguiser | None = None) -> Iterator[np.ndarray]:
    """``source`` decoded (mono, its own rate), resampled to ``voice.RATE`` and disguised, in chunks.
    ``on_decoded`` sees every decoded chunk at the source's rate (to count its samples)."""
    rate = probe(source).sample_rate or voice.RATE
    decoded = iter_decode(source, rate=None, channels=1, frame_size=int(CHUNK_S * rate))
    if on_decoded is not None:
        decoded = _tap(decoded, on_decoded)
    return voice.disguise_stream(resample(decoded, rate, voice.RATE), key, mode, disguiser=disguiser)


def _tap(chunks: Iterator[np.ndarray], see: Callable[[np.ndarray], None]) -> Iterator[np.ndarray]:
    for chunk in chunks:
        see(chunk)
        yield chunk


@dataclass(frozen=True)
class DisguiseReport:
    duration: float  # seconds of audio
    sample_rate: int  # of the input, kept in the output
    seconds: float  # wall-clock time spent
    mode: str
    voice: voice.PseudoVoice | None  # the pseudo-voice used (None: nothing was voiced)

    @property
    def speed(self) -> float:
        """Times faster than real time."""
        return self.duration / self.seconds if self.seconds > 0 else float("inf")


def output_format(path: Path) -> str:
    fmt = Path(path).suffix.lstrip(".").lower()
    if fmt not in OUTPUT_FORMATS:
        raise InputError(f"{Path(path).name} : format de sortie non pris en charge (attendu : .wav ou .flac)")
    return fmt


def disguise_file(source: Path, destination: Path, key: voice.VoiceKey, mode: voice.Mode | str = voice.DEFAULT_MODE,
                  *, progress: Progress | None = None) -> DisguiseReport:
    """Disguise ``source`` into ``destination`` (WAV or FLAC by its suffix), mono, at the input's
    sample rate and with its exact number of samples. Written to a temporary file first: a crash
    never leaves half a file, and ``destination`` may be ``source`` itself."""
    source, destination = Path(source), Path(destination)
    fmt = output_format(destination)
    if not source.is_file():
        raise InputError(f"fichier introuvable : {source}")
    info = probe(source)
    rate = info.sample_rate or voice.RATE
    started = time.perf_counter()
    decoded = [0]

    def count(chunk: np.ndarray) -> None:
        decoded[0] += len(chunk)

    disguiser = voice.Disguiser(key, mode)
    chunks = resample(disguised_chunks(source, key, mode, on_decoded=count, disguiser=disguiser), voice.RATE, rate)
    temp = destination.with_name(f".{destination.name}.part")
    try:
        with Encoder(temp, rate=rate, fmt=fmt) as encoder:
            written = _write_exactly(encoder, chunks, decoded, progress, rate, info.duration)
        os.replace(temp, destination)
    finally:
        temp.unlink(missing_ok=True)
    return DisguiseReport(written / rate, rate, time.perf_counter() - started, str(voice.Mode(mode)), disguiser.target)


def _write_exactly(encoder: Encoder, chunks: Iterator[np.ndarray], decoded: list[int], progress: Progress | None,
                   rate: int, total: float) -> int:
    """Write ``chunks`` holding the last second back: resampling twice may give a sample more or
    less than the input had, and the input's count (``decoded[0]``) is final once the stream ends."""
    written, pending = 0, np.zeros(0, dtype=np.float32)
    for chunk in chunks:
        pending = np.concatenate([pending, chunk])
        if len(pending) > rate:
            encoder.write(pending[:-rate])
            written += len(pending) - rate
            pending = pending[-rate:]
            if progress:
                progress(written / rate, total)
    missing = max(0, decoded[0] - written)
    tail = np.pad(pending[:missing], (0, max(0, missing - len(pending))))
    encoder.write(tail)
    return written + len(tail)
