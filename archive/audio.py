"""The one home of PyAV (bundled FFmpeg): probe, decode, resample, encode; and of soxr, which
resamples the working copy.

Everything streams in frames or blocks so that hour-long recordings use bounded memory.
Encoded files carry no metadata at all: no tags are copied from the input and the
muxer/encoder run in bit-exact mode (no "encoder=Lavf…" tag, reproducible bytes).

Errors name the file once: by its name, or by the ``label`` the caller gives (ingest gives the
path as the person typed it).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import soxr

from archive.errors import AudioError, file_label

BITEXACT = av.codec.context.Flags.bitexact

# container format -> (codec, sample format) used when writing
ENCODERS = {
    "flac": ("flac", "s16"),
    "wav": ("pcm_s16le", "s16"),
    "wav32": ("pcm_f32le", "flt"),  # float WAV: intermediate files of the studio, no rounding, no clipping
    "mp3": ("libmp3lame", "s16p"),
    "ogg": ("libopus", "flt"),
    "opus": ("libopus", "flt"),
    "webm": ("libopus", "flt"),
    "m4a": ("aac", "fltp"),
    "ipod": ("aac", "fltp"),
    "amr": ("libopencore_amrnb", "s16"),
}
MUXERS = {"m4a": "ipod", "opus": "ogg", "wav32": "wav"}

# decoded sample format -> (numpy dtype, value of full scale, value of silence)
SAMPLE_TYPES = {
    "u8": (np.uint8, 128.0, 128), "s16": (np.int16, 32768.0, 0), "s32": (np.int32, 2.0**31, 0),
    "s64": (np.int64, 2.0**63, 0), "flt": (np.float32, 1.0, 0), "dbl": (np.float64, 1.0, 0),
}
BLOCK_SAMPLES = 1 << 16  # decoded samples per block: the numpy and soxr work is per block, not per frame

# A file is truncated when it decodes shorter than its header announces by more than this much
# (whichever is larger). Complete files of the formats checked decode to within a few
# milliseconds of their header (mp3 with a Xing/Info/VBRI header, mp4/m4a, webm/mkv, flac, wav).
TRUNCATION_TOLERANCE_S = 0.5
TRUNCATION_TOLERANCE = 0.01  # of the announced duration
OGG_MAX_PAGE = 27 + 255 + 255 * 255
WAV_UNKNOWN_SIZE = 0x7FFF0000  # a data size this large is a streaming writer's placeholder


@dataclass
class AudioInfo:
    format: str
    codec: str
    sample_rate: int
    channels: int
    duration: float
    bitrate: int | None
    tags: dict[str, str] = field(default_factory=dict)


def probe(path: Path, *, label: str | None = None) -> AudioInfo:
    """Read the container header. Raises AudioError for anything that is not decodable audio."""
    with _open_audio(path, label) as (_container, _stream, info):
        return info


def _label(path: Path, label: str | None) -> str:
    return label if label is not None else file_label(Path(path).name)


@contextmanager
def _open_audio(path: Path, label: str | None = None) -> Iterator[tuple[av.container.InputContainer, av.AudioStream, AudioInfo]]:
    """The opened container, its first audio stream and its header; AudioError when unreadable."""
    try:
        container = av.open(str(path))
        try:
            stream = _audio_stream(container, path, label)
            info = _info(container, stream)
        except BaseException:
            container.close()
            raise
    except AudioError:
        raise
    except (av.FFmpegError, UnicodeError, ValueError) as exc:
        raise AudioError(f"{_label(path, label)} : fichier audio illisible ({_short(exc)})") from exc
    with container:
        yield container, stream, info


def _info(container, stream) -> AudioInfo:
    ctx = stream.codec_context
    return AudioInfo(
        format=container.format.name.split(",")[0],
        codec=ctx.name,
        sample_rate=ctx.sample_rate or 0,
        channels=ctx.channels or 0,
        duration=_stream_duration(container, stream),
        bitrate=container.bit_rate or None,
        tags={**dict(container.metadata), **dict(stream.metadata)},
    )


def _audio_stream(container, path: Path, label: str | None = None):
    """The first audio stream; AudioError when there is none."""
    if not container.streams.audio:
        raise AudioError(f"{_label(path, label)} : aucun flux audio")
    return container.streams.audio[0]


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
            stream.thread_type = "AUTO"
            resampler = av.AudioResampler(format="flt", layout=layout, rate=rate, frame_size=frame_size or None)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    yield _frame_to_array(out)
            for out in resampler.resample(None):
                yield _frame_to_array(out)
    except AudioError:
        raise
    except (av.FFmpegError, ValueError) as exc:
        raise AudioError(f"{_label(path, None)} : décodage impossible ({_short(exc)})") from exc


def iter_range(path: Path, start: float, duration: float | None, *, rate: int,
               channels: int | None = 1) -> Iterator[np.ndarray]:
    """Like ``iter_decode``, only the samples from ``start`` for ``duration`` seconds (at ``rate``;
    None: to the end)."""
    first = int(round(start * rate))
    last = None if duration is None else int(round((start + duration) * rate))
    position = 0
    chunks = iter_decode(path, rate=rate, channels=channels)
    try:
        for chunk in chunks:
            part = chunk[max(0, first - position):None if last is None else max(0, last - position)]
            position += len(chunk)
            if len(part):
                yield part
            if last is not None and position >= last:
                break
    finally:
        chunks.close()


def decode_range(path: Path, start: float, duration: float, *, rate: int, channels: int | None = 1) -> np.ndarray:
    """``iter_range`` into memory."""
    chunks = list(iter_range(path, start, duration, rate=rate, channels=channels))
    return np.concatenate(chunks) if chunks else np.zeros((0,) if channels == 1 else (0, channels or 1), np.float32)


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
            raise AudioError(f"{_label(path, None)} : format de sortie inconnu ({fmt!r})")
        self.path = Path(path)
        self.channels = channels
        self.container, self.stream = _open_output(path, fmt, rate, "mono" if channels == 1 else "stereo", codec=codec)
        ctx = self.stream.codec_context
        if bitrate:
            ctx.bit_rate = bitrate
        self.rate = rate
        self.input_rate = input_rate or rate
        self.pts = 0
        self.resampler = av.AudioResampler(format=ctx.format.name, layout=self.stream.layout, rate=rate,
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
              on_header: Callable[[AudioInfo], None] | None = None,
              on_chunk: Callable[[np.ndarray], None] | None = None, label: str | None = None) -> tuple[AudioInfo, int]:
    """Decode ``source`` and encode it mono at ``rate`` in one streaming pass (no metadata carried
    over). ``on_header`` sees the source's header (as ``probe`` reads it) before any decoding and
    may raise to refuse the file; ``on_chunk`` sees every chunk as int16 samples (for level
    measurement). Returns that header and the number of samples written. Errors name the
    source as ``label`` (default: its name)."""
    with _open_audio(source, label) as (src, stream, info):
        if on_header:
            on_header(info)
        decoded = _Decoded()
        try:
            with _mono_output(destination, fmt, rate) as (dst, out):
                # no FFmpeg decoding threads: of the phone formats only FLAC has them, and they cost
                # more CPU than they save (batch workers already keep every core busy)
                chunks = _resampled(_decoded_blocks(decoded.count(src.decode(stream))), rate)
                return info, _encode_all(chunks, dst, out, rate, on_chunk)
        except (av.FFmpegError, ValueError) as exc:
            raise _decode_error(source, info, decoded.seconds, label, exc) from exc


def _decode_error(path: Path, info: AudioInfo, decoded_s: float, label: str | None, exc: Exception) -> AudioError:
    """A decoding pass that failed midway: a truncated file when the data ran out well before the
    header's end (a frame cut in two), else an undecodable one."""
    announced = announced_duration(path, info)
    if _short_of(announced, decoded_s):
        return _truncated(path, label, decoded_s, announced)
    return AudioError(f"{_label(path, label)} : décodage impossible ({_short(exc)})")


class _Decoded:
    """How much audio a decoding pass got through (seconds), as far as it went."""

    seconds = 0.0

    def count(self, frames: Iterable[av.AudioFrame]) -> Iterator[av.AudioFrame]:
        for frame in frames:
            self.seconds += frame.samples / frame.sample_rate
            yield frame


def _encode_all(chunks: Iterable[np.ndarray], dst, out, rate: int, on_chunk) -> int:
    written = 0
    for samples in chunks:
        if not samples.size:  # soxr may still be holding everything back
            continue
        pcm = _pcm16(samples)
        if on_chunk:
            on_chunk(pcm)
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate, frame.pts = rate, written
        written += pcm.size
        for packet in out.encode(frame):
            dst.mux(packet)
    for packet in out.encode(None):
        dst.mux(packet)
    return written


def _open_output(path: Path, fmt: str, rate: int, layout: str, *, codec: str | None = None,
                 options: dict[str, str] | None = None):
    """An output container and its one audio stream, both without any metadata (bit-exact mode)."""
    codec_name, sample_format = ENCODERS[fmt]
    container = av.open(str(path), "w", format=MUXERS.get(fmt, fmt), options={"fflags": "+bitexact"})
    container.metadata.clear()
    stream = container.add_stream(codec or codec_name, rate=rate, layout=layout, options=options or {})
    stream.codec_context.format = sample_format
    stream.codec_context.flags |= BITEXACT
    return container, stream


@contextmanager
def _mono_output(destination: Path, fmt: str, rate: int):
    # 4608-sample FLAC blocks (the largest the FLAC subset allows at <= 48 kHz): a quarter of the
    # default 1152's encoder calls, whose per-call overhead counts at 16 kHz mono
    options = {"frame_size": "4608"} if ENCODERS[fmt][0] == "flac" else None
    dst, out = _open_output(destination, fmt, rate, "mono", options=options)
    with dst:
        yield dst, out


def _decoded_blocks(frames: Iterable[av.AudioFrame]) -> Iterator[tuple[int, np.ndarray]]:
    """Decoded frames gathered into float32 mono blocks, as (sample rate, samples). Frames queue in
    an FFmpeg FIFO: per frame (up to 50 a second) only a C copy, no numpy. A change of format,
    channels or rate mid-stream just starts a new block."""
    fifo, kind = None, None
    for frame in frames:
        frame_kind = (frame.format.name, frame.layout.nb_channels, frame.sample_rate)
        if frame_kind != kind:
            if fifo is not None and fifo.samples:
                yield kind[2], _mono(fifo.read())
            fifo, kind = av.AudioFifo(), frame_kind
        frame.pts = None  # the FIFO would refuse a gap in the timestamps, which decoding tolerates
        fifo.write(frame)
        if fifo.samples >= BLOCK_SAMPLES:
            yield kind[2], _mono(fifo.read())
    if fifo is not None and fifo.samples:
        yield kind[2], _mono(fifo.read())


def _mono(frame: av.AudioFrame) -> np.ndarray:
    """A frame's samples as float32 in [-1, 1], downmixed to the mean of its channels."""
    dtype, full_scale, silence = SAMPLE_TYPES[frame.format.name.removesuffix("p")]
    channels = frame.layout.nb_channels
    if frame.format.is_planar and channels > 1:
        mono = np.mean([np.frombuffer(plane, dtype, frame.samples) for plane in frame.planes], axis=0, dtype=np.float32)
    else:
        samples = np.frombuffer(frame.planes[0], dtype, frame.samples * channels)
        mono = samples.astype(np.float32, copy=False) if channels == 1 else \
            samples.reshape(-1, channels).mean(axis=1, dtype=np.float32)
    if silence or full_scale != 1.0:
        mono = (mono - np.float32(silence)) * np.float32(1 / full_scale)
    return mono


def _resampled(blocks: Iterable[tuple[int, np.ndarray]], rate: int) -> Iterator[np.ndarray]:
    """float32 mono blocks resampled to ``rate``."""
    stream, current = None, None
    for block_rate, samples in blocks:
        if block_rate != current:  # the first block, or the rate changed mid-stream
            if stream is not None:
                yield stream.resample_chunk(np.zeros(0, np.float32), last=True)
            stream, current = _resampler(block_rate, rate), block_rate
        yield samples if stream is None else stream.resample_chunk(samples)
    if stream is not None:
        yield stream.resample_chunk(np.zeros(0, np.float32), last=True)


def resample(chunks: Iterable[np.ndarray], source_rate: int, rate: int) -> Iterator[np.ndarray]:
    """float32 mono chunks at ``source_rate`` resampled to ``rate`` (soxr, streaming; unchanged when equal)."""
    return _resampled(((source_rate, chunk) for chunk in chunks), rate)


def _resampler(source_rate: int, rate: int) -> soxr.ResampleStream | None:
    """soxr's high-quality streaming resampler (steep anti-alias filter); None when no resampling is needed."""
    return None if source_rate == rate else soxr.ResampleStream(source_rate, rate, 1, dtype="float32", quality="HQ")


def _pcm16(samples: np.ndarray) -> np.ndarray:
    """float32 to int16, rounded and clipped (as libswresample does)."""
    scaled = samples * np.float32(32768)
    np.rint(scaled, out=scaled)
    np.clip(scaled, -32768, 32767, out=scaled)
    return scaled.astype(np.int16)


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


def check_complete(path: Path, info: AudioInfo, decoded_s: float, *, label: str | None = None) -> None:
    """Refuse a file that ends before its header says it does (a copy or a download cut short):
    it would otherwise pass for a good, short recording. ``decoded_s``: what decoding gave."""
    if info.format == "ogg" and not _ogg_finished(path):
        raise AudioError(f"{_label(path, label)} : fichier tronqué (fin du flux Ogg absente, "
                         f"{duration_text(decoded_s)} décodées)")
    announced = announced_duration(path, info)
    if _short_of(announced, decoded_s):
        raise _truncated(path, label, decoded_s, announced)


def _short_of(announced: float | None, decoded_s: float) -> bool:
    return bool(announced) and announced - decoded_s > max(TRUNCATION_TOLERANCE_S, TRUNCATION_TOLERANCE * announced)


def _truncated(path: Path, label: str | None, decoded_s: float, announced: float) -> AudioError:
    return AudioError(f"{_label(path, label)} : fichier tronqué ({duration_text(decoded_s)} décodées "
                      f"sur {duration_text(announced)} annoncées)")


def announced_duration(path: Path, info: AudioInfo) -> float | None:
    """The duration the file itself records, where its format records one exactly; None where
    FFmpeg can only estimate it (mp3 without a Xing/Info/VBRI header, raw AAC, AMR, Ogg)."""
    if info.format == "wav":
        return _wav_declared_seconds(path)  # FFmpeg clips the data size to the file: read it ourselves
    if info.format == "mp3":
        return info.duration if _mp3_length_tagged(path) else None
    if info.format in ("flac", "mov", "matroska"):
        return info.duration or None  # 0 when the writer did not record it (live webm, streamed flac)
    return None


def _wav_declared_seconds(path: Path) -> float | None:
    """The RIFF data chunk's declared size over the byte rate; None for RF64 or a placeholder size."""
    with open(path, "rb") as handle:
        head = handle.read(1 << 16)
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    position, byte_rate = 12, 0
    while position + 8 <= len(head):
        chunk, size = head[position:position + 4], int.from_bytes(head[position + 4:position + 8], "little")
        if chunk == b"fmt " and position + 20 <= len(head):
            byte_rate = int.from_bytes(head[position + 16:position + 20], "little")
        elif chunk == b"data":
            return size / byte_rate if byte_rate and 0 < size < WAV_UNKNOWN_SIZE else None
        position += 8 + size + (size & 1)
    return None


def _mp3_length_tagged(path: Path) -> bool:
    """Whether the first MPEG frame is a Xing/Info (LAME) or VBRI header, which counts the frames."""
    with open(path, "rb") as handle:
        head = handle.read(10)
        start = 0
        if head[:3] == b"ID3" and len(head) == 10:
            size = (head[6] & 0x7F) << 21 | (head[7] & 0x7F) << 14 | (head[8] & 0x7F) << 7 | (head[9] & 0x7F)
            start = 10 + size + (10 if head[5] & 0x10 else 0)
        handle.seek(start)
        frame = handle.read(4096)
    sync = next((i for i in range(len(frame) - 1) if frame[i] == 0xFF and frame[i + 1] & 0xE0 == 0xE0), None)
    if sync is None:
        return False
    window = frame[sync:sync + 200]
    return any(tag in window for tag in (b"Xing", b"Info", b"VBRI"))


def _ogg_finished(path: Path) -> bool:
    """Whether the last Ogg page is whole and marks the end of the stream (EOS flag): a file cut
    short ends in a partial page, or in a page without that flag."""
    with open(path, "rb") as handle:
        handle.seek(0, 2)
        size = handle.tell()
        handle.seek(max(0, size - OGG_MAX_PAGE))
        tail = handle.read()
    start = tail.rfind(b"OggS")
    while start >= 0:
        header = tail[start:start + 27]
        if len(header) == 27 and header[4] == 0:  # stream structure version 0
            table = tail[start + 27:start + 27 + header[26]]
            whole = len(table) == header[26] and start + 27 + len(table) + sum(table) <= len(tail)
            return whole and bool(header[5] & 0x04)
        start = tail.rfind(b"OggS", 0, start)
    return False


def duration_text(seconds: float) -> str:
    """A duration for a message, in French with one decimal: "1,6 s", "12,5 min"."""
    text = f"{seconds:.1f} s" if seconds < 100 else f"{seconds / 60:.1f} min"
    return text.replace(".", ",")


def _short(exc: BaseException) -> str:
    """The low-level error's own words, without the file name (the message names it already)."""
    text = exc.strerror if isinstance(exc, av.FFmpegError) and exc.strerror else str(exc)
    text = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return text[:160]
