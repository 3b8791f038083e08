"""The Alembic migrations build exactly the schema of ``adapters/db/tables.py``, and upgrade old data faithfully."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, select, text

from tenglong.adapters.db.engine import alembic_config, make_engine, upgrade
from tenglong.adapters.db.tables import ledger_entries, metadata


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_engine(request, tmp_path, pg_database) -> Engine:
    """An empty database on each backend."""
    url = f"sqlite:///{tmp_path / 'migrate.db'}" if request.param == "sqlite" else pg_database("tenglong_migrate")
    engine = make_engine(url)
    yield engine
    engine.dispose()


def test_migrations_when_run_on_an_empty_database_give_the_tables_of_the_code(empty_engine):
    """upgrade head, then autogenerate finds nothing to change (tables, columns, indexes, types)."""
    upgrade(empty_engine)
    with empty_engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_migration_0003_when_applications_were_approved_and_paid_fills_the_ledger_from_them(empty_engine):
    """Approved and paid applications of an older database become granted (and paid) ledger rows, exact to the 分."""
    cfg = alembic_config(empty_engine.url.render_as_string(hide_password=False))
    with empty_engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")
    at = dt.datetime(2023, 5, 6, 7, 8, 9, tzinfo=dt.UTC)
    detail_210 = {
        "tech_renovation_tier": "ordinary",
        "tech_renovation_subsidy": "150000.05",
        "key_project_reward_2513": "0.00",
    }
    detail_211 = {"vertical_industry_route": "floors", "vertical_industry_reward": "180000.00"}
    with empty_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, username, display_name, password_hash, role, active, created_at) "
                "VALUES (1, 'admin', '管理员', 'x', 'admin', :t, :at)"
            ),
            {"t": True, "at": at},
        )
        conn.execute(
            text(
                "INSERT INTO enterprises (credit_code, name, town, industry, above_scale, updated_at) "
                "VALUES ('913310821003686548', '企业', '331082112', 'C3411', :t, :at)"
            ),
            {"t": True, "at": at},
        )
        for pid, day in ((1, dt.date(2023, 3, 1)), (2, dt.date(2022, 8, 1)), (3, dt.date(2023, 4, 1))):
            conn.execute(
                text(
                    "INSERT INTO projects (id, credit_code, name, application_date, inputs, created_by, created_at) "
                    "VALUES (:id, '913310821003686548', '项目', :day, '{}', 1, :at)"
                ),
                {"id": pid, "day": day, "at": at},
            )
        for aid, pid, clause, status, detail, ref in (
            (1, 1, "2.10", "approved", detail_210, None),
            (2, 2, "2.11", "paid", detail_211, "LHCZ-2022-7"),
            (3, 3, "2.10", "draft", detail_210, None),
        ):
            conn.execute(
                text(
                    "INSERT INTO subsidy_applications (id, project_id, credit_code, clause, status, amount, "
                    "amount_detail, explanation, parameters_version, computed_at, created_by, created_at, updated_at, "
                    "paid_reference) "
                    "VALUES (:id, :pid, '913310821003686548', :clause, :status, 0, :detail, '{}', 'v', :at, 1, :at, "
                    ":at, :ref)"
                ),
                {
                    "id": aid,
                    "pid": pid,
                    "clause": clause,
                    "status": status,
                    "detail": json.dumps(detail),
                    "at": at,
                    "ref": ref,
                },
            )
        conn.execute(
            text(
                "INSERT INTO audit_log (at, actor_id, actor, action, entity_type, entity_id) "
                "VALUES (:at, 1, 'admin', 'application.approve', 'subsidy_application', '1')"
            ),
            {"at": at},
        )
    upgrade(empty_engine)
    with empty_engine.connect() as conn:
        rows = conn.execute(select(ledger_entries).order_by(ledger_entries.c.id)).all()
    got = [(r.application_id, r.kind, r.item, str(r.amount), r.year, r.cap_key, r.actor, r.reference) for r in rows]
    assert got == [
        (
            1,
            "granted",
            "tech_renovation_subsidy",
            "150000.05",
            2023,
            "tech_renovation.ordinary_cap_per_enterprise_year",
            "admin",
            None,
        ),
        (2, "granted", "vertical_industry_reward", "180000.00", 2022, None, "system", None),
        (2, "paid", "vertical_industry_reward", "180000.00", 2022, None, "system", "LHCZ-2022-7"),
    ]


def test_migration_0010_when_projects_exist_files_them_on_their_application_date(empty_engine):
    """Existing projects become 已备案 (``stage = 'filed'``) with ``lifecycle = {"filed_on": <application date>}``."""
    cfg = alembic_config(empty_engine.url.render_as_string(hide_password=False))
    with empty_engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0009")
    at = dt.datetime(2023, 5, 6, 7, 8, 9, tzinfo=dt.UTC)
    days = {1: dt.date(2023, 3, 1), 2: dt.date(2022, 8, 1), 3: dt.date(2021, 12, 31)}
    with empty_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, username, display_name, password_hash, role, active, created_at) "
                "VALUES (1, 'admin', '管理员', 'x', 'admin', :t, :at)"
            ),
            {"t": True, "at": at},
        )
        conn.execute(
            text(
                "INSERT INTO enterprises (credit_code, name, town, industry, above_scale, updated_at) "
                "VALUES ('913310821003686548', '企业', '331082112', 'C3411', :t, :at)"
            ),
            {"t": True, "at": at},
        )
        for pid, day in days.items():
            conn.execute(
                text(
                    "INSERT INTO projects (id, credit_code, name, application_date, inputs, created_by, created_at) "
                    "VALUES (:id, '913310821003686548', '项目', :day, '{}', 1, :at)"
                ),
                {"id": pid, "day": day, "at": at},
            )
    upgrade(empty_engine)
    with empty_engine.connect() as conn:
        rows = conn.execute(text("SELECT id, stage, lifecycle FROM projects ORDER BY id")).all()
    got = {r.id: (r.stage, r.lifecycle if isinstance(r.lifecycle, dict) else json.loads(r.lifecycle)) for r in rows}
    assert got == {pid: ("filed", {"filed_on": day.isoformat()}) for pid, day in days.items()}
