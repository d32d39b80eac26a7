"""TermKind: one enum for what a sensitive term is, and the database refuses any other kind."""
from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import exc, inspect, text

from archive.db import Archive, alembic_config
from archive import models
from archive.models import SensitiveTerm, TermKind


def test_the_four_kinds():
    assert [k.value for k in TermKind] == ["name", "place", "phone", "other"]
    assert TermKind("place") == "place"


def test_the_database_refuses_an_unknown_kind(archive):
    with pytest.raises(exc.IntegrityError), archive.session() as session:
        testimony = models.Testimony(public_id="T-000001", internal_key="k", source_sha256="sha", source_name="a.wav",
                              duration=1.0)
        session.add(SensitiveTerm(testimony=testimony, term="Kayes", kind="planet"))
        session.flush()


def _term_at_0009(opened: Archive, kind: str) -> None:
    with opened.engine.begin() as conn:
        conn.execute(text("INSERT INTO testimonies (id, public_id, internal_key, source_sha256, source_name, "
                          "duration, muted_spans, created_at) VALUES (1, 'T-000001', 'k', 'sha', 'a.wav', 1.0, "
                          "'[]', '2026-01-01') ON CONFLICT DO NOTHING"))
        conn.execute(text("INSERT INTO sensitive_terms (testimony_id, term, kind, source, ignored, created_at) "
                          "VALUES (1, :term, :kind, 'intake', false, '2026-01-01')"), {"term": kind, "kind": kind})


def test_0010_makes_unknown_kinds_names_and_round_trips(settings):
    """An archive at 0009 with a term of an unknown kind, upgraded: the term stays, read as a name
    (as the redactor always read it); downgraded: the constraint goes, the rows stay."""
    opened = Archive(settings)
    config = alembic_config(opened.settings.db_url)
    command.downgrade(config, "0009")
    _term_at_0009(opened, "place")
    _term_at_0009(opened, "planet")
    command.upgrade(config, "head")
    with opened.engine.connect() as conn:
        kinds = dict(conn.execute(text("SELECT term, kind FROM sensitive_terms")).all())
    assert kinds == {"place": "place", "planet": "name"}
    table = inspect(opened.engine)
    assert "ck_sensitive_terms_kind" in {c["name"] for c in table.get_check_constraints("sensitive_terms")}
    assert [k["options"].get("ondelete") for k in table.get_foreign_keys("sensitive_terms")] == ["CASCADE"]
    assert [u["column_names"] for u in table.get_unique_constraints("sensitive_terms")] == [["testimony_id", "term"]]
    assert ["testimony_id"] in [i["column_names"] for i in table.get_indexes("sensitive_terms")]
    command.downgrade(config, "0009")
    assert not inspect(opened.engine).get_check_constraints("sensitive_terms")
    _term_at_0009(opened, "comet")  # no constraint at 0009
    command.upgrade(config, "head")
    opened.dispose()
