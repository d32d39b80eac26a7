"""Benchmark: a 60-minute programme (20 items: jingles, host links, testimony-length speech,
ducked music beds, crossfades) built by Kuma's studio (pydub windows, pyebur128 loudness,
pedalboard true-peak limiter, 4 encoders, each encoded file decoded, measured and re-encoded
while off target) versus one equivalent FFmpeg filter graph run through PyAV (amovie sources,
acrossfade, ducked beds with volume + adelay + amix, loudnorm for -23 and -16 LUFS, WAV + MP3).

Each side runs in its own subprocess; peak RSS is the child's VmHWM (/proc/self/status).
Then a table per rendition: target, integrated loudness and true peak measured on the decoded
encoded file (sound.meter, after the timed run), for both sides.

    .venv/bin/python benchmarks/episode.py [--minutes 60]

Targets: peak RSS <= 400 MB; time <= 2x the FFmpeg reference.
(PyAV is imported here directly only for the reference graph: benchmarks are outside the package layout.)
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RATE = 48000
CROSSFADE = 1.0
BED_SOLO, BED_DUCK = 20.0, 12.0


def speech(seconds: float, rate: int, seed: int) -> np.ndarray:
    from tests.conftest import speechlike

    return speechlike(seconds, rate, seed=seed, f0=110 + 15 * seed)


def make_inputs(folder: Path, minutes: float) -> list[dict]:
    """20 items whose lengths add up to ``minutes``."""
    from archive.audio import encode_chunks

    scale = minutes / 60
    host_s, excerpt_s, jingle_s = 150 * scale, 420 * scale, 10.0
    t = np.arange(int(jingle_s * RATE)) / RATE
    jingle = (0.3 * np.sin(2 * np.pi * 660 * t) * np.exp(-(t % 2))).astype(np.float32)
    encode_chunks([np.stack([jingle, jingle], 1)], folder / "jingle.flac", rate=RATE, channels=2)
    bed_total = BED_SOLO + host_s + 5
    t = np.arange(int(bed_total * RATE)) / RATE
    bed = (0.2 * sum(np.sin(2 * np.pi * f * t) for f in (220, 277.2, 329.6)) / 3).astype(np.float32)
    encode_chunks([np.stack([bed, bed], 1)], folder / "bed.flac", rate=RATE, channels=2)
    for n in range(6):
        _speech_file(folder / f"host-{n}.flac", host_s, RATE, n)
        _speech_file(folder / f"excerpt-{n}.flac", excerpt_s, 16000, n + 10)  # like an anonymized working copy
    items = [{"type": "jingle", "file": "jingle.flac"}]
    for n in range(6):
        items.append({"type": "host", "file": f"host-{n}.flac", "crossfade": CROSSFADE})
        items.append({"type": "bed", "file": "bed.flac", "duration": BED_SOLO, "duck": BED_DUCK, "crossfade": CROSSFADE})
        items.append({"type": "excerpt", "file": f"excerpt-{n}.flac", "crossfade": CROSSFADE})
    items.append({"type": "jingle", "file": "jingle.flac", "crossfade": CROSSFADE})
    return items


def _speech_file(path: Path, seconds: float, rate: int, seed: int) -> None:
    from archive.audio import encode_chunks

    def chunks():
        for start in range(0, int(seconds), 60):
            yield speech(min(60, seconds - start), rate, seed * 1000 + start)

    encode_chunks(chunks(), path, rate=rate, channels=1)


# --- Kuma ---------------------------------------------------------------------------------------

def run_kuma(folder: Path, items: list[dict]) -> dict:
    from archive.audio import probe
    from archive.settings import Settings
    from studio.episode import master
    from studio.mix import Piece, layout

    settings = Settings(home=folder / "home")
    pieces = []
    for item in items:
        path = folder / item["file"]
        length = probe(path).duration
        duration = item.get("duration", length)
        pieces.append(Piece(item["type"], item["type"], path, duration=duration, available=length,
                            fade_in=settings.studio_fade_s, fade_out=settings.studio_fade_s,
                            crossfade=item.get("crossfade", 0.0), duck_db=item.get("duck"), duck_fade=1.0))
    timeline = layout(pieces)
    work = folder / "kuma-out"
    work.mkdir(exist_ok=True)
    outputs, loudness = master(timeline, work, settings)
    return {"duration": timeline.duration, "outputs": [o.role for o in outputs],
            "files": {o.role: {**loudness[o.role], "channels": o.channels} for o in outputs}}


# --- FFmpeg reference -----------------------------------------------------------------------------

def run_ffmpeg(folder: Path, items: list[dict]) -> dict:
    import av
    import av.filter

    from archive.audio import Encoder

    graph = av.filter.Graph()
    fmt = "sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo"

    def source(name: str):
        movie = graph.add("amovie", f"filename={folder / name}")
        convert = graph.add("aformat", fmt)
        movie.link_to(convert)
        return convert

    chain, position, beds = None, 0.0, []
    from archive.audio import probe

    for item in items:
        length = probe(folder / item["file"]).duration
        if item["type"] == "bed":
            # bed alone for BED_SOLO s, then ducked under the next item (a separate mixed input)
            beds.append((position - item.get("crossfade", 0.0), item["file"]))
            length = BED_SOLO
            node = source(item["file"])
            trim = graph.add("atrim", f"duration={BED_SOLO}")
            node.link_to(trim)
            node = trim
        else:
            node = source(item["file"])
        if chain is None:
            chain = node
        else:
            fade = graph.add("acrossfade", f"d={item.get('crossfade', 0.0) or 0.01}")
            chain.link_to(fade, 0, 0)
            node.link_to(fade, 0, 1)
            chain = fade
            position -= item.get("crossfade", 0.0)
        position += length
    inputs = [chain]
    for start, name in beds:
        node = source(name)
        duck = graph.add("volume", f"volume='if(lt(t,{BED_SOLO}),1,{10 ** (-BED_DUCK / 20)})':eval=frame")
        delay = graph.add("adelay", f"delays={int(start * 1000)}:all=1")
        node.link_to(duck)
        duck.link_to(delay)
        inputs.append(delay)
    mix = graph.add("amix", f"inputs={len(inputs)}:duration=first:normalize=0")
    for index, node in enumerate(inputs):
        node.link_to(mix, 0, index)
    split = graph.add("asplit", "2")
    mix.link_to(split)
    sinks = {}
    for index, (name, target) in enumerate((("broadcast", -23), ("podcast", -16))):
        norm = graph.add("loudnorm", f"I={target}:TP=-1:LRA=11")
        resample = graph.add("aresample", "48000")
        out_fmt = graph.add("aformat", "sample_fmts=flt:channel_layouts=stereo")
        sink = graph.add("abuffersink")
        split.link_to(norm, index, 0)
        norm.link_to(resample)
        resample.link_to(out_fmt)
        out_fmt.link_to(sink)
        sinks[name] = sink
    graph.configure()
    out = folder / "ffmpeg-out"
    out.mkdir(exist_ok=True)
    encoders = {"broadcast": Encoder(out / "broadcast.wav", rate=48000, channels=2, fmt="wav"),
                "podcast": Encoder(out / "podcast.mp3", rate=44100, channels=2, fmt="mp3", bitrate=128000,
                                   input_rate=48000)}
    seconds, finished = 0.0, set()
    while len(finished) < len(sinks):
        for name, sink in sinks.items():
            if name in finished:
                continue
            try:
                frame = sink.pull()
            except (av.BlockingIOError, BlockingIOError):
                continue
            except av.EOFError:
                finished.add(name)
                continue
            data = frame.to_ndarray().reshape(-1, 2)
            encoders[name].write(data)
            if name == "broadcast":
                seconds += len(data) / 48000
    for encoder in encoders.values():
        encoder.close()
    return {"duration": seconds, "targets": {"broadcast": -23.0, "podcast": -16.0}}


def measure_outputs(folder: Path) -> dict:
    """Integrated loudness and true peak of the reference's encoded files (not timed)."""
    from sound.meter import measure_file

    found = {}
    for role, name in (("broadcast", "broadcast.wav"), ("podcast", "podcast.mp3")):
        figures = measure_file(folder / "ffmpeg-out" / name, 2).report()
        found[role] = figures
    return found


# --- driver -------------------------------------------------------------------------------------

def child(kind: str, folder: Path) -> None:
    items = json.loads((folder / "items.json").read_text())
    start = time.perf_counter()
    result = (run_kuma if kind == "kuma" else run_ffmpeg)(folder, items)
    result["wall_s"] = time.perf_counter() - start
    result["peak_rss_mb"] = peak_rss_mb()
    if kind != "kuma":
        result["files"] = measure_outputs(folder)
    print(json.dumps(result))


def peak_rss_mb() -> float:
    """This process's peak RSS. VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec(), so a
    child would report its parent's peak (the parent holds the generated inputs for a while)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(kind: str, folder: Path) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", kind, str(folder)], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{kind} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def print_loudness_table(kuma: dict, ffmpeg: dict) -> None:
    """Per rendition, measured on the decoded encoded files: target, LUFS, dBTP (and kuma's passes)."""
    print("measured on the encoded files (pyebur128, true peak 4x):")
    print(f"{'rendition':<14}{'target':>8}{'kuma LUFS':>11}{'dBTP':>7}{'passes':>8}{'ffmpeg LUFS':>13}{'dBTP':>7}")
    for role, row in kuma["files"].items():
        other = ffmpeg["files"].get(role, {})
        print(f"{role:<14}{row['target']:>8.1f}{_fig(row['integrated']):>11}{_fig(row['true_peak']):>7}"
              f"{row['passes']:>8}{_fig(other.get('integrated')):>13}{_fig(other.get('true_peak')):>7}")
    print("mono renditions: -19 LUFS measured as mono (= -16 as dual-mono, AES TD1008)")


def _fig(value) -> str:
    return "-" if value is None else f"{value:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--child", nargs=2, metavar=("KIND", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    with tempfile.TemporaryDirectory(prefix="kuma-bench-episode-") as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        items = make_inputs(folder, args.minutes)
        (folder / "items.json").write_text(json.dumps(items))
        print(f"inputs: {len(items)} items for {args.minutes:.0f} min generated in {time.perf_counter() - start:.1f} s")
        kuma = measure("kuma", folder)
        ffmpeg = measure("ffmpeg", folder)
    print(f"{'':<28}{'wall time':>12}{'x real time':>13}{'peak RSS':>12}")
    for name, side in (("kuma studio (4 renditions)", kuma), ("ffmpeg graph (2 renditions)", ffmpeg)):
        print(f"{name:<28}{side['wall_s']:>10.1f} s{side['duration'] / side['wall_s']:>12.1f}x"
              f"{side['peak_rss_mb']:>9.0f} MB")
    print(f"programme length: kuma {kuma['duration'] / 60:.1f} min, ffmpeg {ffmpeg['duration'] / 60:.1f} min")
    print_loudness_table(kuma, ffmpeg)
    print(f"ratio time kuma/ffmpeg: {kuma['wall_s'] / ffmpeg['wall_s']:.2f} (target <= 2.0)")
    print(f"peak RSS kuma: {kuma['peak_rss_mb']:.0f} MB (target <= 400), ratio to ffmpeg "
          f"{kuma['peak_rss_mb'] / ffmpeg['peak_rss_mb']:.2f}")


if __name__ == "__main__":
    main()
