"""voice modes and the intelligibility gate

``consent_records.voice_mode``: how strongly the witness accepted that the voice be disguised
(light, standard, strong; existing records: standard, the default). ``renditions.intelligibility``:
the disguised rendition re-transcribed, its word error rate against the ruling transcript and the
model used (see docs/anonymization.md).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-10
"""
from alembic import op
import sqlalchemy as sa

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("consent_records") as batch:
        batch.add_column(sa.Column("voice_mode", sa.String(length=16), nullable=False, server_default="standard"))
    with op.batch_alter_table("renditions") as batch:
        batch.add_column(sa.Column("intelligibility", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("renditions") as batch:
        batch.drop_column("intelligibility")
    with op.batch_alter_table("consent_records") as batch:
        batch.drop_column("voice_mode")
