"""a published evaluation run can be superseded by a newer run of its year

Adds to ``evaluation_runs`` the run that superseded it (``superseded_by``), who did
it (``superseded_by_user``), when (``superseded_at``) and why (``supersede_reason``,
at most 500 characters: a CHECK constraint, as revision 0005 bounds every free
text), and a partial unique index that allows one published run per year.

A database that already holds two published runs of one year (the service never
allowed it) stops the upgrade with the list: nothing is unpublished silently.

On SQLite the table is rebuilt (``batch_alter_table``); ``evaluation_results``
refers to it, so its rows wait in a temporary table while it is rebuilt and the
foreign keys are checked at commit (``PRAGMA defer_foreign_keys``), as in 0005.
A downgrade keeps a superseded run in that state (an older release shows its code).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-14
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLE = "evaluation_runs"
REASON_MAX = 500


def _twice_published(conn: sa.Connection) -> list[str]:
    """Each year with more than one published run, with the ids."""
    t = sa.table(TABLE, sa.column("id"), sa.column("year"), sa.column("status"))
    years = conn.execute(
        sa.select(t.c.year).where(t.c.status == "published").group_by(t.c.year).having(sa.func.count() > 1)
    ).scalars()
    out = []
    for year in years:
        ids = conn.execute(
            sa.select(t.c.id).where(t.c.year == year, t.c.status == "published").order_by(t.c.id)
        ).scalars()
        out.append(f"{year}: #{', #'.join(str(i) for i in ids)}")
    return out


def upgrade() -> None:
    conn = op.get_bind()
    twice = _twice_published(conn)
    if twice:
        raise RuntimeError(
            "以下年度有不止一个已发布评价，须先人工处理后再升级 / "
            "these years have more than one published run; resolve them by hand before upgrading:\n  "
            + "\n  ".join(twice)
        )
    with _rebuilt(conn) as batch_op:
        batch_op.add_column(sa.Column("superseded_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("superseded_by_user", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("supersede_reason", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_evaluation_runs_superseded_by_evaluation_runs"), TABLE, ["superseded_by"], ["id"]
        )
        batch_op.create_foreign_key(
            op.f("fk_evaluation_runs_superseded_by_user_users"), "users", ["superseded_by_user"], ["id"]
        )
        batch_op.create_check_constraint(
            op.f("ck_evaluation_runs_supersede_reason_length"), f"length(supersede_reason) <= {REASON_MAX}"
        )
        batch_op.create_index(
            "uq_evaluation_runs_published_year",
            ["year"],
            unique=True,
            sqlite_where=sa.text("status = 'published'"),
            postgresql_where=sa.text("status = 'published'"),
        )


@contextmanager
def _rebuilt(conn: sa.Connection) -> Iterator[Any]:
    """``op.batch_alter_table`` of the runs; on SQLite, where it rebuilds the table, with the foreign keys kept whole.

    The upgrade runs in one transaction, where SQLite cannot switch its foreign keys off, and
    rebuilding a referenced table drops its old copy, which counts as deleting every row referred
    to. So the rows wait in a temporary table while the emptied table is rebuilt, and come back
    into the new one (the new columns empty); the foreign keys are checked at commit.
    """
    sqlite = conn.dialect.name == "sqlite"
    before = [c["name"] for c in sa.inspect(conn).get_columns(TABLE)]
    # The names below are this module's constants and the table's own columns, never data.
    if sqlite:
        conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")  # SQLite resets it at the end of the transaction
        conn.exec_driver_sql(f'CREATE TEMP TABLE "tl0007_{TABLE}" AS SELECT * FROM main."{TABLE}"')  # noqa: S608
        conn.exec_driver_sql(f'DELETE FROM main."{TABLE}"')  # noqa: S608
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        yield batch_op
    if sqlite:
        after = {c["name"] for c in sa.inspect(conn).get_columns(TABLE)}
        columns = ", ".join(f'"{c}"' for c in before if c in after)  # a downgrade leaves the new columns behind
        conn.exec_driver_sql(
            f'INSERT INTO main."{TABLE}" ({columns}) SELECT {columns} FROM temp."tl0007_{TABLE}"'  # noqa: S608
        )
        conn.exec_driver_sql(f'DROP TABLE temp."tl0007_{TABLE}"')


def downgrade() -> None:
    conn = op.get_bind()
    with _rebuilt(conn) as batch_op:
        batch_op.drop_index("uq_evaluation_runs_published_year")
        batch_op.drop_constraint(op.f("ck_evaluation_runs_supersede_reason_length"), type_="check")
        batch_op.drop_constraint(op.f("fk_evaluation_runs_superseded_by_user_users"), type_="foreignkey")
        batch_op.drop_constraint(op.f("fk_evaluation_runs_superseded_by_evaluation_runs"), type_="foreignkey")
        batch_op.drop_column("supersede_reason")
        batch_op.drop_column("superseded_at")
        batch_op.drop_column("superseded_by_user")
        batch_op.drop_column("superseded_by")
