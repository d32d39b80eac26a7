"""The ingest stage: one recording in, one testimony out, or one clear reason why not.

Each file is its own transaction. Stored files are removed again if the record cannot be
committed (error or Ctrl-C), so an interrupted batch leaves nothing half-done; running the
same batch again finishes it and skips what is already in (same sha256).

A file that fails, for whatever reason, fails alone: its result says why in one line that names
it by its path as given, and the batch goes on. A name that is not UTF-8 is kept
backslash-escaped (``errors.printable``) in the record, the audit log and every message.
"""
from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError as DBIntegrityError

from archive import audit
from archive.audio import probe
from archive.db import Archive
from archive.errors import AudioError, InputError, KumaError, MetadataError, file_label, printable
from archive.models import MediaAsset, MediaKind, SensitiveTerm, StageName, StageState, Testimony, Theme
from archive.procs import worker_pool
from archive.store import Stored, sha256_file
from archive.testimonies import add_consent, public_id_for, set_stage
from ingest.prepare import Prepared, prepare
from ingest.sidecar import SIDECAR_SUFFIXES, IntakeMetadata, load_metadata

AUDIO_SUFFIXES = (".wav", ".mp3", ".m4a", ".aac", ".mp4", ".ogg", ".oga", ".opus", ".webm", ".amr", ".flac", ".3gp")


@dataclass
class IngestResult:
    path: Path
    status: str  # "ingested", "duplicate", "failed"
    public_id: str | None = None
    duration: float = 0.0
    reason: str | None = None  # one line naming the file (failed, duplicate)
    exit_code: int = 0  # a failure's: that of its error class (2 bad input, 7 stage, 1 unexpected)


def failure(path: Path, exc: BaseException) -> IngestResult:
    """The result of a file that failed: the error's one line (naming the file once) and exit code;
    an unexpected error (a bug) says what it was and fails this file only."""
    label = file_label(path)
    if isinstance(exc, KumaError):
        reason, code = printable(str(exc)), exc.exit_code
    else:
        reason, code = printable(f"erreur inattendue ({type(exc).__name__}: {exc}), à signaler"), 1
    if label not in reason:
        reason = f"{label} : {reason}"
    return IngestResult(path, "failed", reason=reason, exit_code=code)


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
        elif path.exists():
            problems.append(failure(path, InputError(f"{file_label(path)} : ni un fichier ni un dossier")))
        else:
            problems.append(failure(path, InputError(f"{file_label(path)} : fichier introuvable")))
    return list(dict.fromkeys(files)), problems


def ingest_paths(archive: Archive, paths: Iterable[Path], *, meta: Path | None = None, actor: str = "kuma",
                 jobs: int = 1, on_start: Callable[[Path], None] | None = None,
                 on_done: Callable[[IngestResult], None] | None = None) -> Iterator[IngestResult]:
    """Ingest files and folders, in order. With ``jobs`` > 1 the file work (copy, decode, working
    copy) runs ahead in that many worker processes; records are still written here, one
    transaction per file, in file order (so public ids follow the files)."""
    files, problems = collect_files(paths)
    yield from problems
    archive.store.clean_temp()
    shared_meta = load_metadata(meta) if meta else None
    if jobs > 1 and len(files) > 1:
        results = _ingest_parallel(archive, files, shared_meta, actor, jobs, on_start)
    else:
        results = (_ingest_one(archive, path, shared_meta, actor, on_start) for path in files)
    for result in results:
        if on_done:
            on_done(result)
        yield result


def _ingest_one(archive: Archive, path: Path, metadata, actor: str, on_start) -> IngestResult:
    if on_start:
        on_start(path)
    return ingest_file(archive, path, metadata=metadata, actor=actor)


def ingest_file(archive: Archive, path: Path, *, metadata: IntakeMetadata | None = None, actor: str = "kuma") -> IngestResult:
    path = Path(path)
    try:
        if _original_sizes(archive, _size(path)):  # a stored original of this size: maybe a copy
            duplicate = _existing(archive, path, _sha(path))
            if duplicate is not None:
                return duplicate
        return commit(archive, prepare(archive.settings, path, metadata), actor)
    except Exception as exc:  # this file fails, the batch goes on
        return failure(path, exc)


def _ingest_parallel(archive: Archive, files: list[Path], metadata, actor: str, jobs: int,
                     on_start) -> Iterator[IngestResult]:
    with worker_pool(jobs) as pool:  # spawned (no inherited database connections), die with this process
        queued: list[tuple[Path, Future | IngestResult | None]] = []
        seen: set[str] = set()
        sizes = {path: _size_or_none(path) for path in files}
        stored, in_batch = _original_sizes(archive), Counter(sizes.values())
        for path in files:
            sha = None
            try:
                size = _size(path) if sizes[path] is None else sizes[path]
                # identical recordings have identical sizes: hash up front only the possible copies
                if size in stored or in_batch[size] > 1:
                    sha = _sha(path)
                work = _existing(archive, path, sha) if size in stored else None
            except Exception as exc:
                work = failure(path, exc)
            if work is None and (sha is None or sha not in seen):
                seen.add(sha)
                work = pool.submit(prepare, archive.settings, path, metadata)
            # left None: a copy of a file earlier in the batch, ingested (as a duplicate) after it
            queued.append((path, work))
        try:
            for index, (path, work) in enumerate(queued):
                if on_start:
                    on_start(path)
                if isinstance(work, Future):
                    yield _commit_future(archive, path, work, actor)
                    queued[index] = (path, None)
                elif work is None:
                    yield ingest_file(archive, path, metadata=metadata, actor=actor)
                else:
                    yield work
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            for _path, work in queued:  # interrupted: prepared files nobody will record
                if isinstance(work, Future) and not work.cancelled() and work.exception() is None:
                    discard(archive, work.result())


def _commit_future(archive: Archive, path: Path, future: Future, actor: str) -> IngestResult:
    try:
        return commit(archive, future.result(), actor)
    except Exception as exc:  # the worker's error (pickled back), or the record's
        return failure(path, exc)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as exc:
        raise AudioError(f"{file_label(path)} : lecture impossible ({exc.strerror})") from exc


def _size_or_none(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def _original_sizes(archive: Archive, size: int | None = None) -> set[int]:
    """Sizes of the stored originals (only ``size`` when given): a file of another size is new."""
    statement = select(MediaAsset.size).where(MediaAsset.kind == MediaKind.ORIGINAL)
    if size is not None:
        statement = statement.where(MediaAsset.size == size).limit(1)
    with archive.session() as session:
        return set(session.scalars(statement))


def _sha(path: Path) -> str:
    try:
        return sha256_file(path)
    except OSError as exc:
        raise AudioError(f"{file_label(path)} : lecture impossible ({exc.strerror})") from exc


def _existing(archive: Archive, path: Path, sha: str) -> IngestResult | None:
    """The "duplicate" result when this recording is in the archive already."""
    with archive.session() as session:
        existing = session.scalar(select(Testimony).where(Testimony.source_sha256 == sha))
        if existing is None:
            return None
        return IngestResult(path, "duplicate", existing.public_id, existing.duration, "déjà ingéré")


def commit(archive: Archive, prepared: Prepared, actor: str) -> IngestResult:
    """Record a prepared recording in one transaction; on any failure its files are released (and
    the working copy's temp file removed)."""
    path, store = prepared.path, archive.store
    added = [prepared.original.sha256]
    try:
        try:
            with archive.session() as session:
                prepared.metadata.check_themes(set(session.scalars(select(Theme.slug))), file_label(path))
                working_file = store.adopt(prepared.working.path)
                added.append(working_file.sha256)
                testimony = _record(session, prepared, working_file, archive.settings.working_sample_rate, actor)
                result = IngestResult(path, "ingested", testimony.public_id, prepared.working.duration)
        except DBIntegrityError:
            # another process recorded the same recording meanwhile: it is in, once
            duplicate = _existing(archive, path, prepared.original.sha256)
            if duplicate is None:
                raise
            return duplicate
        added.clear()  # committed: the files now belong to the record
        return result
    finally:
        prepared.working.path.unlink(missing_ok=True)  # gone already when adopted
        archive.release_media(added)


def discard(archive: Archive, prepared: Prepared) -> None:
    prepared.working.path.unlink(missing_ok=True)
    archive.release_media([prepared.original.sha256])


def _record(session, prepared: Prepared, working_file: Stored, rate: int, actor: str) -> Testimony:
    path, metadata, info, working, original = (prepared.path, prepared.metadata, prepared.info,
                                               prepared.working, prepared.original)
    themes = [session.get(Theme, slug) for slug in metadata.themes]
    testimony = Testimony(
        internal_key=secrets.token_hex(32),
        source_sha256=original.sha256,
        source_name=source_name(path),
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
        stages=[], consents=[], sensitive_terms=[],  # a new testimony has none: no lazy loads to find out
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
    set_stage(session, testimony, StageName.INGEST, StageState.DONE)
    audit.record(session, actor, "testimony.ingest", testimony=testimony, file=source_name(path))
    session.flush()
    return testimony


def source_name(path: Path) -> str:
    """The file's name as recorded: valid UTF-8 (undecodable bytes escaped), at most 512 characters."""
    return printable(path.name)[:512]


def quick_duration(path: Path) -> float:
    """The header's duration, 0 when unreadable (for progress totals only)."""
    try:
        return probe(path).duration
    except (KumaError, OSError):
        return 0.0


__all__ = ["AUDIO_SUFFIXES", "IngestResult", "MetadataError", "collect_files", "failure", "ingest_file", "ingest_paths",
           "source_name"]
