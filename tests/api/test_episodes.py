"""Episodes through the API: anonymous callers get published public ones only."""
from __future__ import annotations

from datetime import date

from archive.models import Episode, EpisodeTestimony, utcnow
from archive.testimonies import get, withdraw


def _episode(session, number: int, *, public: bool, built: bool = True, testimony=None) -> Episode:
    episode = Episode(slug=f"demystification-{number:03d}", programme="Démystification", number=number,
                      title=f"Épisode {number}", date=date(2026, 1, number), public=public,
                      built_at=utcnow() if built else None)
    if testimony is not None:
        episode.testimonies = [EpisodeTestimony(testimony=testimony)]
    session.add(episode)
    return episode


def test_episode_visibility_by_caller(archive, client, keys, indexed):
    public_id = indexed(text="émission")
    with archive.session() as session:
        testimony = get(session, public_id)
        _episode(session, 1, public=True, testimony=testimony)
        _episode(session, 2, public=False)
        _episode(session, 3, public=True, built=False)

    def slugs(role):
        response = client.get("/api/episodes", headers=keys[role])
        assert response.status_code == 200
        return [e["slug"] for e in response.json()["data"]]

    assert slugs("anonymous") == ["demystification-001"]
    assert slugs("radio") == ["demystification-002", "demystification-001"]
    assert len(slugs("admin")) == 3
    with archive.session() as session:
        withdraw(session, get(session, public_id), "intake")
    assert slugs("anonymous") == [] and slugs("radio") == ["demystification-002"]
