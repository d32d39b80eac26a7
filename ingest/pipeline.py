"""The ingest stage: one recording in, one testimony out, or one clear reason why not.

Each file is its own transaction. Stored files are removed again if the record cannot be
committed (error or Ctrl-C), so an interrupted batch leaves nothing half-done; running the
same batch again finishes it and skips what is already in (same sha256).
"""
from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from archive import audit
from archive.audio import probe
from archive.db import Archive
from archive.errors import AudioError, KumaError, MetadataError
from archive.models import MediaAsset, MediaKind, SensitiveTerm, StageState, Testimony, Theme
from archive.store import Stored
from archive.testimonies import add_consent, public_id_for, set_stage
from ingest.sidecar import SIDECAR_SUFFIXES, IntakeMetadata, find_sidecar, load_metadata
from ingest.working import make_working_copy

AUDIO_SUFFIXES = (".wav", ".mp3", ".m4a", ".aac", ".mp4", ".ogg", ".oga", ".opus", ".webm", ".amr", ".flac", ".3gp")


@dataclass
class IngestResult:
    path: Path
    status: str  # "ingested", "duplicate", "failed"
    public_id: str | None = None
    duration: float = 0.0
    reason: str | None = None


def collect_files(paths: Iterable[Path]) -> tuple[list[Path], list[IngestResult]]:
    """Expand folders recursively; return (audio files in a stable order, results for bad paths)."""
    files: list[Path] = []
    problems: list[IngestResult] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES))
        elif path.is_file():
            if path.suffix.lower() in SIDECAR_SUFFIXES:
                continue
            files.append(path)
        else:
            problems.append(IngestResult(path, "failed", reason="fichier introuvable"))
    return list(dict.fromkeys(files)), problems


def ingest_paths(archive: Archive, paths: Iterable[Path], *, meta: Path | None = None, actor: str = "kuma",
                 on_start: Callable[[Path], None] | None = None,
                 on_done: Callable[[IngestResult], None] | None = None) -> Iterator[IngestResult]:
    files, problems = collect_files(paths)
    yield from problems
    archive.store.clean_temp()
    shared_meta = load_metadata(meta) if meta else None
    for path in files:
        if on_start:
            on_start(path)
        result = ingest_file(archive, path, metadata=shared_meta, actor=actor)
        if on_done:
            on_done(result)
        yield result


def ingest_file(archive: Archive, path: Path, *, metadata: IntakeMetadata | None = None, actor: str = "kuma") -> IngestResult:
    try:
        return _ingest(archive, Path(path), metadata, actor)
    except KumaError as exc:
        return IngestResult(Path(path), "failed", reason=str(exc))


def _ingest(archive: Archive, path: Path, metadata: IntakeMetadata | None, actor: str) -> IngestResult:
    settings = archive.settings
    store = archive.store
    added: list[str] = []  # files this attempt put in the store: released again unless committed
    temp = store.temp_path(".flac")
    try:
        try:
            original = store.put_file(path)  # hashes while copying: the original is read once
        except OSError as exc:
            raise AudioError(f"{path.name} : lecture impossible ({exc.strerror})") from exc
        added.append(original.sha256)
        with archive.session() as session:
            existing = session.scalar(select(Testimony).where(Testimony.source_sha256 == original.sha256))
            if existing is not None:
                return IngestResult(path, "duplicate", existing.public_id, existing.duration, "déjà ingéré")
        if original.size == 0:
            raise AudioError(f"{path.name} : fichier vide")
        metadata = metadata or load_metadata(find_sidecar(path))
        info = probe(path)
        _check_duration(path, info.duration, settings)
        working = make_working_copy(path, temp, rate=settings.working_sample_rate)
        _check_audio(path, working.duration, working.loudest_second_dbfs, settings)
        with archive.session() as session:
            metadata.check_themes(set(session.scalars(select(Theme.slug))), path.name)
            working_file = store.adopt(temp)
            added.append(working_file.sha256)
            testimony = _record(session, path, metadata, info, working, original, working_file,
                                settings.working_sample_rate, actor)
            result = IngestResult(path, "ingested", testimony.public_id, working.duration)
        added.clear()  # committed: the files now belong to the record
        return result
    finally:
        temp.unlink(missing_ok=True)
        archive.release_media(added)


def _check_duration(path: Path, duration: float, settings) -> None:
    if duration > settings.max_duration_s:
        raise AudioError(f"{path.name} : trop long ({duration / 60:.0f} min, maximum {settings.max_duration_s / 60:.0f} min)")


def _check_audio(path: Path, duration: float, loudest_dbfs: float, settings) -> None:
    if duration <= 0:
        raise AudioError(f"{path.name} : aucun son (durée nulle)")
    _check_duration(path, duration, settings)
    if loudest_dbfs < settings.min_audio_dbfs:
        raise AudioError(f"{path.name} : enregistrement silencieux (niveau max {loudest_dbfs:.0f} dBFS)")


def _record(session, path: Path, metadata: IntakeMetadata, info, working, original: Stored, working_file: Stored,
            rate: int, actor: str) -> Testimony:
    themes = [session.get(Theme, slug) for slug in metadata.themes]
    testimony = Testimony(
        internal_key=secrets.token_hex(32),
        source_sha256=original.sha256,
        source_name=path.name,
        pseudonym=metadata.pseudonym,
        recorded_at=metadata.recorded_at,
        place=metadata.place,
        language=metadata.language,
        expelled_from=metadata.expelled_from,
        route=metadata.route,
        interviewer=metadata.interviewer,
        notes=metadata.notes,
        duration=round(working.duration, 3),
        muted_spans=[list(span) for span in metadata.muted],
        themes=themes,
    )
    session.add(testimony)
    session.flush()
    testimony.public_id = public_id_for(testimony.id)
    session.add_all([
        MediaAsset(testimony=testimony, kind=MediaKind.ORIGINAL, sha256=original.sha256, size=original.size,
                   format=info.format, codec=info.codec, sample_rate=info.sample_rate, channels=info.channels,
                   duration=info.duration or working.duration, bitrate=info.bitrate),
        MediaAsset(testimony=testimony, kind=MediaKind.WORKING, sha256=working_file.sha256, size=working_file.size,
                   format="flac", codec="flac", sample_rate=rate, channels=1, duration=working.duration),
    ])
    for term in metadata.sensitive_terms:
        if term.term not in {t.term for t in testimony.sensitive_terms}:
            session.add(SensitiveTerm(testimony=testimony, term=term.term, kind=term.kind, source="intake"))
    if metadata.consent is not None:
        add_consent(session, testimony, actor, **metadata.consent.model_dump())
    set_stage(session, testimony, "ingest", StageState.DONE)
    audit.record(session, actor, "testimony.ingest", testimony=testimony, file=path.name)
    session.flush()
    return testimony


def quick_duration(path: Path) -> float:
    """The header's duration, 0 when unreadable (for progress totals only)."""
    try:
        return probe(path).duration
    except (KumaError, OSError):
        return 0.0


__all__ = ["AUDIO_SUFFIXES", "IngestResult", "MetadataError", "collect_files", "ingest_file", "ingest_paths"]
