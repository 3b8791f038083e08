"""reforms: what-if scenarios saved for the simulation page, versioned and shareable by link

* ``reforms``: one row per saved version of a reform (a title, a description and its parameter changes in the
  ``--method`` format, as JSON); ``lineage`` is the id of the first version, ``version`` counts from 1. A new version
  never replaces an old one: a link to a version always shows the same reform. Saving is audited (``reform.save``).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-19
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reforms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lineage", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=4000), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(title) <= 200", name=op.f("ck_reforms_title_length")),
        sa.CheckConstraint("length(description) <= 4000", name=op.f("ck_reforms_description_length")),
        sa.CheckConstraint('length(CAST("changes" AS TEXT)) <= 65536', name=op.f("ck_reforms_changes_size")),
        sa.ForeignKeyConstraint(["lineage"], ["reforms.id"], name=op.f("fk_reforms_lineage_reforms")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_reforms_created_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reforms")),
    )
    with op.batch_alter_table("reforms", schema=None) as batch_op:
        batch_op.create_index("ix_reforms_lineage", ["lineage", "version"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reforms", schema=None) as batch_op:
        batch_op.drop_index("ix_reforms_lineage")
    op.drop_table("reforms")
