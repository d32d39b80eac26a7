"""The file half of ingest (no database): what worker processes run for a batch.

Store the original untouched, probe, decode into the clean working copy (a temp file in the
store), and check the result. ``ingest.pipeline.commit`` then records it in one transaction.
Kept apart from the pipeline so that a worker process imports no database code.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from archive.audio import AudioInfo, check_complete, duration_text
from archive.errors import AudioError, MetadataError, StageError, file_label
from archive.settings import Settings
from archive.store import MediaStore, Stored
from ingest.sidecar import IntakeMetadata, find_sidecar, load_metadata
from ingest.working import WorkingCopy, make_working_copy


@dataclass
class Prepared:
    """A recording's file work, done and checked, waiting to be recorded (picklable: workers return it)."""

    path: Path
    metadata: IntakeMetadata
    original: Stored
    working: WorkingCopy  # its path is a temp file inside the store

    @property
    def info(self) -> AudioInfo:
        """The source's header, read in the working copy's decoding pass."""
        return self.working.source


def prepare(settings: Settings, path: Path, metadata: IntakeMetadata | None) -> Prepared:
    """Everything but the database: store the original, then read its header, decode, write and check
    the working copy in one pass. Errors name the file by its path as given. On any failure
    nothing is left behind: no temp file, and no stored original unless it was there before."""
    label = file_label(path)
    store = MediaStore(settings.media_path)
    temp = store.temp_path(".flac")
    original = None
    try:
        original = _store_original(store, path, label)
        metadata = metadata or _sidecar_metadata(path, label)
        working = make_working_copy(path, temp, rate=settings.working_sample_rate, label=label,
                                    check=lambda info: _check_duration(label, info.duration, settings))
        check_complete(path, working.source, working.duration, label=label)
        _check_audio(label, working.duration, working.loudest_second_dbfs, settings)
        return Prepared(path, metadata, original, working)
    except BaseException:
        temp.unlink(missing_ok=True)
        if original is not None and original.created:
            store.remove(original.sha256)  # nobody else stored it: it is ours to take back
        raise


def _store_original(store: MediaStore, path: Path, label: str) -> Stored:
    """Copy the original into the store; a read error is the file's, any other the store's."""
    try:
        original = store.put_file(path)  # hashes while copying
    except OSError as exc:
        if exc.filename is not None and os.fsdecode(exc.filename) == os.fsdecode(path):
            raise AudioError(f"{label} : lecture impossible ({exc.strerror})") from exc
        raise StageError(f"{label} : écriture impossible dans le stockage ({exc.strerror or exc})") from exc
    if original.size == 0:
        if original.created:
            store.remove(original.sha256)
        raise AudioError(f"{label} : fichier vide")
    return original


def _sidecar_metadata(path: Path, label: str) -> IntakeMetadata:
    """The sidecar's metadata; its errors name the recording too (they name the sidecar)."""
    try:
        return load_metadata(find_sidecar(path))
    except MetadataError as exc:
        raise MetadataError(f"{label} : {exc}") from exc


def _check_duration(label: str, duration: float, settings) -> None:
    if duration > settings.max_duration_s:
        raise AudioError(f"{label} : trop long ({duration_text(duration)}, maximum {duration_text(settings.max_duration_s)})")


def _check_audio(label: str, duration: float, loudest_dbfs: float, settings) -> None:
    if duration <= 0:
        raise AudioError(f"{label} : aucun son (durée nulle)")
    _check_duration(label, duration, settings)
    if loudest_dbfs < settings.min_audio_dbfs:
        raise AudioError(f"{label} : enregistrement silencieux (niveau max {loudest_dbfs:.0f} dBFS)")
