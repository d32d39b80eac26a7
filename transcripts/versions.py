"""Transcript versions: store an ASR or human version, read one back as cues, export, import.

Versions are never overwritten: an import adds a human version and the ASR versions stay.
The preferred transcript (latest human, else latest ASR: ``archive.consent.preferred_transcript``)
is the one exports, search and theme suggestions use.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive import audit, search
from archive.consent import Use, decide, preferred_transcript
from archive.errors import InputError, NotFound
from archive.models import Segment, StageName, StageState, Testimony, Transcript, TranscriptSource, Word
from archive.testimonies import set_stage
from transcripts import formats, themes
from transcripts.formats import Cue

STAGE = StageName.TRANSCRIBE
MAX_IMPORT_BYTES = 20 * 1024 * 1024


def next_version(session: Session, testimony: Testimony) -> int:
    latest = session.scalar(select(func.max(Transcript.version)).where(Transcript.testimony_id == testimony.id))
    return (latest or 0) + 1


def save_transcript(session: Session, testimony: Testimony, segments: list[Segment], *, source: str,
                    created_by: str, **fields: Any) -> Transcript:
    """Add ``segments`` as the testimony's next transcript version; refresh suggestions and search."""
    transcript = Transcript(testimony_id=testimony.id, version=next_version(session, testimony), source=source,
                            created_by=created_by, **fields)
    transcript.segments = segments
    session.add(transcript)
    session.flush()
    after_new_version(session, testimony)
    return transcript


def after_new_version(session: Session, testimony: Testimony) -> None:
    preferred = preferred_transcript(session, testimony.id)
    if preferred is not None:
        themes.store_suggestions(session, testimony, preferred)
    search.index_testimony(session, testimony)


def transcripts_of(session: Session, testimony: Testimony) -> list[Transcript]:
    return list(session.scalars(select(Transcript).where(Transcript.testimony_id == testimony.id)
                                .order_by(Transcript.version)))


def cues_of(transcript: Transcript) -> list[Cue]:
    """The transcript's segments as cues, with words and confidence data (for the full JSON)."""
    return [Cue(s.idx, s.start, s.end, s.text, s.speaker,
                words=[{"start": w.start, "end": w.end, "word": w.word, "probability": w.probability} for w in s.words],
                extra={"avg_logprob": s.avg_logprob, "no_speech_prob": s.no_speech_prob,
                       "compression_ratio": s.compression_ratio, "temperature": s.temperature,
                       "low_confidence": s.low_confidence})
            for s in transcript.segments]


def transcript_meta(testimony: Testimony, transcript: Transcript) -> dict[str, Any]:
    return {"testimony": testimony.public_id, "version": transcript.version, "source": transcript.source,
            "language": transcript.language, "language_probability": transcript.language_probability,
            "model": transcript.model, "model_version": transcript.model_version, "options": transcript.options,
            "created_by": transcript.created_by, "created_at": transcript.created_at}


def export_transcript(session: Session, testimony: Testimony, fmt: str, *, actor: str,
                      version: int | None = None) -> str:
    """The raw (unredacted) transcript in ``fmt``: internal, for the association's staff.

    Redacted exports pass the approved rendition's segments to ``formats.render`` instead."""
    if fmt not in formats.FORMATS:
        raise InputError(f"format inconnu : {fmt} (attendu : {', '.join(formats.FORMATS)})")
    decide(testimony, Use.PROCESS).require()
    transcript = _pick(session, testimony, version)
    audit.record(session, actor, "transcript.export", testimony=testimony, version=transcript.version, format=fmt)
    return formats.render(fmt, cues_of(transcript), transcript_meta(testimony, transcript))


def _pick(session: Session, testimony: Testimony, version: int | None) -> Transcript:
    if version is None:
        transcript = preferred_transcript(session, testimony.id)
    else:
        transcript = session.scalar(select(Transcript).where(Transcript.testimony_id == testimony.id,
                                                             Transcript.version == version))
    if transcript is None:
        which = f"version {version}" if version is not None else "aucune transcription"
        raise NotFound(f"{testimony.public_id} : {which} introuvable")
    return transcript


def import_transcript(session: Session, testimony: Testimony, path: Path, *, actor: str,
                      fmt: str | None = None) -> Transcript:
    """Read a corrected VTT/SRT/TXT file and store it as a new human version."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_IMPORT_BYTES:
            raise InputError(f"{path.name} : fichier trop gros pour une transcription")
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise InputError(f"fichier introuvable : {path}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")  # subtitles saved by Windows tools
    fmt = fmt or formats.detect_format(path, text)
    cues = formats.parse(fmt, text, duration=testimony.duration, name=path.name)
    cues = [c for c in cues if c.text]
    if not cues:
        raise InputError(f"{path.name} : aucun texte à importer")
    transcript = store_human(session, testimony, cues, actor=actor, origin={"imported_from": path.name, "format": fmt})
    audit.record(session, actor, "transcript.import", testimony=testimony, version=transcript.version, file=path.name)
    return transcript


def store_human(session: Session, testimony: Testimony, cues: Iterable[Cue], *, actor: str,
                origin: dict[str, Any]) -> Transcript:
    segments = [Segment(idx=i, start=round(c.start, 3), end=round(max(c.end, c.start), 3), text=c.text,
                        speaker=c.speaker) for i, c in enumerate(cues)]
    transcript = save_transcript(session, testimony, segments, source=TranscriptSource.HUMAN, created_by=actor,
                                 language=testimony.language, options=origin)
    set_stage(session, testimony, STAGE, StageState.DONE,
              reason=f"transcription humaine (version {transcript.version})")
    return transcript


def asr_segments(items, duration: float, is_low_confidence) -> list[Segment]:
    """ORM segments from engine output, with timings made safe: inside [0, duration], in order,
    never ending before they start; segments a model placed past the end of the audio dropped."""
    segments: list[Segment] = []
    last_start = 0.0
    for item in items:
        start = min(max(item.start, last_start, 0.0), duration)
        if duration and start >= duration:
            continue
        end = min(max(item.end, start), duration or item.end)
        segment = Segment(idx=len(segments), start=round(start, 3), end=round(end, 3), text=item.text,
                          avg_logprob=item.avg_logprob, no_speech_prob=item.no_speech_prob,
                          compression_ratio=item.compression_ratio, temperature=item.temperature,
                          low_confidence=is_low_confidence(item))
        segment.words = _words(item.words, start, end)
        segments.append(segment)
        last_start = start
    return segments


def _words(items, start: float, end: float) -> list[Word]:
    words, at = [], start
    for item in items:
        word_start = min(max(item.start, at), end)
        word_end = min(max(item.end, word_start), end)
        words.append(Word(idx=len(words), start=round(word_start, 3), end=round(word_end, 3),
                          word=item.word.strip()[:256], probability=item.probability))
        at = word_start
    return words
