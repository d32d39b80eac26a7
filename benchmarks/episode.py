"""Benchmark: a 60-minute programme (20 items: jingles, host links, testimony-length speech,
ducked music beds, crossfades) built by Kuma's studio (pydub windows, pyebur128 loudness,
pedalboard true-peak limiter, 4 encoders, each encoded file decoded, measured and re-encoded
while off target) versus one equivalent FFmpeg filter graph run through PyAV (amovie sources,
acrossfade, ducked beds with volume + adelay + amix, loudnorm for -23 and -16 LUFS, WAV + MP3).

Each side runs in its own subprocess; peak RSS is the child's VmHWM (/proc/self/status).
Then a table per rendition: target, integrated loudness and true peak measured on the decoded
encoded file (sound.meter, after the timed run), for both sides.

    .venv/bin/python benchmarks/episode.py [--minutes 60]

Kuma's side includes the cleanup and leveling of every speech item (studio.voices: DeepFilterNet 3,
filters, leveler), timed apart too. Then, measured on Kuma's broadcast WAV (not timed): the speech
items' loudness spread, the two noisy host links' SI-SNR against their clean source, and, unless
--no-wer, faster-whisper base's WER on them, recorded and as aired. Host links are read speech
(LibriSpeech from ../shared/media when present, else espeak-ng French) recorded at six levels
24 LU apart, two of them in ventilation noise with mains hum at 10 dB SNR.

Targets: peak RSS <= 300 MB; time <= 2x the FFmpeg reference (which neither cleans nor levels).
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


HOST_LUFS = (-12.0, -17.0, -22.0, -27.0, -32.0, -36.0)  # the six host links, 24 LU apart as recorded
NOISY_HOSTS = (2, 5)  # these two in airport-like noise at NOISY_SNR_DB
NOISY_SNR_DB = 10.0
MEDIA = ROOT.parent / "shared" / "media"
SENTENCES = ("Bonjour et bienvenue dans Démystification du mieux-être ailleurs.",
             "Aujourd'hui, nous sommes à l'aéroport de Bamako, où arrivent les avions de rapatriés.",
             "Écoutons ce que les voyageurs ont à nous dire, et ce qu'ils attendent de leur retour.")


def speech(seconds: float, rate: int, seed: int) -> np.ndarray:
    from tests.conftest import speechlike

    return speechlike(seconds, rate, seed=seed, f0=110 + 15 * seed)


def read_speech(seconds: float, seed: int, tmp: Path) -> tuple[np.ndarray, str]:
    """Real read speech at RATE for a host link: LibriSpeech utterances from ../shared/media when
    present (English), else espeak-ng French sentences, repeated to ``seconds``; and its language."""
    from archive.audio import decode
    from tests.sound.helpers import espeak

    files = sorted((MEDIA / "librispeech").rglob("*.flac"))
    if files:
        parts, language = [decode(path, rate=RATE) for path in files[seed * 7:seed * 7 + 12]], "en"
    else:
        said = espeak(" ".join(SENTENCES[seed % 3:] + SENTENCES[:seed % 3]), RATE, tmp)
        if said is None:
            raise SystemExit("espeak-ng is needed without ../shared/media (apt install espeak-ng)")
        parts, language = [said], "fr"
    voice = np.concatenate(parts)
    return np.resize(voice, int(seconds * RATE)).astype(np.float32), language


def airport_noise(samples: int, seed: int) -> np.ndarray:
    """Ventilation and engines (pink noise) with 50 Hz mains hum."""
    from tests.sound.helpers import pink_noise

    t = np.arange(samples) / RATE
    pink = pink_noise(samples, seed=seed)
    hum = sum(np.sin(2 * np.pi * 50 * k * t) / k for k in (1, 2, 3))
    return (pink + 0.3 * np.std(pink) * hum).astype(np.float32)


def at_lufs(signal: np.ndarray, lufs: float) -> np.ndarray:
    from sound.meter import measure

    return (signal * 10 ** ((lufs - measure(signal, RATE).integrated) / 20)).astype(np.float32)


def make_inputs(folder: Path, minutes: float) -> list[dict]:
    """20 items whose lengths add up to ``minutes``: host links of read speech at six levels (two
    of them noisy, their clean source kept beside them), excerpts, jingles and ducked beds."""
    from archive.audio import encode, encode_chunks
    from tests.sound.helpers import mix

    scale = minutes / 60
    host_s, excerpt_s, jingle_s = 150 * scale, 420 * scale, 10.0
    t = np.arange(int(jingle_s * RATE)) / RATE
    jingle = (0.3 * np.sin(2 * np.pi * 660 * t) * np.exp(-(t % 2))).astype(np.float32)
    encode_chunks([np.stack([jingle, jingle], 1)], folder / "jingle.flac", rate=RATE, channels=2)
    bed_total = BED_SOLO + host_s + 5
    t = np.arange(int(bed_total * RATE)) / RATE
    bed = (0.2 * sum(np.sin(2 * np.pi * f * t) for f in (220, 277.2, 329.6)) / 3).astype(np.float32)
    encode_chunks([np.stack([bed, bed], 1)], folder / "bed.flac", rate=RATE, channels=2)
    hosts = []
    for n, level in enumerate(HOST_LUFS):
        voice, language = read_speech(host_s, n, folder)
        item = {"type": "host", "file": f"host-{n}.wav", "crossfade": CROSSFADE, "clean": True, "language": language}
        if n in NOISY_HOSTS:
            noisy = mix(voice, airport_noise(voice.size, seed=n), NOISY_SNR_DB)
            gain = at_lufs(noisy, level).std() / noisy.std()
            encode(voice * gain, folder / f"host-{n}.clean.wav", rate=RATE, fmt="wav32")
            voice, item["reference"] = noisy * gain, f"host-{n}.clean.wav"
        else:
            voice = at_lufs(voice, level)
        encode(voice, folder / item["file"], rate=RATE, fmt="wav32")
        hosts.append(item)
    for n in range(6):
        _speech_file(folder / f"excerpt-{n}.flac", excerpt_s, 16000, n + 10)  # like a rendition of a cleaned copy
    items = [{"type": "jingle", "file": "jingle.flac"}]
    for n in range(6):
        items.append(hosts[n])
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
    """What ``build_episode`` does to the audio: each item measured (plan), speech cleaned and
    leveled (studio.voices), then mixed, mastered, encoded, each file measured and corrected."""
    from archive.audio import probe
    from archive.settings import Settings
    from sound.meter import survey
    from studio import voices
    from studio.episode import master
    from studio.mix import Piece, layout

    settings = Settings(home=folder / "home")
    pieces = []
    for n, item in enumerate(items):
        path = folder / item["file"]
        length = probe(path).duration
        duration = item.get("duration", length)
        piece = Piece(item["type"], f"{n:02d} {item['file']}", path, duration=duration, available=length,
                      fade_in=settings.studio_fade_s, fade_out=settings.studio_fade_s,
                      crossfade=item.get("crossfade", 0.0), duck_db=item.get("duck"), duck_fade=1.0,
                      clean=item.get("clean", False))
        piece.loudness = survey(path, 0.0, duration).integrated
        if piece.kind in voices.MUSIC_KINDS:
            piece.gain_db += voices.music_gain(piece.loudness, -3.0)
        pieces.append(piece)
    work = folder / "kuma-out"
    work.mkdir(exist_ok=True)
    start = time.perf_counter()
    pieces, prepared = voices.prepare(pieces, work, settings.studio_sample_rate)
    prepare_s = time.perf_counter() - start
    timeline = layout(pieces)
    outputs, loudness = master(timeline, work, settings)
    return {"duration": timeline.duration, "outputs": [o.role for o in outputs], "cue": timeline.cue,
            "prepare_s": prepare_s, "speech_s": voices.speech_seconds(pieces),
            "cleaned_s": sum(p.duration for p in pieces if p.clean),
            "voices": [v.report() for v in prepared],
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


WER_S = 60.0  # seconds of each noisy host link transcribed for the WER columns
EDGE_S = 1.0  # crossfades and fades left out of each measured stretch


def stretch(path: Path, entry: dict, rate: int, channels: int | None = 1) -> np.ndarray:
    from archive.audio import decode_range

    return decode_range(path, entry["start"] + EDGE_S, entry["duration"] - 2 * EDGE_S, rate=rate, channels=channels)


def quality(folder: Path, items: list[dict], kuma: dict, wer: bool) -> dict:
    """Measured on Kuma's broadcast WAV (not timed): each speech item's loudness, the noisy links'
    SI-SNR against their clean source, and the word error rate with and without the cleanup."""
    from archive.audio import decode
    from sound.filters import SpeechFilters
    from sound.meter import measure
    from tests.sound.helpers import segmental_si_snr, si_snr

    broadcast = folder / "kuma-out" / "broadcast.wav"
    found = {"speech": [], "snr": [], "wer": []}
    for item, entry in zip(items, kuma["cue"]):
        if entry["kind"] not in ("host", "excerpt"):
            continue
        found["speech"].append(measure(stretch(broadcast, entry, RATE, 2), RATE).integrated)
        if "reference" not in item:
            continue
        clean = decode(folder / item["reference"], rate=RATE)
        noisy = decode(folder / item["file"], rate=RATE)
        inner = slice(int(EDGE_S * RATE), int((entry["duration"] - EDGE_S) * RATE))
        reference = SpeechFilters(RATE).filter(clean)[inner]  # the cleanup's filters change the source on purpose
        # aligned on the filtered source: the high-pass's phase shift would move the correlation peak
        # by a sample or two, which SI-SNR counts as error
        on_air = aligned(stretch(broadcast, {**entry, "start": entry["start"] - 0.1, "duration": entry["duration"] + 0.2},
                                 RATE), reference)
        found["snr"].append((si_snr(noisy[inner], clean[inner]), si_snr(on_air, reference),
                             segmental_si_snr(noisy[inner], clean[inner], RATE), segmental_si_snr(on_air, reference, RATE)))
        if wer:
            found["wer"].append(host_wer(clean[inner], noisy[inner], on_air, item["language"]))
    return found


def aligned(estimate: np.ndarray, reference: np.ndarray, search: int = 9600) -> np.ndarray:
    """``estimate`` (which starts up to ``search`` samples early) lined up with ``reference``."""
    window = reference[: RATE * 5]
    lag = int(np.argmax([np.dot(estimate[k:k + window.size], window) for k in range(search)]))
    return estimate[lag:lag + reference.size]


def host_wer(clean: np.ndarray, noisy: np.ndarray, on_air: np.ndarray, language: str) -> tuple[float, float]:
    """WER of the noisy recording and of the link as aired, against the transcript of its clean source."""
    from archive.audio import resample
    from benchmarks.voice import Recognizer, corpus_wer

    first = lambda x: np.concatenate(list(resample([x[: int(WER_S * RATE)]], RATE, 16000)))  # noqa: E731
    with tempfile.TemporaryDirectory() as home:
        asr = Recognizer(Path(home), language)
        reference = [asr.text(first(clean))]
        return (corpus_wer(reference, [asr.text(first(noisy))], language),
                corpus_wer(reference, [asr.text(first(on_air))], language))


def print_quality(found: dict, kuma: dict) -> None:
    levels = [v["measured"] for v in kuma["voices"] if v["measured"] is not None]
    print("speech items (6 host links recorded at -12 to -36 LUFS, 6 excerpts):")
    print(f"  as recorded: {min(levels):.1f} to {max(levels):.1f} LUFS (spread {max(levels) - min(levels):.1f} LU)")
    speech = found["speech"]
    print(f"  on air (broadcast WAV, each item's stretch): {min(speech):.1f} to {max(speech):.1f} LUFS "
          f"(spread {max(speech) - min(speech):.1f} LU, target <= 3)")
    for n, (before, after, seg_before, seg_after) in enumerate(found["snr"]):
        print(f"  noisy link {n + 1}: SI-SNR against its clean source, segmental (1 s windows): {seg_before:.1f} dB "
              f"recorded, {seg_after:.1f} dB on air ({seg_after - seg_before:+.1f} dB, target >= +5); whole-signal: "
              f"{before:.1f} -> {after:.1f} dB (counts the leveler's slow gain changes as error)")
    for n, (noisy, cleaned) in enumerate(found["wer"]):
        print(f"  noisy link {n + 1}: WER (faster-whisper base, first {WER_S:.0f} s, against its clean source's "
              f"transcript) {noisy:.1%} recorded, {cleaned:.1%} on air")
    flags = [v["flag"] for v in kuma["voices"] if v["flag"]]
    print(f"  flags: {flags or 'none'}")


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
    parser.add_argument("--no-wer", action="store_true", help="skip the WER columns (needs the base model)")
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
        found = quality(folder, items, kuma, wer=not args.no_wer)
    print(f"{'':<28}{'wall time':>12}{'x real time':>13}{'peak RSS':>12}")
    for name, side in (("kuma studio (4 renditions)", kuma), ("ffmpeg graph (2 renditions)", ffmpeg)):
        print(f"{name:<28}{side['wall_s']:>10.1f} s{side['duration'] / side['wall_s']:>12.1f}x"
              f"{side['peak_rss_mb']:>9.0f} MB")
    print(f"programme length: kuma {kuma['duration'] / 60:.1f} min, ffmpeg {ffmpeg['duration'] / 60:.1f} min")
    print(f"of which cleanup and leveling (studio.voices): {kuma['prepare_s']:.1f} s for {kuma['speech_s'] / 60:.1f} min "
          f"of speech ({kuma['speech_s'] / kuma['prepare_s']:.1f}x real time; {kuma['cleaned_s'] / 60:.1f} min cleaned)")
    print_loudness_table(kuma, ffmpeg)
    print_quality(found, kuma)
    print(f"ratio time kuma/ffmpeg: {kuma['wall_s'] / ffmpeg['wall_s']:.2f} (target <= 2.0)")
    print(f"peak RSS kuma: {kuma['peak_rss_mb']:.0f} MB (target <= 300), ratio to ffmpeg "
          f"{kuma['peak_rss_mb'] / ffmpeg['peak_rss_mb']:.2f}")


if __name__ == "__main__":
    main()
