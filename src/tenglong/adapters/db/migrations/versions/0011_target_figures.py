"""target figures: the figures of the campaign's targets a person enters, and each town's share of a target

* ``target_figures``: a figure of a target of ``policy/campaign_targets.yaml`` for a year and the county (``town``
  NULL) or a town, entered with its source (市统计局 2023年快报…) and a note; exact as text. A new entry for the same
  (target, year, town) supersedes the previous one (``supersedes``) and nothing is deleted: the latest counts, the
  rest is the history. Its evidence files are attachments (``owner_type`` ``target_figure``).
* ``target_shares``: 目标分解, each town's share of a county target set by the admin; the latest counts.
* ``attachments.credit_code`` becomes nullable: a target figure's evidence belongs to no enterprise.

Text columns carry length CHECKs, as revision 0005 set for every other table.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-18
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

FIGURE_LENGTHS = (("target", 48), ("town", 16), ("value", 64), ("source", 200), ("note", 2000))
SHARE_LENGTHS = (("target", 48), ("town", 16), ("value", 64))


def _lengths(table: str, lengths: tuple[tuple[str, int], ...]) -> list[sa.CheckConstraint]:
    return [
        sa.CheckConstraint(f"length({column}) <= {limit}", name=op.f(f"ck_{table}_{column}_length"))
        for column, limit in lengths
    ]


def upgrade() -> None:
    op.create_table(
        "target_figures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=48), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("town", sa.String(length=16), nullable=True),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("supersedes", sa.Integer(), nullable=True),
        sa.Column("entered_by", sa.Integer(), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        *_lengths("target_figures", FIGURE_LENGTHS),
        sa.ForeignKeyConstraint(
            ["supersedes"], ["target_figures.id"], name=op.f("fk_target_figures_supersedes_target_figures")
        ),
        sa.ForeignKeyConstraint(["entered_by"], ["users.id"], name=op.f("fk_target_figures_entered_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_target_figures")),
    )
    with op.batch_alter_table("target_figures", schema=None) as batch_op:
        batch_op.create_index("ix_target_figures_key", ["target", "year", "town"], unique=False)
    op.create_table(
        "target_shares",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=48), nullable=False),
        sa.Column("town", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("set_by", sa.Integer(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        *_lengths("target_shares", SHARE_LENGTHS),
        sa.ForeignKeyConstraint(["set_by"], ["users.id"], name=op.f("fk_target_shares_set_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_target_shares")),
    )
    with op.batch_alter_table("target_shares", schema=None) as batch_op:
        batch_op.create_index("ix_target_shares_key", ["target", "town"], unique=False)
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.alter_column("credit_code", existing_type=sa.String(length=18), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.alter_column("credit_code", existing_type=sa.String(length=18), nullable=False)
    with op.batch_alter_table("target_shares", schema=None) as batch_op:
        batch_op.drop_index("ix_target_shares_key")
    op.drop_table("target_shares")
    with op.batch_alter_table("target_figures", schema=None) as batch_op:
        batch_op.drop_index("ix_target_figures_key")
    op.drop_table("target_figures")
