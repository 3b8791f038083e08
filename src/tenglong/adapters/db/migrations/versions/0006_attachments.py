"""attachments: evidence files of a record (an application's invoices, equipment lists, acceptance reports)

Creates ``attachments``: one row per file, naming its owner (``owner_type`` and
``owner_id``, e.g. ``subsidy_application`` / 12), the enterprise it belongs to (for
scope), the kind of evidence, the name the browser sent (shown only), the generated
name it is stored under, the content type sniffed from its bytes, its size and
SHA-256, and who uploaded it when. A file removed before submission is marked
(``deleted_at``, ``deleted_by``); no row is ever deleted.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-12
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_type", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_by", sa.Integer(), nullable=True),
        sa.CheckConstraint("size_bytes > 0", name=op.f("ck_attachments_positive_size")),
        sa.CheckConstraint("length(original_name) <= 255", name=op.f("ck_attachments_original_name_length")),
        sa.ForeignKeyConstraint(
            ["credit_code"], ["enterprises.credit_code"], name=op.f("fk_attachments_credit_code_enterprises")
        ),
        sa.ForeignKeyConstraint(["deleted_by"], ["users.id"], name=op.f("fk_attachments_deleted_by_users")),
        sa.ForeignKeyConstraint(["uploaded_by"], ["users.id"], name=op.f("fk_attachments_uploaded_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_attachments_stored_name")),
    )
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attachments_credit_code"), ["credit_code"], unique=False)
        batch_op.create_index("ix_attachments_owner", ["owner_type", "owner_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_index("ix_attachments_owner")
        batch_op.drop_index(batch_op.f("ix_attachments_credit_code"))
    op.drop_table("attachments")
