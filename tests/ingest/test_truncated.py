"""Truncated recordings (a copy or a download cut short) are refused, not ingested as good short
testimonies; complete files of every phone format are not."""
from fractions import Fraction
from pathlib import Path

import av
import pytest

from archive.audio import AudioInfo, check_complete, encode, probe
from archive.errors import AudioError
from ingest.pipeline import ingest_file
from tests.conftest import speechlike

SECONDS = 4.9

# name -> (muxer, codec, sample format, rate, muxer options, VBR)
KINDS = {
    "cbr.mp3": ("mp3", "libmp3lame", "s16p", 44100, {}, False),
    "vbr.mp3": ("mp3", "libmp3lame", "s16p", 44100, {}, True),  # Xing header: the frame count
    "vbr-no-header.mp3": ("mp3", "libmp3lame", "s16p", 44100, {"write_xing": "0"}, True),  # duration estimated
    "phone.m4a": ("ipod", "aac", "fltp", 44100, {}, False),  # moov at the end, as phones write it
    "faststart.m4a": ("ipod", "aac", "fltp", 44100, {"movflags": "+faststart"}, False),
    "raw.aac": ("adts", "aac", "fltp", 44100, {}, False),
    "voice.ogg": ("ogg", "libopus", "flt", 48000, {}, False),
    "voice.opus": ("ogg", "libopus", "flt", 48000, {}, False),
    "browser.webm": ("webm", "libopus", "flt", 48000, {}, False),
    "lossless.flac": ("flac", "flac", "s16", 44100, {}, False),
    "plain.wav": ("wav", "pcm_s16le", "s16", 16000, {}, False),
    "phone.amr": ("amr", "libopencore_amrnb", "s16", 8000, {}, False),
}
TRUNCATED = ["cbr.mp3", "vbr.mp3", "phone.m4a", "faststart.m4a", "voice.ogg", "voice.opus", "browser.webm",
             "lossless.flac", "plain.wav"]


def write(path: Path, muxer: str, codec: str, sample_format: str, rate: int, options: dict, vbr: bool) -> Path:
    """A real encoded recording, as a phone or an editor would write it."""
    samples = speechlike(SECONDS, rate, seed=3)
    with av.open(str(path), "w", format=muxer, options=options) as container:
        stream = container.add_stream(codec, rate=rate, layout="mono")
        stream.codec_context.format = sample_format
        if vbr:
            stream.codec_context.flags |= av.codec.context.Flags.qscale
            stream.codec_context.global_quality = 4 * 118  # LAME -V 4
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = rate, 0, Fraction(1, rate)
        resampler = av.AudioResampler(format=sample_format, layout="mono", rate=rate,
                                      frame_size=stream.codec_context.frame_size or None)
        for out in [*resampler.resample(frame), *resampler.resample(None), None]:
            for packet in stream.encode(out):
                container.mux(packet)
    return path


@pytest.fixture
def recording(tmp_path):
    def _make(name: str) -> Path:
        return write(tmp_path / name, *KINDS[name])

    return _make


def cut(path: Path, fraction: float = 1 / 3) -> Path:
    data = path.read_bytes()
    target = path.with_name(f"coupé-{path.name}")
    target.write_bytes(data[: int(len(data) * fraction)])
    return target


@pytest.mark.parametrize("name", KINDS)
def test_complete_files_of_every_kind_are_ingested(archive, recording, name):
    result = ingest_file(archive, recording(name))
    assert result.status == "ingested", result.reason
    assert result.duration == pytest.approx(SECONDS, abs=0.15)


@pytest.mark.parametrize("name", TRUNCATED)
def test_truncated_files_are_refused_with_one_line_naming_them(archive, recording, name):
    path = cut(recording(name))
    result = ingest_file(archive, path)
    assert result.status == "failed"
    assert result.reason.count(str(path)) == 1 and "\n" not in result.reason
    assert any(word in result.reason for word in ("tronqué", "illisible", "décodage impossible")), result.reason
    assert result.exit_code == 2
    assert list(archive.store.stored()) == [] and not any((archive.store.root / "tmp").iterdir())


@pytest.mark.parametrize("name", ["cbr.mp3", "vbr.mp3", "voice.ogg", "voice.opus", "browser.webm", "plain.wav",
                                  "faststart.m4a"])
def test_a_file_that_decodes_short_of_its_header_says_how_much(archive, recording, name):
    """Whether decoding stops quietly or on a frame cut in two, the reason says what is missing."""
    path = cut(recording(name))
    result = ingest_file(archive, path)
    assert "fichier tronqué (" in result.reason
    if name != "voice.ogg" and name != "voice.opus":  # Ogg records no length: the end-of-stream page is missing
        assert "décodées sur 4,9 s annoncées" in result.reason


def test_the_mp3_of_the_report_gets_the_french_reason(archive, recording):
    path = cut(recording("cbr.mp3"))
    result = ingest_file(archive, path)
    assert result.reason == f"{path} : fichier tronqué (1,6 s décodées sur 4,9 s annoncées)"


def test_a_wav_whose_header_promises_more_data_is_refused(archive, recording):
    """FFmpeg clips a WAV's data size to the file: the header's own size is read."""
    path = cut(recording("plain.wav"), fraction=0.8)
    assert probe(path).duration < SECONDS * 0.85  # what FFmpeg announces is already the cut length
    result = ingest_file(archive, path)
    assert result.status == "failed" and "sur 4,9 s annoncées" in result.reason


def test_a_small_shortfall_is_tolerated_a_real_one_is_not(recording):
    path = recording("lossless.flac")
    info = probe(path)
    check_complete(path, info, SECONDS - 0.4)  # within 0.5 s: decoder priming, rounding
    long_info = AudioInfo("flac", "flac", 44100, 1, 3600.0, None)
    check_complete(path, long_info, 3600.0 - 30)  # within 1 % of an hour
    with pytest.raises(AudioError, match=r"tronqué \(58,0 min décodées sur 60,0 min annoncées\)"):
        check_complete(path, long_info, 3600.0 - 120)


def test_unknown_lengths_are_not_guessed(recording):
    """Formats whose header holds no exact length (raw AAC, AMR, mp3 without a Xing header) are
    never refused for a duration FFmpeg only estimated."""
    for name in ("raw.aac", "phone.amr", "vbr-no-header.mp3"):
        path = recording(name)
        info = probe(path)
        check_complete(path, AudioInfo(info.format, info.codec, info.sample_rate, 1, info.duration * 10, None),
                       info.duration)


def test_a_streamed_wav_without_a_data_size_is_not_refused(archive, recording):
    path = recording("plain.wav")
    data = bytearray(path.read_bytes())
    at = data.index(b"data")
    data[at + 4:at + 8] = (0xFFFFFFFF).to_bytes(4, "little")  # a recorder that never finished its header
    path.write_bytes(bytes(data))
    assert ingest_file(archive, path).status == "ingested"


def test_a_short_whole_file_passes(archive, tmp_path):
    path = encode(speechlike(0.6, 16000), tmp_path / "court.wav", rate=16000)
    assert ingest_file(archive, path).status == "ingested"


def test_an_ogg_ending_without_its_last_page_flag_is_refused(archive, recording):
    path = recording("voice.ogg")
    data = path.read_bytes()
    last = data.rindex(b"OggS")
    assert data[last + 5] & 0x04  # a complete file ends on an end-of-stream page
    result = ingest_file(archive, cut(path, fraction=last / len(data)))  # cut exactly at a page boundary
    assert result.status == "failed" and "fin du flux Ogg absente" in result.reason


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.8])
def test_mp3_cut_anywhere_is_refused(archive, recording, fraction):
    result = ingest_file(archive, cut(recording("cbr.mp3"), fraction))
    assert result.status == "failed" and "tronqué" in result.reason
