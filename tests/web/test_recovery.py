"""Work a stopped server left half done: runs and imports are failed with a reason, then rerun or discarded."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import insert, select, update

from tenglong.adapters.db.tables import audit_log, data_imports, evaluation_runs, users
from tenglong.services.accounts.auth import actor_of
from tenglong.services.bootstrap import ensure_database
from tenglong.services.data import uploads
from tenglong.services.evaluation import runs
from tenglong.services.kernel.uow import now

from .conftest import make_platform


def _admin(p):
    with p.uow.read() as conn:
        return actor_of(conn.execute(select(users).where(users.c.username == "admin")).one())


def _run(p, run_id: int):
    with p.uow.read() as conn:
        return conn.execute(select(evaluation_runs).where(evaluation_runs.c.id == run_id)).one()


def _events(p, entity: str, entity_id: int) -> list[str]:
    with p.uow.read() as conn:
        q = select(audit_log.c.action).where(audit_log.c.entity_type == entity, audit_log.c.entity_id == str(entity_id))
        return list(conn.execute(q.order_by(audit_log.c.id)).scalars())


def test_run_when_left_queued_by_a_stopped_server_is_failed_at_start_up_and_can_be_rerun(tmp_path):
    """ensure_database fails a queued run nobody computes, with the reason; the admin reruns it and it ends done."""
    p = make_platform(f"sqlite:///{tmp_path / 'stuck.db'}")
    admin = _admin(p)
    run_id = runs.create_run(p.uow, admin, 2023)  # queued; the worker never started (the server "stopped")
    ensure_database(p, say=lambda m: None)  # the next start
    run = _run(p, run_id)
    assert run.status == "failed" and "服务器在计算过程中停止" in run.message and run.finished_at is not None
    assert _events(p, "evaluation_run", run_id) == ["evaluation.start", "evaluation.fail"]
    runs.rerun(p.uow, admin, run_id)
    runs._WORKERS[run_id].join(120)
    assert _run(p, run_id).status == "done"
    assert _events(p, "evaluation_run", run_id)[-3:] == ["evaluation.rerun", "evaluation.run", "evaluation.done"]


def test_run_when_computing_past_the_timeout_is_failed_and_when_young_is_left_alone(platform):
    """A running run whose worker is past STALE_AFTER is failed; a freshly queued one within the grace is untouched."""
    admin = _admin(platform)
    old, young = runs.create_run(platform.uow, admin, 2023), runs.create_run(platform.uow, admin, 2023)
    with platform.uow.write(None) as w:
        w.conn.execute(
            update(evaluation_runs)
            .where(evaluation_runs.c.id == old)
            .values(status="running", started_at=now() - dt.timedelta(hours=2))
        )
    runs._WORKERS[old] = runs._WORKERS[young] = threading.current_thread()  # alive workers
    try:
        failed = runs.recover_stalled(platform.uow, runs.STALE_AFTER, runs.START_GRACE)
    finally:
        runs._WORKERS.pop(old, None)
        runs._WORKERS.pop(young, None)
    assert old in failed and young not in failed
    assert _run(platform, old).status == "failed" and "took longer than" in _run(platform, old).message
    assert _run(platform, young).status == "queued"
    assert runs.recover_stalled(platform.uow, runs.STALE_AFTER, runs.START_GRACE) == []  # young, no worker, in grace
    runs.fail(platform.uow, young, "测试清理 / test cleanup")


def test_import_when_left_validating_is_failed_at_start_up_then_discardable(tmp_path):
    """An upload stuck validating (no worker) is failed at the next start with a reason, and can then be discarded."""
    p = make_platform(f"sqlite:///{tmp_path / 'stuck-import.db'}")
    admin = _admin(p)
    with p.uow.write(admin) as w:
        import_id = w.conn.execute(
            insert(data_imports).values(
                filename="企业数据.xlsx",
                stored_path=str(tmp_path / "gone.xlsx"),
                status="validating",
                progress=0.1,
                rows_read=0,
                rows_valid=0,
                error_count=0,
                uploaded_by=admin.id,
                uploaded_at=now(),
            )
        ).inserted_primary_key[0]
    ensure_database(p, say=lambda m: None)
    view = uploads.get_import(p, admin, import_id)
    assert view.status == "failed" and "服务器在处理过程中停止" in view.message and view.can_discard
    uploads.discard(p, admin, import_id)
    assert uploads.get_import(p, admin, import_id).status == "discarded"
    assert _events(p, "data_import", import_id) == ["import.fail", "import.discard"]
