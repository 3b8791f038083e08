"""data import progress, failure message and the stored validation report

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("data_imports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("progress", sa.Float(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("message", sa.Text(), nullable=True))

    op.create_table(
        "data_import_problems",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("code", sa.String(length=48), nullable=False),
        sa.Column("cell", sa.String(length=300), nullable=False),
        sa.Column("sheet", sa.String(length=100), nullable=True),
        sa.Column("row_number", sa.Integer(), nullable=True),
        sa.Column("column_letter", sa.String(length=8), nullable=True),
        sa.Column("header", sa.String(length=200), nullable=True),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("expected_zh", sa.Text(), nullable=False),
        sa.Column("expected_en", sa.Text(), nullable=False),
        sa.Column("example", sa.Text(), nullable=False),
        sa.Column("message_zh", sa.Text(), nullable=False),
        sa.Column("message_en", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"], ["data_imports.id"], name=op.f("fk_data_import_problems_import_id_data_imports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_import_problems")),
    )
    with op.batch_alter_table("data_import_problems", schema=None) as batch_op:
        batch_op.create_index("ix_data_import_problems_lookup", ["import_id", "code", "seq"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("data_import_problems", schema=None) as batch_op:
        batch_op.drop_index("ix_data_import_problems_lookup")

    op.drop_table("data_import_problems")
    with op.batch_alter_table("data_imports", schema=None) as batch_op:
        batch_op.drop_column("message")
        batch_op.drop_column("progress")
