"""the money ledger, and one live application per project and clause

Creates ``ledger_entries`` (append-only: one row per amount granted, paid, clawed
back or recovered) and fills it from the applications already approved or paid,
so that every balance and the yearly cap read the ledger from now on. Adds the
unique index on (project, clause) of live applications (a withdrawn one frees the
pair).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ORDINARY_CAP = "tech_renovation.ordinary_cap_per_enterprise_year"
ITEMS = {"2.10": ("tech_renovation_subsidy", "key_project_reward_2513"), "2.11": ("vertical_industry_reward",)}


def upgrade() -> None:
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("clause", sa.String(length=8), nullable=False),
        sa.Column("item", sa.String(length=48), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("cap_key", sa.String(length=80), nullable=True),
        sa.Column("source_type", sa.String(length=32), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_ledger_entries_positive_amount")),
        sa.CheckConstraint(
            "kind IN ('granted', 'paid', 'clawback', 'recovered')", name=op.f("ck_ledger_entries_known_kind")
        ),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_ledger_entries_actor_id_users")),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["subsidy_applications.id"],
            name=op.f("fk_ledger_entries_application_id_subsidy_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["credit_code"], ["enterprises.credit_code"], name=op.f("fk_ledger_entries_credit_code_enterprises")
        ),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name=op.f("fk_ledger_entries_project_id_projects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
    )
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_entries_credit_code"), ["credit_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_ledger_entries_application_id"), ["application_id"], unique=False)
        batch_op.create_index("ix_ledger_entries_cap", ["credit_code", "cap_key", "year"], unique=False)

    conn = op.get_bind()
    duplicates = conn.execute(
        sa.text(
            "SELECT project_id, clause, COUNT(*) FROM subsidy_applications "
            "GROUP BY project_id, clause HAVING COUNT(*) > 1"
        )
    ).all()
    if duplicates:
        pairs = ", ".join(f"project {p} clause {c} ({n}×)" for p, c, n in duplicates)
        raise RuntimeError(
            "两份以上补助申请对应同一项目和条款，须先人工处理后再升级 / "
            "several applications share a project and clause; "
            f"resolve them before upgrading: {pairs}"
        )
    op.create_index(
        "uq_subsidy_applications_live",
        "subsidy_applications",
        ["project_id", "clause"],
        unique=True,
        sqlite_where=sa.text("status != 'withdrawn'"),
        postgresql_where=sa.text("status != 'withdrawn'"),
    )
    _backfill(conn)


def _fen(text: object) -> int:
    return int((Decimal(str(text or "0")) * 100).to_integral_value())


def _decided(conn, application_id: int, action: str) -> tuple[object, object, str]:
    """(when, actor id, actor name) of an application's audited move, else its last update by the system."""
    row = conn.execute(
        sa.text(
            "SELECT at, actor_id, actor FROM audit_log WHERE entity_type = 'subsidy_application' "
            "AND entity_id = :id AND action = :action ORDER BY id DESC LIMIT 1"
        ),
        {"id": str(application_id), "action": f"application.{action}"},
    ).first()
    return (row.at, row.actor_id, row.actor) if row else (None, None, "system")


def _backfill(conn) -> None:
    """One granted row per paid-out item of every approved or paid application, and one paid row for each paid one."""
    ledger = sa.table(
        "ledger_entries",
        *(
            sa.column(c)
            for c in (
                "at",
                "credit_code",
                "project_id",
                "application_id",
                "clause",
                "item",
                "kind",
                "amount",
                "year",
                "cap_key",
                "source_type",
                "source_id",
                "reference",
                "note",
                "actor_id",
                "actor",
            )
        ),
    )
    apps = conn.execute(
        sa.text(
            "SELECT a.id, a.project_id, a.credit_code, a.clause, a.status, a.amount_detail, a.updated_at, "
            "a.paid_reference, p.application_date FROM subsidy_applications a JOIN projects p ON p.id = a.project_id "
            "WHERE a.status IN ('approved', 'paid') ORDER BY a.id"
        )
    ).all()
    rows = []
    for a in apps:
        detail = a.amount_detail if isinstance(a.amount_detail, dict) else json.loads(a.amount_detail or "{}")
        day = (
            a.application_date
            if isinstance(a.application_date, dt.date)
            else dt.date.fromisoformat(str(a.application_date))
        )
        for kind, action in (("granted", "approve"), ("paid", "pay")):
            if kind == "paid" and a.status != "paid":
                continue
            at, actor_id, actor = _decided(conn, a.id, action)
            for item in ITEMS.get(a.clause, ()):
                amount = _fen(detail.get(item))
                if amount <= 0:
                    continue
                ordinary = item == "tech_renovation_subsidy" and detail.get("tech_renovation_tier") == "ordinary"
                rows.append(
                    {
                        "at": at or a.updated_at,
                        "credit_code": a.credit_code,
                        "project_id": a.project_id,
                        "application_id": a.id,
                        "clause": a.clause,
                        "item": item,
                        "kind": kind,
                        "amount": amount,
                        "year": day.year,
                        "cap_key": ORDINARY_CAP if ordinary else None,
                        "source_type": "subsidy_application",
                        "source_id": str(a.id),
                        "reference": a.paid_reference if kind == "paid" else None,
                        "note": "升级时由已批准的申请补记 / recorded from the approved application at upgrade",
                        "actor_id": actor_id,
                        "actor": actor,
                    }
                )
    if rows:
        op.bulk_insert(ledger, rows)


def downgrade() -> None:
    op.drop_index("uq_subsidy_applications_live", table_name="subsidy_applications")
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_entries_cap")
        batch_op.drop_index(batch_op.f("ix_ledger_entries_application_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_entries_credit_code"))
    op.drop_table("ledger_entries")
