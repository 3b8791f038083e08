"""length limits enforced by the database

SQLite ignores ``VARCHAR(n)`` and ``Text`` has no bound, so a caller could store
a megabyte where 64 characters were meant. This revision adds a CHECK constraint
``length(column) <= n`` to every free-text column that a user or a caller can
fill, and bounds the stored JSON text of ``audit_log.before``/``after``; it adds
the index of the per-address login throttle.

Values already over a limit (there should be none) stop the upgrade with the
list of them: nothing is truncated silently — the audit log's hash chain covers
its stored content, so cutting a row would also break the chain.

On SQLite each table is rebuilt with its constraints (``batch_alter_table``);
while the tables are rebuilt the foreign keys are checked at commit
(``PRAGMA defer_foreign_keys``), since dropping the old copy of a referenced
table would otherwise count as deleting the rows that others refer to.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

LENGTHS: dict[str, tuple[tuple[str, int], ...]] = {
    "users": (("username", 64), ("display_name", 128), ("department", 64)),
    "login_attempts": (("username", 64), ("address", 64)),
    "data_imports": (("filename", 255), ("message", 2000)),
    "evaluation_runs": (("method_title", 200), ("message", 2000)),
    "projects": (("name", 200),),
    "subsidy_applications": (("decision_note", 2000), ("paid_reference", 100)),
    "ledger_entries": (("reference", 100), ("note", 2000)),
    "audit_log": (("actor", 64), ("entity_type", 32), ("entity_id", 64), ("address", 64)),
}
"""table → (column, most characters) of every ``length(column) <= n`` constraint."""

JSON_SIZES: dict[str, tuple[tuple[str, int], ...]] = {"audit_log": (("before", 32768), ("after", 32768))}
"""table → (column, most characters of the stored JSON text)."""

TABLES = tuple(LENGTHS)
"""The tables rebuilt (on SQLite), in this order."""


def _length(column: str) -> str:
    """The constraint's measure: characters (as ``adapters/db/tables.py`` writes it)."""
    return f"length({column})"


def _size(column: str) -> str:
    """The constraint's measure of a JSON column: characters of its stored text."""
    return f'length(CAST("{column}" AS TEXT))'


def _over_limit(conn: sa.Connection) -> list[str]:
    """Every (table, column) holding a value over its limit: how many rows, the longest and the first ids."""
    found = []
    checks = [(t, c, n, False) for t, cols in LENGTHS.items() for c, n in cols]
    checks += [(t, c, n, True) for t, cols in JSON_SIZES.items() for c, n in cols]
    for table, column, limit, is_json in checks:
        t = sa.table(table, sa.column("id"), sa.column(column))
        measure = sa.func.length(sa.cast(t.c[column], sa.Text) if is_json else t.c[column])
        count, longest = conn.execute(sa.select(sa.func.count(), sa.func.max(measure)).where(measure > limit)).one()
        if count:
            ids = conn.execute(sa.select(t.c.id).where(measure > limit).order_by(t.c.id).limit(5)).scalars()
            found.append(
                f"{table}.{column}: {count} 行 / rows over {limit} characters (longest {longest}; "
                f"ids {', '.join(str(i) for i in ids)}{' …' if count > 5 else ''})"
            )
    return found


def upgrade() -> None:
    conn = op.get_bind()
    over = _over_limit(conn)
    if over:
        raise RuntimeError(
            "以下字段已有超长的值，须先人工处理后再升级（不会自动截断）/ "
            "some values are longer than the new limits; shorten or remove them by hand before upgrading "
            "(nothing is truncated automatically):\n  " + "\n  ".join(over)
        )
    for table in TABLES:
        with _rebuilt(conn, table) as batch_op:
            for column, limit in LENGTHS.get(table, ()):
                batch_op.create_check_constraint(op.f(f"ck_{table}_{column}_length"), f"{_length(column)} <= {limit}")
            for column, limit in JSON_SIZES.get(table, ()):
                batch_op.create_check_constraint(op.f(f"ck_{table}_{column}_size"), f"{_size(column)} <= {limit}")
            if table == "login_attempts":
                batch_op.create_index("ix_login_attempts_address", ["address", "at"], unique=False)


@contextmanager
def _rebuilt(conn: sa.Connection, table: str) -> Iterator[Any]:
    """``op.batch_alter_table(table)``; on SQLite, where it rebuilds the table, with the foreign keys kept whole.

    The upgrade runs in one transaction, where SQLite cannot switch its foreign keys off.
    Rebuilding a table that others refer to drops its old copy, which counts as deleting
    every row referred to. So its rows wait in a temporary table while the emptied table
    is rebuilt, and come back into the new one (each row passes the new constraints);
    with ``PRAGMA defer_foreign_keys`` the foreign keys are checked at commit, when
    every reference is whole again.
    """
    inspector = sa.inspect(conn)
    referenced = conn.dialect.name == "sqlite" and any(
        fk["referred_table"] == table
        for other in inspector.get_table_names()
        for fk in inspector.get_foreign_keys(other)
    )
    held = f'temp."tl0005_{table}"'
    columns = ", ".join(f'"{c["name"]}"' for c in inspector.get_columns(table))
    # The names below come from TABLES and the table's own columns, never from data.
    if referenced:
        conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")  # SQLite resets it at the end of the transaction
        conn.exec_driver_sql(f'CREATE TEMP TABLE "tl0005_{table}" AS SELECT * FROM main."{table}"')  # noqa: S608
        conn.exec_driver_sql(f'DELETE FROM main."{table}"')  # noqa: S608
    with op.batch_alter_table(table, schema=None) as batch_op:
        yield batch_op
    if referenced:
        conn.exec_driver_sql(f'INSERT INTO main."{table}" ({columns}) SELECT {columns} FROM {held}')  # noqa: S608
        conn.exec_driver_sql(f"DROP TABLE {held}")


def downgrade() -> None:
    conn = op.get_bind()
    for table in reversed(TABLES):
        with _rebuilt(conn, table) as batch_op:
            if table == "login_attempts":
                batch_op.drop_index("ix_login_attempts_address")
            for column, _ in LENGTHS.get(table, ()):
                batch_op.drop_constraint(op.f(f"ck_{table}_{column}_length"), type_="check")
            for column, _ in JSON_SIZES.get(table, ()):
                batch_op.drop_constraint(op.f(f"ck_{table}_{column}_size"), type_="check")
