"""Should the voice disguise read the DeepFilterNet-cleaned copy or the raw working copy?

    .venv/bin/python benchmarks/clean_disguise.py [--per-reader 3] [--noises noise1,noise4,pink] [--snrs 10,5]
                                                  [--out build/clean-disguise/results.jsonl]

About 45 minutes on one core for the defaults (210 LibriSpeech items and the 3 demo samples).
Needs the team's test media (LibriSpeech utterances and noise recordings, as benchmarks/voice.py
and benchmarks/cleanup.py); without them only the demo samples are measured.

Per item (one per-item voice key, as benchmarks/voice.py derives it for the testimony), with
faster-whisper base (archive engine and options, one CPU thread) and the archive's word folding:
  a  raw                 : Whisper on the raw (noisy) input
  e  clean(raw)          : Whisper on the cleaned input (no disguise)
  b  disguise(raw)
  c  disguise(clean(raw))  (what the pipeline does today: the disguise reads the cleaned copy)
  d  clean(disguise(raw))
Cleaning as sound/stage.py does it: integrated loudness of the whole input (sound.meter), then
sound.clean_stream over 10 s chunks with that loudness. Disguise: anonymization.voice.disguise_stream
over 10 s chunks, default mode (standard), key VoiceKey.derive(benchmarks.voice.SECRET,
"testimony:<name>"). Noise: tests.sound.helpers.mix (RMS SNR) with recorded noises of
../shared/media/noise and generated pink noise, as benchmarks/cleanup.py.

One JSON line per item in results.jsonl (resumable: done items are skipped); then a table: corpus
WER per group of each version, c − b with a paired bootstrap 95 % interval, and per-item wins.
References: the demo samples' .vtt scripts; for LibriSpeech, Whisper base's transcript of the
clean original (as benchmarks/voice.py), so every figure there is WER added to Whisper's own.
"""
from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive.audio import decode  # noqa: E402
from archive.settings import Settings  # noqa: E402
from anonymization import voice  # noqa: E402
from benchmarks.cleanup import MEDIA, noises  # noqa: E402
from benchmarks.voice import SECRET, load  # noqa: E402
from sound import clean_stream  # noqa: E402
from sound.meter import Meter  # noqa: E402
from tests.sound.helpers import mix  # noqa: E402
from transcripts.quality import word_error_rate  # noqa: E402

OUT = ROOT / "build" / "clean-disguise"
RATE = voice.RATE  # 16 kHz, the working copy's and the disguise's rate
CHUNK = int(10.0 * RATE)  # sound/stage.py and anonymization/disguise.py both stream 10 s chunks
DEMO = ROOT / "api" / "demo_data"


class Recognizer:
    """benchmarks.voice.Recognizer, but one CPU thread (another job shares this machine)."""

    def __init__(self, home: Path):
        from transcripts import models
        from transcripts.engine import Engine, TranscribeOptions

        settings = Settings(home=home, whisper_model="base", whisper_device="cpu", whisper_cpu_threads=1)
        models.install(settings, "base")
        self.engine, self.options = Engine(settings), TranscribeOptions()

    def text(self, x: np.ndarray, language: str) -> str:
        result = self.engine.transcribe(np.asarray(x, np.float32), model="base", language=language, options=self.options)
        return " ".join(segment.text for segment in result.segments)


def chunks(x: np.ndarray):
    return [x[i:i + CHUNK] for i in range(0, len(x), CHUNK)] or [x]


def clean(x: np.ndarray) -> np.ndarray:
    """What the clean stage makes of a working copy (sound/stage.py _write_cleaned, minus the FLAC)."""
    meter = Meter(RATE, 1)
    for c in chunks(x):
        meter.feed(c)
    loudness = meter.result().integrated
    return np.concatenate(list(clean_stream(iter(chunks(x)), RATE, loudness=loudness))).astype(np.float32)


def disguise(x: np.ndarray, label: str) -> np.ndarray:
    key = voice.VoiceKey.derive(SECRET, f"testimony:{label}")  # the same key for every version of an item
    return np.concatenate(list(voice.disguise_stream(iter(chunks(x)), key, voice.DEFAULT_MODE))).astype(np.float32)


def loudness(x: np.ndarray) -> float:
    meter = Meter(RATE, 1)
    meter.feed(x)
    return meter.result().integrated


def vtt_text(path: Path) -> str:
    lines = path.read_text(encoding="utf-8").splitlines()
    keep = [ln for ln in lines if ln.strip() and ln.strip() != "WEBVTT" and "-->" not in ln and not re.fullmatch(r"\d+", ln.strip())]
    return " ".join(keep)


def errors(reference: str, hypothesis: str, language: str) -> dict:
    rate = word_error_rate(reference, hypothesis, language)
    return {"edits": rate.substitutions + rate.deletions + rate.insertions, "words": rate.reference_words}


def process(asr: Recognizer, group: str, name: str, label: str, raw: np.ndarray, reference: str,
            language: str, extra: dict) -> dict:
    timing = {}
    t = time.perf_counter()
    cleaned = clean(raw)
    timing["clean"] = time.perf_counter() - t
    t = time.perf_counter()
    dis_raw = disguise(raw, label)
    timing["disguise"] = time.perf_counter() - t
    dis_clean = disguise(cleaned, label)
    clean_dis = clean(dis_raw)
    versions = {"a_raw": raw, "e_clean": cleaned, "b_dis_raw": dis_raw, "c_dis_clean": dis_clean, "d_clean_dis": clean_dis}
    texts, counts = {}, {}
    t = time.perf_counter()
    for key, audio in versions.items():
        texts[key] = asr.text(audio, language)
        counts[key] = errors(reference, texts[key], language)
    timing["asr5"] = time.perf_counter() - t
    removed = raw.astype(np.float64) - cleaned
    est_snr = 10 * np.log10(np.sum(cleaned.astype(np.float64) ** 2) / max(np.sum(removed ** 2), 1e-12))
    return {"group": group, "name": name, "label": label, "language": language, "seconds": len(raw) / RATE,
            "reference": reference, "texts": texts, "counts": counts, "timing": timing,
            "measured": {"loudness_raw": loudness(raw), "loudness_clean": loudness(cleaned),
                         "est_snr_db": float(est_snr)}, **extra}


KEYS = ("a_raw", "e_clean", "b_dis_raw", "c_dis_clean", "d_clean_dis")
ORDER = ["clean", "noise1@10dB", "noise4@10dB", "pink@10dB", "noise1@5dB", "noise4@5dB", "pink@5dB", "demo"]


def wer(items, key) -> float:
    return sum(r["counts"][key]["edits"] for r in items) / sum(r["counts"][key]["words"] for r in items)


def wins(items) -> tuple[int, int, int]:
    c = sum(r["counts"]["c_dis_clean"]["edits"] < r["counts"]["b_dis_raw"]["edits"] for r in items)
    b = sum(r["counts"]["b_dis_raw"]["edits"] < r["counts"]["c_dis_clean"]["edits"] for r in items)
    return c, b, len(items) - b - c


def bootstrap(items, reps: int = 4000, seed: int = 0) -> tuple[float, float]:
    """95 % interval of WER(c) - WER(b), items resampled with replacement (paired)."""
    rng = np.random.default_rng(seed)
    eb = np.array([r["counts"]["b_dis_raw"]["edits"] for r in items], float)
    ec = np.array([r["counts"]["c_dis_clean"]["edits"] for r in items], float)
    w = np.array([r["counts"]["b_dis_raw"]["words"] for r in items], float)
    idx = rng.integers(0, len(items), size=(reps, len(items)))
    diff = (ec[idx].sum(1) - eb[idx].sum(1)) / w[idx].sum(1)
    lo, hi = np.percentile(diff, [2.5, 97.5])
    return float(lo), float(hi)


def drop(r) -> float:
    """Loudness the clean stage removes (LU): integrated loudness of the input minus the cleaned copy's."""
    return r["measured"]["loudness_raw"] - r["measured"]["loudness_clean"]


def table(groups: dict[str, list[dict]]) -> str:
    head = ("| group | items | ref. words | a: raw | e: clean(raw) | b: disguise(raw) | c: disguise(clean(raw)) "
            "| c − b [95 % CI] | d: clean(disguise(raw)) | c better / b better / tie | median loudness removed (LU) |")
    lines = [head, "|" + "---|" * 11]
    for name, items in groups.items():
        if not items:
            continue
        lo, hi = bootstrap(items)
        c, b, t = wins(items)
        words = sum(r["counts"]["a_raw"]["words"] for r in items)
        cells = [f"{100 * wer(items, k):.1f}" for k in KEYS]
        diff = 100 * (wer(items, "c_dis_clean") - wer(items, "b_dis_raw"))
        lines.append(f"| {name} | {len(items)} | {words} | {cells[0]} | {cells[1]} | {cells[2]} | {cells[3]} "
                     f"| {diff:+.1f} [{100 * lo:+.1f}, {100 * hi:+.1f}] | {cells[4]} | {c} / {b} / {t} "
                     f"| {np.median([drop(r) for r in items]):.1f} |")
    return "\n".join(lines)


def report(path: Path) -> None:
    items = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    by = defaultdict(list)
    for row in items:
        by[row["group"]].append(row)
    groups = {g: by[g] for g in ORDER if g in by}
    noisy = [r for r in items if r.get("snr_db") is not None]
    if noisy:
        groups["all noisy"] = noisy
    print(table(groups))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-reader", type=int, default=3)
    parser.add_argument("--noises", default="noise1,noise4,pink")
    parser.add_argument("--snrs", default="10,5")
    parser.add_argument("--out", type=Path, default=OUT / "results.jsonl")
    args = parser.parse_args()
    done = set()
    if args.out.is_file():
        done = {(r["group"], r["name"]) for r in map(json.loads, args.out.read_text().splitlines()) if r}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    asr = Recognizer(args.out.parent / "home")
    started = time.time()
    log = open(args.out, "a", encoding="utf-8")

    def emit(row):
        log.write(json.dumps(row, ensure_ascii=False) + "\n")
        log.flush()
        c = row["counts"]
        print(f"[{time.time() - started:6.0f}s] {row['group']:<12} {row['name']:<18} "
              + " ".join(f"{k[:1]}={c[k]['edits']}/{c[k]['words']}" for k in c)
              + f" estSNR={row['measured']['est_snr_db']:.1f}", flush=True)

    # demo samples, as they are (French, espeak-like synthetic testimony; reference = their .vtt script)
    for ogg in sorted(DEMO.glob("*.ogg")):
        if ("demo", ogg.stem) in done:
            continue
        raw = decode(ogg, rate=RATE).astype(np.float32)
        script = vtt_text(ogg.with_suffix(".vtt"))
        original = asr.text(raw, "fr")
        emit(process(asr, "demo", ogg.stem, ogg.stem, raw, script, "fr", {"whisper_on_original": original}))

    if not MEDIA.exists():
        print(f"{MEDIA} is absent: the demo samples only")
        report(args.out)
        return
    utterances = load(args.per_reader)
    noise = noises()
    selected = {n: noise[n] for n in args.noises.split(",")}
    snrs = [float(s) for s in args.snrs.split(",")]
    cache = args.out.parent / "references.json"
    references = json.loads(cache.read_text()) if cache.is_file() else {}
    for u in utterances:
        if u.name not in references:
            references[u.name] = asr.text(u.audio, "en")
            cache.write_text(json.dumps(references, indent=1, ensure_ascii=False))
        conditions = [("clean", None, None)] + [(f"{n}@{s:g}dB", n, s) for s in snrs for n in selected]
        for group, n, s in conditions:
            if (group, u.name) in done:
                continue
            raw = u.audio.astype(np.float32) if n is None else mix(u.audio, selected[n], s)
            emit(process(asr, group, u.name, u.name, raw, references[u.name], "en",
                         {"reader": u.reader, "noise": n, "snr_db": s}))
    print(f"done in {time.time() - started:.0f} s", flush=True)
    report(args.out)


if __name__ == "__main__":
    main()
