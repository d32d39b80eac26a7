"""Helpers shared by the studio episode tests (no tests here)."""
from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from tests.conftest import FULL_CONSENT


def approve_recording(archive, source: Path, tmp_path: Path, *, text: str) -> str:
    """Ingest a real recording and give it an approved rendition over its whole length
    (its audio is the working copy, as in the seed_testimony fixture)."""
    from archive.consent import preferred_transcript, rendition_fingerprint
    from archive.models import MediaKind, Rendition, ReviewStatus, Segment, Transcript, utcnow
    from archive.testimonies import get
    from ingest.pipeline import ingest_file

    folder = tmp_path / "real"
    folder.mkdir(exist_ok=True)
    copy = folder / source.name
    shutil.copy(source, copy)
    meta = {"language": "fr", "pseudonym": "Awa", "themes": ["retour"], "consent": FULL_CONSENT}
    copy.with_suffix(".yaml").write_text(yaml.safe_dump(meta, allow_unicode=True), encoding="utf-8")
    result = ingest_file(archive, copy)
    assert result.status == "ingested", result.reason
    with archive.session() as session:
        testimony = get(session, result.public_id)
        transcript = Transcript(testimony_id=testimony.id, version=1, source="asr", language="fr")
        transcript.segments = [Segment(idx=0, start=0.0, end=testimony.duration, text=text)]
        session.add(transcript)
        session.flush()
        session.refresh(testimony)
        session.add(Rendition(
            testimony_id=testimony.id, audio_asset_id=testimony.asset(MediaKind.WORKING).id,
            transcript_id=transcript.id, status=ReviewStatus.APPROVED, approved_by="test", approved_at=utcnow(),
            fingerprint=rendition_fingerprint(testimony, preferred_transcript(session, testimony.id)),
            redacted_segments=[{"idx": 0, "start": 0.0, "end": testimony.duration, "text": text}]))
    return result.public_id
