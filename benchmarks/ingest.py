"""Ingest throughput vs. PyAV decode alone, on the same generated files.

    .venv/bin/python benchmarks/ingest.py [--files 200] [--max-minutes 10]

Generates mixed-format recordings (wav, mp3, m4a, ogg/opus, webm, amr, flac; 5 s to 10 min,
log-uniform), then times, file by file and side by side in one run, (a) a bare PyAV decode of every
frame and (b) the full `kuma ingest` stage (hash, decode + resample, clean FLAC working copy,
atomic store, database record); then (c) the same files as one `kuma ingest` batch with one
worker process per core (`--jobs`, the CLI's default) into a fresh archive, next to (d) the bare
decode spread over as many processes. Prints files/s, audio-hours/hour and the ratios
ours/decode-only (target: <= 1.5): one file at a time (total and median per file), the batch
against the one-process decode, and the batch against the decode with as many processes.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archive.audio import encode_chunks  # noqa: E402
from archive.db import Archive  # noqa: E402
from archive.settings import Settings  # noqa: E402
from ingest.pipeline import ingest_file, ingest_paths  # noqa: E402

FORMATS = [("wav", 16000), ("mp3", 44100), ("m4a", 44100), ("ogg", 48000), ("webm", 48000), ("amr", 8000), ("flac", 44100)]


def make_files(folder: Path, count: int, max_minutes: float, seed: int = 7) -> list[tuple[Path, float]]:
    rng = np.random.default_rng(seed)
    durations = np.exp(rng.uniform(np.log(5), np.log(max_minutes * 60), count))
    files = []
    for n, seconds in enumerate(durations):
        fmt, rate = FORMATS[n % len(FORMATS)]
        block = _voice_block(rate, seed=n)
        total = int(seconds * rate)
        chunks = (block[: min(block.size, total - start)] for start in range(0, total, block.size))
        path = folder / f"rec-{n:03d}.{fmt}"
        encode_chunks(chunks, path, rate=rate, fmt=fmt)
        files.append((path, float(seconds)))
    return files


def _voice_block(rate: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(rate * 5) / rate
    f0 = rng.uniform(90, 220)
    voice = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 8))
    envelope = (np.sin(2 * np.pi * 3 * t) > -0.2).astype(float)
    return (0.2 * voice * envelope + rng.normal(0, 0.01, t.size)).astype(np.float32)


def decode_only(path: Path) -> None:
    with av.open(str(path)) as container:
        for _frame in container.decode(audio=0):
            pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--max-minutes", type=float, default=10.0)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="workers for the batch run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        started = time.perf_counter()
        files = make_files(folder, args.files, args.max_minutes)
        hours = sum(d for _, d in files) / 3600
        print(f"generated {len(files)} files, {hours:.2f} h of audio in {time.perf_counter() - started:.0f} s")
        archive = Archive(Settings(home=Path(tmp) / "home", secret_key="bench"))
        decode_times, ingest_times = [], []
        for path, _ in files:  # side by side, file by file: the same load on the machine for both
            t0 = time.perf_counter()
            decode_only(path)
            t1 = time.perf_counter()
            result = ingest_file(archive, path)
            t2 = time.perf_counter()
            if result.status != "ingested":
                raise SystemExit(f"ingest failed: {result.reason}")
            decode_times.append(t1 - t0)
            ingest_times.append(t2 - t1)
        archive.dispose()
        t0 = time.perf_counter()
        with ProcessPoolExecutor(max_workers=args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            list(pool.map(decode_only, [path for path, _ in files]))
        total_decode_parallel = time.perf_counter() - t0
        batch_archive = Archive(Settings(home=Path(tmp) / "batch-home", secret_key="bench"))
        t0 = time.perf_counter()
        statuses = [r.status for r in ingest_paths(batch_archive, [folder], jobs=args.jobs)]
        total_batch = time.perf_counter() - t0
        batch_archive.dispose()
        if set(statuses) != {"ingested"}:
            raise SystemExit(f"batch ingest: {statuses.count('failed')} failed")
    total_decode, total_ingest = sum(decode_times), sum(ingest_times)
    per_file = [i / d for i, d in zip(ingest_times, decode_times) if d > 0]
    print(f"decode only (PyAV): {total_decode:8.1f} s  {len(files) / total_decode:6.2f} files/s  "
          f"{hours / (total_decode / 3600):8.0f} audio-h/h")
    print(f"kuma ingest       : {total_ingest:8.1f} s  {len(files) / total_ingest:6.2f} files/s  "
          f"{hours / (total_ingest / 3600):8.0f} audio-h/h")
    print(f"kuma ingest -j {args.jobs}  : {total_batch:8.1f} s  {len(files) / total_batch:6.2f} files/s  "
          f"{hours / (total_batch / 3600):8.0f} audio-h/h")
    print(f"ratio ours/decode-only, one file at a time: total {total_ingest / total_decode:.2f}, "
          f"median per file {statistics.median(per_file):.2f}")
    print(f"decode only, {args.jobs} processes: {total_decode_parallel:6.1f} s  {len(files) / total_decode_parallel:6.2f} files/s  "
          f"{hours / (total_decode_parallel / 3600):8.0f} audio-h/h")
    print(f"ratio ours/decode-only, batch with {args.jobs} jobs: {total_batch / total_decode:.2f}  (target <= 1.5)")
    print(f"ratio ours/decode-only, both with {args.jobs} processes: {total_batch / total_decode_parallel:.2f}")


if __name__ == "__main__":
    main()
