"""Evaluation runs on the platform: start (in the background, with progress), publish, read.

A run evaluates one data year from the enterprise-year data in the database
(the years before it give the D streaks and A.2 history), stores one immutable
result row per enterprise, and records the parameters version and who ran it.
Publishing makes a run the official result of its year; published runs are
never changed. A newer finished run of the year can supersede the published one,
with a reason: the old run stays, read-only and linked to the new one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import threading
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select, update

from ...adapters.db.tables import evaluation_results, evaluation_runs
from ...core import loader, reforms
from ...core.errors import Conflict, InvalidInput, NotFound, PolicyError
from ...core.mujun import indicators as ind
from ...core.mujun.carbon import LEVELS
from ...core.mujun.evaluation import OVERRIDES, REASONS
from ...core.mujun.explain import explain
from ...core.parameters import ParameterSet
from ...registers import events, workflows
from ...registers.roles import Actor
from ..data.store import frame_from_db
from ..kernel.scope import require
from ..kernel.uow import UnitOfWork, now
from . import methods
from .evaluate import run_evaluation, summary

log = logging.getLogger(__name__)
WORKFLOW = workflows.load("evaluation_run")
ACTIVE = ("queued", "running")
"""States in which a worker should be computing the run."""
_WORKERS: dict[int, threading.Thread] = {}
STALE_AFTER = dt.timedelta(hours=1)
"""A run still computing after this long is failed (the demo county takes seconds, 100,000 firms under a minute)."""
START_GRACE = dt.timedelta(minutes=1)
"""How long a queued run may wait for its worker before a live server counts it as stalled."""


def parameters_version(params: ParameterSet) -> str:
    """A short digest of every parameter value: two runs with the same digest used the same method."""
    blob = json.dumps(
        [(p.path, [str(d) for d in p.dates], [repr(v) for v in p.values]) for p in sorted(params, key=lambda p: p.path)]
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def create_run(
    uow: UnitOfWork,
    actor: Actor,
    year: int,
    method_changes: dict[str, Any] | None = None,
    method_title: str | None = None,
    address: str | None = None,
) -> int:
    """Record a queued run (audited) and return its id. The method is checked in full first."""
    require(actor, "evaluate")
    params = reforms.apply(method_changes, loader.parameters()) if method_changes else loader.parameters()
    with uow.write(actor, address) as w:
        rid = w.conn.execute(
            insert(evaluation_runs).values(
                year=year,
                status=WORKFLOW.initial,
                progress=0.0,
                method_title=method_title,
                method_changes=methods.changes_to_json(method_changes),
                parameters_version=parameters_version(params),
                started_by=actor.id,
                started_at=now(),
            )
        ).inserted_primary_key[0]
        w.record(events.EVALUATION_CREATE, rid, None, {"year": year, "method": method_title})
    return int(rid)


def execute_run(uow: UnitOfWork, run_id: int) -> None:
    """Evaluate a queued run and store its results (the ``run`` and ``done`` moves); a failure is the ``fail`` move.

    An error that is not a policy error is recorded on the run, logged with its traceback, and raised again.
    """
    _WORKERS.setdefault(run_id, threading.current_thread())  # a run computed in the caller's thread is alive too
    with uow.read() as conn:
        run = conn.execute(select(evaluation_runs).where(evaluation_runs.c.id == run_id)).one()
    _system_move(uow, run_id, "queued", "run", {"progress": 0.05, "message": "读取企业数据 / reading enterprise data"})
    try:
        params = (
            reforms.apply(methods.changes_from_json(run.method_changes), loader.parameters())
            if run.method_changes
            else loader.parameters()
        )
        with uow.read() as conn:
            frame = frame_from_db(conn, [y for y in range(run.year - 3, run.year + 1)])
        _progress(uow, run_id, 0.3, "计算 / evaluating")
        ev = run_evaluation(frame, run.year, params, run.method_title)
        r = ev.result
        _progress(uow, run_id, 0.6, "保存结果 / storing results")
        rows = result_rows(r, run_id)
        with uow.write(None) as w:
            for k in range(0, len(rows), 1000):
                w.conn.execute(insert(evaluation_results), rows[k : k + 1000])
            move, _ = WORKFLOW.check(None, "running", "done")
            values = {
                "progress": 1.0,
                "message": None,
                "finished_at": now(),
                "benchmarks": {g: {k: (v if v == v else None) for k, v in b.items()} for g, b in r.benchmarks.items()},
                "summary": summary(r),
            }
            w.move(evaluation_runs, run_id, "running", move, values, after={"enterprises": len(rows)})
    except PolicyError as exc:
        fail(uow, run_id, f"{exc.message_zh} / {exc.message_en}")
    except Exception as exc:
        log.exception("evaluation run %s failed", run_id)
        fail(uow, run_id, f"内部错误 / internal error: {type(exc).__name__}: {exc}")
        raise
    finally:
        if _WORKERS.get(run_id) is threading.current_thread():
            _WORKERS.pop(run_id, None)


def start_in_background(uow: UnitOfWork, run_id: int) -> threading.Thread:
    """Run ``execute_run`` on a worker thread (the page polls the run's progress)."""
    t = threading.Thread(target=execute_run, args=(uow, run_id), name=f"evaluation-{run_id}", daemon=True)
    _WORKERS[run_id] = t
    t.start()
    return t


def _progress(uow: UnitOfWork, run_id: int, progress: float, message: str | None) -> None:
    """Progress of a running run (not a move: not audited)."""
    with uow.write(None) as w:
        w.conn.execute(
            update(evaluation_runs)
            .where(evaluation_runs.c.id == run_id, evaluation_runs.c.status == "running")
            .values(progress=progress, message=message)
        )


def _system_move(uow: UnitOfWork, run_id: int, state: str, action: str, values: dict[str, Any], after=None) -> None:
    with uow.write(None) as w:
        move, fields = WORKFLOW.check(None, state, action, after)
        w.move(evaluation_runs, run_id, state, move, values, after=fields or None)


def fail(uow: UnitOfWork, run_id: int, reason: str) -> bool:
    """Fail a queued or running run with ``reason`` (the ``fail`` move); False when it was no longer active."""
    with uow.read() as conn:
        state = conn.execute(select(evaluation_runs.c.status).where(evaluation_runs.c.id == run_id)).scalar_one()
    if state not in ACTIVE:
        return False
    try:
        _system_move(
            uow,
            run_id,
            state,
            "fail",
            {"progress": 1.0, "message": reason[:2000], "finished_at": now()},
            {"reason": reason[:2000]},
        )
    except Conflict:
        return False
    return True


def recover_stalled(
    uow: UnitOfWork, timeout: dt.timedelta | None = None, grace: dt.timedelta | None = None
) -> list[int]:
    """Fail every run left queued or running with no worker in this process (at start-up: a crash stopped it).

    With ``timeout``, also a run whose worker has been at it for longer than that. With ``grace``, a run
    younger than that is left alone (its worker may be about to start: a run is queued, then started).

    Returns:
        The ids of the runs failed.
    """
    with uow.read() as conn:
        active = conn.execute(
            select(evaluation_runs.c.id, evaluation_runs.c.started_at).where(evaluation_runs.c.status.in_(ACTIVE))
        ).all()
    failed = []
    for run_id, started in active:
        worker = _WORKERS.get(run_id)
        alive = worker is not None and worker.is_alive()
        started = started if started.tzinfo else started.replace(tzinfo=dt.UTC)
        overdue = timeout is not None and now() - started > timeout
        young = grace is not None and now() - started < grace
        if (alive and not overdue) or (not alive and young):
            continue
        reason = (
            (
                f"计算超过 {timeout} 未完成，已停止；可重新计算。 / "
                f"The run took longer than {timeout}; it was stopped and can be rerun."
            )
            if alive
            else (
                "服务器在计算过程中停止，评价未完成；可重新计算。 / The server stopped during the run; it can be rerun."
            )
        )
        if fail(uow, run_id, reason):
            failed.append(run_id)
    return failed


def rerun(uow: UnitOfWork, actor: Actor, run_id: int, address: str | None = None) -> None:
    """Queue a failed run again with its method (the ``rerun`` move) and evaluate it in the background.

    Raises:
        NotFound, Forbidden, Conflict: an unknown run, a role without ``evaluate``, a run that has not failed.
    """
    with uow.write(actor, address) as w:
        state = w.conn.execute(select(evaluation_runs.c.status).where(evaluation_runs.c.id == run_id)).scalar()
        if state is None:
            raise NotFound(run_id)
        move, _ = WORKFLOW.check(actor, state, "rerun")
        values = {"progress": 0.0, "message": None, "finished_at": None, "started_at": now(), "started_by": actor.id}
        w.move(evaluation_runs, run_id, state, move, values)
    start_in_background(uow, run_id)


def result_rows(r, run_id: int) -> list[dict[str, Any]]:
    """One database row per enterprise of an evaluation result."""
    d = r.data
    out = []
    finite = lambda x: float(x) if x == x else None  # noqa: E731
    for i in range(d.n):
        out.append(
            {
                "run_id": run_id,
                "credit_code": str(d.credit_code[i]),
                "year": r.year,
                "town": str(d.town[i]),
                "industry": str(d.industry[i]),
                "above_scale": bool(d.above_scale[i]),
                "evaluated": bool(r.evaluated[i]),
                "not_evaluated_reason": REASONS[int(r.reason_code[i])] or None,
                "group_name": r.group_names[int(r.group_id[i])],
                "mujun_score": finite(r.score[i]),
                "rank": int(r.rank[i]) or None,
                "group_size": int(r.group_size[i]) or None,
                "mujun_class_computed": str(r.computed[i]) or None,
                "mujun_class": str(r.final[i]) or None,
                "mujun_class_override": OVERRIDES[int(r.override_code[i])],
                "vetoed": bool(r.vetoed[i]),
                "indicators": {k: finite(r.indicators[k][i]) for k in ind.ALL},
                "scores": {k: finite(r.scores[k][i]) for k in ind.ALL},
                "land_use_tax_relief_rate": finite(r.relief[i]) if r.evaluated[i] else None,
                "electricity_surcharge": finite(r.surcharge[i]) if r.evaluated[i] else None,
                "d_years_running": int(r.d_streak[i]),
                "carbon_intensity": finite(r.carbon_intensity[i]),
                "carbon_level": LEVELS[int(r.carbon_level[i])] or None,
                "carbon_efficiency_value": finite(r.carbon_value[i]),
                "carbon_grade": int(r.carbon_grade[i]) or None,
                "low_efficiency_enterprise": bool(r.low_efficiency[i]),
                "billion_yuan_low_tax_enterprise": bool(r.billion_low_tax[i]),
                "high_consumption_low_efficiency_candidate": bool(r.candidate[i]),
                "land_area_mu": Decimal(repr(float(d["land_area_mu"][i]))).quantize(Decimal("0.0001")),
                "tax_paid": Decimal(repr(float(d["tax_paid"][i]))).quantize(Decimal("0.01")),
                "value_added": Decimal(repr(float(d["value_added"][i]))).quantize(Decimal("0.01"))
                if d["value_added"][i] == d["value_added"][i]
                else None,
                "employees": int(d["employees"][i]) if d["employees"][i] == d["employees"][i] else None,
                "explanation_zh": "\n".join(explain(r, i, "zh")),
                "explanation_en": "\n".join(explain(r, i, "en")),
            }
        )
    return out


def publish(uow: UnitOfWork, actor: Actor, run_id: int, address: str | None = None, *, follow_up: bool = True) -> None:
    """Make a finished run the published result of its year (audited; published runs never change).

    Then (``follow_up``, after the commit) the campaign registers take it up: the proposals and suggestions it
    brings, and the commitments checked (``services/campaign/follow_up.py``). The demo's older years skip that.

    Raises:
        Forbidden: for a role without ``publish``.
        NotFound: for an unknown run.
        Conflict: if the run is not finished, or another run of the year is already published.
    """
    with uow.write(actor, address) as w:
        run = w.conn.execute(select(evaluation_runs).where(evaluation_runs.c.id == run_id)).first()
        if run is None:
            raise NotFound(run_id)
        # Lock the year's runs (PostgreSQL; SQLite writes are serialised anyway) so two publishers cannot both pass
        # the check below.
        w.conn.execute(select(evaluation_runs.c.id).where(evaluation_runs.c.year == run.year).with_for_update()).all()
        run = w.conn.execute(select(evaluation_runs).where(evaluation_runs.c.id == run_id)).one()
        move, _ = WORKFLOW.check(actor, run.status, "publish")
        other = w.conn.execute(
            select(evaluation_runs.c.id).where(
                evaluation_runs.c.year == run.year, evaluation_runs.c.status == "published"
            )
        ).first()
        if other is not None:
            raise Conflict(
                f"{run.year} 年度已发布评价 #{other.id}，不能重复发布；如要以本评价替换它，请用“取代发布”并说明原因。",
                f"{run.year} already has published run #{other.id}; to replace it with this run, supersede it "
                "(with a reason).",
            )
        w.move(
            evaluation_runs,
            run_id,
            run.status,
            move,
            {"published_by": actor.id, "published_at": now()},
            after={"year": run.year},
        )
    if follow_up:
        _campaign_follow_up(uow, run_id)


def _campaign_follow_up(uow: UnitOfWork, run_id: int) -> None:
    from ..campaign.follow_up import after_publish  # the campaign builds on the evaluation, not the reverse

    after_publish(uow, run_id)


def supersede(uow: UnitOfWork, actor: Actor, run_id: int, reason: Any, address: str | None = None) -> int:
    """Publish the finished run ``run_id`` in place of its year's published run, which becomes superseded.

    One transaction, two audited moves: the published run moves to ``superseded`` (the ``supersede`` move, with
    the reason and a link to the new run), then the new run is published (the ``publish`` move, naming the run
    it supersedes). The old run and its results stay, read-only; its year keeps one published run.

    Args:
        uow: the unit of work.
        actor: must have ``publish`` (admin).
        run_id: the new run: finished (``done``) and started after the run it supersedes.
        reason: why (required; at most the workflow field's ``max_length`` characters, never cut short).
        address: the client address, for the audit log.

    Returns:
        The id of the run superseded.

    Raises:
        NotFound: an unknown run.
        Forbidden: a role without ``publish``.
        Conflict: the run is not finished, its year has no published run (publish it instead), or the
            published run is newer than this one.
        InvalidInput: the reason is missing or too long (``where`` is ``reason``).
    """
    with uow.write(actor, address) as w:
        run = w.conn.execute(select(evaluation_runs).where(evaluation_runs.c.id == run_id)).first()
        if run is None:
            raise NotFound(run_id)
        w.conn.execute(select(evaluation_runs.c.id).where(evaluation_runs.c.year == run.year).with_for_update()).all()
        run = w.conn.execute(select(evaluation_runs).where(evaluation_runs.c.id == run_id)).one()
        try:
            publish_move, _ = WORKFLOW.check(actor, run.status, "publish")
        except Conflict:
            state = WORKFLOW.state(run.status)
            raise Conflict(
                f"评价 #{run.id} 当前状态为“{state.zh}”；只有已完成、未发布的评价才能取代已发布的评价。",
                f"Run #{run.id} is {state.en}; only a finished run that is not published can supersede the published "
                "one.",
            ) from None
        old = published_run(w.conn, run.year)
        if old is None:
            raise Conflict(
                f"{run.year} 年度尚无已发布的评价，无需取代，请直接发布。",
                f"{run.year} has no published run to supersede; publish this one instead.",
            )
        if old.id > run.id:
            raise Conflict(
                f"已发布的评价 #{old.id} 比评价 #{run.id} 更新，只能由更新的评价取代。",
                f"Published run #{old.id} is newer than run #{run.id}; only a newer run can supersede it.",
            )
        try:
            move, fields = WORKFLOW.check(actor, old.status, "supersede", {"supersede_reason": reason})
        except InvalidInput as exc:
            raise InvalidInput([replace(p, where="reason") for p in exc.problems]) from None
        text, at = fields["supersede_reason"], now()
        w.move(
            evaluation_runs,
            old.id,
            old.status,
            move,
            {"superseded_by": run.id, "superseded_by_user": actor.id, "superseded_at": at, "supersede_reason": text},
            after={"year": run.year, "superseded_by": run.id, "reason": text},
        )
        w.move(
            evaluation_runs,
            run.id,
            run.status,
            publish_move,
            {"published_by": actor.id, "published_at": at},
            after={"year": run.year, "supersedes": old.id, "reason": text},
        )
    _campaign_follow_up(uow, run_id)
    return int(old.id)


def published_run(conn, year: int):
    """The published run of a year, or None."""
    return conn.execute(
        select(evaluation_runs).where(evaluation_runs.c.year == year, evaluation_runs.c.status == "published")
    ).first()


@dataclass(frozen=True)
class RunStamp:
    """Which run a page's classes come from: its id, year, when it was published and the run it superseded."""

    id: int
    year: int
    published_at: dt.datetime | None
    supersedes: int | None = None


def run_stamp(conn, run_id: int | None) -> RunStamp | None:
    """The stamp of a (published) run, for every page that shows its classes; None for no run."""
    if run_id is None:
        return None
    r = evaluation_runs.c
    row = conn.execute(select(r.id, r.year, r.published_at).where(r.id == run_id)).first()
    if row is None:
        return None
    older = conn.execute(select(r.id).where(r.superseded_by == run_id).order_by(r.id.desc()).limit(1)).scalar()
    return RunStamp(int(row.id), int(row.year), row.published_at, int(older) if older is not None else None)
