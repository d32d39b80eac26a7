"""archive.search: query parsing (never passes user syntax to the engine) and indexing."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from archive.consent import Use
from archive.models import SearchAccess, SearchSegment
from archive.search import QueryError, index_testimony, parse_query, search
from archive.testimonies import get, withdraw


@pytest.mark.parametrize("raw, fts5", [
    ("refoulé", '("refoulé")'),
    ("Kayes frontière", '("kayes") AND ("frontière")'),
    ('"deux mille" dix*', '("deux mille") AND ("dix"*)'),
    ("Libye OR Algérie", '("libye" OR "algérie")'),
    ("dix-huit", '("dix huit")'),
    ("NEAR(a b)", '("near a") AND ("b")'),
    ("'; DROP TABLE testimonies; --", '("drop") AND ("table") AND ("testimonies")'),
    ('unbalanced "quote here', '("unbalanced") AND ("quote here")'),
])
def test_queries_become_quoted_tokens(raw, fts5):
    assert parse_query(raw).fts5() == fts5


def test_tsquery_rendering_quotes_every_word():
    assert parse_query('"deux mille" dix* OR onze').tsquery() == "('deux' <-> 'mille') & ('dix':* | 'onze')"


@pytest.mark.parametrize("raw", ["", "   ", '"', "*", "** -- ;", "()", "OR", "x" * 501, " ".join(["mot"] * 25)])
def test_queries_without_words_or_too_long_are_refused(raw):
    with pytest.raises(QueryError) as info:
        parse_query(raw)
    assert info.value.http_status == 400


def _segments(archive, public_id):
    with archive.session() as session:
        testimony = get(session, public_id)
        return session.scalars(select(SearchSegment.text).where(SearchSegment.testimony_id == testimony.id)).all()


def test_index_follows_consent_and_is_idempotent(archive, seed_testimony):
    public_id = seed_testimony(text="nous avons traversé le désert")
    with archive.session() as session:
        testimony = get(session, public_id)
        index_testimony(session, testimony)
        index_testimony(session, testimony)
        assert session.scalar(select(func.count()).select_from(SearchSegment)) == 1
        assert session.get(SearchAccess, testimony.id).advocacy_ok
        assert search(session, "desert", use=Use.ADVOCACY, redacted=True).count == 1
        withdraw(session, testimony, "test")  # add_consent re-indexes: texts are dropped
        assert session.scalar(select(func.count()).select_from(SearchSegment)) == 0
        assert not session.get(SearchAccess, testimony.id).archive_ok
        assert search(session, "desert", use=Use.ARCHIVE, redacted=False).count == 0
