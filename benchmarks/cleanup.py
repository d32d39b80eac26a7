"""Speech cleanup (sound.clean_speech), cost and gain side by side in one run.

    .venv/bin/python benchmarks/cleanup.py [--files 12] [--snr 5] [--atten 20]

Read speech from ../shared/media/librispeech (every 100/--files-th utterance; espeak-ng French
sentences when absent) mixed at --snr dB with each recorded noise of ../shared/media/noise and
with generated white and pink noise. For each noise type, the median over files of:

- SI-SNR (dB, gain over the noisy mix in brackets) of: the noisy mix against the clean source
  ("in"); the high-pass and hum notches alone; DeepFilterNet alone (``denoise``), against the
  source; the whole chain (``clean_speech``: DeepFilterNet, then the filters). Outputs of the
  filters are measured against the source through the same filters (their deliberate changes,
  rumble removed and phase turned near the cut-offs, are not noise; see docs/sound.md);
- speed: seconds of audio per second of ``clean_speech``, one thread.

Last line: overall medians and the process's peak RSS.

With --wer N: word error rate of faster-whisper base (the archive's own engine, installed into a
temporary KUMA_HOME) on the noisy and on the cleaned mix of the first N utterances, per noise
type, against its own transcript of the clean source (LibriSpeech here has no transcripts), pooled
over utterances (all edits / all reference words).
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ.setdefault(_name, "1")  # speed is measured on one core

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive.audio import decode  # noqa: E402
from sound import SpeechFilters, clean_speech, denoise  # noqa: E402
from tests.sound.helpers import espeak, mix, pink_noise, si_snr  # noqa: E402

MEDIA = ROOT.parent / "shared" / "media"
RATE = 16_000
SENTENCES = ("Je suis rentré de Libye il y a trois mois, et je n'ai pas encore retrouvé de travail.",
             "Nous étions nombreux dans le camion, et personne ne savait où nous allions.",
             "À l'aéroport, on nous a donné un peu d'argent et un numéro de téléphone.")


def speech_files(count: int) -> dict[str, np.ndarray]:
    files = sorted((MEDIA / "librispeech").glob("*.flac"))
    if files:
        return {f.stem: decode(f, rate=RATE) for f in files[::max(1, len(files) // count)][:count]}
    print("../shared/media absent: espeak-ng sentences instead (synthetic voice)")
    with tempfile.TemporaryDirectory() as tmp:
        return {f"espeak{i}": espeak(text, RATE, Path(tmp)) for i, text in enumerate(SENTENCES)}


def noises(seconds: int = 40) -> dict[str, np.ndarray]:
    found = {p.stem: decode(p, rate=RATE) for p in sorted((MEDIA / "noise").glob("*.wav"))}
    white = np.random.default_rng(0).normal(size=RATE * seconds).astype(np.float32)
    return {**found, "white": white, "pink": pink_noise(RATE * seconds)}


def measure(speech: np.ndarray, noise: np.ndarray, snr: float, atten: float) -> dict[str, float]:
    noisy = mix(speech, noise, snr)
    start = time.process_time()
    cleaned = clean_speech(noisy, RATE, atten_limit_db=atten)
    seconds = time.process_time() - start
    filtered = SpeechFilters(RATE).filter(speech)
    return {"in": si_snr(noisy, speech), "filters": si_snr(SpeechFilters(RATE).filter(noisy), filtered),
            "dfn": si_snr(denoise(noisy, RATE, atten_limit_db=atten), speech),
            "chain": si_snr(cleaned, filtered), "xrt": speech.size / RATE / seconds}


def row(name: str, results: list[dict[str, float]]) -> str:
    med = {key: statistics.median(r[key] for r in results) for key in results[0]}
    cells = " ".join(f"{med[key]:>6.1f} ({med[key] - med['in']:+5.1f})" for key in ("filters", "dfn", "chain"))
    return f"{name:<8} {med['in']:>6.1f}  {cells}  {med['xrt']:>6.1f}"


def wer_table(speech: list[np.ndarray], snr: float, atten: float) -> None:
    from benchmarks.voice import Recognizer, corpus_wer  # the voice benchmark's recognizer and WER

    with tempfile.TemporaryDirectory() as home:
        asr = Recognizer(Path(home))
        references = [asr.text(s) for s in speech]
        print(f"\nWER (faster-whisper base, against its transcript of the clean source), {len(speech)} utterances")
        print(f"{'noise':<8} {'noisy':>7} {'cleaned':>8}")
        for name, noise in noises().items():
            noisy = [mix(s, noise, snr) for s in speech]
            cleaned = [clean_speech(x, RATE, atten_limit_db=atten) for x in noisy]
            print(f"{name:<8} {corpus_wer(references, [asr.text(x) for x in noisy]):>7.1%} "
                  f"{corpus_wer(references, [asr.text(x) for x in cleaned]):>8.1%}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=12)
    parser.add_argument("--snr", type=float, default=5.0)
    parser.add_argument("--atten", type=float, default=20.0)
    parser.add_argument("--wer", type=int, default=0, metavar="N", help="WER on the first N utterances")
    args = parser.parse_args()
    speech = speech_files(args.files)
    minutes = sum(s.size for s in speech.values()) / RATE / 60
    print(f"{len(speech)} utterances, {minutes:.1f} min of speech, each mixed at {args.snr:g} dB SNR, "
          f"attenuation limit {args.atten:g} dB; medians over utterances; SI-SNR in dB")
    print(f"{'noise':<8} {'in':>6}  {'filters only':>14} {'DFN only':>14} {'chain':>14}  {'x RT':>6}")
    every = []
    for name, noise in noises().items():
        results = [measure(s, noise, args.snr, args.atten) for s in speech.values()]
        every += results
        print(row(name, results), flush=True)
    print(row("all", every))
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    if args.wer:
        wer_table(list(speech.values())[:args.wer], args.snr, args.atten)


if __name__ == "__main__":
    main()
