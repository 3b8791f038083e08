"""Evaluation runs as people see them: the list, one run with its results, two years compared, the export rows,
and starting a run.

Who sees which run: admin, department and auditor every run; town and
enterprise officials the published runs only (anything else is "not found").
The results of a run are scoped like the enterprise list (a town sees its
firms, an enterprise itself); the aggregates of a visible run (class counts,
benchmarks, county figures) are shown to everyone who sees the run.
Starting and publishing go through ``evaluation_runs`` (admin only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, case, func, select, true
from sqlalchemy.orm import aliased

from ...adapters.db.tables import enterprise_years, enterprises, evaluation_results, evaluation_runs, users
from ...core.errors import InvalidInput, NotFound, PolicyError, Problem
from ...registers.roles import Actor
from ..enterprises.directory import EXPORT_LIMIT, Page, ResultFilter, published_runs, result_page
from ..kernel.scope import enterprise_scope, require
from ..kernel.uow import UnitOfWork
from . import runs as runs_service

_RUN = evaluation_runs.c
_R = evaluation_results.c
ACTIVE = runs_service.ACTIVE
_ORDER = {"A": 1, "B": 2, "C": 3, "D": 4}


@dataclass(frozen=True)
class RunInfo:
    """One evaluation run with the names of who started and published it."""

    id: int
    year: int
    status: str
    progress: float
    message: str | None
    method_title: str | None
    method_changes: Any
    parameters_version: str
    benchmarks: dict[str, dict[str, float | None]] | None
    summary: dict[str, Any] | None
    started_by: str
    started_at: Any
    finished_at: Any
    published_by: str | None
    published_at: Any
    published_of_year: int | None = None  # the run already published for this year, if any

    @property
    def active(self) -> bool:
        """Still queued or running."""
        return self.status in ACTIVE

    @property
    def publishable(self) -> bool:
        """Finished, and its year has no published run yet."""
        return self.status == "done" and self.published_of_year is None


def _visible(actor: Actor) -> ColumnElement[bool]:
    return true() if actor.sees_all_enterprises else _RUN.status == "published"


def _runs(conn: Connection, actor: Actor, *where: ColumnElement[bool]) -> list[RunInfo]:
    starter, publisher, other = aliased(users), aliased(users), aliased(evaluation_runs)
    year_published = (
        select(other.c.id).where(other.c.year == _RUN.year, other.c.status == "published").limit(1).scalar_subquery()
    )
    q = (
        select(
            evaluation_runs,
            starter.c.username.label("starter"),
            publisher.c.username.label("publisher"),
            year_published.label("year_published"),
        )
        .select_from(
            evaluation_runs.join(starter, starter.c.id == _RUN.started_by).outerjoin(
                publisher, publisher.c.id == _RUN.published_by
            )
        )
        .where(_visible(actor), *where)
        .order_by(_RUN.year.desc(), _RUN.id.desc())
    )
    out = []
    for r in conn.execute(q):
        m = r._mapping
        out.append(
            RunInfo(
                m["id"],
                m["year"],
                m["status"],
                float(m["progress"] or 0),
                m["message"],
                m["method_title"],
                m["method_changes"],
                m["parameters_version"],
                m["benchmarks"],
                m["summary"],
                m["starter"],
                m["started_at"],
                m["finished_at"],
                m["publisher"],
                m["published_at"],
                m["year_published"],
            )
        )
    return out


def list_runs(uow: UnitOfWork, actor: Actor) -> list[RunInfo]:
    """The runs the actor may see, newest year and run first (a run stuck past the timeout is failed first)."""
    require(actor, "read")
    runs_service.recover_stalled(uow, runs_service.STALE_AFTER, runs_service.START_GRACE)
    with uow.read() as conn:
        return _runs(conn, actor)


def _run(conn: Connection, actor: Actor, run_id: int) -> RunInfo:
    found = _runs(conn, actor, _RUN.id == run_id)
    if not found:
        raise NotFound(run_id)
    return found[0]


def get_run(uow: UnitOfWork, actor: Actor, run_id: int) -> RunInfo:
    """One run (status, progress, summary).

    Raises:
        NotFound: unknown, or not visible to the actor (unpublished for town and enterprise).
    """
    require(actor, "read")
    runs_service.recover_stalled(uow, runs_service.STALE_AFTER, runs_service.START_GRACE)
    with uow.read() as conn:
        return _run(conn, actor, run_id)


def run_results(uow: UnitOfWork, actor: Actor, run_id: int, f: ResultFilter) -> tuple[RunInfo, Page]:
    """One page of a run's results (with explanations) visible to the actor.

    Raises:
        NotFound: the run is not visible.
        InvalidInput: bad filter values.
    """
    require(actor, "read")
    f = f.checked()
    with uow.read() as conn:
        run = _run(conn, actor, run_id)
        return run, result_page(conn, actor, run_id, f, explanations=True)


def export_rows(uow: UnitOfWork, actor: Actor, run_id: int) -> tuple[RunInfo, list[dict[str, Any]]]:
    """The run and every result row visible to the actor (rank order, with explanations) for the workbook."""
    require(actor, "read")
    with uow.read() as conn:
        run = _run(conn, actor, run_id)
        return run, result_page(
            conn, actor, run_id, ResultFilter(sort="rank"), explanations=True, limit=EXPORT_LIMIT
        ).items


def data_years(uow: UnitOfWork) -> list[int]:
    """The years that have enterprise-year data (what a run can evaluate), newest first."""
    with uow.read() as conn:
        return [
            int(y)
            for y in conn.execute(
                select(enterprise_years.c.year).distinct().order_by(enterprise_years.c.year.desc())
            ).scalars()
        ]


def start_run(
    uow: UnitOfWork,
    actor: Actor,
    year: int,
    changes: dict[str, Any] | None = None,
    title: str | None = None,
    address: str | None = None,
) -> RunInfo:
    """Queue a run of ``year`` (audited) and evaluate it on a worker thread; poll ``get_run`` for progress.

    Args:
        uow: the unit of work.
        actor: must have ``evaluate`` (admin).
        year: a year with enterprise data.
        changes: method changes (already parsed, e.g. by ``methods.from_text``).
        title: the method's title.
        address: the client address, for the audit log.

    Raises:
        Forbidden: for a role without ``evaluate``.
        InvalidInput: for a year without data.
        ReformError: for invalid method changes (nothing is started).
    """
    require(actor, "evaluate")
    years = data_years(uow)
    if year not in years:
        have = ", ".join(map(str, sorted(years))) or "—"
        raise InvalidInput(
            [
                Problem(
                    "no_data_for_year",
                    "year",
                    str(year),
                    f"有企业数据的年度：{have}",
                    f"a year with enterprise data: {have}",
                    str(max(years, default=year)),
                    f"{year} 年度没有企业数据，无法评价（现有：{have}）。",
                    f"There is no enterprise data for {year} (years present: {have}).",
                )
            ]
        )
    run_id = runs_service.create_run(uow, actor, year, changes, title or None, address)
    runs_service.start_in_background(uow, run_id)
    return get_run(uow, actor, run_id)


def publish_run(uow: UnitOfWork, actor: Actor, run_id: int, address: str | None = None) -> RunInfo:
    """Publish a finished run (admin; audited; one published run per year).

    Raises:
        NotFound: the run is not visible to the actor.
        Forbidden: for a role without ``publish`` (on a run it can see).
        Conflict: not finished, or the year already has a published run (409).
    """
    get_run(uow, actor, run_id)
    runs_service.publish(uow, actor, run_id, address)
    return get_run(uow, actor, run_id)


@dataclass
class Comparison:
    """Two published years side by side, and the enterprises whose final class changed (scoped to the actor)."""

    years: list[int]
    before: RunInfo
    after: RunInfo
    up: int
    down: int
    direction: str | None
    page: Page


def compare(
    uow: UnitOfWork,
    actor: Actor,
    year_a: int | None,
    year_b: int | None,
    direction: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> Comparison:
    """Compare two published years (default: the two latest); ``direction`` ``up``/``down`` filters the changed firms.

    Raises:
        InvalidInput: a year that is not published, the same year twice, or a bad direction/page.
    """
    require(actor, "read")
    problems = []
    if direction not in (None, "", "up", "down"):
        problems.append(
            Problem(
                "invalid_filter",
                "direction",
                str(direction),
                "up 或 down",
                "up or down",
                "down",
                f"方向 {direction!r} 无效。",
                f"Direction {direction!r} is not valid.",
            )
        )
    if page < 1 or not 1 <= page_size <= 200:
        problems.append(
            Problem(
                "invalid_filter",
                "page",
                f"{page}/{page_size}",
                "page ≥ 1，page_size 1–200",
                "page ≥ 1, page_size 1–200",
                "1",
                "分页参数无效。",
                "Invalid paging.",
            )
        )
    with uow.read() as conn:
        published = published_runs(conn)
        years = list(published)
        if len(years) < 2:
            raise PolicyError("至少需要两个已发布年度才能比较。", "Comparing needs two published years.")
        a = year_a if year_a is not None else years[-2]
        b = year_b if year_b is not None else years[-1]
        for where, y in (("a", a), ("b", b)):
            if y not in published:
                problems.append(
                    Problem(
                        "unpublished_year",
                        where,
                        str(y),
                        "已发布的年度",
                        "a published year",
                        str(years[-1]),
                        f"{y} 年度没有已发布的评价。",
                        f"{y} has no published evaluation.",
                    )
                )
        if a == b:
            problems.append(
                Problem(
                    "same_year",
                    "b",
                    str(b),
                    "另一个已发布年度",
                    "another published year",
                    str(years[0]),
                    "请选择两个不同的年度。",
                    "Choose two different years.",
                )
            )
        if problems:
            raise InvalidInput(problems)
        a, b = min(a, b), max(a, b)
        before, after = _run(conn, actor, published[a]), _run(conn, actor, published[b])
        ra, rb = aliased(evaluation_results), aliased(evaluation_results)
        order_a, order_b = case(_ORDER, value=ra.c.mujun_class), case(_ORDER, value=rb.c.mujun_class)
        moved = case((order_b < order_a, "up"), else_="down")
        joined = ra.join(rb, and_(rb.c.credit_code == ra.c.credit_code, rb.c.run_id == published[b])).join(
            enterprises, enterprises.c.credit_code == ra.c.credit_code
        )
        where = [
            ra.c.run_id == published[a],
            ra.c.mujun_class.is_not(None),
            rb.c.mujun_class.is_not(None),
            ra.c.mujun_class != rb.c.mujun_class,
            enterprise_scope(actor),
        ]
        counts = dict(conn.execute(select(moved, func.count()).select_from(joined).where(*where).group_by(moved)).all())
        if direction:
            where.append(moved == direction)
        q = (
            select(
                ra.c.credit_code,
                enterprises.c.name,
                rb.c.town,
                rb.c.industry,
                rb.c.above_scale,
                ra.c.mujun_class.label("class_before"),
                rb.c.mujun_class.label("class_after"),
                ra.c.mujun_score.label("score_before"),
                rb.c.mujun_score.label("score_after"),
                moved.label("direction"),
            )
            .select_from(joined)
            .where(*where)
            .order_by(moved.desc(), (order_a - order_b).desc(), ra.c.credit_code)
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
        items = [dict(r._mapping) for r in conn.execute(q)]
        total = int(counts.get(direction, 0)) if direction else int(sum(counts.values()))
        return Comparison(
            years,
            before,
            after,
            int(counts.get("up", 0)),
            int(counts.get("down", 0)),
            direction or None,
            Page(items, total, page, page_size),
        )


__all__ = [
    "Comparison",
    "RunInfo",
    "compare",
    "data_years",
    "export_rows",
    "get_run",
    "list_runs",
    "publish_run",
    "run_results",
    "start_run",
]


def rerun_run(uow: UnitOfWork, actor: Actor, run_id: int, address: str | None = None) -> RunInfo:
    """Rerun a failed run with its method (admin; audited), in the background; poll ``get_run`` for progress.

    Raises:
        NotFound: the run is not visible to the actor.
        Forbidden: for a role without ``evaluate`` (on a run it can see).
        Conflict: the run has not failed (409).
    """
    get_run(uow, actor, run_id)
    runs_service.rerun(uow, actor, run_id, address)
    return get_run(uow, actor, run_id)
