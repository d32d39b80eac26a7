"""Anonymization benchmark: speed of each transform and of the whole stage, and disguise strength.

    .venv/bin/python benchmarks/anonymize.py [--minutes 10] [--speakers ../shared/media/speakers]

1. Real-time factor (× faster than real time, one process) on N minutes of 16 kHz speech made by
   repeating ../shared/media/multilingual.mp3 (or speech-like synthetic audio when absent):
   McAdams, the WORLD speaker normalisation (with its output step), bleeps, and the whole stage (decode, disguise, bleeps, FLAC
   encode into the store) through ``studio.anonymize``. Target: ≥ 20×.
2. Equal-error rate of speaker verifiers (MFCC mean+std statistics and LPC-cepstrum statistics,
   cosine scoring; with the ``bench`` extra also resemblyzer's trained GE2E neural encoder) over
   all pairs of ../shared/media/speakers/: original/original, original/disguised ("ignorant"
   attacker), disguised/disguised with the same key ("lazy-informed", as specified) and with each
   utterance under its own key (what two different testimonies of one person would give).
   Target: ignorant and lazy-informed EER ≥ 35 %.
3. Intelligibility: STOI (pystoi, dev extra) of disguised vs original speech on speakers/ and
   jfk.flac; with KUMA_BENCH_MODEL (a local faster-whisper model), the word error rate on jfk.flac
   through transcripts.engine, original and disguised.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive.audio import decode, encode
from studio import bleep, voice

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
    rows = {
        "McAdams (LPC pole warp)": lambda: sum(len(c) for c in voice.blockwise(
            chunks(), lambda b: voice.mcadams(b, key.alpha), block=block, margin=voice.FRAME)),
        "WORLD + output normalisation": lambda: sum(len(c) for c in voice.blockwise(
            chunks(), lambda b: voice.world_transform(b, key), block=block, margin=voice.RATE // 2, fade=voice.RATE // 50)),
        "bleeps (one per 20 s)": lambda: sum(len(c) for c in bleep.bleep_stream(chunks(), spans, rate=voice.RATE)),
    }
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


def lpc_cepstrum_embedding(x: np.ndarray) -> np.ndarray:
    """A second verifier, independent of the mel filterbank: LPC-cepstrum (order 20, 25 ms frames
    of the louder 70 %) mean and standard deviation, plus the standard deviation of its deltas."""
    x = np.asarray(x, dtype=np.float64)
    x = np.append(x[0], x[1:] - 0.97 * x[:-1])
    size, hop = 400, 160
    count = (len(x) - size) // hop + 1
    frames = np.lib.stride_tricks.as_strided(x, (count, size), (x.strides[0] * hop, x.strides[0])) * np.hamming(size)
    energy = np.einsum("fn,fn->f", frames, frames)
    frames = frames[energy >= np.quantile(energy, 0.3)]
    a = voice.lpc(frames)
    order = a.shape[1] - 1
    c = np.zeros((len(frames), order + 1))
    for n in range(1, order + 1):  # cepstrum of 1/A(z); a loop over 20 coefficients, not samples
        c[:, n] = -a[:, n] - sum(k / n * c[:, k] * a[:, n - k] for k in range(1, n))
    ceps = c[:, 1:]
    delta = np.diff(ceps, axis=0)
    return np.concatenate([ceps.mean(0), ceps.std(0), delta.std(0)])


def neural_embedding():
    """Resemblyzer's GE2E speaker encoder (a trained neural verifier, weights inside the package),
    or None when the optional ``bench`` extra is not installed."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from resemblyzer import VoiceEncoder, preprocess_wav
    except ImportError:
        return None
    encoder = VoiceEncoder("cpu", verbose=False)
    return lambda x: encoder.embed_utterance(preprocess_wav(np.asarray(x, dtype=np.float32), source_sr=voice.RATE))


def verifiers() -> dict:
    found = {"MFCC mean+std": voice.speaker_embedding, "LPC-cepstrum mean+std+Δstd": lpc_cepstrum_embedding}
    neural = neural_embedding()
    if neural is None:
        print("(resemblyzer not installed: the neural verifier is skipped; see docs/anonymization.md for the bench extra)")
    else:
        found["resemblyzer GE2E (neural)"] = neural
    return found


def strength(folder: Path, keys: int) -> None:
    """EER per verifier and condition; disguised conditions averaged over ``keys`` key draws
    (one key draw decides α, the target voice, the warp: a single draw can be lucky)."""
    files = sorted(folder.glob("*.wav"))
    if not files:
        print(f"\n(no speakers in {folder}: strength skipped)")
        return
    audio = [decode(f, rate=voice.RATE) for f in files]
    speaker = np.array([f.name.split("_")[0] for f in files])
    transforms = {
        "McAdams only": lambda x, k: voice.disguise(x, k, source=False),
        "whole disguise": lambda x, k: voice.disguise(x, k),
    }
    print(f"\n== speaker verification EER, cosine scoring, {len(files)} utterances of {len(set(speaker))} speakers, "
          f"all pairs; disguised: mean [min-max] over {keys} keys (target ≥ 35 %) ==")
    for verifier, embed in verifiers().items():
        original = [embed(x) for x in audio]
        print(f"-- verifier: {verifier}")
        print(f"{'original / original':<66} {_pairs_eer(original, original, speaker, True):6.1%}   (reference)")
        for label, transform in transforms.items():
            rows: dict[str, list[float]] = {"ignorant": [], "lazy": [], "own": []}
            for draw in range(keys):
                same_key = voice.VoiceKey.derive("bench", f"one testimony {draw}")
                own = [voice.VoiceKey.derive("bench", f"testimony {draw}.{i}") for i in range(len(files))]
                disguised = [embed(transform(x, same_key)) for x in audio]
                own_keys = [embed(transform(x, k)) for x, k in zip(audio, own)]
                rows["ignorant"].append(_pairs_eer(original, disguised, speaker, False))
                rows["lazy"].append(_pairs_eer(disguised, disguised, speaker, True))
                rows["own"].append(_pairs_eer(own_keys, own_keys, speaker, True))
            names = {"ignorant": "original / disguised (ignorant)",
                     "lazy": "disguised / disguised, same key (lazy-inf.)",
                     "own": "disguised / disguised, key per utterance"}
            for row, name in names.items():
                values = rows[row]
                print(f"{label + ': ' + name:<66} {np.mean(values):6.1%}   [{min(values):.1%}-{max(values):.1%}]"
                      f"   median {np.median(values):.1%}")


def _pairs_eer(a: list, b: list, speaker: np.ndarray, symmetric: bool) -> float:
    scores = voice.cosine_scores(a, b, np.mean(a + b, axis=0))
    mask = ~np.eye(len(a), dtype=bool)
    if symmetric:
        mask &= np.triu(np.ones_like(mask), 1)
    return eer(scores[mask], np.equal.outer(speaker, speaker)[mask])


def intelligibility(folder: Path, keys: int) -> None:
    """STOI (short-time objective intelligibility, 0-1) of disguised vs original speech, and the
    word error rate through a real Whisper model when KUMA_BENCH_MODEL names one."""
    from pystoi import stoi

    recordings = {f.name: decode(f, rate=voice.RATE) for f in sorted(folder.glob("*.wav"))}
    if (SHARED / "jfk.flac").is_file():
        recordings["jfk.flac"] = decode(SHARED / "jfk.flac", rate=voice.RATE)
    if not recordings:
        print("\n(no speech in ../shared/media: intelligibility skipped)")
        return
    transforms = {
        "McAdams only": lambda x, k: voice.disguise(x, k, source=False),
        "WORLD + output step only": lambda x, k: voice.world_transform(x, k),
        "whole disguise (the stage)": lambda x, k: voice.disguise(x, k),
    }
    draws = [voice.VoiceKey.derive("bench", f"one testimony {draw}") for draw in range(keys)]
    print(f"\n== intelligibility: STOI of disguised vs original (1 = unchanged), mean [min-max] over {keys} keys ==")
    print(f"{'':<30} {'speakers/ (12 utt.)':>24} {'jfk.flac':>24}")
    for label, transform in transforms.items():
        cells = []
        for group in (
            [x for name, x in recordings.items() if name != "jfk.flac"],
            [x for name, x in recordings.items() if name == "jfk.flac"],
        ):
            values = [np.mean([stoi(x, transform(x, k), voice.RATE) for x in group]) for k in draws] if group else []
            cells.append(f"{np.mean(values):.3f} [{min(values):.3f}-{max(values):.3f}]" if values else "-")
        print(f"{label:<30} {cells[0]:>24} {cells[1]:>24}")
    word_error_rates(recordings.get("jfk.flac"), draws)


def word_error_rates(jfk: np.ndarray | None, draws: list) -> None:
    model = os.environ.get("KUMA_BENCH_MODEL")
    if not model:
        print("(KUMA_BENCH_MODEL not set: word error rate of disguised speech not measured)")
        return
    if jfk is None:
        print("(../shared/media/jfk.flac absent: word error rate not measured)")
        return
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from transcribe import JFK_REFERENCE, word_error_rate

    from archive.settings import Settings
    from transcripts.engine import Engine, TranscribeOptions

    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(Settings(home=Path(tmp), whisper_model=model, whisper_device="cpu"))

        def text(x: np.ndarray) -> str:
            result = engine.transcribe(x.astype(np.float32), model=model, language="en", options=TranscribeOptions())
            return " ".join(segment.text for segment in result.segments)

        print(f"word error rate on jfk.flac ({model}): original {word_error_rate(JFK_REFERENCE, text(jfk)):.1%}")
        for i, key in enumerate(draws):
            print(f"  disguised, key {i}: {word_error_rate(JFK_REFERENCE, text(voice.disguise(jfk, key))):.1%}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--speakers", type=Path, default=SHARED / "speakers")
    parser.add_argument("--keys", type=int, default=5, help="key draws the strength and STOI figures average over")
    parser.add_argument("--skip-speed", action="store_true")
    args = parser.parse_args()
    if not args.skip_speed:
        speed(args.minutes)
    strength(args.speakers, args.keys)
    intelligibility(args.speakers, args.keys)


if __name__ == "__main__":
    main()
