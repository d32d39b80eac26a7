"""Anonymization benchmark: speed of each transform and of the whole stage, and disguise strength.

    .venv/bin/python benchmarks/anonymize.py [--minutes 10] [--speakers ../shared/media/speakers]

1. Real-time factor (× faster than real time, one process) on N minutes of 16 kHz speech made by
   repeating ../shared/media/multilingual.mp3 (or speech-like synthetic audio when absent):
   McAdams, the WORLD source transform, bleeps, and the whole stage (decode, disguise, bleeps, FLAC
   encode into the store) through ``studio.anonymize``. Target: ≥ 20×.
2. Equal-error rate of a simple speaker verifier (MFCC mean+std statistics, cosine scoring) over
   all pairs of ../shared/media/speakers/: original/original, original/disguised ("ignorant"
   attacker), disguised/disguised with the same key ("lazy-informed", as specified) and with each
   utterance under its own key (what two different testimonies of one person would give).
   Target: ignorant and lazy-informed EER ≥ 35 %.
3. The word error rate of disguised vs original speech (KUMA_BENCH_MODEL) is not measured yet.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive.audio import decode, encode  # noqa: E402
from studio import bleep, voice  # noqa: E402

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
    chunks = lambda: (x[i:i + block] for i in range(0, len(x), block))  # noqa: E731
    spans = [(t, t + 0.5) for t in np.arange(5.0, seconds, 20.0)]
    rows = {
        "McAdams (LPC pole warp)": lambda: sum(len(c) for c in voice.blockwise(
            chunks(), lambda b: voice.mcadams(b, key.alpha), block=block, margin=voice.FRAME)),
        "WORLD F0 + envelope warp": lambda: sum(len(c) for c in voice.blockwise(
            chunks(), lambda b: voice.world_transform(b, key), block=block, margin=voice.RATE // 2, fade=320)),
        "bleeps (one per 20 s)": lambda: sum(len(c) for c in bleep.bleep_stream(chunks(), spans, rate=voice.RATE)),
    }
    print(f"\n== speed on {seconds / 60:.0f} min of 16 kHz speech (target ≥ 20× real time) ==")
    for name, fn in rows.items():
        elapsed = timed(fn)
        print(f"{name:<28} {elapsed:7.1f} s   {seconds / elapsed:6.1f}× real time")
    elapsed, total = stage_time(x)
    print(f"{'whole stage (kuma anonymize)':<28} {elapsed:7.1f} s   {seconds / elapsed:6.1f}× real time"
          f"   (decode + disguise + bleeps + FLAC + store)")


def stage_time(x: np.ndarray) -> tuple[float, float]:
    from archive.db import Archive
    from archive.models import Segment, Transcript, Word
    from archive.settings import Settings
    from archive.testimonies import get
    from ingest.pipeline import ingest_file
    from studio.anonymize import anonymize

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


def eer(scores: np.ndarray, target: np.ndarray) -> float:
    best = 1.0
    for threshold in np.unique(scores):
        far, frr = np.mean(scores[~target] >= threshold), np.mean(scores[target] < threshold)
        best = min(best, max(far, frr))
    return best


def strength(folder: Path) -> None:
    files = sorted(folder.glob("*.wav"))
    if not files:
        print(f"\n(no speakers in {folder}: strength skipped)")
        return
    audio = [decode(f, rate=voice.RATE) for f in files]
    speaker = np.array([f.name.split("_")[0] for f in files])
    same_key = voice.VoiceKey.derive("bench", "one testimony")
    keys = [voice.VoiceKey.derive("bench", f"testimony {i}") for i in range(len(files))]
    original = [voice.speaker_embedding(x) for x in audio]
    results = {}
    for label, source in (("McAdams only", False), ("McAdams + WORLD", True)):
        disguised = [voice.speaker_embedding(voice.disguise(x, same_key, source=source)) for x in audio]
        own_keys = [voice.speaker_embedding(voice.disguise(x, k, source=source)) for x, k in zip(audio, keys)]
        results[label] = (disguised, own_keys)
    print(f"\n== speaker verification EER, MFCC statistics + cosine, {len(files)} utterances of "
          f"{len(set(speaker))} speakers, all pairs (target ≥ 35 %) ==")
    print(f"{'original / original':<55} {_pairs_eer(original, original, speaker, True):6.1%}   (reference)")
    for label, (disguised, own_keys) in results.items():
        print(f"{label + ': original / disguised (ignorant)':<55} {_pairs_eer(original, disguised, speaker, False):6.1%}")
        print(f"{label + ': disguised / disguised, same key (lazy-inf.)':<55} "
              f"{_pairs_eer(disguised, disguised, speaker, True):6.1%}")
        print(f"{label + ': disguised / disguised, key per utterance':<55} "
              f"{_pairs_eer(own_keys, own_keys, speaker, True):6.1%}")


def _pairs_eer(a: list, b: list, speaker: np.ndarray, symmetric: bool) -> float:
    scores = voice.cosine_scores(a, b, np.mean(a + b, axis=0))
    mask = ~np.eye(len(a), dtype=bool)
    if symmetric:
        mask &= np.triu(np.ones_like(mask), 1)
    return eer(scores[mask], np.equal.outer(speaker, speaker)[mask])


def intelligibility() -> None:
    if os.environ.get("KUMA_BENCH_MODEL"):
        print("\n(word error rate of disguised speech: not implemented yet, KUMA_BENCH_MODEL ignored)")
    else:
        print("\n(KUMA_BENCH_MODEL not set: word error rate of disguised speech not measured)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--speakers", type=Path, default=SHARED / "speakers")
    args = parser.parse_args()
    speed(args.minutes)
    strength(args.speakers)
    intelligibility()


if __name__ == "__main__":
    main()
