"""registers: the campaign registers of A.3 (高耗低效, 两高, 四无/低散乱, 关键核心技术, 零增地, 留驻优质)

Creates ``register_entries``: one row per entry of a register kind (``policy/registers/<kind>.yaml``) — its
enterprise (and project, for a kind of projects), the enterprise's town when it was listed (for scope), its
category, workflow state, the day it was opened, its deadline, responsible unit, fields, plan, why it entered
(``basis``) and a pending system suggestion. An entry's history is not stored here: every move is an audit
event (``entity_type`` = the kind, ``entity_id`` = the entry), so the hash-chained audit log is the history.
Text columns and JSON documents carry length CHECKs, as revision 0005 set for every other table.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-16
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

LENGTHS = (("kind", 32), ("category", 32), ("status", 24), ("responsible_unit", 64))
JSON_SIZES = (("fields", 32768), ("plan", 32768), ("basis", 32768), ("suggestion", 32768))


def upgrade() -> None:
    op.create_table(
        "register_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("town", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("opened", sa.Date(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("responsible_unit", sa.String(length=64), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=True),
        sa.Column("basis", sa.JSON(), nullable=False),
        sa.Column("suggestion", sa.JSON(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        *(
            sa.CheckConstraint(f"length({column}) <= {limit}", name=op.f(f"ck_register_entries_{column}_length"))
            for column, limit in LENGTHS
        ),
        *(
            sa.CheckConstraint(
                f'length(CAST("{column}" AS TEXT)) <= {limit}', name=op.f(f"ck_register_entries_{column}_size")
            )
            for column, limit in JSON_SIZES
        ),
        sa.ForeignKeyConstraint(
            ["credit_code"], ["enterprises.credit_code"], name=op.f("fk_register_entries_credit_code_enterprises")
        ),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name=op.f("fk_register_entries_project_id_projects")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_register_entries_created_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_entries")),
    )
    with op.batch_alter_table("register_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_register_entries_credit_code"), ["credit_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_register_entries_town"), ["town"], unique=False)
        batch_op.create_index("ix_register_entries_kind_status", ["kind", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("register_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_register_entries_kind_status")
        batch_op.drop_index(batch_op.f("ix_register_entries_town"))
        batch_op.drop_index(batch_op.f("ix_register_entries_credit_code"))
    op.drop_table("register_entries")
