"""lifecycle and tags: a project's life cycle (A.4.2 项目全周期管理服务) and an enterprise's A.3.16 tags

* ``projects.stage``: the project's stage in ``registers/workflows/project_lifecycle.yaml`` — ``filed`` (备案),
  ``started`` (开工), ``completed`` (竣工), ``producing`` (投产), ``accepted`` (达产/验收). Existing projects are
  ``filed``.
* ``projects.lifecycle``: the dates and records of its stages, a JSON object (``filed_on``, ``started_on``,
  ``completed_on``, ``producing_on``, ``accepted_on`` as ISO dates; the acceptance's ``actual_investment`` in
  元 as exact text and ``actual_plot_ratio``). Existing projects get ``{"filed_on": <application date>}``.
* ``enterprises.tags``: the tags of A.3.16 the enterprise carries (上市, 拟上市已报会, 单项冠军…), a JSON list of
  ``quality_retention`` category keys; empty for existing enterprises.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-17
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


@contextmanager
def _rebuilt(conn: sa.Connection, table: str) -> Iterator[object]:
    """``batch_alter_table`` for a table other tables refer to, as revision 0007 does it on SQLite.

    SQLite rebuilds the table to add a CHECK, and dropping its old copy inside the upgrade's one transaction
    counts as deleting every row referred to; so the rows wait in a temporary table while the emptied table is
    rebuilt, and the foreign keys are checked at commit.
    """
    sqlite = conn.dialect.name == "sqlite"
    before = [c["name"] for c in sa.inspect(conn).get_columns(table)]
    # The names below are this module's constants and the table's own columns, never data.
    if sqlite:
        conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")  # SQLite resets it at the end of the transaction
        conn.exec_driver_sql(f'CREATE TEMP TABLE "tl0010_{table}" AS SELECT * FROM main."{table}"')  # noqa: S608
        conn.exec_driver_sql(f'DELETE FROM main."{table}"')  # noqa: S608
    with op.batch_alter_table(table, schema=None) as batch_op:
        yield batch_op
    if sqlite:
        after = {c["name"] for c in sa.inspect(conn).get_columns(table)}
        columns = ", ".join(f'"{c}"' for c in before if c in after)
        conn.exec_driver_sql(
            f'INSERT INTO main."{table}" ({columns}) SELECT {columns} FROM temp."tl0010_{table}"'  # noqa: S608
        )
        conn.exec_driver_sql(f'DROP TABLE temp."tl0010_{table}"')


def upgrade() -> None:
    conn = op.get_bind()
    with _rebuilt(conn, "projects") as batch_op:
        batch_op.add_column(sa.Column("stage", sa.String(length=16), nullable=False, server_default="filed"))
        batch_op.add_column(sa.Column("lifecycle", sa.JSON(), nullable=True))
        batch_op.create_check_constraint(op.f("ck_projects_stage_length"), "length(stage) <= 16")
        batch_op.create_check_constraint(
            op.f("ck_projects_lifecycle_size"), 'length(CAST("lifecycle" AS TEXT)) <= 8192'
        )
    with _rebuilt(conn, "enterprises") as batch_op:
        batch_op.add_column(sa.Column("tags", sa.JSON(), nullable=True))
        batch_op.create_check_constraint(op.f("ck_enterprises_tags_size"), 'length(CAST("tags" AS TEXT)) <= 2048')
    projects = sa.table(
        "projects",
        sa.column("id", sa.Integer()),
        sa.column("application_date", sa.Date()),
        sa.column("lifecycle", sa.JSON()),
    )
    for row in conn.execute(sa.select(projects.c.id, projects.c.application_date)).all():
        conn.execute(
            sa.update(projects)
            .where(projects.c.id == row.id)
            .values(lifecycle={"filed_on": row.application_date.isoformat()})
        )


def downgrade() -> None:
    conn = op.get_bind()
    with _rebuilt(conn, "enterprises") as batch_op:
        batch_op.drop_constraint(op.f("ck_enterprises_tags_size"), type_="check")
        batch_op.drop_column("tags")
    with _rebuilt(conn, "projects") as batch_op:
        batch_op.drop_constraint(op.f("ck_projects_lifecycle_size"), type_="check")
        batch_op.drop_constraint(op.f("ck_projects_stage_length"), type_="check")
        batch_op.drop_column("lifecycle")
        batch_op.drop_column("stage")
