"""The audit log's hash chain: written by every audited change, checked by `tenglong audit verify`.

Each tampering test edits the database directly (as an attacker with SQL access
would), checks that verification stops at exactly the tampered row, and puts
the log back as it was for the next test.
"""

from __future__ import annotations

import datetime as dt
import doctest
import itertools
import os
import subprocess
import sys
import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import delete, insert, inspect, select, update

import tenglong.registers.chain
import tenglong.services.audit.chain
from tenglong.adapters.db.engine import alembic_config, make_engine
from tenglong.adapters.db.tables import audit_log, notifications
from tenglong.registers import chain, events
from tenglong.services.audit.chain import verify_chain
from tenglong.services.kernel.platform import Platform
from tenglong.settings import Settings

from ..web.conftest import make_platform

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _url(request, tmp_path_factory, name: str) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp(name) / 'tenglong.db'}"
    return request.getfixturevalue("pg_database")(name)


def _write_varied_rows(p: Platform) -> None:
    """Audited writes whose content is awkward to serialise: Chinese, Decimal, dates, floats, nesting, None."""
    samples = [
        (None, {"用户名": "张三", "note": "含“引号”与\\反斜杠"}),
        ({"amount": Decimal("1234.50"), "day": dt.date(2023, 3, 1)}, {"amount": Decimal("0.10"), "ratio": 0.1}),
        ({"nested": {"b": [1, 2, {"c": None}], "a": True}}, {"big": 2**62, "neg": -0.0, "tiny": 1e-300}),
        (None, None),
    ]
    for k, (before, after) in enumerate(samples):
        with p.uow.write(None, address="10.0.0.7") as w:
            w.record(events.LOGIN_FAILED, f"用户{k}", before, after)


@pytest.fixture(scope="module", params=BACKENDS)
def chained(request, tmp_path_factory) -> Platform:
    """The demo platform on each backend, with some awkward audit rows added."""
    p = make_platform(_url(request, tmp_path_factory, "tenglong_chain"))
    _write_varied_rows(p)
    return p


@pytest.fixture
def log(chained: Platform):
    """The chained platform; the audit log is restored to what it was after the test."""
    with chained.engine.connect() as conn:
        saved = [dict(r) for r in conn.execute(select(audit_log).order_by(audit_log.c.id)).mappings()]
    yield chained
    with chained.engine.begin() as conn:
        notices = [dict(r) for r in conn.execute(select(notifications)).mappings()]  # they name audit rows
        conn.execute(delete(notifications))
        conn.execute(delete(audit_log))
        conn.execute(insert(audit_log), saved)
        if notices:
            conn.execute(insert(notifications), notices)


def _ids(p: Platform) -> list[int]:
    with p.engine.connect() as conn:
        return list(conn.execute(select(audit_log.c.id).order_by(audit_log.c.id)).scalars())


def _row(p: Platform, row_id: int) -> dict:
    with p.engine.connect() as conn:
        return dict(conn.execute(select(audit_log).where(audit_log.c.id == row_id)).mappings().one())


def _set(p: Platform, row_id: int, **values) -> None:
    with p.engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.id == row_id).values(**values))


def _broken(p: Platform) -> chain.Break:
    v = verify_chain(p)
    assert v.broken is not None, "verification should have failed"
    return v.broken


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tenglong.cli", "audit", "verify", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


# The pure chain.


def test_chain_module_when_doctests_run_all_pass():
    """The examples in registers/chain.py and services/audit/chain.py hold."""
    for module in (tenglong.registers.chain, tenglong.services.audit.chain):
        failed, tried = doctest.testmod(module)
        assert tried > 0 and failed == 0, module.__name__


def test_canonical_when_naive_or_aware_same_instant_gives_same_bytes():
    """A SQLite (naive UTC) and a PostgreSQL (aware, any zone) read of one instant canonicalise alike."""
    base = {f: None for f in chain.FIELDS} | {"id": 1, "actor": "a", "action": "x", "entity_type": "t"}
    naive = dt.datetime(2026, 1, 2, 3, 4, 5, 60)
    aware = naive.replace(tzinfo=dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8)))
    assert chain.canonical({**base, "at": naive}) == chain.canonical({**base, "at": aware})
    assert chain.canonical({**base, "at": naive}) != chain.canonical(
        {**base, "at": naive + dt.timedelta(microseconds=1)}
    )


def test_canonical_when_key_order_differs_gives_same_bytes():
    """JSON objects canonicalise with sorted keys, so the order they read back in does not matter."""
    base = {f: None for f in chain.FIELDS} | {"id": 1, "at": dt.datetime(2026, 1, 1), "actor": "a", "action": "x"}
    one = chain.canonical({**base, "after": {"a": 1, "b": {"y": 2, "x": 1}}})
    two = chain.canonical({**base, "after": {"b": {"x": 1, "y": 2}, "a": 1}})
    assert one == two
    assert b" " not in one


def test_verify_when_rows_have_no_hash_reports_unchained():
    """A row without a hash (written around the audit writer) breaks the chain as ``unchained``."""
    row = {f: None for f in chain.FIELDS} | {"id": 1, "at": dt.datetime(2026, 1, 1), "actor": "a", "action": "x"}
    v = chain.verify([{**row, "prev_hash": None, "hash": None}])
    assert (v.ok, v.rows, v.broken.problem, v.head) == (False, 0, "unchained", chain.GENESIS)


# The chain as the platform writes it.


def test_verify_when_demo_database_passes(chained):
    """The demo county's audit log verifies end to end, and the head is the newest row."""
    v = verify_chain(chained)
    ids = _ids(chained)
    assert v.ok and v.rows == len(ids) > 20
    assert v.head_id == ids[-1] and v.head == _row(chained, ids[-1])["hash"]


def test_record_when_writing_chains_in_id_order(chained):
    """Each row names the hash of the row before it in id order; the first names GENESIS."""
    with chained.engine.connect() as conn:
        rows = conn.execute(select(audit_log.c.prev_hash, audit_log.c.hash).order_by(audit_log.c.id)).all()
    assert rows[0].prev_hash == chain.GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
    assert len({r.hash for r in rows}) == len(rows)


def test_verify_when_after_edited_fails_at_that_row(log):
    """Changing one row's ``after`` with SQL is caught at exactly that row, as content edited."""
    ids = _ids(log)
    target = ids[len(ids) // 2]
    _set(log, target, after={"status": "approved", "amount": "9999999.00"})
    b = _broken(log)
    assert (b.id, b.problem) == (target, "edited")
    assert verify_chain(log).rows == ids.index(target)


def test_verify_when_middle_row_deleted_fails_at_the_next_row(log):
    """Deleting a row in the middle is caught at the row after the gap, as missing or out of order."""
    ids = _ids(log)
    target = ids[len(ids) // 2]
    with log.engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.id == target))
    b = _broken(log)
    assert (b.id, b.problem) == (ids[ids.index(target) + 1], "gap")


def test_verify_when_two_rows_swapped_fails_at_the_first(log):
    """Swapping two rows' content (reordering them under their ids) is caught at the first of the two."""
    ids = _ids(log)
    first, second = ids[3], ids[8]
    a, b = _row(log, first), _row(log, second)
    _set(log, first, **{k: v for k, v in b.items() if k != "id"})
    _set(log, second, **{k: v for k, v in a.items() if k != "id"})
    broken = _broken(log)
    assert (broken.id, broken.problem) == (first, "gap")


def test_verify_when_content_swapped_but_hashes_kept_fails_at_the_first(log):
    """Swapping only the audited fields (leaving the hashes in place) is caught at the first row as edited."""
    ids = _ids(log)
    first, second = ids[2], ids[5]
    a, b = _row(log, first), _row(log, second)
    content = [f for f in chain.FIELDS if f != "id"]
    _set(log, first, **{k: b[k] for k in content})
    _set(log, second, **{k: a[k] for k in content})
    broken = _broken(log)
    assert (broken.id, broken.problem) == (first, "edited")


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("at", lambda v: v + dt.timedelta(microseconds=1)),
        ("actor", lambda v: "auditor"),
        ("actor_id", lambda v: (v or 0) + 1),
        ("action", lambda v: "login"),
        ("entity_id", lambda v: v + "0"),
        ("before", lambda v: {"status": "draft"}),
        ("address", lambda v: "192.0.2.1"),
    ],
)
def test_verify_when_any_field_edited_fails_at_that_row(log, field, change):
    """Changing the time, the actor or any other stored field of a row is caught at that row."""
    target = _ids(log)[5]
    _set(log, target, **{field: change(_row(log, target)[field])})
    b = _broken(log)
    assert (b.id, b.problem) == (target, "edited")


def test_verify_when_row_inserted_without_hash_fails_as_unchained(log):
    """A row appended with plain SQL (no hash) is caught as not chained."""
    last = _ids(log)[-1]
    with log.engine.begin() as conn:
        conn.execute(
            insert(audit_log).values(
                id=last + 1,
                at=dt.datetime.now(dt.UTC),
                actor="admin",
                action="login",
                entity_type="user",
                entity_id="1",
            )
        )
    b = _broken(log)
    assert (b.id, b.problem) == (last + 1, "unchained")


def test_verify_when_attacker_rehashes_the_tail_passes_but_the_noted_head_changes(log):
    """Known limit: edit a row and recompute every later hash, and the chain verifies; only the head hash moved."""
    noted = verify_chain(log)
    ids = _ids(log)
    target = ids[len(ids) // 2]
    _set(log, target, after={"forged": True})
    prev = _row(log, ids[ids.index(target) - 1])["hash"]
    for row_id in ids[ids.index(target) :]:
        digest = chain.link(prev, _row(log, row_id))
        _set(log, row_id, prev_hash=prev, hash=digest)
        prev = digest
    v = verify_chain(log)
    assert v.ok and v.head_id == noted.head_id
    assert v.head != noted.head  # what the auditor noted no longer matches: the rewrite shows


@pytest.mark.parametrize("threads", [8])
def test_record_when_threads_write_at_once_keeps_one_chain(log, threads):
    """N threads doing audited writes at once leave one linear chain in id order, which verifies."""
    before = verify_chain(log).rows
    per_thread = 10
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            start.wait()
            for k in range(per_thread):
                with log.uow.write(None, address=f"thread-{t}") as w:
                    w.record(events.LOGIN_FAILED, f"t{t}-{k}", None, {"thread": t, "k": k})
        except BaseException as exc:  # reported below
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert not errors, errors
    v = verify_chain(log)
    assert v.ok, v.broken
    assert v.rows == before + threads * per_thread
    with log.engine.connect() as conn:
        rows = conn.execute(
            select(audit_log.c.id, audit_log.c.prev_hash, audit_log.c.hash).order_by(audit_log.c.id)
        ).all()
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))


# The command line.


def test_cli_audit_verify_when_intact_prints_count_and_head_and_exits_0(log):
    """`tenglong audit verify` prints the rows verified and the head hash in Chinese and English, exit 0."""
    v = verify_chain(log)
    r = run_cli("--database-url", log.settings.database_url)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"已验证 {v.rows:,} 条记录" in r.stdout
    assert f"{v.rows:,} rows verified" in r.stdout
    assert f"链头哈希 / head hash: {v.head}" in r.stdout
    assert f"#{v.head_id}" in r.stdout


def test_cli_audit_verify_when_tampered_names_the_row_and_exits_1(log):
    """After an edit, the command names the first broken row, its action and what is wrong, exit 1."""
    ids = _ids(log)
    target = ids[len(ids) // 2]
    action = _row(log, target)["action"]
    _set(log, target, actor="someone-else")
    r = run_cli("--database-url", log.settings.database_url)
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"Audit log hash chain BROKEN at row #{target}" in r.stdout
    assert f"编号 / id: {target}" in r.stdout
    assert f"操作 / action: {action}" in r.stdout
    assert chain.PROBLEMS["edited"][0] in r.stdout and chain.PROBLEMS["edited"][1] in r.stdout


def test_cli_audit_verify_when_row_deleted_says_missing_and_exits_1(log):
    """After a deletion, the command says a row is missing or out of order, exit 1."""
    ids = _ids(log)
    with log.engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.id == ids[4]))
    r = run_cli("--database-url", log.settings.database_url)
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"BROKEN at row #{ids[5]}" in r.stdout
    assert "row missing or out of order" in r.stdout and "记录缺失或顺序被改动" in r.stdout


def test_cli_audit_verify_when_url_from_environment_uses_it(chained):
    """Without --database-url the command verifies TENGLONG_DATABASE_URL."""
    r = run_cli(env={"TENGLONG_DATABASE_URL": chained.settings.database_url})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "rows verified" in r.stdout


def test_cli_audit_verify_when_no_database_file_exits_2(tmp_path):
    """A SQLite URL naming no file is an error (exit 2), and no file is created."""
    missing = tmp_path / "none.db"
    r = run_cli("--database-url", f"sqlite:///{missing}")
    assert r.returncode == 2
    assert "no database file" in r.stderr
    assert not missing.exists()


# The migration.

OLD_AUDIT_LOG = sa.Table(  # audit_log at revision 0003
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
)


@pytest.fixture(params=BACKENDS)
def at_0003(request, tmp_path_factory) -> str:
    """A database at revision 0003 holding audit rows written before the chain existed."""
    url = _url(request, tmp_path_factory, "tenglong_chain_mig")
    command.upgrade(alembic_config(url), "0003")
    engine = make_engine(url)
    t0 = dt.datetime(2023, 3, 1, 8, 0, tzinfo=dt.UTC)
    rows = [
        {
            "at": t0 + dt.timedelta(minutes=k, microseconds=k * 7),
            "actor_id": None if k % 3 == 0 else k,
            "actor": "system" if k % 3 == 0 else f"官员{k}",
            "action": "application.approve",
            "entity_type": "subsidy_application",
            "entity_id": str(k),
            "before": {"status": "under_review"} if k % 2 else None,
            "after": {"status": "approved", "amount": f"{k * 1000}.50", "说明": "同意", "ratio": k / 3},
            "address": "127.0.0.1" if k % 2 else None,
        }
        for k in range(1, 13)
    ]
    with engine.begin() as conn:
        conn.execute(insert(OLD_AUDIT_LOG), rows)
        conn.execute(delete(OLD_AUDIT_LOG).where(OLD_AUDIT_LOG.c.id == 4))  # ids need not be contiguous
    engine.dispose()
    return url


def test_migration_0004_when_upgrading_chains_existing_rows_that_verify(at_0003):
    """Upgrading a 0003 database chains its audit rows in id order; verify passes and new writes extend it."""
    before = run_cli("--database-url", at_0003)
    assert before.returncode == 2 and "is the database migrated?" in before.stderr
    command.upgrade(alembic_config(at_0003), "head")
    p = Platform.from_settings(Settings(database_url=at_0003, demo=False))
    v = verify_chain(p)
    assert v.ok and v.rows == 11 and v.head_id == 12
    with p.uow.write(None) as w:
        w.record(events.LOGIN_FAILED, "新用户", None, {"after": "migration"})
    v = verify_chain(p)
    assert v.ok and v.rows == 12
    _set(p, 7, after={"status": "rejected"})
    assert (_broken(p).id, _broken(p).problem) == (7, "edited")
    p.engine.dispose()


def test_migration_0004_when_downgraded_drops_the_columns(at_0003):
    """Downgrading to 0003 removes prev_hash and hash, and upgrading again chains the rows afresh."""
    cfg = alembic_config(at_0003)
    command.upgrade(cfg, "head")
    command.downgrade(cfg, "0003")
    engine = make_engine(at_0003)
    assert {"prev_hash", "hash"}.isdisjoint(c["name"] for c in inspect(engine).get_columns("audit_log"))
    engine.dispose()
    command.upgrade(cfg, "head")
    p = Platform.from_settings(Settings(database_url=at_0003, demo=False))
    assert verify_chain(p).ok
    p.engine.dispose()
