"""The file half of ingest (no database): what worker processes run for a batch.

Store the original untouched, probe, decode into the clean working copy (a temp file in the
store), and check the result. ``ingest.pipeline.commit`` then records it in one transaction.
Kept apart from the pipeline so that a worker process imports no database code.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from archive.audio import AudioInfo
from archive.errors import AudioError
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
    the working copy in one pass."""
    store = MediaStore(settings.media_path)
    temp = store.temp_path(".flac")
    original = None
    try:
        try:
            original = store.put_file(path)  # hashes while copying
        except OSError as exc:
            raise AudioError(f"{path.name} : lecture impossible ({exc.strerror})") from exc
        if original.size == 0:
            raise AudioError(f"{path.name} : fichier vide")
        metadata = metadata or load_metadata(find_sidecar(path))
        working = make_working_copy(path, temp, rate=settings.working_sample_rate,
                                    check=lambda info: _check_duration(path, info.duration, settings))
        _check_audio(path, working.duration, working.loudest_second_dbfs, settings)
        return Prepared(path, metadata, original, working)
    except BaseException:
        temp.unlink(missing_ok=True)
        if original is not None and original.created:
            store.remove(original.sha256)  # nobody else stored it: it is ours to take back
        raise


def _check_duration(path: Path, duration: float, settings) -> None:
    if duration > settings.max_duration_s:
        raise AudioError(f"{path.name} : trop long ({duration / 60:.0f} min, maximum {settings.max_duration_s / 60:.0f} min)")


def _check_audio(path: Path, duration: float, loudest_dbfs: float, settings) -> None:
    if duration <= 0:
        raise AudioError(f"{path.name} : aucun son (durée nulle)")
    _check_duration(path, duration, settings)
    if loudest_dbfs < settings.min_audio_dbfs:
        raise AudioError(f"{path.name} : enregistrement silencieux (niveau max {loudest_dbfs:.0f} dBFS)")
