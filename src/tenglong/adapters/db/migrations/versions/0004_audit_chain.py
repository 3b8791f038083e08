"""the audit log's hash chain

Adds ``audit_log.prev_hash`` and ``audit_log.hash`` and chains the rows already
there, in id order, with the runtime's canonical hash
(``tenglong.registers.chain.link``): ``hash_i = sha256(hash_{i-1} ‖ canonical(row_i))``,
the first row chained to ``GENESIS``. The rows are read back through SQLAlchemy
with the table's own types, so ``at`` and the JSON values are exactly what the
runtime and ``tenglong audit verify`` will read; they are read and updated in
batches (keyset pages by id), so a large log migrates in flat memory.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tenglong.registers.chain import GENESIS, LOCK_KEY, link

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BATCH = 5000

# The audit log as revision 0004 leaves it (not imported from tables.py, which moves on with later revisions).
audit_log = sa.Table(
    "audit_log",
    sa.MetaData(),
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor_id", sa.Integer()),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("entity_type", sa.String(32), nullable=False),
    sa.Column("entity_id", sa.String(64), nullable=False),
    sa.Column("before", sa.JSON()),
    sa.Column("after", sa.JSON()),
    sa.Column("address", sa.String(64)),
    sa.Column("prev_hash", sa.String(64)),
    sa.Column("hash", sa.String(64)),
)


def upgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))

    conn = op.get_bind()
    if conn.dialect.name != "sqlite":  # the same lock as Writer.record (the ALTER above blocks writers anyway)
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    t = audit_log.c
    chain_row = sa.update(audit_log).where(t.id == sa.bindparam("row_id"))
    chain_row = chain_row.values(prev_hash=sa.bindparam("row_prev"), hash=sa.bindparam("row_hash"))
    prev, last_id = GENESIS, None
    while True:
        page = sa.select(audit_log).order_by(t.id).limit(BATCH)
        if last_id is not None:
            page = page.where(t.id > last_id)
        rows = conn.execute(page).mappings().all()
        if not rows:
            break
        links = []
        for row in rows:
            digest = link(prev, row)
            links.append({"row_id": row["id"], "row_prev": prev, "row_hash": digest})
            prev = digest
        conn.execute(chain_row, links)
        last_id = rows[-1]["id"]


def downgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
