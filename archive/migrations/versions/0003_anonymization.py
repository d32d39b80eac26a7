"""anonymization: no schema change

The foundation revision already creates ``renditions`` and ``sensitive_terms`` with every column
issue 4 needs (redacted segments and redactions are JSON columns on ``renditions``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
