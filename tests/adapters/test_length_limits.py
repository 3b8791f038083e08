"""Length limits held by the database itself (revision 0005): CHECK constraints that refuse over-long text.

SQLite ignores ``VARCHAR(n)``, so without them a caller could store a megabyte in
a 64-character column. ``compare_metadata`` does not compare CHECK constraints,
so these tests check that the migrations create every constraint of
``adapters/db/tables.py`` and that each one bites on both databases; and that the
audit writer bounds what it stores before it hashes it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import DataError, IntegrityError

from tenglong.adapters.db import tables
from tenglong.adapters.db.engine import alembic_config, make_engine, upgrade
from tenglong.registers import chain, events
from tenglong.services.kernel.uow import DETAIL_MAX, UnitOfWork

AT = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
CODE = "913310821003686548"

# The limits the brief asks for, independent of tables.py: (table, column) → most characters.
LIMITS = {
    ("users", "username"): 64,
    ("users", "display_name"): 128,
    ("users", "department"): 64,
    ("login_attempts", "username"): 64,
    ("login_attempts", "address"): 64,
    ("audit_log", "actor"): 64,
    ("audit_log", "entity_type"): 32,
    ("audit_log", "entity_id"): 64,
    ("audit_log", "address"): 64,
    ("projects", "name"): 200,
    ("subsidy_applications", "decision_note"): 2000,
    ("subsidy_applications", "paid_reference"): 100,
    ("data_imports", "filename"): 255,
    ("data_imports", "message"): 2000,
    ("evaluation_runs", "method_title"): 200,
    ("evaluation_runs", "message"): 2000,
    ("ledger_entries", "reference"): 100,
    ("ledger_entries", "note"): 2000,
}
JSON_LIMITS = {("audit_log", "before"): 32768, ("audit_log", "after"): 32768}

# A valid row of each limited table (its parents: user 1, the enterprise CODE, project 1).
BASE = {
    "users": {
        "username": "u",
        "display_name": "d",
        "password_hash": "x",
        "role": "admin",
        "active": True,
        "created_at": AT,
    },
    "login_attempts": {"username": "u", "address": "127.0.0.1", "at": AT, "success": False},
    "audit_log": {"at": AT, "actor": "system", "action": "login", "entity_type": "user", "entity_id": "1"},
    "projects": {
        "credit_code": CODE,
        "name": "p",
        "application_date": AT.date(),
        "inputs": {},
        "created_by": 1,
        "created_at": AT,
    },
    "subsidy_applications": {
        "project_id": 1,
        "credit_code": CODE,
        "clause": "2.10",
        "status": "draft",
        "amount": Decimal("1.00"),
        "amount_detail": {},
        "explanation": {},
        "parameters_version": "v",
        "computed_at": AT,
        "created_by": 1,
        "created_at": AT,
        "updated_at": AT,
    },
    "data_imports": {
        "filename": "f.xlsx",
        "stored_path": "var/uploads/f",
        "status": "invalid",
        "uploaded_by": 1,
        "uploaded_at": AT,
    },
    "evaluation_runs": {"year": 2023, "status": "failed", "parameters_version": "v", "started_by": 1, "started_at": AT},
    "ledger_entries": {
        "at": AT,
        "credit_code": CODE,
        "clause": "2.10",
        "item": "tech_renovation_subsidy",
        "kind": "granted",
        "amount": Decimal("1.00"),
        "year": 2023,
        "source_type": "test",
        "source_id": "1",
        "actor": "system",
    },
}


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def migrated(request, tmp_path_factory) -> Engine:
    """A database migrated to head by the Alembic migrations (not by tables.py), with one user, enterprise, project."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('limits') / 'limits.db'}"
    else:
        url = request.getfixturevalue("pg_database")("tenglong_limits")
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(insert(tables.users).values(**{**BASE["users"], "username": "admin"}))  # id 1 (a fresh sequence)
        conn.execute(
            insert(tables.enterprises).values(
                credit_code=CODE, name="企业", town="331082112", industry="C3411", above_scale=True, updated_at=AT
            )
        )
        conn.execute(insert(tables.projects).values(**BASE["projects"]))  # id 1
    yield engine
    engine.dispose()


def _check_names(conn: sa.Connection, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(conn).get_check_constraints(table)}


def test_migrations_when_run_create_every_check_constraint_of_tables_py(migrated):
    """For every table, the CHECK constraints in the migrated database are exactly those declared in tables.py."""
    with migrated.connect() as conn:
        for table in tables.metadata.sorted_tables:
            declared = {c.name for c in table.constraints if isinstance(c, sa.CheckConstraint)}
            assert _check_names(conn, table.name) == declared, table.name


def test_tables_when_read_bound_every_free_text_column_the_brief_names():
    """tables.py holds a length constraint for each column and limit of the list, and nothing laxer."""
    declared = {
        (t.name, c.name): str(c.sqltext)
        for t in tables.metadata.sorted_tables
        for c in t.constraints
        if isinstance(c, sa.CheckConstraint)
    }
    for (table, column), limit in LIMITS.items():
        assert declared[(table, f"ck_{table}_{column}_length")] == f"length({column}) <= {limit}"
    for (table, column), limit in JSON_LIMITS.items():
        assert declared[(table, f"ck_{table}_{column}_size")] == f'length(CAST("{column}" AS TEXT)) <= {limit}'


def _insert(engine: Engine, table: str, **values) -> None:
    """Insert one row straight through SQL, in a transaction that is rolled back either way."""
    with engine.connect() as conn, conn.begin() as tx:
        try:
            conn.execute(insert(tables.metadata.tables[table]).values(**{**BASE[table], **values}))
        finally:
            tx.rollback()


@pytest.mark.parametrize(("table", "column"), sorted(LIMITS), ids=lambda x: x)
def test_length_constraint_when_a_value_is_one_character_too_long_refuses_the_insert(migrated, table, column):
    """At the limit the row goes in (a Chinese character counts one); one character more is refused: by its CHECK
    (on PostgreSQL a VARCHAR(n) column refuses it first, by its type)."""
    limit = LIMITS[(table, column)]
    _insert(migrated, table, **{column: "数" * limit})
    with pytest.raises((IntegrityError, DataError)) as refused:
        _insert(migrated, table, **{column: "数" * (limit + 1)})
    typed = migrated.dialect.name != "sqlite" and getattr(tables.metadata.tables[table].c[column].type, "length", None)
    expected = "value too long for type character varying" if typed else f"ck_{table}_{column}_length"
    assert expected in str(refused.value)


@pytest.mark.parametrize("column", ["before", "after"])
def test_audit_detail_constraint_when_the_stored_json_is_too_long_refuses_the_insert(migrated, column):
    """A detail whose stored JSON text is at most 32,768 characters goes in; a longer one is refused."""
    _insert(migrated, "audit_log", **{column: "x" * (32768 - 2)})  # the JSON string "xx…x": 32,768 characters
    with pytest.raises(IntegrityError) as refused:
        _insert(migrated, "audit_log", **{column: {"note": "x" * 40_000}})
    assert f"ck_audit_log_{column}_size" in str(refused.value)


def test_writer_when_the_detail_is_huge_stores_a_marked_prefix_and_the_chain_holds(migrated):
    """Writer.record bounds before it hashes: a 1 MB detail is stored as its size, SHA-256 and a prefix, within
    DETAIL_MAX; an over-long entity id and address are cut and marked; the row verifies in the chain."""
    uow = UnitOfWork(migrated)
    huge = {"name": "名" * 1_000_000}
    with uow.write(None, "a" * 300) as w:
        w.record(events.PROJECT_CREATE, "9" * 1000, None, huge)
    with migrated.connect() as conn:
        rows = conn.execute(select(tables.audit_log).order_by(tables.audit_log.c.id)).mappings().all()
        stored = conn.execute(
            select(sa.func.length(sa.cast(tables.audit_log.c.after, sa.Text))).where(
                tables.audit_log.c.id == rows[-1]["id"]
            )
        ).scalar_one()
    row = rows[-1]
    whole = json.dumps(huge, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert stored <= DETAIL_MAX and row["after"]["_truncated"] is True
    assert row["after"]["chars"] == len(whole) and row["after"]["sha256"] == hashlib.sha256(whole.encode()).hexdigest()
    assert whole.startswith(row["after"]["prefix"]) and len(row["after"]["prefix"]) > 1000
    assert len(row["entity_id"]) == 64 and row["entity_id"].endswith("…[truncated: 1000 chars]")
    assert len(row["address"]) == 64 and "truncated" in row["address"]
    assert chain.verify(rows).ok


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def at_0004(request, tmp_path, pg_database) -> Engine:
    """An empty database migrated to revision 0004 (before the limits), on each backend."""
    url = f"sqlite:///{tmp_path / 'm.db'}" if request.param == "sqlite" else pg_database("tenglong_limits_0004")
    engine = make_engine(url)
    _migrate(engine, "0004")
    yield engine
    engine.dispose()


def _migrate(engine: Engine, revision: str) -> None:
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def _revision(engine: Engine) -> str:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()


def test_migration_0005_when_tables_are_referenced_keeps_every_row_reference_and_the_chain(at_0004):
    """Rebuilding users and projects (referred to by sessions, imports, runs, applications) keeps every row and
    foreign key; the audit log, rebuilt too, still verifies."""
    with at_0004.begin() as conn:
        conn.execute(insert(tables.users).values(id=1, **BASE["users"]))
        conn.execute(
            insert(tables.sessions).values(id="s", user_id=1, csrf_token="c", lang="zh", created_at=AT, expires_at=AT)
        )
        conn.execute(
            insert(tables.enterprises).values(
                credit_code=CODE, name="企业", town="331082112", industry="C3411", above_scale=True, updated_at=AT
            )
        )
        conn.execute(insert(tables.projects).values(id=1, **BASE["projects"]))
        conn.execute(insert(tables.subsidy_applications).values(id=1, **BASE["subsidy_applications"]))
        conn.execute(insert(tables.data_imports).values(id=1, **BASE["data_imports"]))
        conn.execute(insert(tables.evaluation_runs).values(id=1, **BASE["evaluation_runs"]))
    uow = UnitOfWork(at_0004)
    for k in range(3):
        with uow.write(None, "10.0.0.1") as w:
            w.record(events.LOGIN_FAILED, f"用户{k}", None, {"address": "10.0.0.1"})
    counted = ("users", "sessions", "projects", "subsidy_applications", "data_imports", "evaluation_runs", "audit_log")
    with at_0004.connect() as conn:
        before = {t: conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in counted}  # noqa: S608
    _migrate(at_0004, "0005")
    assert _revision(at_0004) == "0005"
    with at_0004.connect() as conn:
        after = {t: conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in counted}  # noqa: S608
        assert after == before
        assert "ck_users_username_length" in _check_names(conn, "users")
        rows = conn.execute(select(tables.audit_log).order_by(tables.audit_log.c.id)).mappings().all()
        if at_0004.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    assert chain.verify(rows).ok and chain.verify(rows).rows == 3


def test_migration_0005_when_a_value_is_already_too_long_stops_and_names_it(at_0004):
    """A run message over 2,000 characters stored before the limits stops the upgrade, naming it; nothing changed."""
    with at_0004.begin() as conn:
        conn.execute(insert(tables.users).values(id=1, **BASE["users"]))
        conn.execute(insert(tables.evaluation_runs).values(id=7, **BASE["evaluation_runs"], message="x" * 2001))
    with pytest.raises(RuntimeError, match=r"evaluation_runs\.message: 1 .*over 2000 characters.*ids 7") as refused:
        _migrate(at_0004, "0005")
    assert "nothing is truncated" in str(refused.value)
    assert _revision(at_0004) == "0004"
    with at_0004.connect() as conn:
        assert conn.execute(select(tables.evaluation_runs.c.message)).scalar_one() == "x" * 2001
        assert "ck_evaluation_runs_message_length" not in _check_names(conn, "evaluation_runs")
