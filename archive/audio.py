"""The one home of PyAV (bundled FFmpeg): probe, decode, resample, encode.

Everything streams in frames so that hour-long recordings use bounded memory.
Encoded files carry no metadata at all: no tags are copied from the input and the
muxer/encoder run in bit-exact mode (no "encoder=Lavf…" tag, reproducible bytes).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from archive.errors import AudioError

BITEXACT = av.codec.context.Flags.bitexact

# container format -> (codec, sample format) used when writing
ENCODERS = {
    "flac": ("flac", "s16"),
    "wav": ("pcm_s16le", "s16"),
    "mp3": ("libmp3lame", "s16p"),
    "ogg": ("libopus", "flt"),
    "opus": ("libopus", "flt"),
    "webm": ("libopus", "flt"),
    "m4a": ("aac", "fltp"),
    "ipod": ("aac", "fltp"),
    "amr": ("libopencore_amrnb", "s16"),
}
MUXERS = {"m4a": "ipod", "opus": "ogg"}


@dataclass
class AudioInfo:
    format: str
    codec: str
    sample_rate: int
    channels: int
    duration: float
    bitrate: int | None
    tags: dict[str, str] = field(default_factory=dict)


def probe(path: Path) -> AudioInfo:
    """Read the container header. Raises AudioError for anything that is not decodable audio."""
    try:
        with av.open(str(path)) as container:
            stream = _audio_stream(container, path)
            ctx = stream.codec_context
            duration = _stream_duration(container, stream)
            tags = {**dict(container.metadata), **dict(stream.metadata)}
            return AudioInfo(
                format=container.format.name.split(",")[0],
                codec=ctx.name,
                sample_rate=ctx.sample_rate or 0,
                channels=ctx.channels or 0,
                duration=duration,
                bitrate=container.bit_rate or None,
                tags=tags,
            )
    except AudioError:
        raise
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise AudioError(f"{Path(path).name} : fichier audio illisible ({_short(exc)})") from exc


def _audio_stream(container, path: Path):
    """The first audio stream, set to decode with FFmpeg's threads; AudioError when there is none."""
    if not container.streams.audio:
        raise AudioError(f"{Path(path).name} : aucun flux audio")
    stream = container.streams.audio[0]
    stream.thread_type = "AUTO"
    return stream


def _stream_duration(container, stream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return 0.0


def iter_decode(path: Path, *, rate: int | None = None, channels: int | None = 1, frame_size: int = 0) -> Iterator[np.ndarray]:
    """Yield float32 chunks, resampled to ``rate`` and ``channels`` (1: shape (n,), 2: shape (n, 2))."""
    layout = {1: "mono", 2: "stereo", None: None}[channels]
    try:
        with av.open(str(path)) as container:
            stream = _audio_stream(container, path)
            resampler = av.AudioResampler(format="flt", layout=layout, rate=rate, frame_size=frame_size or None)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    yield _frame_to_array(out)
            for out in resampler.resample(None):
                yield _frame_to_array(out)
    except AudioError:
        raise
    except (av.FFmpegError, ValueError) as exc:
        raise AudioError(f"{Path(path).name} : décodage impossible ({_short(exc)})") from exc


def decode(path: Path, *, rate: int | None = None, channels: int | None = 1) -> np.ndarray:
    """Decode a whole file into memory (use ``iter_decode`` for long material)."""
    chunks = list(iter_decode(path, rate=rate, channels=channels))
    if not chunks:
        return np.zeros((0,) if channels == 1 else (0, channels or 1), dtype=np.float32)
    return np.concatenate(chunks)


def _frame_to_array(frame: av.AudioFrame) -> np.ndarray:
    data = frame.to_ndarray()  # packed flt: shape (1, n * channels)
    channels = len(frame.layout.channels)
    data = data.reshape(-1, channels) if channels > 1 else data.reshape(-1)
    return data.astype(np.float32, copy=False)


class Encoder:
    """Streaming encoder: ``write()`` float32 chunks, ``close()`` to finish. No metadata written."""

    def __init__(self, path: Path, *, rate: int, channels: int = 1, fmt: str | None = None,
                 bitrate: int | None = None, codec: str | None = None, input_rate: int | None = None):
        """``input_rate``: rate of the samples given to ``write()`` when it differs from ``rate``
        (they are resampled by libswresample on the way in)."""
        fmt = fmt or Path(path).suffix.lstrip(".").lower()
        if fmt not in ENCODERS:
            raise AudioError(f"cannot encode to {fmt!r}")
        codec_name, sample_format = ENCODERS[fmt]
        codec_name = codec or codec_name
        self.path = Path(path)
        self.channels = channels
        self.container = av.open(str(path), "w", format=MUXERS.get(fmt, fmt), options={"fflags": "+bitexact"})
        self.container.metadata.clear()
        self.stream = self.container.add_stream(codec_name, rate=rate, layout="mono" if channels == 1 else "stereo")
        ctx = self.stream.codec_context
        ctx.format = sample_format
        ctx.flags |= BITEXACT
        if bitrate:
            ctx.bit_rate = bitrate
        self.rate = rate
        self.input_rate = input_rate or rate
        self.pts = 0
        self.resampler = av.AudioResampler(format=sample_format, layout=self.stream.layout, rate=rate,
                                           frame_size=ctx.frame_size or None)

    def write(self, samples: np.ndarray) -> None:
        samples = np.asarray(samples, dtype=np.float32)
        if samples.size == 0:
            return
        packed = samples.reshape(1, -1) if self.channels == 1 else samples.reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(packed), format="flt",
                                           layout="mono" if self.channels == 1 else "stereo")
        frame.sample_rate = self.input_rate
        frame.pts = self.pts
        frame.time_base = Fraction(1, self.input_rate)
        self.pts += samples.shape[0]
        for out in self.resampler.resample(frame):
            self._encode(out)

    def _encode(self, frame) -> None:
        for packet in self.stream.encode(frame):
            self.container.mux(packet)

    def close(self) -> None:
        for out in self.resampler.resample(None):
            self._encode(out)
        self._encode(None)
        self.container.close()

    def __enter__(self) -> Encoder:
        return self

    def __exit__(self, exc_type, *_exc) -> None:
        if exc_type is None:
            self.close()
        else:
            self.container.close()


def transcode(source: Path, destination: Path, *, rate: int, fmt: str = "flac",
              on_chunk: Callable[[np.ndarray], None] | None = None) -> int:
    """Decode ``source`` and encode it mono at ``rate`` in one pass, frames going straight from the
    resampler to the encoder (no metadata carried over). ``on_chunk`` sees every chunk as int16
    samples (for level measurement). Returns the number of samples written."""
    codec_name, sample_format = ENCODERS[fmt]
    written = 0
    try:
        with av.open(str(source)) as src:
            stream = _audio_stream(src, source)
            with av.open(str(destination), "w", format=MUXERS.get(fmt, fmt), options={"fflags": "+bitexact"}) as dst:
                # 4608-sample FLAC blocks (the largest the FLAC subset allows at <= 48 kHz): a quarter
                # of the default 1152's encode calls, whose per-call overhead dominates at 16 kHz mono.
                options = {"frame_size": "4608"} if codec_name == "flac" else {}
                out = dst.add_stream(codec_name, rate=rate, layout="mono", options=options)
                out.codec_context.format = sample_format
                out.codec_context.flags |= BITEXACT
                out.codec_context.open()  # fixes frame_size: frames of exactly that size skip PyAV's re-chunking
                resampler = av.AudioResampler(format=sample_format, layout="mono", rate=rate,
                                              frame_size=out.codec_context.frame_size or 8192)
                for frame in _resampled(src.decode(stream), resampler):
                    frame.pts = written
                    written += frame.samples
                    if on_chunk:
                        on_chunk(frame.to_ndarray().reshape(-1))
                    for packet in out.encode(frame):
                        dst.mux(packet)
                for packet in out.encode(None):
                    dst.mux(packet)
    except AudioError:
        raise
    except (av.FFmpegError, ValueError) as exc:
        raise AudioError(f"{Path(source).name} : décodage impossible ({_short(exc)})") from exc
    return written


def _resampled(frames, resampler):
    for frame in frames:
        yield from resampler.resample(frame)
    yield from resampler.resample(None)


def encode(samples: np.ndarray, path: Path, *, rate: int, fmt: str | None = None, bitrate: int | None = None) -> Path:
    channels = 1 if np.asarray(samples).ndim == 1 else np.asarray(samples).shape[1]
    with Encoder(path, rate=rate, channels=channels, fmt=fmt, bitrate=bitrate) as encoder:
        encoder.write(samples)
    return Path(path)


def encode_chunks(chunks: Iterable[np.ndarray], path: Path, *, rate: int, channels: int = 1,
                  fmt: str | None = None, bitrate: int | None = None) -> Path:
    with Encoder(path, rate=rate, channels=channels, fmt=fmt, bitrate=bitrate) as encoder:
        for chunk in chunks:
            encoder.write(chunk)
    return Path(path)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]
