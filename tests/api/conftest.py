"""Fixtures for the archive API: an app over the test archive, one key per role, helpers that
write new transcript versions and approved renditions the way issues 3 and 4 do."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.deps import create_key
from archive.consent import preferred_transcript, rendition_fingerprint
from archive.models import MediaKind, Rendition, ReviewStatus, Role, Segment, Transcript, utcnow
from archive.search import index_testimony
from archive.testimonies import get


@pytest.fixture
def client(archive):
    with TestClient(create_app(archive.settings, archive=archive)) as test_client:
        yield test_client


@pytest.fixture
def keys(archive) -> dict[str, dict[str, str]]:
    """Request headers per role name, plus "anonymous" (no header)."""
    headers = {"anonymous": {}}
    with archive.session() as session:
        for role in Role:
            _key, token = create_key(session, f"test-{role}", role, "test")
            headers[role.value] = {"Authorization": f"Bearer {token}"}
    return headers


@pytest.fixture
def indexed(archive, seed_testimony):
    """indexed(...) -> public id: seed_testimony, then index it (as the transcription stage does)."""

    def _indexed(**kwargs) -> str:
        public_id = seed_testimony(**kwargs)
        with archive.session() as session:
            index_testimony(session, get(session, public_id))
        return public_id

    return _indexed


@pytest.fixture
def new_version(archive):
    """new_version(public_id, [(start, end, text)], redacted=[...] | None, source="human").

    Adds a transcript version; with ``redacted``, an approved rendition made from it; reindexes.
    """

    def _new_version(public_id: str, segments, redacted=None, source: str = "human") -> None:
        with archive.session() as session:
            testimony = get(session, public_id)
            version = max((t.version for t in _transcripts(session, testimony.id)), default=0) + 1
            transcript = Transcript(testimony_id=testimony.id, version=version, source=source, language="fr")
            transcript.segments = [Segment(idx=i, start=s, end=e, text=t) for i, (s, e, t) in enumerate(segments)]
            session.add(transcript)
            session.flush()
            if redacted is not None:
                session.refresh(testimony)
                session.add(Rendition(
                    testimony_id=testimony.id, audio_asset_id=testimony.asset(MediaKind.WORKING).id,
                    transcript_id=transcript.id, status=ReviewStatus.APPROVED, approved_by="test",
                    approved_at=utcnow(),
                    fingerprint=rendition_fingerprint(testimony, preferred_transcript(session, testimony.id)),
                    redacted_segments=[{"idx": i, "start": s, "end": e, "text": r}
                                       for i, ((s, e, _t), r) in enumerate(zip(segments, redacted))],
                ))
                session.flush()
            index_testimony(session, testimony)

    return _new_version


def _transcripts(session, testimony_id):
    from sqlalchemy import select

    return session.scalars(select(Transcript).where(Transcript.testimony_id == testimony_id)).all()
