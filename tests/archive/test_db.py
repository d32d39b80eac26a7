import stat

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text

from archive.db import Archive, alembic_config
from archive.models import Base, Theme


def test_migrations_create_every_model_table(archive):
    tables = set(inspect(archive.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_migration_chain_is_linear():
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1


def test_theme_vocabulary_is_seeded(archive):
    with archive.session() as session:
        slugs = set(session.scalars(select(Theme.slug)))
    assert {"expulsion", "refoulement", "voyage-désert", "démystification"} <= slugs
    assert len(slugs) == 15


def test_sqlite_is_wal_with_foreign_keys_and_private(sqlite_settings):
    opened = Archive(sqlite_settings)
    with opened.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    db_file = sqlite_settings.home / "kuma.db"
    assert stat.S_IMODE(sqlite_settings.home.stat().st_mode) == 0o700
    assert stat.S_IMODE(db_file.stat().st_mode) == 0o600
    opened.dispose()


def test_reopening_is_idempotent(settings):
    Archive(settings).dispose()
    again = Archive(settings)  # upgrade head twice: nothing to do, no error
    again.dispose()


def test_downgrade_to_base_and_back(sqlite_settings):
    opened = Archive(sqlite_settings)
    config = alembic_config(opened.settings.db_url)
    command.downgrade(config, "base")
    assert set(inspect(opened.engine).get_table_names()) <= {"alembic_version"}
    command.upgrade(config, "head")
    assert "testimonies" in inspect(opened.engine).get_table_names()
    opened.dispose()


def test_0009_gives_existing_consent_records_the_standard_voice_mode(sqlite_settings):
    """An archive at 0008 with a consent record and a rendition, upgraded: the witness's earlier
    consent reads as the standard mode, the old rendition has no intelligibility measure."""
    opened = Archive(sqlite_settings)
    config = alembic_config(opened.settings.db_url)
    command.downgrade(config, "0008")
    with opened.engine.begin() as conn:
        conn.execute(text("INSERT INTO testimonies (id, public_id, internal_key, source_sha256, source_name, "
                          "duration, muted_spans, created_at) VALUES (1, 'T-000001', 'k', 'sha', 'a.wav', 1.0, "
                          "'[]', '2026-01-01')"))
        conn.execute(text("INSERT INTO consent_records (testimony_id, version, archive, advocacy, broadcast, online, "
                          "identity, voice, recorded_by, recorded_at) VALUES (1, 1, 1, 0, 1, 0, 'anonymous', "
                          "'disguise', 'office', '2026-01-01')"))
        conn.execute(text("INSERT INTO renditions (testimony_id, status, fingerprint, redacted_segments, redactions, "
                          "created_at) VALUES (1, 'approved', 'f', '[]', '[]', '2026-01-01')"))
    command.upgrade(config, "head")
    with opened.engine.connect() as conn:
        assert conn.execute(text("SELECT voice_mode FROM consent_records")).scalar() == "standard"
        assert conn.execute(text("SELECT intelligibility FROM renditions")).scalar() is None
    opened.dispose()
