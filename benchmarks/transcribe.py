"""The transcribe stage vs. a bare faster-whisper loop, on the same audio and the same model.

    .venv/bin/python benchmarks/transcribe.py [--seconds 60] [--repeat 3]
    KUMA_BENCH_MODEL=/path/to/ct2-whisper .venv/bin/python benchmarks/transcribe.py

(a) bare: ``WhisperModel.transcribe`` on the decoded audio array, every segment consumed;
(b) ours: the full ``kuma transcribe`` stage (consent check, fingerprint, decoding the working
FLAC, the model, timing clean-up, storing segments and words, theme suggestions, one commit),
``--force`` so that it really runs. Both warm (model loaded once), alternated, median of
``--repeat``. Prints both times, the overhead ratio ours/bare (target <= 1.05) and the real-time
factors. Without KUMA_BENCH_MODEL the model is the tests' tiny random-weight model (its text is
noise; only the overhead is meaningful). With a real model it also prints RTF and word error
rate on ../shared/media/jfk.flac and the Common Voice French sample (that one's reference text
comes from KUMA_BENCH_FR_REFERENCE, as SOURCES.md does not give it).
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive.audio import decode, encode  # noqa: E402
from archive.db import Archive  # noqa: E402
from archive.settings import Settings  # noqa: E402
from ingest.pipeline import ingest_file  # noqa: E402
from ingest.sidecar import IntakeMetadata  # noqa: E402
from transcripts.engine import SAMPLE_RATE, TranscribeOptions  # noqa: E402
from transcripts.stage import Transcriber  # noqa: E402

MEDIA = ROOT.parent / "shared" / "media"
JFK_REFERENCE = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."
CONSENT = {"archive": True, "identity": "anonymous", "voice": "disguise"}


def word_error_rate(reference: str, hypothesis: str) -> float:
    ref, hyp = _words(reference), _words(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        current = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h))
        previous = current
    return previous[-1] / max(len(ref), 1)


def _words(text: str) -> list[str]:
    return re.sub(r"[^\w' ]+", " ", text.lower()).split()


def bench_audio(folder: Path, seconds: float) -> Path:
    """Real speech (jfk.flac, repeated) when ../shared/media is here, else speech-like sound."""
    if (MEDIA / "jfk.flac").is_file():
        speech = decode(MEDIA / "jfk.flac", rate=SAMPLE_RATE)
        audio = np.tile(speech, int(np.ceil(seconds * SAMPLE_RATE / speech.size)))[: int(seconds * SAMPLE_RATE)]
    else:
        from tests.conftest import speechlike

        audio = speechlike(seconds)
    return encode(audio, folder / "bench.flac", rate=SAMPLE_RATE)


def setup(home: Path, model: str, audio: Path, language: str) -> tuple[Transcriber, str]:
    settings = Settings(home=home, whisper_model=model, secret_key="bench", whisper_device="cpu")
    archive = Archive(settings)
    result = ingest_file(archive, audio, metadata=IntakeMetadata(language=language, consent=CONSENT))
    if result.status != "ingested":
        raise SystemExit(f"ingest failed: {result.reason}")
    options = TranscribeOptions(max_new_tokens=None if os.environ.get("KUMA_BENCH_MODEL") else 20)
    return Transcriber(archive, options=options, actor="bench"), result.public_id


def compare(transcriber: Transcriber, public_id: str, audio_path: Path, language: str, repeat: int) -> None:
    options = transcriber.options
    whisper = transcriber.engine.model(transcriber.settings.whisper_model)
    audio = decode(audio_path, rate=SAMPLE_RATE)
    duration = audio.size / SAMPLE_RATE
    transcriber.run(public_id, force=True)  # warm-up: model loaded, caches filled
    bare_times, ours_times = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        segments, _info = whisper.transcribe(audio, language=language, **options.transcribe_kwargs())
        for _segment in segments:
            pass
        t1 = time.perf_counter()
        result = transcriber.run(public_id, force=True)
        t2 = time.perf_counter()
        if result.status != "done":
            raise SystemExit(f"stage failed: {result.reason}")
        bare_times.append(t1 - t0)
        ours_times.append(t2 - t1)
    bare, ours = statistics.median(bare_times), statistics.median(ours_times)
    print(f"audio: {duration:.1f} s, model: {transcriber.settings.whisper_model}, median of {repeat}")
    print(f"bare WhisperModel.transcribe : {bare:7.2f} s  RTF {bare / duration:.3f}")
    print(f"kuma transcribe stage        : {ours:7.2f} s  RTF {ours / duration:.3f}")
    print(f"overhead ratio ours/bare     : {ours / bare:.3f}  (target <= 1.05)")


def quality(model: str, tmp: Path) -> None:
    samples = [("jfk.flac", "en", JFK_REFERENCE),
               ("common_voice_fr_17299458.wav", "fr", os.environ.get("KUMA_BENCH_FR_REFERENCE"))]
    for name, language, reference in samples:
        if not (MEDIA / name).is_file():
            print(f"{name}: absent from ../shared/media, skipped")
            continue
        transcriber, public_id = setup(tmp / f"q-{language}", model, MEDIA / name, language)
        transcriber.options = TranscribeOptions()
        transcriber.engine.model(model)  # load outside the timing
        t0 = time.perf_counter()
        transcriber.run(public_id)
        elapsed = time.perf_counter() - t0
        with transcriber.archive.session() as session:
            from archive.consent import preferred_transcript
            from archive.testimonies import get

            testimony = get(session, public_id)
            text = " ".join(s.text for s in preferred_transcript(session, testimony.id).segments)
            duration = testimony.duration
        wer = f"WER {word_error_rate(reference, text):.3f}" if reference else "WER n/a (set KUMA_BENCH_FR_REFERENCE)"
        print(f"{name}: RTF {elapsed / duration:.3f}  {wer}  «{text[:100]}»")
        transcriber.archive.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = os.environ.get("KUMA_BENCH_MODEL")
        if not model:
            from tests.whisper_fixture import build_tiny_whisper

            model = str(build_tiny_whisper(tmp / "tiny-whisper"))
            print("model: the tests' tiny random-weight Whisper (no KUMA_BENCH_MODEL): overhead only")
        audio = bench_audio(tmp, args.seconds)
        transcriber, public_id = setup(tmp / "home", model, audio, "en")
        compare(transcriber, public_id, audio, "en", args.repeat)
        transcriber.archive.dispose()
        if os.environ.get("KUMA_BENCH_MODEL"):
            quality(model, tmp)


if __name__ == "__main__":
    main()
