"""Anonymization benchmark: speed of the disguise in each mode, of the bleeps and of the whole stage.

    .venv/bin/python benchmarks/anonymize.py [--minutes 10]

Real-time factor (× faster than real time, one process) on N minutes of 16 kHz speech made by
repeating ../shared/media/multilingual.mp3 (or speech-like synthetic audio when absent): the voice
disguise in each mode, the bleeps, and the whole stage (decode, disguise, bleeps, FLAC encode into
the store; its temporary archive has no model, so the intelligibility gate records "not measured") through
``anonymization.stage``. Target: ≥ 20×. How well the disguise hides the speaker and keeps the words is
measured by benchmarks/voice.py.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive.audio import decode, encode
from anonymization import bleep, voice

SHARED = ROOT.parent / "shared" / "media"


def speech(minutes: float) -> np.ndarray:
    source = SHARED / "multilingual.mp3"
    if source.exists():
        base = decode(source, rate=voice.RATE)
    else:
        sys.path.insert(0, str(ROOT / "tests"))
        from conftest import speechlike

        base = speechlike(60.0)
    repeats = int(np.ceil(minutes * 60 * voice.RATE / len(base)))
    return np.tile(base, repeats)[: int(minutes * 60 * voice.RATE)]


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def speed(minutes: float) -> None:
    x = speech(minutes)
    seconds = len(x) / voice.RATE
    key = voice.VoiceKey.derive("bench", "testimony")
    block = int(voice.BLOCK_S * voice.RATE)
    chunks = lambda: (x[i:i + block] for i in range(0, len(x), block))
    spans = [(t, t + 0.5) for t in np.arange(5.0, seconds, 20.0)]
    rows = {f"disguise, {mode}": (lambda mode=mode: sum(len(c) for c in voice.disguise_stream(chunks(), key, mode)))
            for mode in voice.Mode}
    rows["bleeps (one per 20 s)"] = lambda: sum(len(c) for c in bleep.bleep_stream(chunks(), spans, rate=voice.RATE))
    print(f"\n== speed on {seconds / 60:.0f} min of 16 kHz speech (target ≥ 20× real time) ==")
    for name, fn in rows.items():
        elapsed = timed(fn)
        print(f"{name:<28} {elapsed:7.1f} s   {seconds / elapsed:6.1f}× real time")
    elapsed, _ = stage_time(x)
    print(f"{'whole stage (kuma anonymize)':<28} {elapsed:7.1f} s   {seconds / elapsed:6.1f}× real time"
          f"   (decode + disguise + bleeps + FLAC + store)")


def stage_time(x: np.ndarray) -> tuple[float, float]:
    from archive.db import Archive
    from archive.models import Segment, Transcript, Word
    from archive.settings import Settings
    from archive.testimonies import get
    from ingest.pipeline import ingest_file
    from anonymization.stage import anonymize

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "long.flac"
        encode(x, path, rate=voice.RATE)
        path.with_suffix(".yaml").write_text(
            "language: fr\nconsent: {archive: true, broadcast: true}\nsensitive_terms: [Moussa Diarra]\n")
        archive = Archive(Settings(home=Path(tmp) / "home", secret_key="bench"))
        public_id = ingest_file(archive, path).public_id
        with archive.session() as session:
            testimony = get(session, public_id)
            segments = []
            for i, t in enumerate(np.arange(0.0, len(x) / voice.RATE - 5, 5.0)):
                segment = Segment(idx=i, start=t, end=t + 4.0, text="je suis Moussa Diarra de Kayes")
                segment.words = [Word(idx=j, start=t + 0.6 * j, end=t + 0.6 * j + 0.5, word=w)
                                 for j, w in enumerate(segment.text.split())]
                segments.append(segment)
            session.add(Transcript(testimony_id=testimony.id, version=1, source="asr", segments=segments))
        elapsed = timed(lambda: anonymize(archive, public_id))
        archive.dispose()
        return elapsed, len(x) / voice.RATE


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args()
    speed(args.minutes)


if __name__ == "__main__":
    main()
