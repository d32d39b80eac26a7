"""api keys and search index

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22

SQLite: an FTS5 table ``search_fts`` (unicode61, diacritics removed) over ``search_segments``
(external content, kept in step by triggers). PostgreSQL: a ``kuma_french`` text search
configuration (french stemming, + unaccent when the extension can be installed) and two
generated tsvector columns with GIN indexes.
"""
import logging

from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

FTS_TRIGGERS = {
    "search_segments_ai": """CREATE TRIGGER search_segments_ai AFTER INSERT ON search_segments BEGIN
        INSERT INTO search_fts(rowid, text, redacted) VALUES (new.id, new.text, new.redacted); END""",
    "search_segments_ad": """CREATE TRIGGER search_segments_ad AFTER DELETE ON search_segments BEGIN
        INSERT INTO search_fts(search_fts, rowid, text, redacted) VALUES ('delete', old.id, old.text, old.redacted); END""",
    "search_segments_au": """CREATE TRIGGER search_segments_au AFTER UPDATE ON search_segments BEGIN
        INSERT INTO search_fts(search_fts, rowid, text, redacted) VALUES ('delete', old.id, old.text, old.redacted);
        INSERT INTO search_fts(rowid, text, redacted) VALUES (new.id, new.text, new.redacted); END""",
}


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("prefix", sa.String(length=24), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("name", name=op.f("uq_api_keys_name")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    op.create_table(
        "search_access",
        sa.Column("testimony_id", sa.Integer(), nullable=False),
        sa.Column("transcript_id", sa.Integer(), nullable=True),
        sa.Column("rendition_id", sa.Integer(), nullable=True),
        sa.Column("archive_ok", sa.Boolean(), nullable=False),
        sa.Column("process_ok", sa.Boolean(), nullable=False),
        sa.Column("advocacy_ok", sa.Boolean(), nullable=False),
        sa.Column("indexed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["testimony_id"], ["testimonies.id"],
                                name=op.f("fk_search_access_testimony_id_testimonies"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("testimony_id", name=op.f("pk_search_access")),
    )
    op.create_table(
        "search_segments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("testimony_id", sa.Integer(), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("redacted", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["testimony_id"], ["testimonies.id"],
                                name=op.f("fk_search_segments_testimony_id_testimonies"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_segments")),
    )
    with op.batch_alter_table("search_segments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_search_segments_testimony_id"), ["testimony_id"], unique=False)

    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("CREATE VIRTUAL TABLE search_fts USING fts5(text, redacted, content='search_segments', "
                   "content_rowid='id', tokenize='unicode61 remove_diacritics 2')")
        for statement in FTS_TRIGGERS.values():
            op.execute(statement)
    elif dialect == "postgresql":
        _postgres_config()
        for column in ("text", "redacted"):
            op.execute(f"ALTER TABLE search_segments ADD COLUMN tsv_{column} tsvector "
                       f"GENERATED ALWAYS AS (to_tsvector('kuma_french'::regconfig, {column})) STORED")
            op.execute(f"CREATE INDEX ix_search_segments_tsv_{column} ON search_segments USING gin (tsv_{column})")


def _postgres_config() -> None:
    """``kuma_french``: french stemming, accents folded by unaccent when it can be installed."""
    bind = op.get_bind()
    op.execute("CREATE TEXT SEARCH CONFIGURATION kuma_french (COPY = pg_catalog.french)")
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public"))
        unaccent = bind.execute(sa.text(
            "SELECT n.nspname FROM pg_ts_dict d JOIN pg_namespace n ON n.oid = d.dictnamespace "
            "WHERE d.dictname = 'unaccent'")).scalar()
    except sa.exc.DBAPIError:
        unaccent = None
    if unaccent:
        op.execute("ALTER TEXT SEARCH CONFIGURATION kuma_french ALTER MAPPING FOR hword, hword_part, word "
                   f'WITH "{unaccent}".unaccent, french_stem')
    else:
        log.warning("unaccent unavailable: PostgreSQL search folds accents in Python only for queries")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in FTS_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS search_fts")
    with op.batch_alter_table("search_segments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_search_segments_testimony_id"))
    op.drop_table("search_segments")
    if dialect == "postgresql":
        op.execute("DROP TEXT SEARCH CONFIGURATION IF EXISTS kuma_french")
    op.drop_table("search_access")
    op.drop_table("api_keys")
