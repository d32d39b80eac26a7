"""transcript quality

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

``transcripts.quality``: the recognition check of an ASR version (speech heard, words recognized,
word confidence, verdict). An ASR version whose check says "needs human transcription" blocks
every public use of its testimony until a human version exists.
"""
from alembic import op
import sqlalchemy as sa

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("transcripts") as batch:
        batch.add_column(sa.Column("quality", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("transcripts") as batch:
        batch.drop_column("quality")
