"""sensitive-term kinds checked by the database

``sensitive_terms.kind`` may only be one of ``archive.models.TermKind``: name, place, phone,
other (CHECK constraint ``ck_sensitive_terms_kind``).

Existing rows with another kind: every writer already refused one (the intake sidecar, ``kuma
review add-term``), so only a row written by hand can have one. Such a row becomes "name" before
the constraint is added, because that is how the redactor has always read an unknown kind (a
name: [NOM], each part of it matched on its own), so the upgrade changes no rendition. The term
itself is kept: dropping it would let the word out. The downgrade only drops the constraint.

Revision ID: 0010
Revises: 0009
Create Date: 2027-01-07
"""
from alembic import op
import sqlalchemy as sa

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

KINDS = ("name", "place", "phone", "other")  # as TermKind was at this revision
IN_KINDS = f"kind IN ({', '.join(repr(kind) for kind in KINDS)})"


def upgrade() -> None:
    terms = sa.table("sensitive_terms", sa.column("kind", sa.String(16)))
    op.execute(terms.update().where(sa.not_(terms.c.kind.in_(KINDS))).values(kind="name"))
    with op.batch_alter_table("sensitive_terms") as batch:
        batch.create_check_constraint(op.f("ck_sensitive_terms_kind"), sa.text(IN_KINDS))


def downgrade() -> None:
    with op.batch_alter_table("sensitive_terms") as batch:
        batch.drop_constraint(op.f("ck_sensitive_terms_kind"), type_="check")
