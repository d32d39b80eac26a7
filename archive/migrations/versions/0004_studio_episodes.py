"""studio episodes: build fingerprint, and the rendition each episode testimony was built from

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("episodes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("build_fingerprint", sa.String(length=64), nullable=True))
    with op.batch_alter_table("episode_testimonies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rendition_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_episode_testimonies_rendition_id_renditions", "renditions",
                                    ["rendition_id"], ["id"], ondelete="SET NULL")


def downgrade() -> None:
    with op.batch_alter_table("episode_testimonies", schema=None) as batch_op:
        batch_op.drop_constraint("fk_episode_testimonies_rendition_id_renditions", type_="foreignkey")
        batch_op.drop_column("rendition_id")
    with op.batch_alter_table("episodes", schema=None) as batch_op:
        batch_op.drop_column("build_fingerprint")
