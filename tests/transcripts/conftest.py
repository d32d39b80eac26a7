"""Transcription fixtures: the archive configured with the tiny random-weight Whisper model
(``tiny_model``, tests/conftest.py) and testimonies ingested from real encoded audio."""
from __future__ import annotations

from pathlib import Path

import pytest

from ingest.pipeline import ingest_file
from tests.conftest import FULL_CONSENT
from transcripts.engine import TranscribeOptions

# Random weights never emit end-of-text on their own: bound the tokens per 30 s window.
TEST_OPTIONS = TranscribeOptions(max_new_tokens=20)


# The tiny model's words are random, so every transcript it makes fails the recognition check:
# tests of storage, timing and resumption lower the check's limits (RANDOM_MODEL_LIMITS), the
# tests of the check itself keep the defaults.
RANDOM_MODEL_LIMITS = {"transcript_min_confidence": 0.0, "transcript_min_words_per_second": 0.0,
                       "transcript_max_doubtful_share": 1.0}


@pytest.fixture
def asr_archive(archive, tiny_model):
    """The ``archive`` fixture (each backend) configured with the tiny model."""
    archive.settings = archive.settings.model_copy(update={
        "whisper_model": str(tiny_model), "whisper_device": "cpu", "whisper_cpu_threads": 1, **RANDOM_MODEL_LIMITS})
    return archive


@pytest.fixture
def ingest_testimony(make_audio):
    """ingest_testimony(archive, seconds=12, language="fr", consent=FULL_CONSENT, path=None) -> public id."""
    counter = iter(range(10_000))

    def _ingest(archive, seconds: float = 12.0, language: str | None = "fr", consent: dict | None = FULL_CONSENT,
                path: Path | None = None, **sidecar) -> str:
        n = next(counter)
        meta = {"pseudonym": f"Témoin {n}", **sidecar}
        if language:
            meta["language"] = language
        if consent is not None:
            meta["consent"] = consent
        if path is None:
            path = make_audio(f"t-{n}.wav", seconds=seconds, seed=n, sidecar=meta)
            result = ingest_file(archive, path)
        else:
            from ingest.sidecar import IntakeMetadata

            result = ingest_file(archive, path, metadata=IntakeMetadata(**meta))
        assert result.status == "ingested", result.reason
        return result.public_id

    return _ingest
