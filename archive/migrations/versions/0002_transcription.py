"""transcription: theme suggestions from transcripts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "theme_suggestions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("testimony_id", sa.Integer(), nullable=False),
        sa.Column("transcript_id", sa.Integer(), nullable=False),
        sa.Column("theme_slug", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["testimony_id"], ["testimonies.id"],
                                name="fk_theme_suggestions_testimony_id_testimonies", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["transcript_id"], ["transcripts.id"],
                                name="fk_theme_suggestions_transcript_id_transcripts", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["theme_slug"], ["themes.slug"], name="fk_theme_suggestions_theme_slug_themes"),
        sa.PrimaryKeyConstraint("id", name="pk_theme_suggestions"),
        sa.UniqueConstraint("testimony_id", "theme_slug", name="uq_theme_suggestions_testimony_id"),
    )
    with op.batch_alter_table("theme_suggestions", schema=None) as batch_op:
        batch_op.create_index("ix_theme_suggestions_testimony_id", ["testimony_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("theme_suggestions", schema=None) as batch_op:
        batch_op.drop_index("ix_theme_suggestions_testimony_id")
    op.drop_table("theme_suggestions")
