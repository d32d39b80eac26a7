"""what partner stations report back after each sync (station sync, issue 19)

``station_receipts``: one per sync a station's client reported (the episodes it holds, with their
sha256, and its problems); only the latest are kept per station.
``station_takedowns``: a takedown a station confirmed it executed (or a person confirmed for it, by
phone: ``confirmed_by``), one row per station and episode.
``station_airings``: "aired at" lines from a station's playout log.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _station_column() -> list:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
    ]


def _keys(table: str) -> list:
    return [
        sa.ForeignKeyConstraint(["station_id"], ["radio_stations.id"], name=op.f(f"fk_{table}_station_id_radio_stations"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def upgrade() -> None:
    op.create_table(
        "station_receipts", *_station_column(),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("held", sa.JSON(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        *_keys("station_receipts"),
    )
    op.create_table(
        "station_takedowns", *_station_column(),
        sa.Column("guid", sa.String(length=80), nullable=False),
        sa.Column("slug", sa.String(length=128), nullable=False),
        sa.Column("listed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("executed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("files_deleted", sa.JSON(), nullable=False),
        sa.Column("confirmed_by", sa.String(length=128), nullable=True),
        *_keys("station_takedowns"),
        sa.UniqueConstraint("station_id", "guid", name=op.f("uq_station_takedowns_station_id")),
    )
    op.create_table(
        "station_airings", *_station_column(),
        sa.Column("guid", sa.String(length=80), nullable=False),
        sa.Column("slug", sa.String(length=128), nullable=False),
        sa.Column("aired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        *_keys("station_airings"),
        sa.UniqueConstraint("station_id", "guid", "aired_at", name=op.f("uq_station_airings_station_id")),
    )
    for table in ("station_receipts", "station_takedowns", "station_airings"):
        op.create_index(op.f(f"ix_{table}_station_id"), table, ["station_id"])


def downgrade() -> None:
    for table in ("station_airings", "station_takedowns", "station_receipts"):
        op.drop_index(op.f(f"ix_{table}_station_id"), table_name=table)
        op.drop_table(table)
