"""Voice disguise, privacy against intelligibility, side by side in one run.

    .venv/bin/python benchmarks/voice.py [--conditions original,mcadams,v3,light,standard,strong]
                                         [--per-reader 10] [--cache DIR] [--jobs 2]

On ../shared/media/librispeech (10 readers x 10 read utterances; skipped when absent), for the
original speech, the VoicePrivacy McAdams baseline B2 (alpha drawn in [0.5, 0.9] per key), Kuma's
previous disguise (ANONYMIZATION_VERSION 3) and each Kuma mode:

- EER of two speaker verifiers, cosine scoring over every (enrolment, trial) pair of different
  utterances: resemblyzer's trained GE2E encoder (needs the ``bench`` extra, see
  docs/anonymization.md) and the MFCC-statistics verifier of ``anonymization.voice``. Every utterance is
  a testimony with its own key. "ignorant": the attacker enrols on original speech; "lazy-informed":
  he disguises his enrolment utterances with the same system under keys of his own.
- WER added: faster-whisper base (CPU) on the disguised utterance against its own transcript of
  the original, corpus-level (all edits / all reference words), words normalised as the archive
  does (transcripts.quality).
- speed: seconds of audio per second of disguise, one thread, median over utterances.

Every utterance's key comes from a fixed bench secret and its file name, so two runs give the same
audio. Original transcripts and embeddings are cached in --cache (a temporary folder by default).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")  # speed is measured on one core

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive.audio import decode  # noqa: E402
from archive.settings import Settings  # noqa: E402
from anonymization import voice  # noqa: E402
from transcripts.quality import word_error_rate  # noqa: E402

LIBRISPEECH = ROOT.parent / "shared" / "media" / "librispeech"
SECRET = "kuma voice benchmark"
CONDITIONS = ("original", "mcadams", "v3", *[str(m) for m in voice.Mode])


# ----------------------------------------------------------------------------- transforms
def transform(condition: str, x: np.ndarray, label: str, strength: dict | None = None) -> np.ndarray:
    key = voice.VoiceKey.derive(SECRET, label)
    if condition == "original":
        return x
    if condition == "mcadams":
        return voice.disguise_v3(x, key, source=False)  # McAdams alone, the key's alpha
    if condition == "v3":
        return voice.disguise_v3(x, key)
    if condition == "custom":
        fields = {name: tuple(value) if isinstance(value, list) else value for name, value in strength.items()}
        disguiser = voice.Disguiser(key, strength=voice.Strength(**fields))
        return np.concatenate(list(voice.disguise_stream([x], key, disguiser=disguiser)))
    return voice.disguise(x, key, condition)


def _timed_transform(args: tuple) -> tuple[np.ndarray, float]:
    condition, x, label, strength = args
    start = time.process_time()
    y = transform(condition, x, label, strength)
    return y, time.process_time() - start


# ------------------------------------------------------------------------------ measuring
@dataclass
class Utterance:
    name: str
    reader: str
    audio: np.ndarray

    @property
    def seconds(self) -> float:
        return len(self.audio) / voice.RATE


def load(per_reader: int) -> list[Utterance]:
    files = sorted(LIBRISPEECH.glob("*.flac"))
    kept: dict[str, int] = {}
    found = []
    for path in files:
        reader = path.name.split("-")[0]
        if kept.get(reader, 0) < per_reader:
            kept[reader] = kept.get(reader, 0) + 1
            found.append(Utterance(path.stem, reader, decode(path, rate=voice.RATE)))
    return found


class Recognizer:
    """faster-whisper base through the archive's own engine, English, deterministic options."""

    def __init__(self, home: Path, language: str = "en"):
        from transcripts import models
        from transcripts.engine import Engine, TranscribeOptions

        settings = Settings(home=home, whisper_model="base", whisper_device="cpu", whisper_cpu_threads=2)
        models.install(settings, "base")
        self.engine, self.options, self.language = Engine(settings), TranscribeOptions(), language

    def text(self, x: np.ndarray) -> str:
        result = self.engine.transcribe(x.astype(np.float32), model="base", language=self.language, options=self.options)
        return " ".join(segment.text for segment in result.segments)


def ge2e():
    """resemblyzer's GE2E encoder, or None without the ``bench`` extra."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from resemblyzer import VoiceEncoder, preprocess_wav
    except ImportError:
        return None
    encoder = VoiceEncoder("cpu", verbose=False)
    return lambda x: encoder.embed_utterance(preprocess_wav(np.asarray(x, dtype=np.float32), source_sr=voice.RATE))


def pair_eer(enrol: np.ndarray, trial: np.ndarray, readers: np.ndarray) -> float:
    centre = np.concatenate([enrol, trial]).mean(axis=0)
    scores = voice.cosine_scores(list(enrol), list(trial), centre)
    different_utterance = ~np.eye(len(enrol), dtype=bool)
    return voice.equal_error_rate(scores[different_utterance], np.equal.outer(readers, readers)[different_utterance])


def corpus_wer(references: list[str], hypotheses: list[str], language: str = "en") -> float:
    """All edits over all reference words, each pair folded as the archive does."""
    rates = [word_error_rate(r, h, language) for r, h in zip(references, hypotheses)]
    rates = [rate for rate in rates if rate.reference_words]
    edits = sum(rate.substitutions + rate.deletions + rate.insertions for rate in rates)
    return edits / sum(rate.reference_words for rate in rates)


# ------------------------------------------------------------------------------------- run
@dataclass
class Row:
    condition: str
    eer: dict  # verifier -> (ignorant, lazy)
    wer_added: float | None
    speed: float | None


def verifiers() -> dict:
    neural = ge2e()
    if neural is None:
        print("(resemblyzer not installed: GE2E skipped; see docs/anonymization.md for the bench extra)")
        return {"MFCC": voice.speaker_embedding}
    return {"GE2E": neural, "MFCC": voice.speaker_embedding}


def run(utterances: list[Utterance], conditions: list[str], cache: Path, jobs: int,
        strength: dict | None, asr: bool, verifiers: dict) -> list[Row]:
    recognizer = Recognizer(cache / "home") if asr else None
    readers = np.array([u.reader for u in utterances])
    originals = {name: np.stack([cached(cache, f"{name}-{u.name}", lambda u=u: embed(u.audio)) for u in utterances])
                 for name, embed in verifiers.items()}
    reference = [cached(cache, f"asr-{u.name}", lambda u=u: recognizer.text(u.audio)) for u in utterances] if asr else []
    rows = []
    with ProcessPoolExecutor(jobs) as pool:
        for condition in conditions:
            print(f"  {condition}: disguising {len(utterances)} utterances twice (testimony key, attacker key) ...",
                  file=sys.stderr, flush=True)
            jobs_of = lambda prefix: [(condition, u.audio, f"{prefix}:{u.name}", strength) for u in utterances]
            testimony = list(pool.map(_timed_transform, jobs_of("testimony")))
            attacker = list(pool.map(_timed_transform, jobs_of("attacker")))
            speeds = [u.seconds / max(t, 1e-9) for u, (_, t) in zip(utterances, testimony)]
            rates = {}
            for name, embed in verifiers.items():
                trial = np.stack([embed(y) for y, _ in testimony])
                enrol_lazy = np.stack([embed(y) for y, _ in attacker])
                rates[name] = (pair_eer(originals[name], trial, readers), pair_eer(enrol_lazy, trial, readers))
            wer = None
            if asr:
                print(f"  {condition}: transcribing ...", file=sys.stderr, flush=True)
                hypotheses = [recognizer.text(y) for y, _ in testimony]
                (cache / f"hypotheses-{condition}.json").write_text(json.dumps(dict(zip(
                    [u.name for u in utterances], zip(reference, hypotheses))), indent=1, ensure_ascii=False))
                wer = corpus_wer(reference, hypotheses)
            rows.append(Row(condition, rates, wer, None if condition == "original" else statistics.median(speeds)))
            print_row(rows[-1], verifiers)
    return rows


def cached(cache: Path, name: str, compute):
    path = cache / f"{name}.json"
    if path.is_file():
        value = json.loads(path.read_text())
        return np.array(value) if isinstance(value, list) else value
    value = compute()
    path.write_text(json.dumps(value.tolist() if isinstance(value, np.ndarray) else value))
    return value


def header(verifiers) -> str:
    cells = "".join(f"{name + ' ign.':>11}{name + ' lazy':>11}" for name in verifiers)
    return f"{'condition':<12}{cells}{'WER added':>11}{'× RT (1 core)':>15}"


def print_row(row: Row, verifiers) -> None:
    cells = "".join(f"{row.eer[name][0]:>11.1%}{row.eer[name][1]:>11.1%}" for name in verifiers)
    wer = "-" if row.wer_added is None else f"{100 * row.wer_added:.1f} pts"
    speed = "-" if row.speed is None else f"{row.speed:.1f}×"
    print(f"{row.condition:<12}{cells}{wer:>11}{speed:>15}", flush=True)


def verdict(rows: list[Row]) -> None:
    by = {row.condition: row for row in rows}
    base, ours = by.get("mcadams"), by.get(str(voice.DEFAULT_MODE))
    if not (base and ours and "GE2E" in ours.eer and ours.wer_added is not None):
        return
    print(f"\ntargets for the default mode ({voice.DEFAULT_MODE}):")
    checks = [
        ("WER added ≤ 8 pts", 100 * ours.wer_added <= 8.0, f"{100 * ours.wer_added:.1f}"),
        ("GE2E EER ignorant ≥ 40 %", ours.eer["GE2E"][0] >= 0.40, f"{ours.eer['GE2E'][0]:.1%}"),
        ("GE2E EER lazy-informed ≥ 40 %", ours.eer["GE2E"][1] >= 0.40, f"{ours.eer['GE2E'][1]:.1%}"),
        ("beats McAdams on both axes", ours.wer_added < base.wer_added
         and all(o > b for o, b in zip(ours.eer["GE2E"], base.eer["GE2E"])),
         f"WER {100 * ours.wer_added:.1f} vs {100 * base.wer_added:.1f}, EER "
         f"{ours.eer['GE2E'][0]:.1%}/{ours.eer['GE2E'][1]:.1%} vs {base.eer['GE2E'][0]:.1%}/{base.eer['GE2E'][1]:.1%}"),
        ("speed ≥ 20× real time, one core", ours.speed >= 20, f"{ours.speed:.1f}×"),
    ]
    for name, ok, value in checks:
        print(f"  [{'ok' if ok else 'MISSED'}] {name}: {value}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conditions", default=",".join(CONDITIONS))
    parser.add_argument("--per-reader", type=int, default=10,
                        help="utterances per reader, at least 2: enrolment and trial (10 = all)")
    parser.add_argument("--cache", type=Path, help="keeps the originals' transcripts and embeddings between runs")
    parser.add_argument("--jobs", type=int, default=2, help="disguise processes (each measured on one thread)")
    parser.add_argument("--strength", type=json.loads, help="a voice.Strength as JSON: adds condition 'custom'")
    parser.add_argument("--no-asr", action="store_true", help="privacy only (no WER)")
    args = parser.parse_args()
    if not LIBRISPEECH.is_dir():
        print(f"(no {LIBRISPEECH}: the team's shared recordings are not beside the project; nothing measured)")
        return
    if args.per_reader < 2:
        parser.error("--per-reader must be at least 2: a reader's enrolment and trial are different utterances")
    conditions = args.conditions.split(",") + (["custom"] if args.strength else [])
    unknown = set(conditions) - set(CONDITIONS) - {"custom"}
    if unknown:
        parser.error(f"unknown conditions: {', '.join(sorted(unknown))}")
    utterances = load(args.per_reader)
    minutes = sum(u.seconds for u in utterances) / 60
    print(f"== voice disguise: {len(utterances)} utterances of {len({u.reader for u in utterances})} readers "
          f"({minutes:.1f} min), every utterance its own key ==")
    with tempfile.TemporaryDirectory() as tmp:
        cache = args.cache or Path(tmp)
        cache.mkdir(parents=True, exist_ok=True)
        found = verifiers()
        print(header(found))
        rows = run(utterances, conditions, cache, args.jobs, args.strength, not args.no_asr, found)
    verdict(rows)


if __name__ == "__main__":
    main()
