"""The build stage: rundown -> checked plan -> mixed, mastered, encoded, tagged episode.

``plan()`` checks the rundown against the archive and collects *every* problem (unknown
testimony, bad in/out, missing file, consent) before anything is rendered. Testimony audio
and text come only from ``decide(...).rendition`` (the approved anonymized form).
``master()`` renders the timeline once in windows to a float32 scratch file while measuring its
loudness, then per rendition: gain, true-peak limiter, encoder; the encoded file is decoded and
measured, and corrected and re-encoded while it is off its target (figures kept: the file's).
``build_episode()`` stores renditions and side files as episode MediaAssets. Idempotent: when
nothing it is made from changed, it does nothing (``force`` rebuilds, byte-identically).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from sqlalchemy import select


from archive import audit
from archive.audio import Encoder, probe
from archive.consent import ANONYMOUS_LABEL, REVIEW_REASON, Use, decide
from archive.db import Archive
from archive.errors import AudioError, ConsentRefused, KumaError, NotFound, ReviewRequired, RundownError
from archive.models import Episode, EpisodeTestimony, MediaAsset, MediaKind, Testimony
from archive.settings import Settings
from archive.store import sha256_file
from archive.testimonies import get
from archive.text import slugify
from studio import shownotes, voices
from sound.filters import Limiter, db_to_gain
from sound.meter import BLOCK_S, Loudness, Meter, measure_file, survey
from studio.mix import Piece, Timeline, layout, render
from studio.rundown import KIND_LABELS, Excerpt, Rundown, Silence, load_rundown
from studio.tags import EpisodeTags, default_cover, tag_mp3

BUILD_VERSION = 3  # 3: speech items cleaned and leveled, music set relative to speech
# Loudness is checked on the decoded encoded file; a rendition off by more than AIM_LU or above the
# true-peak ceiling is corrected and re-encoded, at most MAX_PASSES times in all. AIM_LU is tighter
# than the promised TOLERANCE_LU so that another BS.1770 meter (other filters, other decoder) agrees.
TOLERANCE_LU = 0.5
AIM_LU = 0.2
MAX_PASSES = 4
# The limiter starts this far under the ceiling (lossy codecs overshoot it by a few tenths);
# each pass that still peaks too high lowers it by the overshoot plus PEAK_STEP_DB.
CODEC_HEADROOM_DB = 0.7
PEAK_STEP_DB = 0.2
MIN_CLIPPED_S = 0.01  # less clipping than this is not worth a flag
MONO_OFFSET_LU = 3.0  # AES TD1008: a mono file 3 LU under the stereo target (see target_lufs)
TEXT_ROLES = {"chapters": "chapters.json", "transcript-vtt": "transcript.vtt", "transcript-srt": "transcript.srt",
              "transcript-json": "transcript.json", "shownotes-md": "shownotes.md", "shownotes-html": "shownotes.html",
              "cue-csv": "cue.csv", "cue-txt": "cue.txt"}

Progress = Callable[[str, float, float], None]  # (stage, seconds done, seconds total)


@dataclass
class Plan:
    rundown: Rundown
    rundown_sha256: str
    programme: str
    public: bool
    pieces: list[Piece]
    timeline: Timeline
    renditions: dict[int, int]  # testimony id -> rendition id
    testimonies: dict[int, str]  # testimony id -> public id
    themes: list[str]
    speakers: list[str]
    terms: list[str] = field(repr=False)
    cover: bytes = field(repr=False, default=b"")
    inputs: dict[str, str] = field(default_factory=dict)  # what the audio is made from -> sha256
    flags: list[str] = field(default_factory=list)  # for the producer: builds, but worth a listen

    @property
    def slug(self) -> str:
        return f"{slugify(self.programme)}-{self.rundown.number:03d}"


# --- planning ---------------------------------------------------------------------------------

def plan(archive: Archive, rundown_path: Path, *, public: bool | None = None) -> Plan:
    rundown_path = Path(rundown_path)
    rundown, rundown_sha = load_rundown(rundown_path)
    settings = archive.settings
    base = rundown_path.resolve().parent
    public = rundown.public if public is None else public
    problems: list[str] = []
    consent_problems: list[tuple[str, bool]] = []  # (line, is a review problem)
    pieces: list[Piece] = []
    renditions: dict[int, int] = {}
    testimonies: dict[int, str] = {}
    themes: dict[str, str] = {}
    speakers: list[str] = []
    terms: list[str] = []
    inputs: dict[str, str] = {}
    flags: list[str] = []
    with archive.session() as session:
        for number, item in enumerate(rundown.items, 1):
            where, before = f"items[{number}]", len(pieces)
            if isinstance(item, Silence):
                pieces.append(Piece("silence", item.title or "Silence", None, duration=item.duration,
                                    chapter=item.chapter))
            elif isinstance(item, Excerpt):
                found = _excerpt(session, archive, item, where, public, problems, consent_problems)
                if found is None:
                    continue
                testimony, rendition, excerpt_pieces, label = found
                clean = item.clean if item.clean is not None else testimony.asset(MediaKind.CLEANED) is None
                pieces.extend(_with_fades(replace(p, clean=clean), item, settings) for p in excerpt_pieces)
                renditions[testimony.id] = rendition.id
                testimonies[testimony.id] = testimony.public_id
                inputs[f"rendition:{rendition.id}"] = rendition.audio.sha256
                for theme in testimony.themes:
                    themes[theme.slug] = theme.label
                if label not in speakers:
                    speakers.append(label)
                terms.extend(t.term for t in testimony.sensitive_terms if not t.ignored)
            else:
                piece = _file_piece(item, base, where, problems, inputs)
                if piece is not None:
                    pieces.append(_with_fades(piece, item, settings))
            _check_levels(pieces[before:], where, rundown.music_level, problems, flags)
    cover = _cover(rundown, base, problems, inputs)
    _check_texts(rundown, terms, problems)
    _raise(problems, consent_problems)
    return Plan(rundown, rundown_sha, rundown.programme or settings.programme_title, public, pieces, layout(pieces),
                renditions, testimonies, sorted(themes.values()), speakers, sorted(set(terms)), cover, inputs, flags)


def _check_levels(pieces: list[Piece], where: str, music_level: float, problems: list[str], flags: list[str]) -> None:
    """An item that cannot be measured is a problem (a silent or too short item would get no gain,
    or a meaningless one); a clipped recording builds but is flagged with its clipped duration.
    A music item gets the gain that sets it ``music_level`` LU relative to speech."""
    for piece in pieces:
        if piece.source is None:
            continue
        found = survey(piece.source, piece.offset, piece.duration)
        if found.seconds < BLOCK_S:
            problems.append(f"{where} : trop court pour en mesurer le niveau ({found.seconds:.2f} s, minimum {BLOCK_S} s)")
        elif not np.isfinite(found.integrated):
            problems.append(f"{where} : silencieux de bout en bout (aucun son à mettre à niveau)")
        piece.loudness = found.integrated
        if piece.kind in voices.MUSIC_KINDS:
            piece.gain_db += voices.music_gain(found.integrated, music_level)
        if found.clipped_s >= MIN_CLIPPED_S:
            flags.append(f"{where} ({piece.title}) : enregistrement saturé, {found.clipped_s:.2f} s écrêtées")


def _excerpt(session, archive, item: Excerpt, where, public, problems, consent_problems):
    try:
        testimony = get(session, item.testimony)
    except NotFound:
        problems.append(f"{where} : témoignage inconnu : {item.testimony}")
        return None
    uses = [Use.BROADCAST] + ([Use.ONLINE] if public else [])
    decisions = [decide(testimony, use) for use in uses]
    refused = [d for d in decisions if not d.allowed]
    for decision in refused:
        purpose = "diffusion radio" if decision.use == Use.BROADCAST else "publication en ligne (épisode public)"
        consent_problems.append((f"{where} ({testimony.public_id}) : {purpose} refusée — {decision.reason}",
                                 decision.reason.startswith(REVIEW_REASON)))
    if refused:
        return None
    decision = decisions[-1]
    rendition = decision.rendition
    if rendition is None or rendition.audio is None:
        consent_problems.append((f"{where} ({testimony.public_id}) : {REVIEW_REASON} (pas d'audio anonymisé)", True))
        return None
    path = archive.store.path(rendition.audio.sha256)
    if not path.is_file():
        problems.append(f"{where} ({testimony.public_id}) : audio anonymisé absent du stockage")
        return None
    length = rendition.audio.duration or probe(path).duration
    segments = sorted(rendition.redacted_segments or [], key=lambda s: s["start"])
    label = decision.speaker_label(testimony.pseudonym)
    if shownotes.find_sensitive(label, [t.term for t in testimony.sensitive_terms if not t.ignored]):
        label = ANONYMOUS_LABEL  # a pseudonym that carries a sensitive term is not said
    spans = _excerpt_spans(item, segments, length, where, problems)
    if spans is None:
        return None
    title = item.title or f"Témoignage — {label}"
    pieces = []
    for index, (start, end) in enumerate(spans):
        relative = [{"start": s["start"] - start, "end": s["end"] - start, "text": s["text"]}
                    for s in segments if s["end"] > start and s["start"] < end]
        pieces.append(Piece("excerpt", title, path, offset=start, duration=end - start, available=length - start,
                            gain_db=item.gain, chapter=item.chapter and index == 0, testimony=testimony.public_id,
                            speaker=label, transcript=relative))
    return testimony, rendition, pieces, label


TOLERANCE_S = 0.05


def _excerpt_spans(item: Excerpt, segments: list[dict], length: float, where: str, problems: list[str]):
    if item.segments is not None:
        by_idx = {s["idx"]: s for s in segments}
        unknown = [i for i in item.segments if i not in by_idx]
        if unknown:
            problems.append(f"{where} : segment(s) inconnu(s) : {', '.join(map(str, unknown))}")
            return None
        spans: list[tuple[float, float]] = []
        previous = None
        for idx in sorted(set(item.segments)):  # consecutive segments play as one stretch
            start, end = by_idx[idx]["start"], min(by_idx[idx]["end"], length)
            if previous is not None and idx == previous + 1:
                spans[-1] = (spans[-1][0], end)
            else:
                spans.append((start, end))
            previous = idx
        return spans
    start = item.start or 0.0
    end = item.end if item.end is not None else length
    if start >= length or end > length + TOLERANCE_S:
        problems.append(f"{where} : in/out hors de l'enregistrement ({start:.2f}–{end:.2f} s, durée {length:.2f} s)")
        return None
    return [(start, min(end, length))]


def _file_piece(item, base: Path, where: str, problems: list[str], inputs: dict[str, str]) -> Piece | None:
    path = (base / Path(item.file).expanduser()) if not Path(item.file).is_absolute() else Path(item.file)
    if not path.is_file():
        problems.append(f"{where}.file : fichier introuvable : {item.file}")
        return None
    try:
        length = probe(path).duration
    except AudioError as exc:
        problems.append(f"{where}.file : {exc}")
        return None
    start = item.start or 0.0
    end = item.end if item.end is not None else length
    if start >= length or end > length + TOLERANCE_S:
        problems.append(f"{where} : in/out hors du fichier ({start:.2f}–{end:.2f} s, durée {length:.2f} s)")
        return None
    duration = min(end, length) - start
    if item.type == "bed" and item.duration is not None:
        duration = min(item.duration, length - start)
    inputs[f"file:{where}"] = sha256_file(path)
    return Piece(item.type, item.title or KIND_LABELS[item.type], path, offset=start, duration=duration,
                 available=length - start, gain_db=item.gain, chapter=item.chapter,
                 duck_db=getattr(item, "duck", None), duck_fade=getattr(item, "duck_fade", 1.0),
                 clean=getattr(item, "clean", False))


def _with_fades(piece: Piece, item, settings: Settings) -> Piece:
    piece.fade_in = item.fade_in if item.fade_in is not None else settings.studio_fade_s
    piece.fade_out = item.fade_out if item.fade_out is not None else settings.studio_fade_s
    piece.crossfade = item.crossfade if item.crossfade is not None else settings.studio_crossfade_s
    return piece


def _cover(rundown: Rundown, base: Path, problems: list[str], inputs: dict[str, str]) -> bytes:
    if not rundown.cover:
        return default_cover()
    path = rundown.resolve(base, rundown.cover)
    if not path.is_file():
        problems.append(f"cover : fichier introuvable : {rundown.cover}")
        return b""
    data = path.read_bytes()
    if not (data.startswith(b"\x89PNG") or data.startswith(b"\xff\xd8")):
        problems.append(f"cover : image PNG ou JPEG attendue : {rundown.cover}")
    inputs["cover"] = hashlib.sha256(data).hexdigest()
    return data


def _check_texts(rundown: Rundown, terms: list[str], problems: list[str]) -> None:
    """The producer's own words go out too: they must not carry a sensitive term either."""
    texts = {"title": rundown.title, "description": rundown.description}
    texts.update({f"items[{n}].title": item.title for n, item in enumerate(rundown.items, 1) if item.title})
    for where, text in texts.items():
        if text and shownotes.find_sensitive(text, terms):
            problems.append(f"{where} : contient un terme sensible d'un témoignage (à retirer)")


def _raise(problems: list[str], consent_problems: list[tuple[str, bool]]) -> None:
    lines = [line for line, _ in consent_problems] + problems
    if consent_problems:
        review_only = all(review for _, review in consent_problems)
        error = (ReviewRequired if review_only else ConsentRefused)("; ".join(lines))
        error.problems = lines
        raise error
    if problems:
        raise RundownError(problems)


# --- mastering --------------------------------------------------------------------------------

@dataclass
class Output:
    role: str
    path: Path
    format: str
    codec: str
    sample_rate: int
    channels: int
    bitrate: int | None
    mix: str  # which master feeds it: "broadcast", "podcast" (stereo) or "mono" (podcast level, mono)


def outputs_for(workdir: Path, settings: Settings) -> list[Output]:
    rate = settings.studio_sample_rate
    outs = [Output("broadcast", workdir / "broadcast.wav", "wav", "pcm_s16le", rate, 2, None, "broadcast"),
            Output("podcast", workdir / "podcast.mp3", "mp3", "mp3", 44100, 2, settings.podcast_bitrate, "podcast"),
            Output("lowband", workdir / "lowband.mp3", "mp3", "mp3", 24000, 1, settings.lowband_bitrate, "mono")]
    if settings.lowband_opus_bitrate:
        outs.append(Output("lowband-opus", workdir / "lowband.opus", "opus", "opus", 48000, 1,
                           settings.lowband_opus_bitrate, "mono"))
    return outs


def target_lufs(output: Output, settings: Settings) -> float:
    """Loudness target of a rendition, measured on its own channels. Mono renditions follow AES
    TD1008: a mono file sits 3 LU under the stereo target (-19 LUFS for -16), which is the
    stereo target when the mono file is measured as dual-mono (played on both speakers)."""
    if output.mix == "broadcast":
        return settings.broadcast_lufs
    return settings.podcast_lufs - (MONO_OFFSET_LU if output.channels == 1 else 0.0)


def master(timeline: Timeline, workdir: Path, settings: Settings, progress: Progress | None = None) -> tuple[list[Output], dict]:
    """Render the mix once, then per rendition: gain, limiter, encode, decode and measure the encoded
    file, correct and re-encode while it is off target. Returns (outputs, loudness on the files)."""
    scratch = workdir / "mix.f32"
    source = _mix(timeline, scratch, settings, progress)
    outputs = outputs_for(workdir, settings)
    loudness: dict = {"source": source[2].report()}
    try:
        for output in outputs:
            loudness[output.role] = _master_one(scratch, output, settings, source[output.channels], progress)
    finally:
        scratch.unlink(missing_ok=True)
    return outputs, loudness


def _mix(timeline: Timeline, scratch: Path, settings: Settings, progress: Progress | None) -> dict[int, Loudness]:
    """Pass 1: the mix to a float32 scratch file, measured in stereo and as its mono fold-down."""
    rate, window = settings.studio_sample_rate, int(settings.studio_window_s * 1000)
    stereo, mono = Meter(rate, 2), Meter(rate, 1)
    done = 0.0
    with open(scratch, "wb") as handle:
        for chunk in render(timeline, rate=rate, channels=2, window_ms=window):
            chunk.astype("<f4").tofile(handle)
            stereo.feed(chunk)
            mono.feed(chunk.mean(axis=1))
            done += len(chunk) / rate
            if progress:
                progress("mixage", done, timeline.duration)
    return {2: stereo.result(), 1: mono.result()}


def _master_one(scratch: Path, output: Output, settings: Settings, source: Loudness,
                progress: Progress | None) -> dict:
    target, allowed = target_lufs(output, settings), settings.true_peak_ceiling_db
    gain_db = target - source.integrated if np.isfinite(source.integrated) else 0.0
    ceiling = allowed - CODEC_HEADROOM_DB
    for passes in range(1, MAX_PASSES + 1):
        _encode(scratch, output, settings, gain_db, ceiling, progress)
        got = measure_file(output.path, output.channels)
        error = got.integrated - target if np.isfinite(got.integrated) else 0.0
        over = got.true_peak > allowed
        if (abs(error) <= AIM_LU and not over) or passes == MAX_PASSES:
            break
        gain_db -= error
        if over:
            ceiling -= got.true_peak - allowed + PEAK_STEP_DB
    return {"target": target, **got.report(), "gain_db": _round(gain_db), "ceiling_db": _round(ceiling),
            "passes": passes, "on_target": abs(error) <= TOLERANCE_LU and not over, "measured_on": "file"}


def _encode(scratch: Path, output: Output, settings: Settings, gain_db: float, ceiling_db: float,
            progress: Progress | None) -> None:
    """Pass 2 for one rendition: the scratch mix, gain, true-peak limiter, encoder."""
    rate = settings.studio_sample_rate
    per_chunk = rate * 2 * max(1, int(settings.studio_window_s))
    gain, limiter = db_to_gain(gain_db), Limiter(rate, ceiling_db)
    done, total = 0.0, scratch.stat().st_size / 8 / rate
    with Encoder(output.path, rate=output.sample_rate, channels=output.channels, fmt=output.format,
                 bitrate=output.bitrate, input_rate=rate) as encoder, open(scratch, "rb") as handle:
        while (data := np.fromfile(handle, dtype="<f4", count=per_chunk)).size:
            chunk = data.reshape(-1, 2)
            signal = chunk if output.channels == 2 else chunk.mean(axis=1)
            encoder.write(limiter.process(signal * gain))
            done += len(chunk) / rate
            if progress:
                progress(f"mastering {output.role}", done, total)
        encoder.write(limiter.flush())


def _round(value: float) -> float | None:
    return round(float(value), 2) if np.isfinite(value) else None


# --- the stage ----------------------------------------------------------------------------------

@dataclass
class BuildResult:
    episode_id: int
    slug: str
    built: bool  # False: nothing changed since the last build
    duration: float
    loudness: dict


def fingerprint(plan_: Plan, settings: Settings) -> str:
    keys = ("studio_sample_rate", "studio_window_s", "broadcast_lufs", "podcast_lufs", "true_peak_ceiling_db",
            "podcast_bitrate", "lowband_bitrate", "lowband_opus_bitrate")
    payload = {"v": BUILD_VERSION, "rundown": plan_.rundown_sha256, "public": plan_.public,
               "programme": plan_.programme, "inputs": plan_.inputs, "renditions": plan_.renditions,
               "settings": {k: getattr(settings, k) for k in keys}}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def up_to_date(archive: Archive, rundown_path: Path) -> bool:
    """Built already from exactly these inputs (False too when the rundown cannot be built now)."""
    try:
        planned = plan(archive, rundown_path)
    except KumaError:
        return False
    stamp = fingerprint(planned, archive.settings)
    with archive.session() as session:
        existing = _find(session, planned)
        return existing is not None and existing.build_fingerprint == stamp and _complete(archive, existing)


def build_episode(archive: Archive, rundown_path: Path, *, public: bool | None = None, force: bool = False,
                  actor: str = "kuma", progress: Progress | None = None) -> BuildResult:
    settings = archive.settings
    planned = plan(archive, rundown_path, public=public)
    stamp = fingerprint(planned, settings)
    with archive.session() as session:
        existing = _find(session, planned)
        if existing is not None and not force and existing.build_fingerprint == stamp and _complete(archive, existing):
            return BuildResult(existing.id, existing.slug, False, existing.duration or 0.0, existing.loudness)
    store = archive.store
    workdir = Path(store.temp_path(".build"))
    workdir.unlink()
    workdir.mkdir(mode=0o700)
    try:
        pieces, prepared = voices.prepare(planned.pieces, workdir, settings.studio_sample_rate, progress)
        outputs, loudness = master(layout(pieces), workdir, settings, progress)
        loudness["items"] = [voice.report() for voice in prepared]
        loudness["flags"] = planned.flags + [voice.flag for voice in prepared if voice.flag]
        texts = side_files(planned)
        shownotes.assert_clean(texts, planned.terms)
        tags = EpisodeTags(planned.rundown.title, planned.programme, planned.rundown.number,
                           planned.rundown.date.isoformat(), planned.rundown.language, planned.rundown.description)
        for output in outputs:
            if output.format == "mp3":
                tag_mp3(output.path, tags, shownotes.chapters(planned.timeline), planned.cover)
        return _record(archive, planned, stamp, outputs, texts, loudness, actor)
    finally:
        for path in workdir.iterdir():
            path.unlink(missing_ok=True)
        workdir.rmdir()


def side_files(planned: Plan) -> dict[str, bytes]:
    rundown, timeline = planned.rundown, planned.timeline
    segments = shownotes.stitch_transcript(planned.pieces, timeline)
    meta = {"title": rundown.title, "programme": planned.programme, "number": rundown.number, "date": rundown.date,
            "description": rundown.description}
    markdown, html = shownotes.shownotes(meta, timeline, planned.themes, planned.speakers)
    heading = f"{planned.programme} — épisode {rundown.number} — {rundown.title} ({rundown.date.isoformat()})"
    return {"chapters": shownotes.chapters_json(timeline, rundown.title),
            "transcript-vtt": shownotes.transcript_vtt(segments), "transcript-srt": shownotes.transcript_srt(segments),
            "transcript-json": shownotes.transcript_json(segments), "shownotes-md": markdown, "shownotes-html": html,
            "cue-csv": shownotes.cue_csv(timeline.cue), "cue-txt": shownotes.cue_text(timeline.cue, heading, timeline.duration)}


def _find(session, planned: Plan) -> Episode | None:
    return session.scalar(select(Episode).where(Episode.programme == planned.programme,
                                                Episode.number == planned.rundown.number))


def _complete(archive: Archive, episode: Episode) -> bool:
    roles = {a.role for a in episode.assets}
    return {"broadcast", "podcast", "lowband", *TEXT_ROLES} <= roles and all(
        archive.store.exists(a.sha256) for a in episode.assets)


def _record(archive: Archive, planned: Plan, stamp: str, outputs: list[Output], texts: dict[str, bytes],
            loudness: dict, actor: str) -> BuildResult:
    replaced: list[str] = []  # the previous build's files, released once the new one is committed
    added: list[str] = []  # this build's files, released again if it cannot be committed
    try:
        result = _store_build(archive, planned, stamp, outputs, texts, loudness, actor, replaced, added)
    except BaseException:
        archive.release_media(added)
        raise
    archive.release_media(replaced)
    return result


def _store_build(archive: Archive, planned: Plan, stamp: str, outputs: list[Output], texts: dict[str, bytes],
                 loudness: dict, actor: str, replaced: list[str], added: list[str]) -> BuildResult:
    store = archive.store
    rundown = planned.rundown
    with archive.session() as session:
        _recheck_consent(session, planned)
        episode = _find(session, planned) or Episode(programme=planned.programme, number=rundown.number)
        episode.slug, episode.season, episode.title = planned.slug, rundown.season, rundown.title
        episode.date, episode.language, episode.description = rundown.date, rundown.language, rundown.description
        episode.public = planned.public
        episode.rundown = rundown.model_dump(mode="json", by_alias=True)
        episode.rundown_sha256, episode.build_fingerprint = planned.rundown_sha256, stamp
        episode.duration = planned.timeline.duration
        episode.loudness = loudness
        episode.cue = [{k: v for k, v in entry.items()} for entry in planned.timeline.cue]
        episode.built_at = datetime.now(timezone.utc)
        episode.taken_down_at = None
        session.add(episode)
        session.flush()
        for asset in session.scalars(select(MediaAsset).where(MediaAsset.episode_id == episode.id)):
            replaced.append(asset.sha256)
            session.delete(asset)
        episode.testimonies = [EpisodeTestimony(testimony_id=tid, rendition_id=rid)
                               for tid, rid in sorted(planned.renditions.items())]
        for output in outputs:
            stored = store.adopt(output.path)
            added.append(stored.sha256)
            session.add(MediaAsset(episode_id=episode.id, kind=MediaKind.EPISODE, role=output.role,
                                   sha256=stored.sha256, size=stored.size, format=output.format, codec=output.codec,
                                   sample_rate=output.sample_rate, channels=output.channels,
                                   duration=planned.timeline.duration, bitrate=output.bitrate))
        for role, data in texts.items():
            stored = store.put_bytes(data)
            added.append(stored.sha256)
            session.add(MediaAsset(episode_id=episode.id, kind=MediaKind.EPISODE, role=role, sha256=stored.sha256,
                                   size=stored.size, format=TEXT_ROLES[role].rsplit(".", 1)[1]))
        cover = store.put_bytes(planned.cover)
        added.append(cover.sha256)
        session.add(MediaAsset(episode_id=episode.id, kind=MediaKind.EPISODE, role="cover", sha256=cover.sha256,
                               size=cover.size, format="png" if planned.cover.startswith(b"\x89PNG") else "jpeg"))
        audit.record(session, actor, "episode.build", target=episode.slug,
                     testimonies=sorted(planned.testimonies.values()), fingerprint=stamp)
        session.flush()
        result = BuildResult(episode.id, episode.slug, True, episode.duration, loudness)
    return result


def _recheck_consent(session, planned: Plan) -> None:
    """Consent may have changed while the audio rendered: ask again before anything is stored."""
    for testimony_id, rendition_id in planned.renditions.items():
        testimony = session.get(Testimony, testimony_id)
        for use in [Use.BROADCAST] + ([Use.ONLINE] if planned.public else []):
            decision = decide(testimony, use).require()
            if decision.rendition is None or decision.rendition.id != rendition_id:
                raise ReviewRequired(f"{testimony.public_id} : la version anonymisée a changé pendant le montage")


def episode_by_ref(session, ref: str | int) -> Episode:
    """An episode by id, slug, or number."""
    text = str(ref).strip()
    found = None
    if text.isdigit():
        found = session.get(Episode, int(text))
    if found is None:
        found = session.scalar(select(Episode).where(Episode.slug == text))
    if found is None:
        raise NotFound(f"épisode inconnu : {ref}")
    return found


def episode_asset(episode: Episode, role: str) -> MediaAsset | None:
    return next((a for a in episode.assets if a.role == role), None)


__all__ = ["BuildResult", "Plan", "build_episode", "episode_asset", "episode_by_ref", "master", "plan", "side_files"]
