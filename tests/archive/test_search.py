"""archive.search: query parsing (never passes user syntax to the engine) and indexing."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from archive.consent import Use
from archive.models import SearchAccess, SearchSegment
from archive.search import (
    ELLIPSIS,
    FTS5_TOKENIZER,
    MARK_END,
    MARK_START,
    SNIPPET_TOKENS,
    QueryError,
    _snippets,
    index_testimony,
    parse_query,
    search,
)
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
        withdraw(session, testimony, "test")
        index_testimony(session, testimony)  # what pipeline.ON_CONSENT_CHANGE does: texts are dropped
        assert session.scalar(select(func.count()).select_from(SearchSegment)) == 0
        assert not session.get(SearchAccess, testimony.id).archive_ok
        assert search(session, "desert", use=Use.ARCHIVE, redacted=False).count == 0


TEXTS = ["À Tamanrasset la police nous a refoulés vers le désert, refoulés encore",
         ("nous avons marché trois jours dans le sable sans eau, puis la police de la frontière nous a "
          "rattrapés et renvoyés au désert de Tinzaouatene avec les autres refoulés du convoi"),
         "Je suis rentré à Bamako sans mes biens"]


@pytest.mark.parametrize("raw", ["refoules", "refou*", "police desert", '"la police"', "biens OR sable"])
def test_page_snippets_are_fts5_snippets_of_the_whole_index(archive, seed_testimony, raw):
    """The in-memory snippets of a page equal snippet() over search_fts for the same rows."""
    from sqlalchemy import text

    if archive.engine.dialect.name != "sqlite":
        pytest.skip("FTS5 snippets: SQLite only (PostgreSQL uses ts_headline)")
    for body in TEXTS:
        with archive.session() as session:
            index_testimony(session, get(session, seed_testimony(text=body)))
    query = parse_query(raw).fts5()
    with archive.session() as session:
        tokenizer = session.execute(text("SELECT sql FROM sqlite_master WHERE name = 'search_fts'")).scalar_one()
        assert f"tokenize='{FTS5_TOKENIZER}'" in tokenizer
        expected = dict(session.execute(text(
            "SELECT rowid, snippet(search_fts, 0, :a, :b, :c, :n) FROM search_fts WHERE search_fts MATCH :q"),
            {"a": MARK_START, "b": MARK_END, "c": ELLIPSIS, "n": SNIPPET_TOKENS, "q": f"{{text}} : ({query})"}).all())
        bodies = dict(session.execute(select(SearchSegment.id, SearchSegment.text)).all())
    assert expected and "<mark>" in next(iter(expected.values()))
    assert _snippets(query, bodies) == expected
