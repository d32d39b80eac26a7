"""rendition flags: what the reviewer must check besides the redactions

A JSON list on ``renditions``: weaker matches of sensitive terms, unknown proper nouns and the
transcript's low-confidence segments, each with its time (see docs/anonymization.md).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("renditions") as batch:
        batch.add_column(sa.Column("flags", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    with op.batch_alter_table("renditions") as batch:
        batch.drop_column("flags")
