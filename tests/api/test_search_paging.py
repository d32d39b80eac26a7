"""/api/search: the capped match count, paging, and one audit event per testimony returned."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from archive import search
from archive.models import AuditEvent

SEGMENTS = [(i * 2.0, i * 2.0 + 2.0, f"phrase {i} : la police est venue au camp") for i in range(5)]


@pytest.fixture
def five_hits(indexed, new_version) -> str:
    """A testimony with five segments that all match "police"."""
    public_id = indexed(text="brouillon")
    new_version(public_id, SEGMENTS, redacted=[s[2] for s in SEGMENTS])
    return public_id


def page(client, keys, **params) -> dict:
    response = client.get("/api/search", params={"q": "police", **params}, headers=keys["advocate"])
    assert response.status_code == 200, response.text
    return response.json()


def test_count_is_capped_and_says_so(monkeypatch, client, keys, five_hits):
    monkeypatch.setattr(search, "COUNT_CAP", 3)
    capped = page(client, keys, limit=2)
    assert (len(capped["data"]), capped["count"], capped["count_capped"]) == (2, 3, True)
    # a short page ends the results: its count is exact, whatever the cap
    assert (page(client, keys, limit=10)["count"], page(client, keys, limit=10)["count_capped"]) == (5, False)
    # deeper than the cap: counted at least to the page's end
    deep = page(client, keys, limit=2, offset=2)
    assert (len(deep["data"]), deep["count"], deep["count_capped"]) == (2, 4, True)
    last = page(client, keys, limit=2, offset=4)
    assert (len(last["data"]), last["count"], last["count_capped"]) == (1, 5, False)
    beyond = page(client, keys, limit=2, offset=6)
    assert (beyond["data"], beyond["count"], beyond["count_capped"]) == ([], 5, False)


def test_exact_count_below_the_cap(client, keys, five_hits):
    full = page(client, keys, limit=2)
    assert (full["count"], full["count_capped"]) == (5, False)
    segments = [h["segment"] for offset in (0, 2, 4) for h in page(client, keys, limit=2, offset=offset)["data"]]
    assert sorted(segments) == [0, 1, 2, 3, 4]  # pages neither overlap nor skip


def test_one_audit_event_per_testimony_returned(archive, client, keys, five_hits, indexed):
    other = indexed(text="la police encore")
    hits = page(client, keys, limit=10)["data"]
    assert {h["testimony"] for h in hits} == {five_hits, other}
    with archive.session() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "testimony.search")).all()
        by_target = {e.target: e for e in events}
    assert len(events) == 2 and set(by_target) == {five_hits, other}
    assert sorted(by_target[five_hits].detail["segments"]) == [0, 1, 2, 3, 4]
    assert by_target[other].detail == {"query": "police", "segments": [0]}
    assert all(e.actor == "api:test-advocate" and e.testimony_id is not None and e.at is not None for e in events)


@pytest.mark.parametrize("path", ["/api/search?q=police&expelled_from=%00", "/api/testimonies?place=a%00b"])
def test_nul_in_a_filter_is_422_on_every_database(client, keys, path):
    response = client.get(path, headers=keys["advocate"])
    assert response.status_code == 422 and response.json()["error"] == "invalid_input"
